"""What a run's data files were when it started: path, size, modification time and sha256
of each, so a resumed run can tell whether its data has changed since."""
import os

from xdomain_tf.utils.file_digest import sha256_file


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
    for path in paths:
        path = os.fspath(path)
        try:
            stat = os.stat(path)
        except OSError:
            files.append({"path": path})
            continue
        files.append({"path": path, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256_file(path)})
    return {"files": files}


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
    paths = [os.fspath(path) for path in paths]
    if old != paths:
        return [f"files {old} then, {paths} now"]
    changes = []
    for entry, path in zip(recorded.get("files", []), paths):
        name = os.path.basename(path)
        try:
            stat = os.stat(path)
        except OSError:
            if "size" in entry:
                changes.append(f"{name}: missing now")
            continue
        if "size" not in entry:
            changes.append(f"{name}: missing then, present now")
        elif stat.st_size != entry["size"]:
            changes.append(f"{name}: {entry['size']:,} bytes then, {stat.st_size:,} now")
        elif stat.st_mtime_ns != entry.get("mtime_ns") and sha256_file(path) != entry.get("sha256"):
            changes.append(f"{name}: same size, other content")
    return changes
