"""sha256 digests of files, and the check of a file against a pinned digest."""
import hashlib

from xdomain_tf.errors import IntegrityError


def sha256_file(path):
    """The sha256 of a file's bytes, as hex (read in 1 MiB blocks).

    Args:
        path: the file.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> sha256_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path, expected, advice="delete it and download it again", actual=None):
    """Raises `IntegrityError` (naming the file, the expected and the actual sha256)
    unless the file's sha256 is `expected`; returns the digest.

    Args:
        path: the file.
        expected: the pinned sha256 (hex).
        advice: what the error tells the user to do.
        actual: the digest, when the caller computed it already.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> verify_sha256(path, "0" * 64)
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.IntegrityError: .../a.txt: sha256 ba7816bf...15ad does not match the pinned 0000...0000; delete it and download it again
    """
    actual = actual or sha256_file(path)
    if actual != expected.lower():
        raise IntegrityError(path, expected, actual, advice)
    return actual
