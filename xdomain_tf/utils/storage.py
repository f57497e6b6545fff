"""Paths on any file system TensorFlow reads: local folders, `gs://`, `s3://`, `hdfs://`
(through their TensorFlow plugins) and TensorFlow's in-memory `ram://`.

`storage_path(p)` is the one entry point: a local path stays a `pathlib.Path` (fast,
`os.replace` atomic renames, `flock` locks); a URL becomes a `StoragePath`, a small
`pathlib`-like path over `tf.io.gfile`. Code written against the common part of the two
(`/`, `name`, `parent`, `exists`, `is_dir`, `mkdir`, `iterdir`, `glob`, `open`,
`read_text`, `write_bytes`, `unlink`, ...) runs unchanged on both.

Publishing. Object stores (`gs://`, `s3://`) and `ram://` have no atomic folder rename:
a rename copies object by object, so a reader could see half a folder. `publish_folder`
moves a finished temporary folder into place; where the file system renames folders
atomically (local, `hdfs://`) that is one rename, elsewhere the files are copied one by
one with the files named in `last` (the ones readers look for, e.g. `saved_model.pb`)
copied after everything else. A single file is published by one rename on every file
system: an object store writes one object atomically. Which file system is which is
`file_system(path).atomic_rename`; tests register a wrapper with `register_file_system`
to play an object store over `ram://`.
"""
import contextlib
import fnmatch
import os
import pathlib
import re
import shutil
import tempfile
import uuid

from xdomain_tf.errors import XDomainError

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Schemes whose TensorFlow file system renames a folder in one atomic step.
ATOMIC_FOLDER_RENAME = ("file", "hdfs", "viewfs")
PLUGINS = {
    "s3": "tensorflow-io (pip install tensorflow-io; import tensorflow_io before use)",
    "hdfs": "tensorflow-io with a Hadoop client (pip install tensorflow-io; import tensorflow_io before use)",
    "az": "tensorflow-io (pip install tensorflow-io; import tensorflow_io before use)",
}


class StorageError(XDomainError):
    """A file system call that failed on a URL: one line naming the path and the cause.

    Example:

    >>> str(StorageError("gs://bucket/run", "cannot read", "permission denied"))
    'gs://bucket/run: cannot read (permission denied)'
    """

    def __init__(self, path, what, cause):
        super().__init__(f"{path}: {what} ({cause})")


def is_url(path):
    """Whether `path` is a URL (`scheme://...`) rather than a local path.

    Example:

    >>> is_url("gs://bucket/run"), is_url("runs/demo"), is_url(pathlib.Path("/tmp"))
    (True, False, False)
    """
    return isinstance(path, (str, StoragePath)) and bool(_URL.match(str(path)))


def storage_path(path):
    """`path` as a `pathlib.Path` (local) or a `StoragePath` (a URL).

    Args:
        path: a string, `os.PathLike` or `StoragePath`.

    Example:

    >>> storage_path("ram://runs/demo") / "run.json"
    StoragePath('ram://runs/demo/run.json')
    >>> storage_path("runs/demo").name
    'demo'
    """
    if isinstance(path, (pathlib.Path, StoragePath)):
        return path
    if is_url(path):
        url = str(path)
        if url.startswith("file://"):
            return pathlib.Path(url[len("file://"):])
        return StoragePath(url)
    return pathlib.Path(path)


def _tf():
    import tensorflow as tf

    return tf


def _failure(path, what, error):
    """A one-line `StorageError` (or `FileNotFoundError`) for a failed gfile call."""
    tf = _tf()
    if isinstance(error, tf.errors.NotFoundError):
        return FileNotFoundError(f"{path}: no such file or folder")
    message = getattr(error, "message", None) or str(error)
    message = " ".join(message.split())
    if isinstance(error, tf.errors.UnimplementedError) and "not implemented" in message:
        scheme = _URL.match(str(path)).group(1) if _URL.match(str(path)) else "?"
        plugin = PLUGINS.get(scheme, "a TensorFlow file system plugin for it")
        return StorageError(path, f"TensorFlow has no file system for {scheme}://", f"it comes with {plugin}")
    if "Could not resolve host" in message or "Couldn't resolve host" in message:
        message = "cannot reach the storage service: " + message.split("error details:")[-1].strip()
    elif isinstance(error, tf.errors.PermissionDeniedError) or "credentials" in message.lower():
        message = "no permission or no credentials: " + message[:200]
    return StorageError(path, what, message[:300])


