import json

import numpy as np
import pytest
from sklearn import metrics

from xdomain_tf.errors import XDomainError
from xdomain_tf.evaluation.classification_metrics import classification_report

# Hand-computed: rows true a, b, c; columns predicted a, b, c.
Y_TRUE = ["a", "a", "a", "b", "b", "c"]
Y_PRED = ["a", "b", "a", "b", "c", "c"]
LABELS = ["a", "b", "c"]


def test_hand_computed_example():
    report = classification_report(Y_TRUE, Y_PRED, LABELS)
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert report["n"] == 6
    assert report["labels"] == LABELS
    assert report["accuracy"] == pytest.approx(4 / 6)
    # a: P 2/2, R 2/3; b: P 1/2, R 1/2; c: P 1/2, R 1/1.
    expected = {
        "a": (1.0, 2 / 3, 0.8, 3),
        "b": (0.5, 0.5, 0.5, 2),
        "c": (0.5, 1.0, 2 / 3, 1),
    }
    for label, (precision, recall, f1, support) in expected.items():
        scores = report["per_label"][label]
        assert scores["precision"] == pytest.approx(precision)
        assert scores["recall"] == pytest.approx(recall)
        assert scores["f1"] == pytest.approx(f1)
        assert scores["support"] == support
    assert report["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_matrix_follows_labels_order():
    report = classification_report(Y_TRUE, Y_PRED, ["c", "a", "b"])
    assert report["confusion_matrix"] == [[1, 0, 0], [0, 2, 1], [1, 0, 1]]
    assert list(report["per_label"]) == ["c", "a", "b"]


def test_zero_division_is_zero():
    # "b" is never predicted (precision 0/0), "d" never occurs at all (everything 0/0).
    report = classification_report(["a", "b"], ["a", "a"], ["a", "b", "d"])
    assert report["per_label"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["per_label"]["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert report["per_label"]["a"]["precision"] == 0.5
    assert report["macro_f1"] == pytest.approx((2 / 3) / 3)


def test_empty_input_scores_zero():
    report = classification_report([], [], ["a", "b"])
    assert report["n"] == 0
    assert report["accuracy"] == 0.0 and report["macro_f1"] == 0.0
    assert report["confusion_matrix"] == [[0, 0], [0, 0]]


def test_json_ready_python_types():
    report = classification_report(np.array(Y_TRUE), np.array(Y_PRED), LABELS)
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert type(report["n"]) is int and type(report["macro_f1"]) is float
    assert all(type(v) is int for row in report["confusion_matrix"] for v in row)


@pytest.mark.parametrize("seed", range(6))
def test_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = ["x", "y", "z", "w"]
    # Some values lie outside `labels` ("out"), and "w" is rare, to hit every branch.
    pool = np.array(labels + ["out"])
    y_true = rng.choice(pool, size=60, p=[0.35, 0.3, 0.2, 0.05, 0.1]).tolist()
    y_pred = [t if rng.random() < 0.5 else str(rng.choice(pool)) for t in y_true]
    report = classification_report(y_true, y_pred, labels)

    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    for i, label in enumerate(labels):
        scores = report["per_label"][label]
        assert scores["precision"] == pytest.approx(precision[i])
        assert scores["recall"] == pytest.approx(recall[i])
        assert scores["f1"] == pytest.approx(f1[i])
        assert scores["support"] == support[i]
    assert report["macro_f1"] == pytest.approx(
        metrics.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    )
    assert report["accuracy"] == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    assert report["confusion_matrix"] == metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist()


def test_bad_arguments():
    with pytest.raises(XDomainError, match="y_true has 2 values but y_pred has 1"):
        classification_report(["a", "b"], ["a"], ["a", "b"])
    with pytest.raises(XDomainError, match="labels is empty"):
        classification_report(["a"], ["a"], [])
    with pytest.raises(XDomainError, match="not unique: a"):
        classification_report(["a"], ["a"], ["a", "b", "a"])
