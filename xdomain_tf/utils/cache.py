"""Where xdomain_tf caches downloaded corpora and weights."""
import os
import pathlib


def cache_dir(*parts):
    """Returns (and creates) a folder under the cache root.

    The root is `$XDOMAIN_TF_CACHE`, else `$XDG_CACHE_HOME/xdomain_tf`, else
    `~/.cache/xdomain_tf`.

    Args:
        *parts: sub-folder names below the root.

    Example:

    >>> cache_dir("bbc").name
    'bbc'
    """
    root = os.environ.get("XDOMAIN_TF_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "xdomain_tf")
    path = pathlib.Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
