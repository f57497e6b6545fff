import gzip
import json
import logging
import types
import uuid
import zlib

import pytest

from xdomain_tf.data.read_report import ReadReport
from xdomain_tf.data.readers import data_format, read_records
from xdomain_tf.data.writers import write_jsonl, write_shards, write_tfrecord
from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.utils.storage import StorageError, storage_path

GOOD = b'{"text": "Good one", "label": "a", "domain": "news"}\n'

# (bad JSONL line, field named in the error, a piece of the message, the value shown)
BAD_JSONL = [
    (b'{"text": "cut off", "label": ', None, "invalid JSON", "cut off"),
    (b'["a list"]', None, "expected an object", "a list"),
    (b'{"label": "a", "domain": "news"}', "text", "missing required field", None),
    (b'{"text": " ", "label": "a", "domain": "news"}', "text", "is empty", "' '"),
    (b'{"text": 12, "label": "a", "domain": "news"}', "text", "must be a string, got int", "12"),
    (b'{"text": "x", "domain": "news"}', "label", "missing required field", None),
    (b'{"text": "x", "label": "", "domain": "news"}', "label", "is empty", "''"),
    (b'{"text": "x", "label": 2.5, "domain": "news"}', "label", "got float", "2.5"),
    (b'{"text": "x", "label": "a"}', "domain", "missing required field", None),
    (b'{"text": "caf\xe9 bad", "label": "a", "domain": "news"}', "text", "not valid UTF-8",
     r"b'caf\xe9 bad'"),
    (b'{"text": "x", "label": "a", "domain": "news", "text_pair": 3}', "text_pair", "got int", "3"),
]


def _write(path, lines):
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


@pytest.mark.parametrize("line, field, message, shown", BAD_JSONL)
def test_each_bad_jsonl_record_raises_with_file_line_field_value(tmp_path, line, field, message, shown):
    path = _write(tmp_path / "bad.jsonl", [GOOD.strip(), b"", line])
    records = read_records(path)
    assert next(records)["text"] == "Good one"
    with pytest.raises(DataError, match=message) as info:
        next(records)
    error = info.value
    assert (error.path, error.line, error.field) == (path, 3, field)
    text = str(error)
    assert text.startswith(f"{path}:3: ")
    if field:
        assert f'field "{field}"' in text
    if shown:
        assert shown in text


def test_skip_mode_counts_and_names_every_bad_line(tmp_path, caplog):
    lines = [GOOD.strip()] + [bad for bad, *_ in BAD_JSONL] + [GOOD.strip()]
    path = _write(tmp_path / "mixed.jsonl", lines)
    report = ReadReport()
    with caplog.at_level(logging.WARNING):
        records = list(read_records(path, on_error="skip", report=report))
    assert len(records) == 2 and report.records == 2
    assert report.skipped == len(BAD_JSONL)
    assert [entry["line"] for entry in report.skipped_records] == list(range(2, 2 + len(BAD_JSONL)))
    assert [entry["field"] for entry in report.skipped_records] == [f for _, f, _, _ in BAD_JSONL]
    assert f"skipped {len(BAD_JSONL)} bad records" in caplog.text
    assert f"{path}:2: invalid JSON" in caplog.text


def test_jsonl_types_defaults_and_unknown_fields(tmp_path):
    path = _write(tmp_path / "a.json", [
        b'\xef\xbb\xbf{"text": "T\xc3\xa9l\xc3\xa9", "label": 4, "id": 9, "score": 0.5}',
        b"   ",
        b'{"text": "B", "text_pair": "C", "label": "x", "domain": "other", "lang": "fr"}',
    ])
    assert list(read_records(path, default_domain="news")) == [
        {"text": "Télé", "label": "4", "domain": "news", "id": "9"},
        {"text": "B", "text_pair": "C", "label": "x", "domain": "other", "lang": "fr"},
    ]
    assert list(read_records(path, default_domain="d", require_label=False))[0]["label"] == "4"


def test_unlabeled_data(tmp_path):
    path = _write(tmp_path / "u.jsonl", [b'{"text": "no label"}'])
    with pytest.raises(DataError, match="label"):
        list(read_records(path, default_domain="d"))
    assert list(read_records(path, default_domain="d", require_label=False)) == [
        {"text": "no label", "domain": "d"}]


