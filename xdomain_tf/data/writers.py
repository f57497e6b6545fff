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
    fmt, compressed = data_format(path)
    if fmt != "jsonl":
        raise XDomainError(f"{path}: write_jsonl needs a .jsonl or .json path")
    count = 0
    with atomic_path(path) as temp_path:
        opener = gzip.open if compressed else open
        with opener(temp_path, "wt", encoding="utf-8", newline="\n") as handle:
            for count, record in enumerate(records, 1):
                record = normalize_record(
                    record, require_label=False, require_domain=False, path=path, line=count
                )
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return count


def write_tfrecord(records, path):
    """Writes records as `tf.train.Example`s with one bytes feature per field.

    GZIP-compressed when `path` ends in `.gz`; validated and atomic as `write_jsonl`.

    Args:
        records: an iterable of record dicts.
        path: a `.tfrecord`/`.tfrec` path, optionally with `.gz`.

    Returns:
        The number of records written.

    Example:

    >>> import pathlib, tempfile
    >>> from xdomain_tf.data.readers import read_records
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.tfrecord.gz"
    >>> write_tfrecord([{"text": "Rain today", "label": "weather", "domain": "news"}], path)
    1
    >>> list(read_records(path))
    [{'text': 'Rain today', 'label': 'weather', 'domain': 'news'}]
    """
    fmt, compressed = data_format(path)
    if fmt != "tfrecord":
        raise XDomainError(f"{path}: write_tfrecord needs a .tfrecord or .tfrec path")
    import tensorflow as tf

    count = 0
    with atomic_path(path) as temp_path:
        options = tf.io.TFRecordOptions(compression_type="GZIP" if compressed else "")
        with tf.io.TFRecordWriter(str(temp_path), options) as writer:
            for count, record in enumerate(records, 1):
                record = normalize_record(
                    record, require_label=False, require_domain=False, path=path, line=count
                )
                feature = {
                    name: tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[value.encode("utf-8")])
                    )
                    for name, value in record.items()
                }
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
    return count
