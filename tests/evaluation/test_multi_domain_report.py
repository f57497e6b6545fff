import json

import numpy as np
import pytest
from matplotlib import image as mpimg

from xdomain_tf.errors import XDomainError
from xdomain_tf.evaluation.multi_domain_report import evaluation_report, file_stem, write_report

PER_DOMAIN = {
    # news: 3 of 4 right; sport P 2/3 R 1 F1 0.8, tech P 1 R 1/2 F1 2/3.
    "news": (["sport", "sport", "tech", "tech"], ["sport", "sport", "sport", "tech"], ["sport", "tech"]),
    # debian/games: 1 of 2 right; games P 1 R 1/2 F1 2/3, math P 0 (0/0) R 0 F1 0.
    "debian/games": (["games", "games"], ["games", "math"], ["games", "math"]),
}

EXPECTED = {
    "domains": {
        "news": {
            "accuracy": 0.75,
            "macro_f1": (0.8 + 2 / 3) / 2,
            "n": 4,
            "labels": ["sport", "tech"],
            "per_label": {
                "sport": {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2},
                "tech": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2},
            },
            "confusion_matrix": [[2, 0], [1, 1]],
        },
        "debian/games": {
            "accuracy": 0.5,
            "macro_f1": (2 / 3) / 2,
            "n": 2,
            "labels": ["games", "math"],
            "per_label": {
                "games": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2},
                "math": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
            },
            "confusion_matrix": [[1, 1], [0, 0]],
        },
    },
    # Micro accuracy over all 6 examples; macro-F1 is the mean of the two domain macro-F1s.
    "overall": {"accuracy": 4 / 6, "macro_f1": ((0.8 + 2 / 3) / 2 + (2 / 3) / 2) / 2, "n": 6},
}


def test_report_equals_hand_computed():
    assert _close(evaluation_report(PER_DOMAIN), EXPECTED)


def _close(actual, expected, key_order=True):
    """Deep equality with float tolerance; JSON files have sorted keys (key_order=False)."""
    if isinstance(expected, dict):
        if key_order:
            assert list(actual) == list(expected)
        else:
            assert sorted(actual) == sorted(expected)
        return all(_close(actual[key], expected[key], key_order) for key in expected)
    if isinstance(expected, list):
        assert len(actual) == len(expected)
        return all(_close(a, e, key_order) for a, e in zip(actual, expected))
    if isinstance(expected, float):
        assert actual == pytest.approx(expected, abs=1e-12)
        return True
    assert actual == expected and type(actual) is type(expected)
    return True


def test_write_report_json_and_pngs(tmp_path):
    report = evaluation_report(PER_DOMAIN)
    json_path = tmp_path / "out" / "eval.json"
    written = write_report(report, json_path=json_path, report_dir=tmp_path / "figures")
    assert [p.name for p in written] == ["eval.json", "confusion_news.png", "confusion_debian_games.png"]
    assert _close(json.loads(json_path.read_text()), EXPECTED, key_order=False)
    assert not [p for p in json_path.parent.iterdir() if p.name != "eval.json"]  # no temporaries
    for path in written[1:]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        pixels = mpimg.imread(path)
        # Two labels: a 5 x 4 inch figure at 100 dpi, RGBA.
        assert pixels.shape == (400, 500, 4)
        assert pixels[..., :3].std() > 0.05  # something is drawn


def test_write_report_only_json(tmp_path):
    written = write_report(evaluation_report(PER_DOMAIN), json_path=tmp_path / "e.json")
    assert written == [tmp_path / "e.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.json"]


def test_file_names_sanitized_and_unique(tmp_path):
    same = (["a"], ["a"], ["a", "b"])
    report = evaluation_report({"x/y": same, "x y": same, "..": same, "Ünï": same})
    written = write_report(report, report_dir=tmp_path)
    assert [p.name for p in written] == [
        "confusion_x_y.png",
        "confusion_x_y_2.png",
        "confusion_unnamed.png",
        "confusion_n.png",
    ]
    assert all(p.is_file() for p in written)


def test_file_stem():
    assert file_stem("news/BBC (en)") == "news_BBC_en"
    assert file_stem("de-DE.v2") == "de-DE.v2"
    assert file_stem("../..") == "unnamed"


def test_overall_skips_empty_domains_in_macro_mean():
    report = evaluation_report({"a": (["x"], ["x"], ["x"]), "b": ([], [], ["y"])})
    assert report["overall"] == {"accuracy": 1.0, "macro_f1": 1.0, "n": 1}
    assert report["domains"]["b"]["n"] == 0


def test_accepts_numpy_and_generators():
    report = evaluation_report({"a": (np.array(["x", "y"]), (v for v in ["x", "x"]), ["x", "y"])})
    assert report["overall"]["accuracy"] == 0.5


def test_bad_input():
    with pytest.raises(XDomainError, match="no domains"):
        evaluation_report({})
    with pytest.raises(XDomainError, match="domain 'a': expected"):
        evaluation_report({"a": (["x"], ["x"])})
    with pytest.raises(XDomainError, match="domain 'a': y_true has 1 values"):
        evaluation_report({"a": (["x"], [], ["x"])})
