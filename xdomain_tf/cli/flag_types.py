"""argparse `type=` converters for flags whose values have a range or name a path to
write, so a bad value is an argparse error (usage line, exit 2) before any model loads."""
import argparse
import pathlib

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.storage import is_url, storage_path


def positive_int(text):
    """An integer >= 1: a count of examples, steps or threads, a batch size.

    Example:

    >>> positive_int("16")
    16
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a positive integer, got '0'
    """
    return _int_at_least(text, 1, "a positive integer")


def sequence_length(text):
    """Tokens per example, at least 8 ([CLS], [SEP] and a few word pieces), as `seq_len`
    of the training options.

    Example:

    >>> sequence_length("4")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be an integer >= 8, got '4'
    """
    return _int_at_least(text, 8, "an integer >= 8")


def positive_float(text):
    """A number > 0: a learning rate, a temperature.

    Example:

    >>> positive_float("2e-4")
    0.0002
    >>> positive_float("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a number > 0, got '-1'
    """
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def _int_at_least(text, low, what):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def fraction(text):
    """A number strictly between 0 and 1 (a rate).

    Example:

    >>> fraction("0.15")
    0.15
    >>> fraction("1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a number in (0, 1), got '1'
    """
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


def output_file(text):
    """A file to write: not a folder, and not under a file (refused before any work).

    Example:

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> output_file(folder + "/report.json") == folder + "/report.json"
    True
    >>> output_file(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: ... is a folder, not a file
    """
    if is_url(text):
        _reachable(storage_path(text).parent)
        return text
    if pathlib.Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    _no_file_above(pathlib.Path(text).parent)
    return text


def output_folder(text):
    """A folder to write into (made if missing): neither a file nor under one.

    Example:

    >>> import tempfile
    >>> file = tempfile.mkstemp()[1]
    >>> output_folder(file + "/plots")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: ... is a file, not a folder
    """
    if is_url(text):
        _reachable(storage_path(text))
        return text
    _no_file_above(pathlib.Path(text))
    return text


def _reachable(path):
    """A URL's file system answers (scheme known, host reachable, credentials accepted)."""
    try:
        path.exists()
    except XDomainError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _no_file_above(path):
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise argparse.ArgumentTypeError(f"{candidate} is a file, not a folder")
            return