def _call(path, what, function, *args):
    tf = _tf()
    try:
        return function(*args)
    except tf.errors.OpError as error:
        raise _failure(path, what, error) from None


class _StatResult:
    def __init__(self, size, mtime):
        self.st_size = size
        self.st_mtime = mtime


class StoragePath:
    """A path on a TensorFlow file system, with the part of `pathlib.Path`'s API the
    library uses.

    Args:
        url: `scheme://rest`.

    Example:

    >>> path = StoragePath("ram://doc/notes.txt")
    >>> path.parent.mkdir(parents=True, exist_ok=True)
    >>> _ = path.write_text("Straße")
    >>> path.read_text(), path.name, path.suffix, path.exists()
    ('Straße', 'notes.txt', '.txt', True)
    >>> sorted(child.name for child in path.parent.iterdir())
    ['notes.txt']
    """

    def __init__(self, url):
        url = str(url)
        match = _URL.match(url)
        if not match:
            raise XDomainError(f"{url}: not a URL (scheme://...)")
        rest = url[match.end():]
        while rest.endswith("/") and len(rest) > 1:
            rest = rest[:-1]
        self._scheme = match.group(1)
        self._rest = rest

    # --- names -------------------------------------------------------------------
    def __str__(self):
        return f"{self._scheme}://{self._rest}"

    def __repr__(self):
        return f"StoragePath({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, StoragePath) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def __lt__(self, other):
        return str(self) < str(other)

    def __truediv__(self, name):
        name = str(name)
        if not self._rest:
            return StoragePath(f"{self._scheme}://{name}")
        return StoragePath(f"{self}/{name}")

    def joinpath(self, *names):
        path = self
        for name in names:
            path = path / name
        return path

    @property
    def scheme(self):
        return self._scheme

    @property
    def name(self):
        return self._rest.rsplit("/", 1)[-1]

    @property
    def parent(self):
        if "/" not in self._rest:
            return StoragePath(f"{self._scheme}://")
        return StoragePath(f"{self._scheme}://{self._rest.rsplit('/', 1)[0]}")

    @property
    def parts(self):
        return (f"{self._scheme}://",) + tuple(part for part in self._rest.split("/") if part)

    @property
    def suffix(self):
        return pathlib.PurePosixPath(self.name).suffix

    @property
    def suffixes(self):
        return pathlib.PurePosixPath(self.name).suffixes

    @property
    def stem(self):
        return pathlib.PurePosixPath(self.name).stem

    def with_name(self, name):
        return self.parent / name

    def with_suffix(self, suffix):
        return self.parent / (pathlib.PurePosixPath(self.name).with_suffix(suffix).name)

    def resolve(self):
        return self

    def absolute(self):
        return self

    def expanduser(self):
        return self

    def relative_to(self, other):
        prefix = str(other).rstrip("/") + "/"
        if not str(self).startswith(prefix):
            raise ValueError(f"{self} is not in {other}")
        return pathlib.PurePosixPath(str(self)[len(prefix):])

    def is_symlink(self):
        return False

    # --- queries -----------------------------------------------------------------
    def exists(self):
        if self._scheme == "ram":
            return self.is_file() or self.is_dir()
        return _call(self, "cannot read", _tf().io.gfile.exists, str(self))

    def is_dir(self):
        if self._scheme == "ram":
            return _ram_key(self) == "folder" or bool(_ram_entries(self))
        return _call(self, "cannot read", _tf().io.gfile.isdir, str(self))

    def is_file(self):
        if self._scheme == "ram":
            return _ram_key(self) == "file"
        return self.exists() and not self.is_dir()

    def stat(self):
        stat = _call(self, "cannot read", _tf().io.gfile.stat, str(self))
        return _StatResult(stat.length, stat.mtime_nsec / 1e9)

    def iterdir(self):
        if self._scheme == "ram":
            names = {name.split("/", 1)[0] for name in _ram_entries(self)}
        else:
            names = _call(self, "cannot list", _tf().io.gfile.listdir, str(self))
        return iter(sorted((self / name.rstrip("/") for name in names), key=str))

    def glob(self, pattern):
        return iter(sorted(StoragePath(match) for match in _call(self, "cannot list", _tf().io.gfile.glob,
                                                                 f"{self}/{pattern}")))

    def rglob(self, pattern):
        found = [self.joinpath(*name.split("/")) for name in _files_under(self)]
        return iter(sorted((path for path in found if fnmatch.fnmatch(path.name, pattern)), key=str))

    # --- reading and writing -----------------------------------------------------
    def open(self, mode="r", encoding=None, newline=None, **_):
        if "r" in mode and not self.is_file():
            if self.is_dir():
                raise IsADirectoryError(f"{self}: a folder, not a file")
            raise FileNotFoundError(f"{self}: no such file")
        if "w" in mode and self._scheme == "ram" and self.is_file():
            self.unlink()  # TensorFlow's ram:// overwrites in place without truncating
        handle = _call(self, "cannot open", _tf().io.gfile.GFile, str(self), mode.replace("t", ""))
        return _GFileHandle(self, handle, binary="b" in mode, encoding=encoding or "utf-8")

    def read_bytes(self):
        with self.open("rb") as handle:
            return handle.read()

    def read_text(self, encoding="utf-8", errors="strict"):
        return self.read_bytes().decode(encoding, errors)

    def write_bytes(self, data):
        with self.open("wb") as handle:
            handle.write(data)
        return len(data)

    def write_text(self, text, encoding="utf-8", newline=None):
        return self.write_bytes(text.encode(encoding))

    # --- changing ----------------------------------------------------------------
    def mkdir(self, parents=False, exist_ok=False, mode=None):
        if self.exists():
            if exist_ok and self.is_dir():
                return
            raise FileExistsError(f"{self}: exists")
        if not parents and not self.parent.exists() and self.parent._rest:
            raise FileNotFoundError(f"{self.parent}: no such folder")
        _call(self, "cannot create the folder", _tf().io.gfile.makedirs, str(self))

    def unlink(self, missing_ok=False):
        if not self.exists():
            if missing_ok:
                return
            raise FileNotFoundError(f"{self}: no such file")
        _call(self, "cannot remove", _tf().io.gfile.remove, str(self))

    def rmdir(self):
        _call(self, "cannot remove", _tf().io.gfile.rmtree, str(self))

    def touch(self, exist_ok=True):
        if self.exists():
            if not exist_ok:
                raise FileExistsError(f"{self}: exists")
            return
        self.write_bytes(b"")

    def replace(self, target):
        target = storage_path(target)
        file_system(target).rename(self, target)
        return target

    rename = replace


