"""What a run's data files were when it started: path, size, modification time and sha256
of each, so a resumed run can tell whether its data has changed since. Files may be local
or URLs (`gs://...`); glob patterns stand for the files they match."""
import hashlib
import os

from xdomain_tf.data.readers import expand_data_files
from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.file_digest import sha256_file
from xdomain_tf.utils.storage import is_url, storage_path


def data_fingerprint(paths):
    """The fingerprint of data files: `{"files": [{"path", "size", "mtime_ns", "sha256"}]}`
    (a missing file has only its path: reading it fails later with its own error).

    Args:
        paths: the data files, as the options name them.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
    >>> _ = path.write_text("{}\\n")
    >>> entry = data_fingerprint([path])["files"][0]
    >>> entry["size"], entry["sha256"][:12]
    (3, 'ca3d163bab05')
    """
    files = []
    for path in _expanded(paths):
        stat = _stat(path)
        if stat is None:
            files.append({"path": path})
            continue
        files.append({"path": path, "size": stat[0], "mtime_ns": stat[1], "sha256": _sha256(path)})
    return {"files": files}


def _expanded(paths):
    return [os.fspath(path) for path in expand_data_files([os.fspath(path) for path in paths], strict=False)]


def _stat(path):
    """`(size, mtime_ns)` of a file, None when it cannot be read."""
    if not is_url(path):
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns
    try:
        stat = storage_path(path).stat()
    except (OSError, XDomainError):  # reading it fails later, with its own error
        return None
    return stat.st_size, round(stat.st_mtime * 1e9)


def _sha256(path):
    if not is_url(path):
        return sha256_file(path)
    digest = hashlib.sha256()
    with storage_path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_changes(recorded, paths):
    """How the data files differ from a recorded `data_fingerprint`, in words (an empty
    list when they are the same). Files whose size and modification time are unchanged
    are not read again; a touched file with the same bytes is the same.

    Args:
        recorded: a `data_fingerprint` result.
        paths: the data files now.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
    >>> _ = path.write_text("{}\\n")
    >>> before = data_fingerprint([path])
    >>> fingerprint_changes(before, [path])
    []
    >>> _ = path.write_text("{}\\n{}\\n")
    >>> fingerprint_changes(before, [path])
    ['train.jsonl: 3 bytes then, 6 now']
    """
    old = [entry.get("path") for entry in recorded.get("files", [])]
    paths = _expanded(paths)
    if old != paths:
        return [f"files {old} then, {paths} now"]
    changes = []
    for entry, path in zip(recorded.get("files", []), paths):
        name = path.rstrip("/").rsplit("/", 1)[-1] if is_url(path) else os.path.basename(path)
        stat = _stat(path)
        if stat is None:
            if "size" in entry:
                changes.append(f"{name}: missing now")
            continue
        size, mtime_ns = stat
        if "size" not in entry:
            changes.append(f"{name}: missing then, present now")
        elif size != entry["size"]:
            changes.append(f"{name}: {entry['size']:,} bytes then, {size:,} now")
        elif mtime_ns != entry.get("mtime_ns") and _sha256(path) != entry.get("sha256"):
            changes.append(f"{name}: same size, other content")
    return changes
