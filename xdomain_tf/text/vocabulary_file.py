"""Reading, checking and writing WordPiece `vocab.txt` files (one token a line)."""
from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.utils.atomic import write_text_atomic
from xdomain_tf.utils.storage import storage_path


def read_vocabulary(path):
    """Reads a vocab.txt: UTF-8, one token per line, the line number - 1 is its id.

    Args:
        path: the file.

    Returns:
        list of str tokens.

    Raises:
        DataError: not UTF-8, an empty line, a token with whitespace, a duplicate.
        FileNotFoundError: no such file.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vocab.txt"
    >>> _ = path.write_bytes(b"[PAD]\\r\\n[UNK]\\r\\nhello\\r\\n")
    >>> read_vocabulary(path)
    ['[PAD]', '[UNK]', 'hello']
    """
    path = storage_path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataError("not valid UTF-8", path=path, line=line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tokens = [line[:-1] if line.endswith("\r") else line for line in lines]
    return check_vocabulary(tokens, path=path)


def check_vocabulary(tokens, path=None):
    """Checks a token list: non-empty strings, no whitespace inside, no duplicates.

    Args:
        tokens: sequence of str.
        path: the file they came from, for error messages.

    Returns:
        the tokens as a list of str.

    >>> check_vocabulary(["[UNK]", "a", "##b"])
    ['[UNK]', 'a', '##b']
    """
    if isinstance(tokens, (str, bytes)):
        raise XDomainError("vocabulary must be a list of tokens or the path of a vocab.txt")
    tokens = list(tokens)
    if not tokens:
        raise DataError("the vocabulary is empty", path=path)
    seen = {}
    for index, token in enumerate(tokens):
        if isinstance(token, bytes):
            token = token.decode("utf-8")
            tokens[index] = token
        if not isinstance(token, str):
            raise DataError("a token is not a string", path=path, line=index + 1, value=token)
        if not token:
            raise DataError("empty token", path=path, line=index + 1)
        if token != token.strip() or any(char.isspace() for char in token):
            raise DataError("token contains whitespace", path=path, line=index + 1, value=token)
        if token in seen:
            raise DataError(
                f"duplicate token (first on line {seen[token] + 1})",
                path=path,
                line=index + 1,
                value=token,
            )
        seen[token] = index
    return tokens


def write_vocabulary(tokens, path):
    """Writes tokens to a vocab.txt (UTF-8, "\\n" after each token), atomically.

    Args:
        tokens: list of str.
        path: the file to write; its folder is created.

    Returns:
        the path as a `pathlib.Path` (a `StoragePath` for a URL).

    Example:

    >>> import tempfile
    >>> path = write_vocabulary(["[PAD]", "[UNK]", "hello"], tempfile.mkdtemp() + "/run/vocab.txt")
    >>> path.read_text(encoding="utf-8")
    '[PAD]\\n[UNK]\\nhello\\n'
    """
    path = storage_path(path)
    write_text_atomic(path, "".join(token + "\n" for token in tokens))
    return path
