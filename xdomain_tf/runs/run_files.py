"""Reading the files of a run (or a saved `.keras` model): the content, or one line naming
the damaged file and what to do about it.

Every reader here refuses rather than guesses: a truncated or edited JSON file, a `.keras`
file that is not a sound zip, a checkpoint whose index or data no longer read, or a
tokenizer config that points its vocabulary at a file outside the run is a
`DamagedFileError` (or an `XDomainError`) whose message names the file, says what is
wrong in a few words (never the file's content) and what to do.
"""
import json
import pathlib
import zipfile
import zlib

from xdomain_tf.errors import DamagedFileError, XDomainError
from xdomain_tf.utils.storage import StoragePath, local_copy, storage_path

RERUN = "re-run the training command or restore it"


def read_json_file(path, fields=None, advice=RERUN):
    """The JSON object in `path`, or a one-line `DamagedFileError` naming it.

    Args:
        path: the file.
        fields: `{name: type or tuple of types}` that the object must hold.
        advice: what the error tells the user to do.

    Returns:
        The parsed dict.

    Raises:
        DamagedFileError: not UTF-8, empty, not JSON, not an object, or a field missing or
            of the wrong type.
        XDomainError: the file does not exist.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.json"
    >>> _ = path.write_text('{"kind": "classifier"')
    >>> read_json_file(path, fields={"kind": str})
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.DamagedFileError: .../run.json is damaged (not valid JSON: Expecting ',' delimiter at line 1 column 22); re-run the training command or restore it
    """
    path = storage_path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise XDomainError(f"{path} is missing; {advice}") from None
    except IsADirectoryError:
        raise DamagedFileError(path, "a folder, not a file", advice) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DamagedFileError(path, f"not UTF-8 text at byte {error.start}", advice) from None
    if not text.strip():
        raise DamagedFileError(path, "empty", advice)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        reason = f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        raise DamagedFileError(path, reason, advice) from None
    if not isinstance(value, dict):
        raise DamagedFileError(path, f"a JSON {type(value).__name__}, not an object", advice)
    for name, kind in (fields or {}).items():
        if name not in value:
            raise DamagedFileError(path, f"no {name!r} field", advice)
        if not isinstance(value[name], kind) or (kind is int and isinstance(value[name], bool)):
            raise DamagedFileError(path, f"field {name!r} is a {type(value[name]).__name__}", advice)
    return value


def keras_file_config(path, advice=RERUN):
    """The model config inside a `.keras` file, after checking the file is a sound zip
    (every member passes its CRC check) holding `config.json`.

    Keras itself says "File not found" for a `.keras` file that is not a zip; this names
    the damage instead.

    Args:
        path: the `.keras` file.
        advice: what the error tells the user to do.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.keras"
    >>> _ = path.write_bytes(b"PK\\x03\\x04 cut short")
    >>> keras_file_config(path, advice="restore it")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.DamagedFileError: .../model.keras is damaged (not a zip file); restore it
    """
    path = storage_path(path)
    if not path.is_file():
        raise XDomainError(f"{path} is missing; {advice}")
    try:
        with local_copy(path) as local, zipfile.ZipFile(local) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise DamagedFileError(path, f"{bad} inside fails its checksum", advice)
            if "config.json" not in archive.namelist():
                raise DamagedFileError(path, "no config.json inside", advice)
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except zipfile.BadZipFile as error:
        reason = "not a zip file" if "not a zip file" in str(error) else f"a broken zip file: {first_line(error)}"
        raise DamagedFileError(path, reason, advice) from None
    except (OSError, EOFError, zlib.error, NotImplementedError) as error:
        raise DamagedFileError(path, f"unreadable zip: {first_line(error)}", advice) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedFileError(path, f"its config.json is not valid JSON ({type(error).__name__})", advice) from None
    if not isinstance(config, dict):
        raise DamagedFileError(path, "its config.json is not a JSON object", advice)
    return config


def load_keras_file(path, advice=RERUN):
    """The model in a `.keras` file, loaded with `safe_mode=True` after `keras_file_config`
    and `confine_vocabulary` checks; any failure is one `DamagedFileError` line.

    Args:
        path: the `.keras` file.
        advice: what an error tells the user to do.

    Example:

    >>> import keras, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "dense.keras"
    >>> keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(path)
    >>> load_keras_file(path).layers[0].units
    1
    """
    import keras

    from xdomain_tf.runs.serializables import register_serializables

    path = storage_path(path)
    confine_vocabulary(keras_file_config(path, advice), None, path, advice)
    register_serializables()
    try:
        with local_copy(path) as local:
            return keras.saving.load_model(local, safe_mode=True)
    except Exception as error:  # Keras raises many types for a broken file
        raise DamagedFileError(path, f"Keras cannot load it: {first_line(error)}", advice) from None


