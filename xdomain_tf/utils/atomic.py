"""Atomic file and folder writes: a temporary name in the same folder, then a rename."""
import contextlib
import json
import os
import pathlib
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it onto `path` if the block succeeds.

    Works for files and folders. On an exception the temporary is removed and `path`
    is left as it was, so a reader never sees a half-written result.

    Args:
        path: the final file or folder.

    Example:

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    tmp.rmdir()
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink() and tmp.is_dir():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_text_atomic(path, text):
    """Writes `text` to `path` atomically (UTF-8, line ends written as given).

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> write_text_atomic(path, "Straße")
    >>> path.read_text(encoding="utf-8")
    'Straße'
    """
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())


def write_json_atomic(path, value, sort_keys=True):
    """Writes `value` as indented JSON (UTF-8, not ASCII-escaped) to `path` atomically.

    Args:
        path: the file.
        value: JSON-ready data.
        sort_keys: sort every dict's keys (False keeps their order, e.g. where it means ids).

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.json"
    >>> write_json_atomic(path, {"steps": 10, "loss": 0.5})
    >>> print(path.read_text(), end="")
    {
      "loss": 0.5,
      "steps": 10
    }
    """
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n")
