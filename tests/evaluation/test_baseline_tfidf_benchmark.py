import importlib.util
import json
import pathlib

import pytest

from xdomain_tf.evaluation.tfidf_baseline import TfidfBaseline

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "baseline_tfidf.py"


@pytest.fixture(scope="module")
def baseline_script():
    spec = importlib.util.spec_from_file_location("baseline_tfidf", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


WORDS = {"sport": "goal match league", "tech": "chip software phone", "games": "puzzle arcade level",
         "sound": "audio mixer midi"}


def _records(domain, labels, copies):
    return [
        {"text": f"{WORDS[label].split()[i % 3]} item {i}", "label": label, "domain": domain}
        for label in labels
        for i in range(copies)
    ]


def test_prints_per_domain_scores(baseline_script, tmp_path, capsys):
    train = _records("news", ["sport", "tech"], 6) + _records("debian", ["games", "sound"], 6)
    test = _records("news", ["sport", "tech"], 3) + _records("debian", ["games", "sound"], 3)
    for i, record in enumerate(test[:6]):  # news test records in two languages; debian in none
        record["lang"] = "en" if i % 2 else "de"
    # Two training files (one per domain, one without domain fields) and one test file.
    news_file = _write_jsonl(tmp_path / "news.jsonl", [r for r in train if r["domain"] == "news"])
    debian_file = _write_jsonl(
        tmp_path / "debian.jsonl",
        [{k: v for k, v in r.items() if k != "domain"} for r in train if r["domain"] == "debian"],
    )
    test_file = _write_jsonl(tmp_path / "test.jsonl", test)
    json_out = tmp_path / "report.json"
    code = baseline_script.main([
        "--train", str(news_file), str(debian_file), "--test", str(test_file),
        "--default-domain", "debian", "--json-out", str(json_out), "--report-dir", str(tmp_path / "figures"),
    ])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    expected = TfidfBaseline().fit(train).evaluate(test)
    assert summary["train_n"] == 24
    assert summary["overall"] == expected["overall"]
    for domain in ("news", "debian"):
        assert summary["domains"][domain] == {
            key: expected["domains"][domain][key] for key in ("accuracy", "macro_f1", "n")
        }
    assert summary["domains"]["news"]["accuracy"] == 1.0
    assert summary["by_language"] == {
        "news": {
            "de": {"accuracy": 1.0, "macro_f1": 1.0, "n": 3},
            "en": {"accuracy": 1.0, "macro_f1": 1.0, "n": 3},
        }
    }
    assert json.loads(json_out.read_text())["overall"] == expected["overall"]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "confusion_debian.png", "confusion_news.png"
    ]


def test_missing_file_is_one_line_error(baseline_script, tmp_path, capsys):
    code = baseline_script.main(["--train", str(tmp_path / "nope.jsonl"), "--test", str(tmp_path / "nope.jsonl")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("baseline_tfidf: error:") and "nope.jsonl" in err and err.count("\n") == 1
