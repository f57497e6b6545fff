"""Damaged or odd data give one clear line naming file, line (or record), field and value,
and exit code 2 from the CLI; never a traceback or a silently wrong result (issue #18)."""
import json
import pathlib
import sys
import zlib

import pytest

from xdomain_tf.cli.main import main
from xdomain_tf.errors import DataError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tasks"))

from task_fixtures import tiny_classifier  # noqa: E402

GOOD = '{"text": "Rain today", "label": "weather", "domain": "news"}\n'


def _error_line(capsys, argv):
    """Runs the CLI in this process; returns the one error line after "error: "."""
    assert main([str(arg) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0].split(": error: ", 1)[1]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("[" * 100_000, "{path}:2: invalid JSON (nested too deeply to read) (value '" + "[" * 76 + "...)"),
        ('{"text": "x", "label": ' + "9" * 5000 + ', "domain": "news"}',
         '{path}:2: field "label": a JSON integer with 5000 digits, more than the 4300 that can be read '
         "(value " + "9" * 77 + "...)"),
    ],
    ids=["deep-nesting", "long-integer"],
)
def test_deep_json_and_huge_integers_are_data_errors(tmp_path, capsys, line, expected):
    path = tmp_path / "odd.jsonl"
    path.write_text(GOOD + line + "\n")
    assert _error_line(capsys, ["data", "stats", path]) == expected.format(path=path)


def test_a_tfrecord_file_cut_in_a_record_header_is_not_a_shorter_file(tmp_path, capsys):
    import tensorflow as tf

    path = tmp_path / "cut.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for index in range(48):
            features = {name: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
                        for name, value in [("text", b"text %02d" % index), ("label", b"a"), ("domain", b"d")]}
            writer.write(tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString())
    data = path.read_bytes()
    record_size = len(data) // 48
    path.write_bytes(data[: 24 * record_size + 5])
    assert _error_line(capsys, ["data", "stats", path]) == (
        f"{path}:25: truncated TFRecord file: it ends 5 bytes into the 12-byte header of record 25")

    # gzip-compressed, the stream stopping after record 24 (no end marker)
    compressed = tmp_path / "cut.tfrecord.gz"
    compressor = zlib.compressobj(wbits=31)
    compressed.write_bytes(compressor.compress(data[: 24 * record_size]) + compressor.flush(zlib.Z_SYNC_FLUSH))
    assert _error_line(capsys, ["data", "stats", compressed]) == (
        f"{compressed}:25: cannot read the file after record 24 (Compressed file ended before the "
        "end-of-stream marker was reached)")


@pytest.mark.parametrize(
    "field, value, shown",
    [
        ("label", "sport\u0000", "a control character (U+0000 at offset 5)"),
        ("label", "sp\tort", "a control character (U+0009 at offset 2)"),
        ("domain", "news\u200b", "a format character (U+200B at offset 4)"),
    ],
)
def test_control_characters_in_labels_and_domains_are_refused(tmp_path, capsys, field, value, shown):
    path = tmp_path / "names.jsonl"
    path.write_text(GOOD + json.dumps({"text": "Goal", "label": "sport", "domain": "news", field: value}) + "\n")
    assert _error_line(capsys, ["data", "stats", path]) == (
        f'{path}:2: field "{field}": contains {shown}; labels and domain names must be printable '
        f"(value {value!r})")


def test_a_domain_with_a_single_training_label_is_refused(tmp_path, capsys):
    path = tmp_path / "train.jsonl"
    records = [{"text": f"word {i}", "label": ("sport", "tech")[i % 2], "domain": "news"} for i in range(8)]
    records += [{"text": f"code {i}", "label": "games", "domain": "software"} for i in range(4)]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    argv = ["train", "--train", path, "--out", tmp_path / "run", "--init", "bert_tiny", "--vocab-size", "100",
            "--seq-len", "16", "--epochs", "1", "--verbose", "0"]
    assert _error_line(capsys, argv) == (
        "the training data must give each domain at least two labels: domain 'software' has only the "
        "label 'games'")
    assert not (tmp_path / "run" / "label_space.json").exists()


def test_an_empty_text_is_refused_in_memory_as_in_a_file(tmp_path, capsys, classifier_run):
    path = tmp_path / "empty.jsonl"
    path.write_text('{"text": " ", "domain": "news"}\n')
    assert _error_line(capsys, ["predict", "--model", classifier_run, "--data", path]) == (
        f"{path}:1: field \"text\": is empty (value ' ')")
    assert _error_line(capsys, ["predict", "--model", classifier_run, "--domain", "news",
                                "--text", "market shares", "--text", " "]) == (
        "--text:2: field \"text\": is empty (value ' ')")
    assert _error_line(capsys, ["predict", "--model", classifier_run, "--domain", "news", "--text", ""]) == (
        "--text:1: field \"text\": is empty (value '')")

    classifier = tiny_classifier()
    with pytest.raises(DataError) as info:
        classifier.classify(["market shares", "\n"], domains="news")
    assert str(info.value) == "<inputs>:2: field \"text\": is empty (value '\\n')"
    with pytest.raises(DataError, match=r"^<inputs>:1: field \"text\": is empty \(value ''\)$"):
        classifier.predict({"text": [""], "domain": ["software"]})
