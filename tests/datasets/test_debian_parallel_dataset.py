import json

import pytest

from xdomain_tf.datasets.debian_parallel_dataset import debian_parallel_pairs
from xdomain_tf.errors import XDomainError


def test_pairs_are_aligned_by_md5(debian_fixture_dir, tmp_path):
    out = tmp_path / "pairs.jsonl"
    pairs = debian_parallel_pairs("de", splits=None, out=out, from_file=debian_fixture_dir)
    by_id = {p["id"]: p for p in pairs}
    # orbitcalc: only the translation with the current md5 pairs; netpinger's "translation"
    # is the English text itself and is left out.
    assert sorted(by_id) == ["debian-pair/de/orbitcalc", "debian-pair/de/starfield", "debian-pair/de/stellar-tools"]
    pair = by_id["debian-pair/de/stellar-tools"]
    assert pair == {
        "id": "debian-pair/de/stellar-tools",
        "text": "star catalogue toolkit - command line tools\n"
        "Stellar reads and cross-matches star catalogues.\n"
        "This package contains the command line tools.",
        "text_pair": "Sternkatalog-Werkzeugkasten - Befehlszeilenwerkzeuge\n"
        "Stellar liest Sternkataloge und gleicht sie miteinander ab.\n"
        "Dieses Paket enthält die Befehlszeilenwerkzeuge.",
        "lang": "de",
        "label": "science",
        "domain": "debian",
    }
    on_disk = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in on_disk] == [p["id"] for p in pairs]
    assert on_disk[0]["text_pair"] == pairs[0]["text_pair"]


def test_pairs_keep_only_the_chosen_splits(debian_fixture_dir):
    # Source "stellar" hashes into "valid" with the default seed (see test_splits).
    train = debian_parallel_pairs("de", from_file=debian_fixture_dir)
    assert sorted(p["id"] for p in train) == ["debian-pair/de/orbitcalc", "debian-pair/de/starfield"]
    valid = debian_parallel_pairs("de", splits=["valid"], from_file=debian_fixture_dir)
    assert [p["id"] for p in valid] == ["debian-pair/de/stellar-tools"]


def test_pair_errors(debian_fixture_dir):
    with pytest.raises(XDomainError, match="other than en"):
        debian_parallel_pairs("en", from_file=debian_fixture_dir)
    with pytest.raises(XDomainError, match="unknown split"):
        debian_parallel_pairs("de", splits=["dev"], from_file=debian_fixture_dir)
    with pytest.raises(XDomainError, match=r"language\(s\) fr"):
        debian_parallel_pairs("fr", from_file=debian_fixture_dir)