def test_gzip_and_multiple_files_with_location(tmp_path):
    with gzip.open(tmp_path / "a.jsonl.gz", "wb") as handle:
        handle.write(GOOD * 2)
    csv_gz = tmp_path / "b.csv.gz"
    with gzip.open(csv_gz, "wb") as handle:
        handle.write(b"text,label\nfrom csv,b\n")
    located = list(read_records([tmp_path / "a.jsonl.gz", csv_gz], default_domain="d",
                                with_location=True))
    assert [(record["text"], record["domain"], line) for record, _, line in located] == [
        ("Good one", "news", 1), ("Good one", "news", 2), ("from csv", "d", 2)]


def test_csv_quoting_line_numbers_and_bad_rows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(
        b'text,label,domain,extra\n'
        b'"Multi\nline, quoted ""text""",a,news,z\n'
        b'\n'
        b'too,few\n'
        b',a,news,z\n'
        b'caf\xe9,a,news,z\n'
        b'fine,b,news,\n'
    )
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.line == 5 and "row has 2 cells, the header has 4" in str(info.value)
    report = ReadReport()
    records = list(read_records(path, on_error="skip", report=report))
    assert records == [
        {"text": 'Multi\nline, quoted "text"', "label": "a", "domain": "news"},
        {"text": "fine", "label": "b", "domain": "news"},
    ]
    assert [(e["line"], e["field"]) for e in report.skipped_records] == [
        (5, None), (6, "text"), (7, "text")]
    assert "missing required field" in report.skipped_records[1]["message"]
    assert r"b'caf\xe9'" in report.skipped_records[2]["message"]


def test_csv_header_errors_raise_even_in_skip_mode(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("body,label\nx,a\n")
    with pytest.raises(DataError, match=r'h.csv:1: field "text": the header row has no such column \(columns: body, label\)'):
        list(read_records(path, default_domain="d", on_error="skip"))
    path.write_text("text,label\nx,a\n")
    with pytest.raises(DataError, match='field "domain"'):
        list(read_records(path))
    path.write_text("text,text,label\nx,y,a\n")
    with pytest.raises(DataError, match="duplicate header"):
        list(read_records(path, default_domain="d"))


def test_tsv_has_no_quoting(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text('text\tlabel\n"Quoted" words, and commas\tsport\n', encoding="utf-8")
    assert list(read_records(path, default_domain="bbc")) == [
        {"text": '"Quoted" words, and commas', "label": "sport", "domain": "bbc"}]


def _example(tf, **features):
    feature = {}
    for name, value in features.items():
        values = value if isinstance(value, list) else [value]
        if isinstance(values[0], bytes):
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif isinstance(values[0], int):
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        else:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_tfrecord_records_and_bad_examples(tmp_path):
    import tensorflow as tf

    path = tmp_path / "a.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(_example(tf, text=b"One", label=b"a", domain=b"news", other=b"ignored"))
        writer.write(_example(tf, text=b"Two", label=7, domain=b"news"))
        writer.write(_example(tf, text=b"bad \xff", label=b"a", domain=b"news"))
        writer.write(_example(tf, text=b"x", label=0.5, domain=b"news"))
        writer.write(_example(tf, text=[b"x", b"y"], label=b"a", domain=b"news"))
        writer.write(b"not a proto at all")
    report = ReadReport()
    records = list(read_records(path, on_error="skip", report=report))
    assert records == [
        {"text": "One", "label": "a", "domain": "news"},
        {"text": "Two", "label": "7", "domain": "news"},
    ]
    assert [(e["line"], e["field"]) for e in report.skipped_records] == [
        (3, "text"), (4, "label"), (5, "text"), (6, None)]
    messages = [e["message"] for e in report.skipped_records]
    assert "not valid UTF-8" in messages[0] and r"b'bad \xff'" in messages[0]
    assert "got float" in messages[1] and "expected one value, got 2" in messages[2]
    with pytest.raises(DataError, match=r"a.tfrecord:3: field \"text\": is not valid UTF-8"):
        list(read_records(path))


def test_readers_are_lazy_a_corrupt_tail_does_not_stop_the_first_record(tmp_path):
    import tensorflow as tf

    jsonl = tmp_path / "big.jsonl"
    jsonl.write_bytes(GOOD * 2000 + b"\x00\xff garbage {{{\n")
    records = read_records(jsonl)
    assert isinstance(records, types.GeneratorType)
    assert next(records)["text"] == "Good one"

    csv_path = tmp_path / "big.csv"
    csv_path.write_bytes(b"text,label,domain\n" + b"t,a,d\n" * 2000 + b'"never closed,a,d\n')
    records = read_records(csv_path)
    assert next(records) == {"text": "t", "label": "a", "domain": "d"}
    with pytest.raises(DataError, match="malformed CSV"):
        list(records)

    tfrecord = tmp_path / "big.tfrecord"
    with tf.io.TFRecordWriter(str(tfrecord)) as writer:
        for _ in range(100):
            writer.write(_example(tf, text=b"t", label=b"a", domain=b"d"))
    data = tfrecord.read_bytes()
    tfrecord.write_bytes(data[:-7])  # truncate the last record
    records = read_records(tfrecord)
    assert next(records)["text"] == "t"
    with pytest.raises(DataError, match=r"big.tfrecord:100: corrupt TFRecord data after record 99"):
        list(records)


def test_truncated_gzip_is_a_data_error(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(GOOD * 500)[:-30])
    with pytest.raises(DataError, match="cannot read the file"):
        list(read_records(path))


def test_argument_errors_are_raised_by_the_call(tmp_path):
    assert data_format("x/train.TSV") == ("tsv", False)
    assert data_format("a.tfrec.gz") == ("tfrecord", True)
    with pytest.raises(XDomainError, match="unknown data file type.*jsonl"):
        read_records(tmp_path / "a.txt")
    with pytest.raises(FileNotFoundError):
        read_records(tmp_path / "missing.jsonl")
    with pytest.raises(XDomainError, match="on_error"):
        read_records(tmp_path / "a.jsonl", on_error="ignore")
    with pytest.raises(XDomainError, match="no data files"):
        read_records([])


def test_json_array_gets_a_hint(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"text": "x"}], indent=1))
    with pytest.raises(DataError, match="a JSON array is not JSON Lines"):
        list(read_records(path))


