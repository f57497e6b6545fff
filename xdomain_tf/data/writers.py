"""Writers for JSON Lines and TFRecord data files, atomic (a temporary file, then a rename)."""
import gzip
import json

from xdomain_tf.data.readers import data_format
from xdomain_tf.data.record_schema import normalize_record
from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import atomic_path


def write_jsonl(records, path):
    """Writes records as JSON Lines (gzip-compressed when `path` ends in `.gz`).

    Each record is validated against the record schema first (label and domain may be
    absent); the file appears only once every record is written, so a failure leaves no
    partial file behind.

    Args:
        records: an iterable of record dicts.
        path: a `.jsonl`/`.json` path, optionally with `.gz`.

    Returns:
        The number of records written.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> write_jsonl([{"text": "Rain today", "label": "weather", "domain": "news"}], path)
    1
    >>> path.read_text(encoding="utf-8")
    '{"text": "Rain today", "label": "weather", "domain": "news"}\\n'
    """
    compressed = _compressed(path, "jsonl", "write_jsonl needs a .jsonl or .json path")
    with atomic_path(path) as temp_path:
        opener = gzip.open if compressed else open
        with opener(temp_path, "wt", encoding="utf-8", newline="\n") as handle:
            return _write_each(records, path, lambda record: handle.write(json.dumps(record, ensure_ascii=False) + "\n"))


def write_tfrecord(records, path):
    """Writes records as `tf.train.Example`s with one bytes feature per field.

    Arguments, return value, validation and atomicity as `write_jsonl`, for a
    `.tfrecord`/`.tfrec` path (GZIP-compressed when it ends in `.gz`).

    Example:

    >>> import pathlib, tempfile
    >>> from xdomain_tf.data.readers import read_records
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.tfrecord.gz"
    >>> write_tfrecord([{"text": "Rain today", "label": "weather", "domain": "news"}], path)
    1
    >>> list(read_records(path))
    [{'text': 'Rain today', 'label': 'weather', 'domain': 'news'}]
    """
    compressed = _compressed(path, "tfrecord", "write_tfrecord needs a .tfrecord or .tfrec path")
    import tensorflow as tf

    with atomic_path(path) as temp_path:
        options = tf.io.TFRecordOptions(compression_type="GZIP" if compressed else "")
        with tf.io.TFRecordWriter(str(temp_path), options) as writer:
            return _write_each(records, path, lambda record: writer.write(_example_bytes(record)))


def _example_bytes(record):
    """A record as a serialized `tf.train.Example` with one bytes feature per field."""
    import tensorflow as tf

    feature = {
        name: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))
        for name, value in record.items()
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _compressed(path, expected_format, message):
    """Whether `path` is gzip-compressed; an XDomainError when it is not of `expected_format`."""
    fmt, compressed = data_format(path)
    if fmt != expected_format:
        raise XDomainError(f"{path}: {message}")
    return compressed


def _write_each(records, path, write):
    """Validates each record against the schema (label and domain may be absent) and
    passes it to `write`; returns the number of records."""
    count = 0
    for count, record in enumerate(records, 1):
        write(normalize_record(record, require_label=False, require_domain=False, path=path, line=count))
    return count
