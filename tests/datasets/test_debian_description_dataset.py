import collections
import json
import socket

import pytest

from xdomain_tf.datasets.debian_description_dataset import debian_descriptions
from xdomain_tf.datasets.splits import split_for_key
from xdomain_tf.errors import XDomainError


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _all_records(build):
    return {r["id"]: r for split in ("train", "valid", "test") for r in _read(build.paths[split])}


def test_build_from_fixture_files(debian_fixture_dir, tmp_path):
    build = debian_descriptions(
        ["en", "de"], min_examples=1, out_dir=tmp_path, from_file=[debian_fixture_dir], verbose=False
    )
    assert {name: path.name for name, path in build.paths.items()} == {
        "train": "train.jsonl", "valid": "valid.jsonl", "test": "test.jsonl",
    }
    records = _all_records(build)
    assert set(records) == {
        "debian/en/starfield", "debian/en/starfield-data", "debian/en/orbitcalc",
        "debian/en/stellar-tools", "debian/en/netpinger", "debian/en/mailbird",
        "debian/de/starfield", "debian/de/orbitcalc", "debian/de/stellar-tools",
    }
    assert records["debian/en/starfield"] == {
        "id": "debian/en/starfield",
        "text": "space trading game with procedural galaxies\n"
        "Starfield lets you fly a small freighter between generated star systems, "
        "buy cheap goods and sell them where they are rare.\n"
        "Features:\n* hundreds of systems\n* a slow but steady economy",
        "label": "games",
        "domain": "debian",
        "lang": "en",
    }
    # The translation with the md5 of the current English text wins over a stale one.
    assert records["debian/de/orbitcalc"]["text"].startswith("Bahnrechner für kleine Teleskope\n")
    assert records["debian/de/orbitcalc"]["label"] == "science"
    assert records["debian/en/netpinger"]["label"] == "net"

    notes = build.stats["notes"]
    assert notes["sections"] == ["games", "mail", "net", "science"]
    assert notes["loaded"]["en"] == {"read": 9, "not_in_packages_list": 1}
    assert notes["dropped"]["en"] == {"other_section": 2, "duplicate_text": 1}
    assert notes["dropped"]["de"] == {"untranslated_copy": 1}
    total = sum(build.stats[s]["examples"] for s in ("train", "valid", "test"))
    assert total == 9
    on_disk = json.loads((tmp_path / "stats.json").read_text())
    assert on_disk["stats"]["notes"]["sections"] == notes["sections"]


def test_splits_follow_source_packages(debian_fixture_dir, tmp_path):
    build = debian_descriptions(
        ["en", "de"], min_examples=1, out_dir=tmp_path, from_file=[debian_fixture_dir], verbose=False
    )
    sources = {"starfield": "starfield", "starfield-data": "starfield", "orbitcalc": "orbitcalc",
               "stellar-tools": "stellar", "netpinger": "netpinger", "mailbird": "mailbird"}
    for split in ("train", "valid", "test"):
        for record in _read(build.paths[split]):
            package = record["id"].split("/")[-1]
            assert split == split_for_key(sources[package])


def test_generated_sources_never_straddle_splits(tmp_path):
    packages, english, source_of = [], [], {}
    for i in range(60):
        source = f"tool{i}"
        for binary in (source, f"lib{source}-1", f"{source}-doc"):
            source_of[binary] = source
            md5 = f"{i:08d}{len(binary):024d}"
            packages.append(f"Package: {binary}\nSource: {source} (1.0-1)\nSection: science\nDescription-md5: {md5}\n")
            english.append(
                f"Package: {binary}\nDescription-md5: {md5}\nDescription-en: {binary} summary\n"
                f" Common text of {source}, with a part for {binary}.\n"
            )
    (tmp_path / "Packages").write_text("\n".join(packages))
    (tmp_path / "Translation-en").write_text("\n".join(english))
    build = debian_descriptions(
        "en", sections="science", min_examples=1, out_dir=tmp_path / "out",
        from_file=[tmp_path / "Packages", tmp_path / "Translation-en"], verbose=False,
    )
    split_of_source = collections.defaultdict(set)
    for split in ("train", "valid", "test"):
        for record in _read(build.paths[split]):
            split_of_source[source_of[record["id"].split("/")[-1]]].add(split)
    assert len(split_of_source) == 60
    assert all(len(splits) == 1 for splits in split_of_source.values())
    counts = collections.Counter(next(iter(s)) for s in split_of_source.values())
    assert set(counts) == {"train", "valid", "test"}


