import json

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.evaluation.multi_domain_report import evaluation_report
from xdomain_tf.evaluation.transfer_results import transfer_matrix, transfer_report


def test_transfer_report_shape_and_json():
    report = transfer_report(
        [[0.9, float("nan")], [0.25, 0.8]],
        ["news", "debian"],
        ["news", "debian"],
        all_but_one={"news": 0.3, "debian": None},
        metric="accuracy",
    )
    assert report == {
        "metric": "accuracy",
        "train_domains": ["news", "debian"],
        "eval_domains": ["news", "debian"],
        "matrix": [[0.9, None], [0.25, 0.8]],
        "all_but_one": {"news": 0.3, "debian": None},
    }
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_transfer_report_defaults():
    report = transfer_report([[1]], ["a"], ["a"])
    assert report["metric"] == "macro_f1"
    assert report["all_but_one"] == {}
    assert type(report["matrix"][0][0]) is float


def test_transfer_report_bad_input():
    with pytest.raises(XDomainError, match="does not fit 2 training and 2 evaluation"):
        transfer_report([[0.1, 0.2]], ["a", "b"], ["a", "b"])
    with pytest.raises(XDomainError, match="does not fit"):
        transfer_report([[0.1, 0.2], [0.3]], ["a", "b"], ["a", "b"])
    with pytest.raises(XDomainError, match="unknown transfer metric 'f1'"):
        transfer_report([[0.1]], ["a"], ["a"], metric="f1")


def test_transfer_matrix_from_reports():
    # Model trained on "news" evaluated on both domains; model trained on "debian" only on debian.
    news_model = evaluation_report({
        "news": (["x", "y"], ["x", "y"], ["x", "y"]),
        "debian": (["p", "q"], ["p", "p"], ["p", "q"]),
    })
    debian_model = evaluation_report({"debian": (["p", "q"], ["q", "q"], ["p", "q"])})
    reports = {"news": news_model, "debian": debian_model}
    matrix, rows, cols = transfer_matrix(reports)
    assert (rows, cols) == (["news", "debian"], ["news", "debian"])
    # debian under the news model: p F1 2/3, q F1 0 -> 1/3; under the debian model: 0 and 2/3.
    assert matrix[0] == [1.0, pytest.approx(1 / 3)]
    assert matrix[1] == [None, pytest.approx(1 / 3)]
    matrix, _, cols = transfer_matrix(reports, eval_domains=["debian"], metric="accuracy")
    assert (matrix, cols) == ([[0.5], [0.5]], ["debian"])
    report = transfer_report(*transfer_matrix(reports))
    assert report["matrix"][1][0] is None