def test_deeply_nested_json_is_a_data_error_not_a_recursion_error(tmp_path):
    path = _write(tmp_path / "deep.jsonl", [GOOD.strip(), b"[" * 100_000])
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert str(info.value) == f"{path}:2: invalid JSON (nested too deeply to read) (value '{'[' * 76}...)"
    report = ReadReport()
    assert len(list(read_records(path, on_error="skip", report=report))) == 1
    assert report.skipped == 1


def test_a_json_integer_too_long_for_python_names_its_field(tmp_path):
    digits = "7" * 5000
    path = _write(tmp_path / "long.jsonl", [
        b'{"text": "x", "label": "a", "domain": "news", "score": ' + digits.encode() + b"}",
        b'{"text": "x", "label": -' + digits.encode() + b', "domain": "news"}',
    ])
    records = read_records(path)
    # A field the schema ignores may hold one.
    assert next(records) == {"text": "x", "label": "a", "domain": "news"}
    with pytest.raises(DataError) as info:
        next(records)
    assert str(info.value) == (
        f'{path}:2: field "label": a JSON integer with 5000 digits, more than the 4300 that '
        f"can be read (value -{'7' * 76}...)"
    )


def _tfrecord_file(path, count):
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(path)) as writer:
        for index in range(count):
            writer.write(_example(tf, text=f"text {index:02d}".encode(), label=b"a", domain=b"d"))
    return path.read_bytes()


@pytest.mark.parametrize("header_bytes", [1, 8, 11])
def test_a_tfrecord_file_cut_inside_a_record_header_is_an_error(tmp_path, header_bytes):
    path = tmp_path / "cut.tfrecord"
    data = _tfrecord_file(path, 48)
    record_size = len(data) // 48
    path.write_bytes(data[: 24 * record_size + header_bytes])
    records = read_records(path)
    assert sum(1 for _ in zip(range(24), records)) == 24
    with pytest.raises(DataError) as info:
        next(records)
    assert str(info.value) == (
        f"{path}:25: truncated TFRecord file: it ends {header_bytes} bytes into the "
        "12-byte header of record 25"
    )
    # A structural error: skip mode raises too.
    with pytest.raises(DataError, match="truncated TFRecord file"):
        list(read_records(path, on_error="skip"))


def test_a_tfrecord_file_cut_inside_a_payload_gets_a_clean_message(tmp_path):
    path = tmp_path / "cut.tfrecord"
    data = _tfrecord_file(path, 4)
    record_size = len(data) // 4
    path.write_bytes(data[: 2 * record_size + 20])
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert str(info.value) == (
        f"{path}:3: corrupt TFRecord data after record 2 (truncated record at "
        f"{2 * record_size}' failed with Read less bytes than requested)"
    )


