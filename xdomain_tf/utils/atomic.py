"""Atomic file and folder writes: a temporary name in the same folder, then a publish
(one rename, or on object stores a copy whose readers never see half: see
`xdomain_tf.utils.storage.publish_folder`)."""
import contextlib
import json
import os
import pathlib

from xdomain_tf.utils.storage import file_system, publish_folder, remove_tree, storage_path, temporary_sibling


@contextlib.contextmanager
def atomic_path(path, last=()):
    """Yields a temporary path beside `path`; publishes it onto `path` if the block succeeds.

    Works for files and folders, local or on any TensorFlow file system (`gs://`,
    `ram://`, ...). On an exception the temporary is removed and `path` is left as it
    was, so a reader never sees a half-written result. A folder on a file system without
    atomic renames is copied into place with the files named in `last` copied last.

    Args:
        path: the final file or folder.
        last: for folders: the file names readers look for, published after the rest.

    Example:

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    >>> with atomic_path("ram://atomic/out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> storage_path("ram://atomic/out.txt").read_text()
    'done'
    """
    path = storage_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        if tmp.is_dir():
            if path.exists() and not file_system(path).atomic_rename:
                remove_tree(path)
            publish_folder(tmp, path, last=last)
        else:
            file_system(path).rename(tmp, path)
    finally:
        remove_tree(tmp)


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
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            if isinstance(tmp, pathlib.Path):
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
