"""Parse layer for Debian archive index files (RFC-822 style "deb822" paragraphs).

Nothing here downloads: the functions read lines of a `Packages` or
`Translation-<lang>` file that the fetch layer (`debian_archive`) or the user
provides, so tests run them on small fixture files.
"""
import bz2
import gzip
import io
import lzma
import os
import shutil
import subprocess

from xdomain_tf.errors import DataError, XDomainError

APT_HELPER = "/usr/lib/apt/apt-helper"
_PYTHON_OPENERS = {".gz": gzip.open, ".xz": lzma.open, ".lzma": lzma.open, ".bz2": bz2.open}


def open_index_lines(path):
    """Yields the decoded lines (without newline) of a possibly compressed index file.

    `.gz`, `.xz`, `.bz2` and plain files are read in Python; other suffixes
    (`.lz4`, `.zst`, as apt stores its lists) go through `apt-helper cat-file`.

    Args:
        path: the file.

    Example:

    >>> import gzip, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "Packages.gz"
    >>> with gzip.open(path, "wt") as handle:
    ...     _ = handle.write("Package: gnuplot\\nSection: math\\n")
    >>> list(open_index_lines(path))
    ['Package: gnuplot', 'Section: math']
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1]
    if suffix in _PYTHON_OPENERS:
        with _PYTHON_OPENERS[suffix](path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                yield line.rstrip("\n")
        return
    if suffix in (".lz4", ".zst"):
        yield from _apt_helper_lines(path)
        return
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            yield line.rstrip("\n")


def _apt_helper_lines(path):
    helper = APT_HELPER if os.path.exists(APT_HELPER) else shutil.which("apt-helper")
    if not helper:
        raise XDomainError(
            f"{path}: reading this compressed index needs apt's apt-helper; "
            f"decompress it first (e.g. `lz4 -d` / `zstd -d`)"
        )
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    process = subprocess.Popen([helper, "cat-file", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in io.TextIOWrapper(process.stdout, encoding="utf-8", errors="replace"):
            yield line.rstrip("\n")
    finally:
        process.stdout.close()
        stderr = process.stderr.read().decode("utf-8", "replace").strip()
        process.stderr.close()
        code = process.wait()
    if code != 0:
        raise XDomainError(f"{path}: apt-helper cat-file failed ({stderr or f'exit {code}'})")


def iter_paragraphs(lines, path=None):
    """Yields the paragraphs of a deb822 file as (first line number, fields).

    A field's value keeps its continuation lines, each after a newline and with
    its leading space, so callers can tell ` .` (blank line) and verbatim lines
    apart. Field names keep the file's spelling.

    Args:
        lines: iterable of lines without newline.
        path: the file name, used in error messages.

    Raises:
        DataError: a line that is neither `Name: value` nor a continuation.

    Example:

    >>> list(iter_paragraphs(["Package: a", "Description-en: x", " y", "", "Package: b"]))
    [(1, {'Package': 'a', 'Description-en': 'x\\n y'}), (5, {'Package': 'b'})]
    """
    fields = {}
    start = None
    name = None
    for number, line in enumerate(lines, start=1):
        if not line.strip(" \t\r"):
            # Only spaces and tabs make a blank line: " \u00a0" is a continuation.
            if fields:
                yield start, fields
            fields, start, name = {}, None, None
            continue
        if line[0] in " \t":
            if name is None:
                raise DataError("continuation line before any field", path=path, line=number, value=line)
            fields[name] += "\n" + line
            continue
        if line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise DataError("expected 'Field: value'", path=path, line=number, value=line)
        name = name.strip()
        if start is None:
            start = number
        fields[name] = value.strip()
    if fields:
        yield start, fields


def description_text(value):
    """Turns a deb822 description value into plain text.

    The summary (first line) becomes the first line of the text. Body lines of one
    paragraph are joined with spaces; ` .` starts a new paragraph; verbatim lines
    (two or more leading spaces, e.g. lists) keep a line of their own. Paragraphs
    and verbatim lines are separated by newlines.

    Args:
        value: the field value as `iter_paragraphs` returns it.

    Returns:
        (summary, text) with text = summary + newline + body (just the summary when
        there is no body).

    Example:

    >>> description_text("Tool for X\\n Does X\\n well.\\n .\\n  * fast")
    ('Tool for X', 'Tool for X\\nDoes X well.\\n* fast')
    """
    lines = value.split("\n")
    summary = lines[0].strip()
    blocks = [summary] if summary else []
    paragraph = []
    for line in lines[1:]:
        content = line[1:] if line[:1] in (" ", "\t") else line
        if content.strip() in (".", ""):
            _flush(paragraph, blocks)
        elif content[:1] in (" ", "\t"):
            _flush(paragraph, blocks)
            if content.strip():
                blocks.append(" ".join(content.split()))
        elif content.strip():
            paragraph.append(content.strip())
    _flush(paragraph, blocks)
    return summary, "\n".join(blocks)


def _flush(paragraph, blocks):
    if paragraph:
        blocks.append(" ".join(" ".join(paragraph).split()))
        paragraph.clear()
