"""Whether a process still runs (for lock and reservation files that name their owner)."""
import os


def process_alive(pid):
    """Whether process `pid` runs on this machine (one we may not signal counts as running).

    Args:
        pid: the process id; 0 or less counts as running (an owner still being written).

    Example:

    >>> process_alive(os.getpid())
    True
    """
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
