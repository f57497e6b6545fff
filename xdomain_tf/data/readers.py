"""Streaming readers for JSON Lines, CSV/TSV and TFRecord data files.

The format follows the file extension: `.jsonl`/`.json` (JSON Lines, one object a line),
`.csv`, `.tsv` (header row, then one record a row; TSV has no quoting), `.tfrecord`/`.tfrec`
(`tf.train.Example` with one bytes feature per field); `.gz` after any of them for a
gzip-compressed file. Files are read as streams, never whole, from a local path or any
`tf.io.gfile` URL (`gs://`, `s3://`, `hdfs://`, `ram://`). Wherever a list of data files
is taken, a glob pattern (`data/train-*-of-*.tfrecord`, `gs://bucket/train-*.jsonl`)
stands for the files it matches, in sorted order.
"""
import csv
import errno
import glob
import gzip
import json
import logging
import os
import pathlib
import re
import sys
import zlib

from xdomain_tf.data.read_report import ReadReport
from xdomain_tf.data.record_schema import FIELDS, normalize_record
from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.utils.storage import StorageError, is_url, storage_path

_FORMATS = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tfrecord": "tfrecord",
    ".tfrec": "tfrecord",
}
_BOM = b"\xef\xbb\xbf"
# A TFRecord is a uint64 length and its masked crc32c, the data, then the data's crc32c.
_TFRECORD_HEADER_BYTES = 12
_TFRECORD_FRAMING_BYTES = 16
_GLOB_CHARACTERS = re.compile(r"[*?\[]")
# A shard of a set written by `write_shards`: NAME-00003-of-00008.tfrecord.
SHARD_NAME = re.compile(r"^(?P<stem>.*)-(?P<index>\d{5,})-of-(?P<count>\d{5,})(?P<suffix>(\.[A-Za-z0-9]+)*)$")
_logger = logging.getLogger(__name__)


