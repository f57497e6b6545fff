import json

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.export.example_sample import read_examples


def _write(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_a_file_sorted_by_domain_still_gives_every_domain_its_share(tmp_path):
    records = [{"text": f"n{i}", "domain": "news"} for i in range(50)]
    records += [{"text": f"d{i}", "domain": "debian"} for i in range(50)]
    sample = read_examples(_write(tmp_path / "train.jsonl", records), 10, domains=["news", "debian"])
    assert [r["text"] for r in sample] == [f"n{i}" for i in range(5)] + [f"d{i}" for i in range(5)]


def test_a_small_domain_leaves_its_share_to_the_others(tmp_path):
    records = [{"text": f"n{i}", "domain": "news"} for i in range(20)] + [{"text": "d0", "domain": "debian"}]
    sample = read_examples(_write(tmp_path / "train.jsonl", records), 8, domains=["news", "debian"])
    assert sorted(r["text"] for r in sample) == sorted([f"n{i}" for i in range(7)] + ["d0"])


def test_without_domains_it_reads_the_first_records(tmp_path):
    records = [{"text": f"t{i}", "domain": "news" if i % 3 else "web"} for i in range(9)]
    assert [r["text"] for r in read_examples(_write(tmp_path / "a.jsonl", records), 4)] == ["t0", "t1", "t2", "t3"]


def test_no_record_of_the_model_domains_is_a_one_line_error(tmp_path):
    path = _write(tmp_path / "a.jsonl", [{"text": "x", "domain": "web"}])
    with pytest.raises(XDomainError, match="no records of the model's domains"):
        read_examples(path, 4, domains=["news"])