class _GFileHandle:
    """A file object over `tf.io.gfile.GFile` that raises one-line errors and decodes text."""

    def __init__(self, path, handle, binary, encoding):
        self._path = path
        self._handle = handle
        self._binary = binary
        self._encoding = encoding
        self._text_buffer = None

    def read(self, size=-1):
        data = _call(self._path, "cannot read", self._handle.read, size if size is not None else -1)
        if self._binary:
            return data if isinstance(data, bytes) else data.encode(self._encoding)
        return data.decode(self._encoding) if isinstance(data, bytes) else data

    def readline(self):
        data = _call(self._path, "cannot read", self._handle.readline)
        if self._binary:
            return data if isinstance(data, bytes) else data.encode(self._encoding)
        return data.decode(self._encoding) if isinstance(data, bytes) else data

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def write(self, data):
        if isinstance(data, str):
            data = data.encode(self._encoding)
        _call(self._path, "cannot write", self._handle.write, data)
        return len(data)

    def seek(self, offset, whence=0):
        return _call(self._path, "cannot read", self._handle.seek, offset, whence)

    def tell(self):
        return self._handle.tell()

    def flush(self):
        _call(self._path, "cannot write", self._handle.flush)

    def fileno(self):
        raise OSError(f"{self._path}: not a local file")

    def readable(self):
        return True

    def writable(self):
        return True

    def seekable(self):
        return True

    @property
    def closed(self):
        return self._handle is None

    def close(self):
        if self._handle is not None:
            handle, self._handle = self._handle, None
            _call(self._path, "cannot write", handle.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FileSystem:
    """How the library publishes on one file system.

    Args:
        atomic_rename: whether renaming a folder is one atomic step (local, HDFS) or a copy
            object by object (object stores, `ram://`).

    Example:

    >>> file_system("gs://bucket/run").atomic_rename, file_system("/tmp").atomic_rename
    (False, True)
    """

    def __init__(self, atomic_rename):
        self.atomic_rename = atomic_rename

    def rename(self, source, target):
        """Renames one file or folder onto `target` (replacing a file there)."""
        source, target = storage_path(source), storage_path(target)
        if isinstance(source, pathlib.Path) and isinstance(target, pathlib.Path):
            os.replace(source, target)
            return
        if source.is_dir():
            _call(source, "cannot rename", _tf().io.gfile.rename, str(source), str(target), False)
            return
        self.copy_file(source, target)
        source.unlink()

    def copy_file(self, source, target):
        """Copies one file; on an object store the new object appears whole or not at all."""
        source, target = storage_path(source), storage_path(target)
        if _scheme(source) == _scheme(target) and _scheme(target) not in ("file", "ram"):
            # A copy within one store stays on the server (GCS rewrites, S3 copies objects).
            _call(target, "cannot write", _tf().io.gfile.copy, str(source), str(target), True)
            return
        # ram:// copies are broken in TensorFlow (the target reads as an empty folder).
        data = source.read_bytes()
        if isinstance(target, pathlib.Path):
            with atomic_local_file(target) as handle:
                handle.write(data)
        else:
            target.write_bytes(data)


def _scheme(path):
    match = _URL.match(str(path))
    return match.group(1) if match else "file"


@contextlib.contextmanager
def atomic_local_file(path):
    """A binary handle on a temporary file beside local `path`, renamed onto it on success.

    Args:
        path: the local file (a `pathlib.Path`).

    Example:

    >>> import tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "w.bin"
    >>> with atomic_local_file(target) as handle:
    ...     _ = handle.write(b"weights")
    >>> target.read_bytes()
    b'weights'
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(name, path)
    finally:
        if os.path.exists(name):
            os.unlink(name)


_FILE_SYSTEMS = {}


def register_file_system(prefix, system):
    """Makes `system` (a `FileSystem`) handle every path starting with `prefix`; returns
    the one it replaces (None if none). Tests use it to play an object store.

    Example:

    >>> previous = register_file_system("ram://store/", FileSystem(atomic_rename=False))
    >>> file_system("ram://store/run").atomic_rename
    False
    >>> _ = register_file_system("ram://store/", previous)
    """
    previous = _FILE_SYSTEMS.pop(prefix, None)
    if system is not None:
        _FILE_SYSTEMS[prefix] = system
    return previous


def file_system(path):
    """The `FileSystem` that handles `path` (the longest registered prefix, else by scheme).

    Example:

    >>> file_system("hdfs://namenode/runs").atomic_rename
    True
    """
    text = str(path)
    matches = [prefix for prefix in _FILE_SYSTEMS if text.startswith(prefix)]
    if matches:
        return _FILE_SYSTEMS[max(matches, key=len)]
    return FileSystem(atomic_rename=_scheme(text) in ATOMIC_FOLDER_RENAME)


def temporary_sibling(path, tag="tmp"):
    """A fresh, unused hidden name beside `path` (nothing is created).

    Example:

    >>> temporary_sibling(storage_path("ram://base/3")).name.startswith(".3.tmp-")
    True
    """
    path = storage_path(path)
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def remove_tree(path):
    """Removes a file or folder and everything in it; nothing if it does not exist.

    Args:
        path: local or a URL.

    Example:

    >>> _ = storage_path("ram://trash/a/b.txt").write_text("x")
    >>> remove_tree("ram://trash/a")
    >>> storage_path("ram://trash/a/b.txt").exists()
    False
    """
    path = storage_path(path)
    if isinstance(path, pathlib.Path):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink(missing_ok=True)
        return
    if path.scheme == "ram":
        for name in sorted(_ram_entries(path), key=lambda name: -name.count("/")):
            _call(path, "cannot remove", _tf().io.gfile.remove, f"{path}/{name}")
        if _ram_key(path) is not None:
            _call(path, "cannot remove", _tf().io.gfile.remove, str(path))
        return
    if path.is_dir():
        _call(path, "cannot remove", _tf().io.gfile.rmtree, str(path))
    elif path.exists():
        path.unlink(missing_ok=True)


def _files_under(folder):
    """Relative POSIX names of every file under `folder`, sorted."""
    folder = storage_path(folder)
    if isinstance(folder, pathlib.Path):
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    if folder.scheme == "ram":
        return _ram_files(folder)
    found = []
    for root, _, files in _tf().io.gfile.walk(str(folder)):
        relative = root[len(str(folder)):].strip("/")
        found += [f"{relative}/{name}" if relative else name for name in files]
    return sorted(found)


# TensorFlow's ram:// is a flat map of names (files, and folders made by makedirs); its
# listing and folder test match bare prefixes ("assets" lists "assets.extra/..."). Names
# are found instead by globbing one level deeper at a time ("*" never crosses a "/").
_RAM_DEPTH = 16


def _ram_key(path):
    """"file" or "folder" when `path` is itself a key of the ram:// map, else None."""
    tf = _tf()
    if str(path) not in tf.io.gfile.glob(str(path)):
        return None
    return "folder" if tf.io.gfile.stat(str(path)).is_directory else "file"


def _ram_entries(folder):
    """`{relative name: is a folder}` of every key under the ram:// `folder`."""
    tf = _tf()
    prefix = str(folder).rstrip("/") + "/"
    found = {}
    for depth in range(1, _RAM_DEPTH + 1):
        for match in tf.io.gfile.glob(prefix + "/".join(["*"] * depth)):
            if match.startswith(prefix):
                found[match[len(prefix):]] = tf.io.gfile.stat(match).is_directory
    return found


def _ram_files(folder):
    """Relative names of the files under the ram:// `folder`, sorted."""
    return sorted(name for name, is_folder in _ram_entries(folder).items() if not is_folder)


def copy_tree(source, target, last=()):
    """Copies every file under `source` to `target` (either may be local or a URL); the
    files whose name is in `last` are copied after all others, in `last`'s order.

    Example:

    >>> import tempfile
    >>> source = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (source / "a.txt").write_text("a")
    >>> copy_tree(source, "ram://copies/one")
    >>> storage_path("ram://copies/one/a.txt").read_text()
    'a'
    """
    source, target = storage_path(source), storage_path(target)
    names = _files_under(source)
    order = {name: index for index, name in enumerate(last)}
    names.sort(key=lambda name: (order.get(pathlib.PurePosixPath(name).name, -1), name))
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        destination = target.joinpath(*name.split("/"))
        destination.parent.mkdir(parents=True, exist_ok=True)
        source_file = source.joinpath(*name.split("/"))
        if isinstance(source_file, pathlib.Path) and isinstance(destination, pathlib.Path):
            shutil.copy2(source_file, destination)
        else:
            file_system(destination).copy_file(source_file, destination)


def publish_folder(temporary, final, last=()):
    """Moves the finished folder `temporary` to `final` so that a reader never sees half of it.

    On a file system with atomic folder renames that is one rename (an existing `final`
    is set aside first and removed after). Elsewhere (object stores, `ram://`) every file
    is copied into `final` with the files named in `last` copied after all the others, so
    a reader that looks for those files (TF Serving looks for `saved_model.pb`; our
    resume reads `checkpoints/state.json`) finds them only when the rest is there; then
    `temporary` is removed. `final` must not exist there (replace it by publishing under
    a new name, e.g. the next version).

    Args:
        temporary: the finished folder (a sibling of `final`).
        final: where it goes.
        last: file names copied last.

    Example:

    >>> staging = storage_path("ram://exports/.1.tmp")
    >>> _ = (staging / "variables").mkdir(parents=True, exist_ok=True)
    >>> _ = (staging / "saved_model.pb").write_bytes(b"graph")
    >>> publish_folder(staging, "ram://exports/1", last=("saved_model.pb",))
    >>> storage_path("ram://exports/1/saved_model.pb").read_bytes(), staging.exists()
    (b'graph', False)
    """
    temporary, final = storage_path(temporary), storage_path(final)
    system = file_system(final)
    if system.atomic_rename:
        if final.exists():
            old = temporary_sibling(final, "old")
            system.rename(final, old)
            system.rename(temporary, final)
            remove_tree(old)
        else:
            system.rename(temporary, final)
        return
    if final.exists() and any(True for _ in final.iterdir()):
        raise XDomainError(f"{final}: exists; on this file system a folder is published under a new name")
    copy_tree(temporary, final, last=last)
    remove_tree(temporary)


@contextlib.contextmanager
def local_copy(path, suffix=""):
    """A local file holding the content of `path` (itself when local), for libraries
    that read only local files (h5py, zipfile, the TFLite interpreter).

    Example:

    >>> _ = storage_path("ram://local/a.bin").write_bytes(b"data")
    >>> with local_copy("ram://local/a.bin") as local:
    ...     local.read_bytes()
    b'data'
    """
    path = storage_path(path)
    if isinstance(path, pathlib.Path):
        yield path
        return
    if path.is_dir():
        folder = pathlib.Path(tempfile.mkdtemp(prefix="xdomain-tf-"))
        try:
            copy_tree(path, folder / path.name)
            yield folder / path.name
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    handle, name = tempfile.mkstemp(prefix="xdomain-tf-", suffix=suffix or path.suffix)
    os.close(handle)
    local = pathlib.Path(name)
    try:
        local.write_bytes(path.read_bytes())
        yield local
    finally:
        local.unlink(missing_ok=True)
