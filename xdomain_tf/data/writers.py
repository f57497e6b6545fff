"""Writers for JSON Lines and TFRecord data files, atomic (a temporary file, then a rename),
local or on any `tf.io.gfile` URL; and the writer of a corpus as N shards."""
import contextlib
import gzip
import json
import os
import pathlib

from xdomain_tf.data.readers import SHARD_NAME, _glob, data_format, read_records
from xdomain_tf.data.record_schema import normalize_record
from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import atomic_path
from xdomain_tf.utils.storage import file_system, remove_tree, storage_path, temporary_sibling

SHARD_FORMATS = {"tfrecord": ".tfrecord", "jsonl": ".jsonl"}


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
        with _jsonl_writer(temp_path, compressed) as write:
            return _write_each(records, path, write)


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
    with atomic_path(path) as temp_path:
        with _tfrecord_writer(temp_path, compressed) as write:
            return _write_each(records, path, write)


def write_shards(records_or_paths, prefix, num_shards, format="tfrecord", compressed=False, default_domain=None):
    """Writes a corpus as `num_shards` files `PREFIX-00000-of-0000N.tfrecord`, ...

    Record `i` goes to shard `i % num_shards`, so every shard holds a similar mix of
    domains and labels, and shard sizes differ by at most one. The shards are written
    under hidden temporary names and renamed into place only once every record is
    written: a failure (a bad record, a full disk) publishes nothing. A glob for the set
    (`PREFIX-*-of-*.tfrecord`) read while the renames run is refused as incomplete by
    the readers (see `expand_data_files`). Local paths and URLs both work, for the input
    and for `prefix`.

    Args:
        records_or_paths: data files (paths, URLs or glob patterns, read with
            `read_records`; labels and domains optional) or an iterable of record dicts.
        prefix: the shards' path without the `-00000-of-0000N.EXT` ending.
        num_shards: the number of shards.
        format: `"tfrecord"` or `"jsonl"`.
        compressed: gzip the shards (`.tfrecord.gz`, `.jsonl.gz`).
        default_domain: the domain of records that have none.

    Returns:
        `{shard path: number of records}`, in shard order.

    Example:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> records = [{"text": f"text {i}", "label": "a", "domain": "news"} for i in range(5)]
    >>> counts = write_shards(records, folder / "train", 2)
    >>> {pathlib.Path(path).name: count for path, count in counts.items()}
    {'train-00000-of-00002.tfrecord': 3, 'train-00001-of-00002.tfrecord': 2}
    >>> [r["text"] for r in read_records(folder / "train-00001-of-00002.tfrecord")]
    ['text 1', 'text 3']
    """
    if isinstance(num_shards, bool) or not isinstance(num_shards, int) or num_shards < 1:
        raise XDomainError(f"num_shards must be a positive integer, got {num_shards!r}")
    if format not in SHARD_FORMATS:
        raise XDomainError(f"format must be one of {', '.join(SHARD_FORMATS)}, got {format!r}")
    suffix = SHARD_FORMATS[format] + (".gz" if compressed else "")
    width = max(5, len(str(num_shards)))
    prefix = os.fspath(prefix) if isinstance(prefix, os.PathLike) else str(prefix)
    paths = [f"{prefix}-{index:0{width}d}-of-{num_shards:0{width}d}{suffix}" for index in range(num_shards)]
    _check_other_shard_sets(prefix, suffix, paths)
    records = _shard_input(records_or_paths, default_domain)
    finals = [storage_path(path) for path in paths]
    finals[0].parent.mkdir(parents=True, exist_ok=True)
    temporaries = [temporary_sibling(final, "shard") for final in finals]
    open_writer = _tfrecord_writer if format == "tfrecord" else _jsonl_writer
    counts = [0] * num_shards
    try:
        with contextlib.ExitStack() as stack:
            writers = [stack.enter_context(open_writer(temporary, compressed)) for temporary in temporaries]
            for index, (record, path, line) in enumerate(records):
                shard = index % num_shards
                writers[shard](normalize_record(record, require_label=False, require_domain=False, path=path,
                                                line=line))
                counts[shard] += 1
        if not any(counts):
            raise XDomainError(f"{_input_name(records_or_paths)}: no records to shard")
        for temporary, final in zip(temporaries, finals):
            file_system(final).rename(temporary, final)
    finally:
        for temporary in temporaries:
            remove_tree(temporary)
    return dict(zip(paths, counts))


def _shard_input(records_or_paths, default_domain):
    """`(record, path, line)` of every input record, read lazily."""
    if isinstance(records_or_paths, (str, os.PathLike)):
        records_or_paths = [records_or_paths]
    items = records_or_paths if isinstance(records_or_paths, (list, tuple)) else None
    if items is not None and items and all(isinstance(item, (str, os.PathLike)) for item in items):
        return read_records(items, default_domain=default_domain, require_label=False, require_domain=False,
                            with_location=True)

    def in_memory():
        for line, record in enumerate(records_or_paths, 1):
            if isinstance(record, dict) and default_domain is not None and not record.get("domain"):
                record = {**record, "domain": default_domain}
            yield record, "<records>", line

    return in_memory()


def _input_name(records_or_paths):
    if isinstance(records_or_paths, (str, os.PathLike)):
        return os.fspath(records_or_paths)
    if isinstance(records_or_paths, (list, tuple)) and all(isinstance(i, (str, os.PathLike)) for i in records_or_paths):
        return ", ".join(map(os.fspath, records_or_paths))
    return "<records>"


def _check_other_shard_sets(prefix, suffix, paths):
    """Shards of another set under the same prefix would be read with the new ones by a glob."""
    others = []
    for match in _glob(f"{prefix}-*-of-*{suffix}"):
        found = SHARD_NAME.match(str(match))
        if found and found.group("stem") == prefix and found.group("suffix") == suffix and str(match) not in paths:
            others.append(str(match))
    if others:
        raise XDomainError(
            f"{prefix}-*-of-*{suffix}: {len(others)} shard(s) of another set exist (e.g. {others[0]}); remove them "
            "or choose another prefix"
        )


@contextlib.contextmanager
def _jsonl_writer(path, compressed):
    """A function writing one record a line to `path` (local or a URL)."""

    def line(record):
        return json.dumps(record, ensure_ascii=False) + "\n"

    if isinstance(path, pathlib.Path):
        opener = gzip.open if compressed else open
        with opener(path, "wt", encoding="utf-8", newline="\n") as handle:
            yield lambda record: handle.write(line(record))
        return
    with path.open("wb") as raw:
        if compressed:
            with gzip.GzipFile(fileobj=raw, mode="wb") as handle:
                yield lambda record: handle.write(line(record).encode("utf-8"))
        else:
            yield lambda record: raw.write(line(record).encode("utf-8"))


@contextlib.contextmanager
def _tfrecord_writer(path, compressed):
    """A function writing one record as a `tf.train.Example` to `path` (local or a URL)."""
    import tensorflow as tf

    options = tf.io.TFRecordOptions(compression_type="GZIP" if compressed else "")
    with tf.io.TFRecordWriter(str(path), options) as writer:
        yield lambda record: writer.write(_example_bytes(record))


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