def test_sections_and_min_examples(debian_fixture_dir, tmp_path):
    build = debian_descriptions(
        "en,de", min_examples=2, out_dir=tmp_path, from_file=debian_fixture_dir, verbose=False
    )
    assert build.stats["notes"]["sections"] == ["games", "science"]
    assert build.stats["notes"]["sections_below_min_examples"]["mail"] == 1
    langs_only_de = debian_descriptions(
        "de", sections=["games", "science"], min_examples=1, out_dir=tmp_path / "de",
        from_file=debian_fixture_dir, verbose=False,
    )
    records = _all_records(langs_only_de)
    assert {r["lang"] for r in records.values()} == {"de"}
    assert len(records) == 3
    every = debian_descriptions(
        "en", sections="all", min_examples=1, out_dir=tmp_path / "all", from_file=debian_fixture_dir,
        verbose=False,
    )
    assert "libs" not in every.stats["notes"]["sections"]
    assert every.stats["notes"]["sections"] == ["games", "mail", "net", "science"]


def test_dedupe_off_keeps_copies(debian_fixture_dir, tmp_path):
    build = debian_descriptions(
        "en,de", min_examples=1, out_dir=tmp_path, from_file=debian_fixture_dir, dedupe=False,
        verbose=False,
    )
    records = _all_records(build)
    assert "debian/en/mailbird-clone" in records and "debian/de/netpinger" in records


def test_prints_stats(debian_fixture_dir, tmp_path, capsys):
    debian_descriptions("en", min_examples=1, out_dir=tmp_path, from_file=debian_fixture_dir)
    out = capsys.readouterr().out
    assert "train:" in out and "labels (" in out and "words: min=" in out


def test_user_errors(debian_fixture_dir, tmp_path):
    with pytest.raises(XDomainError, match="unknown Debian section"):
        debian_descriptions("en", sections="nosuch", out_dir=tmp_path, from_file=debian_fixture_dir, verbose=False)
    with pytest.raises(XDomainError, match="no section has at least 50"):
        debian_descriptions("en", min_examples=50, out_dir=tmp_path, from_file=debian_fixture_dir, verbose=False)
    with pytest.raises(XDomainError, match=r"language\(s\) fr"):
        debian_descriptions("en,fr", out_dir=tmp_path, from_file=debian_fixture_dir, verbose=False)
    with pytest.raises(XDomainError, match="bad language code"):
        debian_descriptions("en;de", out_dir=tmp_path, from_file=debian_fixture_dir, verbose=False)


def _archive_reachable():
    try:
        socket.create_connection(("deb.debian.org", 80), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.network
def test_real_debian_descriptions(tmp_path):
    if not _archive_reachable():
        pytest.skip("deb.debian.org cannot be reached")
    build = debian_descriptions(["en", "de"], out_dir=tmp_path, verbose=False)
    langs = collections.Counter()
    for split in ("train", "valid", "test"):
        langs.update(build.stats[split]["langs"])
    assert langs["en"] > 10000 and langs["de"] > 2000
    assert {"science", "games", "net", "sound", "hamradio"} <= set(build.stats["notes"]["sections"])
    assert not {"libs", "libdevel", "doc", "oldlibs"} & set(build.stats["notes"]["sections"])