def confine_vocabulary(config, root, path, advice=RERUN):
    """Checks every `"vocabulary"` file path in a serialized Keras config: it must lie in
    `root` (a run directory; relative paths are taken from there and made absolute in
    `config`). With `root=None` no file path is accepted (a `.keras` file keeps its
    vocabulary inside). A path outside is refused without reading the file.

    Args:
        config: the config (a dict, changed in place).
        root: the folder vocabulary files must be in, or None.
        path: the file the config came from (for the error).
        advice: what the error tells the user to do.

    Returns:
        The config.

    Example:

    >>> confine_vocabulary({"tokenizer": {"config": {"vocabulary": "/etc/passwd"}}}, "/runs/a", "/runs/a/preprocessor.json")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: /runs/a/preprocessor.json points the vocabulary at a file outside the run directory ('/etc/passwd'), which is never read; re-run the training command or restore it
    """
    where = "the run directory" if root is not None else "the saved model"
    for holder, value in _vocabulary_paths(config):
        target = None
        if isinstance(storage_path(root) if root is not None else None, StoragePath):
            target = _inside_url(str(root), value)
        elif root is not None:
            base = pathlib.Path(root).resolve()
            target = (base / value).resolve()
            if not target.is_relative_to(base):
                target = None
        if target is None:
            raise XDomainError(
                f"{path} points the vocabulary at a file outside {where} ({value!r}), which is never read; {advice}"
            )
        holder["vocabulary"] = str(target)
    return config


def _inside_url(root, value):
    """`value` (relative, or a URL) as a URL inside the run directory URL `root`, or None."""
    root = root.rstrip("/")
    target = value if "://" in value else f"{root}/{value}"
    parts = []
    for part in target[len(root) + 1:].split("/") if target.startswith(root + "/") else [".."]:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return f"{root}/{'/'.join(parts)}" if parts else None


def _vocabulary_paths(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "vocabulary" and isinstance(item, str):
                yield value, item
            else:
                yield from _vocabulary_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from _vocabulary_paths(item)


def check_tf_checkpoint(prefix, advice):
    """Reads every tensor of the TensorFlow checkpoint `prefix` (its `.index` and `.data-*`
    files), so a truncated or corrupted one is named before training resumes from it.

    Args:
        prefix: the checkpoint prefix, e.g. `RUN/checkpoints/ckpt-12`.
        advice: what an error tells the user to do.

    Example:

    >>> import tempfile, tensorflow as tf
    >>> prefix = tf.train.Checkpoint(step=tf.Variable(3)).save(tempfile.mkdtemp() + "/ckpt")
    >>> check_tf_checkpoint(prefix, "restore it")
    >>> with open(prefix + ".index", "r+b") as handle:
    ...     _ = handle.truncate(10)
    >>> check_tf_checkpoint(prefix, "restore it")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.DamagedFileError: .../ckpt-1.index is damaged (...); restore it
    """
    import tensorflow as tf

    prefix = storage_path(prefix)
    index = prefix.with_name(prefix.name + ".index")
    data = sorted(prefix.parent.glob(prefix.name + ".data-*"))
    if not index.is_file():
        raise XDomainError(f"{index} is missing; {advice}")
    if not data:
        raise XDomainError(f"{prefix}.data-00000-of-00001 is missing; {advice}")
    try:
        # Not tf.train.load_checkpoint: it takes `prefix` for a folder on ram:// (prefix match).
        reader = tf.compat.v1.train.NewCheckpointReader(str(prefix))
        names = list(reader.get_variable_to_shape_map())
    except Exception as error:  # tf raises OpError subclasses and others
        raise DamagedFileError(index, first_line(error), advice) from None
    shards = data[0] if len(data) == 1 else f"{prefix}.data-*"
    for name in names:
        try:
            reader.get_tensor(name)
        except Exception as error:
            reason = first_line(error).replace(f"TensorBundle at {prefix} ", "")
            raise DamagedFileError(shards, reason, advice) from None


def first_line(error, limit=160):
    """The first non-empty line of an exception's message, at most `limit` characters.

    Example:

    >>> first_line(ValueError("\\nbad magic number\\nmore detail"))
    'bad magic number'
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    line = lines[0] if lines else type(error).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."