def data_format(path):
    """The format of a data file from its name: `("jsonl"|"csv"|"tsv"|"tfrecord", gzipped)`.

    Example:

    >>> data_format("train.csv.gz")
    ('csv', True)
    """
    suffixes = [suffix.lower() for suffix in pathlib.PurePath(path).suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in _FORMATS:
        known = ", ".join(list(_FORMATS) + [name + ".gz" for name in _FORMATS])
        raise XDomainError(f"{path}: unknown data file type; known extensions: {known}")
    return _FORMATS[suffixes[-1]], compressed


def read_records(
    paths,
    default_domain=None,
    require_label=True,
    on_error="raise",
    report=None,
    with_location=False,
    require_domain=True,
):
    """Reads records from data files, lazily, validating each against the record schema.

    Args:
        paths: one path or a list of paths, local or URLs (`gs://...`), or glob patterns
            (see `expand_data_files`); the format follows each file's extension.
        default_domain: the domain of records that have none (a single-domain file).
        require_label: a record without a label is an error (False for unlabeled data).
        on_error: `"raise"` stops at the first bad record with a `DataError` naming the
            file, line (record index for TFRecord), field and value; `"skip"` skips bad
            records, counts them in `report` and logs a warning summary at the end.
            A broken file structure (bad CSV header, corrupt TFRecord or gzip framing)
            raises in both modes.
        report: a `ReadReport` to fill (counts, skipped records with reasons).
        with_location: yield `(record, path, line)` instead of bare records.
        require_domain: a record without a domain (and no `default_domain`) is an error.

    Returns:
        An iterator of record dicts (see `xdomain_tf.data.record_schema`). Argument
        and file-existence errors are raised by this call, record errors while iterating.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = path.write_text('{"text": "Rain today", "label": "weather"}\\n')
    >>> list(read_records(path, default_domain="news"))
    [{'text': 'Rain today', 'label': 'weather', 'domain': 'news'}]
    """
    if on_error not in ("raise", "skip"):
        raise XDomainError(f'on_error must be "raise" or "skip", got {on_error!r}')
    paths = _as_path_list(paths)
    for path in paths:
        data_format(path)
        if not _is_file(path):
            raise FileNotFoundError(errno.ENOENT, "No such data file", str(path))
    return _generate(
        paths, default_domain, require_label, on_error, report, with_location, warn=True,
        require_domain=require_domain,
    )


def _as_path_list(paths):
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise XDomainError("no data files given")
    return expand_data_files(paths)


def expand_data_files(paths, strict=True):
    """The data files named by `paths`, each glob pattern replaced by the files it matches.

    A path with `*`, `?` or `[` that is not itself an existing file is a pattern: local
    patterns are expanded with `glob`, URL patterns with `tf.io.gfile.glob`, and the
    matches come in sorted order (so the order of the records stays the same from run to
    run). Other paths are kept as given.

    Args:
        paths: one path or a list of paths and patterns.
        strict: a pattern that matches nothing is an `XDomainError` naming it (False
            keeps the pattern itself in the list).

    Returns:
        A list of paths.

    Example:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("train-00001-of-00002.jsonl", "train-00000-of-00002.jsonl"):
    ...     _ = (folder / name).write_text("")
    >>> [pathlib.Path(p).name for p in expand_data_files([folder / "train-*-of-*.jsonl"])]
    ['train-00000-of-00002.jsonl', 'train-00001-of-00002.jsonl']
    >>> expand_data_files([folder / "valid-*.jsonl"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: .../valid-*.jsonl: no data file matches this pattern
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for path in paths:
        if not _GLOB_CHARACTERS.search(str(path)) or _is_file(path):
            files.append(path)
            continue
        matches = _glob(str(path))
        if not matches and strict:
            raise XDomainError(f"{path}: no data file matches this pattern")
        if strict:
            _check_shard_sets(path, matches)
        files.extend(matches or [path])
    return files


def _check_shard_sets(pattern, matches):
    """Sharded names (`NAME-00003-of-00008.EXT`) that a pattern matches must be whole sets."""
    sets = {}
    for match in matches:
        found = SHARD_NAME.match(str(match))
        if found:
            key = (found.group("stem"), int(found.group("count")), found.group("suffix"))
            sets.setdefault(key, set()).add(int(found.group("index")))
    for (stem, count, suffix), indices in sets.items():
        missing = sorted(set(range(count)) - indices)
        if missing:
            shown = ", ".join(f"{index:05d}" for index in missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise XDomainError(
                f"{pattern}: matches {len(indices)} of the {count} shards {stem}-*-of-{count:05d}{suffix} "
                f"(missing {shown}); a shard set is read whole or not at all"
            )


def _glob(pattern):
    if not is_url(pattern):
        return sorted(match for match in glob.glob(pattern) if os.path.isfile(match))
    import tensorflow as tf

    # The part before the first pattern character names the file system: asking it
    # first turns an unknown scheme or unreachable service into a one-line error.
    prefix = pattern[: _GLOB_CHARACTERS.search(pattern).start()].rsplit("/", 1)[0]
    storage_path(prefix).exists()
    try:
        return sorted(tf.io.gfile.glob(pattern))
    except tf.errors.OpError as error:
        raise StorageError(pattern, "cannot list", " ".join(str(error.message).split())[:300]) from None


def _is_file(path):
    if is_url(path):
        return storage_path(path).is_file()
    return os.path.isfile(path)


def _generate(
    paths, default_domain, require_label, on_error, report, with_location, warn, require_domain=True
):
    if report is None:
        report = ReadReport()
    for path in paths:
        fmt, compressed = data_format(path)
        required = ["text"] + (["label"] if require_label else [])
        if default_domain is None and require_domain:
            required.append("domain")
        for line, raw in _PARSERS[fmt](path, compressed, required):
            try:
                if isinstance(raw, DataError):
                    raise raw
                record = normalize_record(
                    raw, default_domain, require_label, require_domain, path=path, line=line
                )
            except DataError as error:
                if on_error == "raise":
                    raise
                report.add_skip(error)
                continue
            report.add_record(record)
            yield (record, path, line) if with_location else record
    if warn and report.skipped:
        _logger.warning("%s", report.summary())


def _open_binary(path, compressed):
    if not is_url(path):
        return gzip.open(path, "rb") if compressed else open(path, "rb")
    handle = storage_path(path).open("rb")
    return _GzipOverHandle(handle) if compressed else handle


class _GzipOverHandle(gzip.GzipFile):
    """A gzip stream over a file object it owns (closes it too)."""

    def __init__(self, handle):
        super().__init__(fileobj=handle, mode="rb")
        self._owned = handle

    def close(self):
        try:
            super().close()
        finally:
            self._owned.close()


def _decoded_lines(path, handle):
    # Undecodable bytes become lone surrogates, which normalize_record reports with
    # the field they are in.
    number = 0
    try:
        for number, raw_line in enumerate(handle, 1):
            if number == 1 and raw_line.startswith(_BOM):
                raw_line = raw_line[len(_BOM) :]
            yield raw_line.decode("utf-8", "surrogateescape")
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"cannot read the file ({error})", path=path, line=number + 1) from error


def _parse_jsonl(path, compressed, required):
    del required
    with _open_binary(path, compressed) as handle:
        for number, text in enumerate(_decoded_lines(path, handle), 1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as error:
                hint = ""
                if number == 1 and text.strip() == "[":
                    hint = "; a JSON array is not JSON Lines, write one object per line"
                yield number, DataError(
                    f"invalid JSON ({error.msg} at column {error.colno}){hint}",
                    path=path,
                    line=number,
                    value=text.rstrip("\r\n"),
                )
                continue
            except RecursionError:
                yield number, DataError(
                    "invalid JSON (nested too deeply to read)",
                    path=path,
                    line=number,
                    value=text.rstrip("\r\n"),
                )
                continue
            except ValueError:  # an integer longer than int() converts: find its field
                raw = json.loads(text, parse_int=_parse_int)
                error = _long_integer_error(raw, path, number)
                if error is not None:
                    yield number, error
                    continue
            yield number, raw


class _LongInteger:
    """A JSON integer with more digits than Python converts (`sys.get_int_max_str_digits`)."""

    def __init__(self, digits):
        self.digits = digits

    def __repr__(self):
        return self.digits


def _parse_int(digits):
    try:
        return int(digits)
    except ValueError:
        return _LongInteger(digits)


def _long_integer_error(raw, path, line):
    # Such a number in a field the schema ignores does no harm; in a schema field it is
    # an error naming that field.
    fields = [(None, raw)] if not isinstance(raw, dict) else [
        (field, raw.get(field)) for field in FIELDS
    ]
    for field, value in fields:
        if isinstance(value, _LongInteger):
            return DataError(
                f"a JSON integer with {len(value.digits.lstrip('-'))} digits, more than the "
                f"{sys.get_int_max_str_digits()} that can be read",
                path=path,
                line=line,
                field=field,
                value=value,
            )
    return None


def _parse_csv(path, compressed, required, delimiter=",", quoting=csv.QUOTE_MINIMAL):
    if csv.field_size_limit() < 1 << 30:
        csv.field_size_limit(1 << 30)
    with _open_binary(path, compressed) as handle:
        reader = csv.reader(
            _decoded_lines(path, handle), delimiter=delimiter, quoting=quoting, strict=True
        )
        header = None
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise DataError(f"malformed CSV ({error})", path=path, line=start) from error
            if not row or row == [""]:
                continue
            if header is None:
                header = [name.strip() for name in row]
                _check_header(path, start, header, required)
                continue
            if len(row) != len(header):
                yield start, DataError(
                    f"row has {len(row)} cells, the header has {len(header)}",
                    path=path,
                    line=start,
                    value=row,
                )
                continue
            yield start, {name: (cell if cell != "" else None) for name, cell in zip(header, row)}


def _parse_tsv(path, compressed, required):
    return _parse_csv(path, compressed, required, delimiter="\t", quoting=csv.QUOTE_NONE)


def _check_header(path, line, header, required):
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError("duplicate header column(s)", path=path, line=line, value=duplicates)
    for field in required:
        if field not in header:
            raise DataError(
                f"the header row has no such column (columns: {', '.join(header)})",
                path=path,
                line=line,
                field=field,
            )


def _parse_tfrecord(path, compressed, required):
    del required
    import tensorflow as tf

    dataset = tf.data.TFRecordDataset(str(path), compression_type="GZIP" if compressed else "")
    iterator = dataset.as_numpy_iterator()
    index = 0
    read_bytes = 0
    while True:
        try:
            serialized = next(iterator)
        except StopIteration:
            break
        except tf.errors.OpError as error:
            raise DataError(
                f"corrupt TFRecord data after record {index} ({_op_error_message(error)})",
                path=path,
                line=index + 1,
            ) from error
        index += 1
        read_bytes += len(serialized) + _TFRECORD_FRAMING_BYTES
        yield index, _example_to_raw(tf, serialized, path, index)
    _check_tfrecord_end(path, compressed, read_bytes, index)


def _check_tfrecord_end(path, compressed, read_bytes, records):
    # TensorFlow takes a partial record header at the end of a file (and a gzip stream cut
    # short) for the end of the data, so a truncated file would read as a shorter one.
    size = _uncompressed_size(path, records) if compressed else _file_size(path)
    left = size - read_bytes
    if left == 0:
        return
    if 0 < left < _TFRECORD_HEADER_BYTES:
        message = (
            f"truncated TFRecord file: it ends {left} bytes into the "
            f"{_TFRECORD_HEADER_BYTES}-byte header of record {records + 1}"
        )
    else:
        message = f"corrupt TFRecord file: {left} bytes after record {records} were not read"
    raise DataError(message, path=path, line=records + 1)


def _file_size(path):
    return storage_path(path).stat().st_size if is_url(path) else os.path.getsize(path)


def _uncompressed_size(path, records):
    size = 0
    try:
        with _open_binary(path, compressed=True) as handle:
            while chunk := handle.read(1 << 20):
                size += len(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            f"cannot read the file after record {records} ({error})", path=path, line=records + 1
        ) from error
    return size


def _op_error_message(error):
    # "{{function_node __wrapped__IteratorGetNext...}} truncated record at 108 [Op:...]"
    message = error.message.splitlines()[0] if error.message else type(error).__name__
    message = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", message)
    return re.sub(r"\s*\[Op:\w+\].*$", "", message)


def _example_to_raw(tf, serialized, path, index):
    try:
        example = tf.train.Example.FromString(serialized)
    except Exception as error:  # protobuf raises its own DecodeError type
        return DataError(f"not a tf.train.Example ({error})", path=path, line=index)
    raw = {}
    for name in FIELDS:
        if name not in example.features.feature:
            continue
        feature = example.features.feature[name]
        kind = feature.WhichOneof("kind")
        values = list(getattr(feature, kind).value) if kind else []
        if not values:
            continue
        if len(values) > 1:
            return DataError(
                f"expected one value, got {len(values)}", path=path, line=index, field=name,
                value=values,
            )
        value = values[0]
        if kind == "bytes_list":
            value = value.decode("utf-8", "surrogateescape")
        elif kind == "int64_list":
            value = int(value)
        raw[name] = value
    return raw


_PARSERS = {
    "jsonl": _parse_jsonl,
    "csv": _parse_csv,
    "tsv": _parse_tsv,
    "tfrecord": _parse_tfrecord,
}
