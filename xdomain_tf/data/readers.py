"""Streaming readers for JSON Lines, CSV/TSV and TFRecord data files.

The format follows the file extension: `.jsonl`/`.json` (JSON Lines, one object a line),
`.csv`, `.tsv` (header row, then one record a row; TSV has no quoting), `.tfrecord`/`.tfrec`
(`tf.train.Example` with one bytes feature per field); `.gz` after any of them for a
gzip-compressed file. Files are read as streams, never whole.
"""
import csv
import errno
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
):
    """Reads records from data files, lazily, validating each against the record schema.

    Args:
        paths: one path or a list of paths; the format follows each file's extension.
        default_domain: the domain of records that have none (a single-domain file).
        require_label: a record without a label is an error (False for unlabeled data).
        on_error: `"raise"` stops at the first bad record with a `DataError` naming the
            file, line (record index for TFRecord), field and value; `"skip"` skips bad
            records, counts them in `report` and logs a warning summary at the end.
            A broken file structure (bad CSV header, corrupt TFRecord or gzip framing)
            raises in both modes.
        report: a `ReadReport` to fill (counts, skipped records with reasons).
        with_location: yield `(record, path, line)` instead of bare records.

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
        if not os.path.isfile(path):
            raise FileNotFoundError(errno.ENOENT, "No such data file", str(path))
    return _generate(
        paths, default_domain, require_label, on_error, report, with_location, warn=True
    )


def _as_path_list(paths):
    if isinstance(paths, (str, os.PathLike)):
        return [paths]
    paths = list(paths)
    if not paths:
        raise XDomainError("no data files given")
    return paths


def _generate(paths, default_domain, require_label, on_error, report, with_location, warn):
    if report is None:
        report = ReadReport()
    for path in paths:
        fmt, compressed = data_format(path)
        required = ["text"] + (["label"] if require_label else [])
        if default_domain is None:
            required.append("domain")
        for line, raw in _PARSERS[fmt](path, compressed, required):
            try:
                if isinstance(raw, DataError):
                    raise raw
                record = normalize_record(
                    raw, default_domain, require_label, path=path, line=line
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
    return gzip.open(path, "rb") if compressed else open(path, "rb")


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
    size = _uncompressed_size(path, records) if compressed else os.path.getsize(path)
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


def _uncompressed_size(path, records):
    size = 0
    try:
        with gzip.open(path, "rb") as handle:
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
