"""`xdomain-tf evaluate` always reports each domain's per-label precision/recall/F1/support and
its worst label's F1, in the printed table and in the JSON."""
import json
import pathlib

import keras
import pytest

from xdomain_tf.cli.evaluate import _print_table
from xdomain_tf.cli.main import main
from xdomain_tf.evaluation import classification_report, evaluation_report, worst_label

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"


def _records(split):
    return [json.loads(line) for line in (FIXTURES / f"{split}.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    from xdomain_tf.tasks import MultiDomainTextClassifier

    keras.utils.set_random_seed(0)
    records = _records("train")
    domains = {}
    for record in records:
        domains.setdefault(record["domain"], set()).add(record["label"])
    clf = MultiDomainTextClassifier.from_preset(
        "bert_tiny", domains={domain: sorted(labels) for domain, labels in domains.items()},
        vocabulary=[record["text"] for record in records], vocabulary_size=120, sequence_length=24,
    )
    path = tmp_path_factory.mktemp("evaluate") / "model.keras"
    clf.save(path)
    return path


def test_worst_label_is_the_lowest_f1_with_support():
    report = classification_report(["a", "a", "b", "c", "c"], ["a", "b", "b", "c", "a"], labels=["a", "b", "c", "z"])
    # a: P 1/2 R 1/2 F1 0.5; b: P 1/2 R 1 F1 2/3; c: P 1 R 1/2 F1 2/3; z: no support, F1 0 by convention.
    assert worst_label(report["per_label"]) == {"label": "a", "f1": 0.5}
    assert worst_label(classification_report([], [], labels=["a"])["per_label"]) is None
    tied = classification_report(["x", "y"], ["y", "x"], labels=["y", "x"])
    assert worst_label(tied["per_label"]) == {"label": "y", "f1": 0.0}


def test_the_table_shows_per_label_scores_and_the_worst_label(capsys):
    report = evaluation_report({
        "news": (["sport", "sport", "tech", "tech"], ["sport", "sport", "sport", "tech"], ["sport", "tech"]),
        "debian": (["games", "games"], ["games", "math"], ["games", "math"]),
    })
    for scores in report["domains"].values():
        scores["worst_label"] = worst_label(scores["per_label"])
    _print_table(report)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["domain", "n", "accuracy", "macro_f1", "worst_f1", "worst_label"]
    assert lines[1].split() == ["news", "4", "0.7500", "0.7333", "0.6667", "tech"]
    assert lines[2].split() == ["debian", "2", "0.5000", "0.3333", "0.6667", "games"]
    assert lines[3].split()[:2] == ["overall", "6"] and len(lines[3].split()) == 4
    news = lines.index("news" + " " * 20 + " precision    recall        f1  support")
    assert lines[news + 1].split() == ["sport", "0.6667", "1.0000", "0.8000", "2"]
    assert lines[news + 2].split() == ["tech", "1.0000", "0.5000", "0.6667", "2"]
    debian = next(i for i, line in enumerate(lines) if line.startswith("debian ") and "precision" in line)
    assert lines[debian + 2].split() == ["math", "0.0000", "0.0000", "0.0000", "0"]
    assert json.loads(lines[-1]) == {"overall": report["overall"]}


def test_evaluate_prints_and_writes_per_label_scores_and_worst_labels(keras_file, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["evaluate", "--model", str(keras_file), "--data", str(FIXTURES / "valid.jsonl"),
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    for domain, scores in report["domains"].items():
        per_label = scores["per_label"]
        worst = scores["worst_label"]
        assert worst["f1"] == min(row["f1"] for row in per_label.values() if row["support"])
        assert per_label[worst["label"]]["f1"] == worst["f1"]
        domain_row = next(line for line in printed.splitlines() if line.startswith(domain + " "))
        assert domain_row.split()[-2:] == [f"{worst['f1']:.4f}", worst["label"]]
        for label, row in per_label.items():
            assert f"  {label} " in printed
            assert any(line.split() == [label, f"{row['precision']:.4f}", f"{row['recall']:.4f}",
                                        f"{row['f1']:.4f}", str(row["support"])] for line in printed.splitlines())
    assert sum(row["support"] for scores in report["domains"].values() for row in scores["per_label"].values()) == 48
