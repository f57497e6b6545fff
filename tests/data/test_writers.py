import os

import pytest

from xdomain_tf.data.readers import read_records
from xdomain_tf.data.writers import write_jsonl, write_tfrecord
from xdomain_tf.errors import DataError, XDomainError

RECORDS = [
    {"text": "Zürich 東京 \"quoted\"\nnew line", "label": "a", "domain": "news", "id": "1"},
    {"text": "Second", "text_pair": "pair", "label": "b", "domain": "debian", "lang": "de"},
]


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.tfrecord", "out.tfrec.gz"])
def test_round_trip(tmp_path, name):
    write = write_tfrecord if ".tfrec" in name else write_jsonl
    path = tmp_path / "sub" / name
    assert write(iter(RECORDS), path) == 2
    assert list(read_records(path)) == RECORDS
    assert [p.name for p in path.parent.iterdir()] == [name]


def test_jsonl_is_one_object_a_line_and_normalized(tmp_path):
    path = tmp_path / "a.jsonl"
    write_jsonl([{"text": "x", "label": 3, "unknown": 1}], path)
    assert path.read_text(encoding="utf-8") == '{"text": "x", "label": "3"}\n'
    (tmp_path / "plain.txt").write_text("")
    # The same permissions as a plainly created file, not a private temp-file mode.
    assert os.stat(path).st_mode == os.stat(tmp_path / "plain.txt").st_mode


@pytest.mark.parametrize("write, name", [(write_jsonl, "a.jsonl"), (write_tfrecord, "a.tfrecord")])
def test_a_bad_record_leaves_the_old_file_untouched(tmp_path, write, name):
    path = tmp_path / name
    write(RECORDS[:1], path)
    before = path.read_bytes()
    with pytest.raises(DataError, match=rf'{name}:2: field "text": is empty'):
        write([RECORDS[1], {"text": "", "label": "a"}], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_wrong_extension(tmp_path):
    with pytest.raises(XDomainError, match="write_jsonl needs"):
        write_jsonl(RECORDS, tmp_path / "a.csv")
    with pytest.raises(XDomainError, match="write_tfrecord needs"):
        write_tfrecord(RECORDS, tmp_path / "a.jsonl")