def test_a_cut_gzip_tfrecord_file_is_an_error(tmp_path):
    plain = tmp_path / "plain.tfrecord"
    data = _tfrecord_file(plain, 48)
    record_size = len(data) // 48
    path = tmp_path / "cut.tfrecord.gz"
    path.write_bytes(gzip.compress(data[: 24 * record_size + 5]))
    with pytest.raises(DataError, match=r"cut.tfrecord.gz:25: truncated TFRecord file: it ends 5 bytes"):
        list(read_records(path))
    # A gzip stream that stops after 24 records (at a flush point, with no end marker)
    # reads to TensorFlow as a valid file of 24 records.
    compressor = zlib.compressobj(wbits=31)
    path.write_bytes(compressor.compress(data[: 24 * record_size]) + compressor.flush(zlib.Z_SYNC_FLUSH))
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert str(info.value) == (
        f"{path}:25: cannot read the file after record 24 (Compressed file ended before the "
        "end-of-stream marker was reached)"
    )
    path.write_bytes(gzip.compress(data))
    assert len(list(read_records(path))) == 48


# --- URLs and glob patterns ------------------------------------------------------------

def _records(count):
    return [{"text": f"text {i}", "label": "a", "domain": "news", "id": f"r{i}"} for i in range(count)]


def _ram(name):
    return f"ram://readers-{uuid.uuid4().hex[:8]}/{name}"


def test_globs_expand_sorted_and_a_pattern_matching_nothing_is_one_line(tmp_path):
    for name, start in (("b.jsonl", 2), ("a.jsonl", 0)):
        write_jsonl(_records(2) if start == 0 else [dict(r, id=f"b{i}") for i, r in enumerate(_records(2))],
                    tmp_path / name)
    assert [r["id"] for r in read_records(str(tmp_path / "*.jsonl"))] == ["r0", "r1", "b0", "b1"]
    with pytest.raises(XDomainError, match=r"missing-\*\.jsonl: no data file matches this pattern$"):
        read_records(str(tmp_path / "missing-*.jsonl"))
    ram = _ram("data")
    write_jsonl(_records(3), f"{ram}/part-1.jsonl")
    write_jsonl(_records(1), f"{ram}/part-0.jsonl")
    assert [r["id"] for r in read_records(f"{ram}/part-*.jsonl")] == ["r0", "r0", "r1", "r2"]
    with pytest.raises(XDomainError, match=r"ram://.*/nothing-\*\.jsonl: no data file matches this pattern$"):
        read_records(f"{ram}/nothing-*.jsonl")


def test_an_incomplete_shard_set_is_refused(tmp_path):
    counts = write_shards(_records(6), tmp_path / "train", 3)
    storage_path(list(counts)[1]).unlink()
    with pytest.raises(XDomainError, match=r"matches 2 of the 3 shards .*train-\*-of-00003.tfrecord \(missing 00001\)"):
        read_records(str(tmp_path / "train-*"))


def test_url_errors_are_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ram://.*/absent.jsonl"):
        read_records(_ram("absent.jsonl"))
    with pytest.raises(StorageError, match=r"^nosuch://bucket/a.jsonl: TensorFlow has no file system for nosuch://"):
        read_records("nosuch://bucket/a.jsonl")
    with pytest.raises(StorageError, match=r"TensorFlow has no file system for nosuch://"):
        read_records("nosuch://bucket/*.jsonl")


def test_url_files_stream_like_local_ones():
    path = _ram("train.jsonl.gz")
    storage_path(path).write_bytes(gzip.compress(b'{"text": "a", "label": "x", "domain": "d"}\n\n'
                                                 b'{"text": "b", "label": "y", "domain": "d"}\n'))
    assert [(r["text"], line) for r, _, line in read_records(path, with_location=True)] == [("a", 1), ("b", 3)]
    for name in ("train.tfrecord", "train.tfrecord.gz"):
        path = _ram(name)
        write_tfrecord(_records(3), path)
        assert [r["id"] for r in read_records(path)] == ["r0", "r1", "r2"]
    truncated = _ram("cut.tfrecord")
    write_tfrecord(_records(2), truncated)
    storage_path(truncated).write_bytes(storage_path(truncated).read_bytes()[:-20])
    with pytest.raises(DataError, match=r"cut.tfrecord:2"):
        list(read_records(truncated))


def test_url_files_report_file_and_line():
    path = _ram("broken.csv.gz")
    storage_path(path).write_bytes(gzip.compress(b"text,label,domain\nfine,a,x\n\"open,a,x\n"))
    with pytest.raises(DataError, match=r"broken.csv.gz:3"):
        list(read_records(path))
