"""A simulated object store for tests: `ram://` paths under a prefix, published the way
GCS and S3 publish (no atomic folder rename: objects copied one by one), with a hook that
runs a reader after every object lands or makes the copy fail midway (a crash)."""
import contextlib
import uuid

from xdomain_tf.utils.storage import FileSystem, register_file_system, remove_tree


class ObjectStore(FileSystem):
    """Copies object by object; calls `observe(target)` after each and raises
    `ObjectStore.Crash` instead of the `crash_at`-th copy (1-based) when set.

    Args:
        observe: called with each object's path right after it lands.
        crash_at: the copy that fails, or None.
    """

    class Crash(RuntimeError):
        pass

    def __init__(self, observe=None, crash_at=None):
        super().__init__(atomic_rename=False)
        self.observe = observe
        self.crash_at = crash_at
        self.copies = []

    def copy_file(self, source, target):
        if self.crash_at is not None and len(self.copies) + 1 == self.crash_at:
            raise ObjectStore.Crash(f"simulated crash before copying to {target}")
        super().copy_file(source, target)
        self.copies.append(str(target))
        if self.observe is not None:
            self.observe(target)


@contextlib.contextmanager
def object_store(observe=None, crash_at=None):
    """Yields `(root, store)`: a fresh `ram://` folder URL that behaves as an object store."""
    root = f"ram://objectstore-{uuid.uuid4().hex[:8]}"
    store = ObjectStore(observe, crash_at)
    previous = register_file_system(root + "/", store)
    try:
        yield root, store
    finally:
        register_file_system(root + "/", previous)
        remove_tree(root)
