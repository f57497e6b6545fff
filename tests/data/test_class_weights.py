import json

import numpy as np
import pytest

from xdomain_tf.data.class_weights import (
    balanced_class_weights,
    check_class_weights_spec,
    label_counts,
    resolve_class_weights,
)
from xdomain_tf.data.label_space import LabelSpace
from xdomain_tf.errors import DataError, XDomainError

# An imbalanced domain (12 / 3 / 1 examples) and a balanced one.
COUNTS = {"debian": {"net": 12, "games": 3, "math": 1}, "news": {"sport": 4, "tech": 4}}
RECORDS = [
    {"text": f"{label} {index}", "label": label, "domain": domain}
    for domain, labels in COUNTS.items()
    for label, count in labels.items()
    for index in range(count)
]


@pytest.fixture
def space():
    return LabelSpace.from_records(RECORDS)


def test_label_counts_follow_label_ids(space):
    assert space.labels("debian") == ("games", "math", "net")
    assert label_counts(RECORDS, space) == {"debian": [3, 1, 12], "news": [4, 4]}


def test_balanced_weights_match_the_hand_computation_and_sklearn(space):
    weights = resolve_class_weights("balanced", space, label_counts(RECORDS, space))
    # n_domain / (n_labels * count): 16 / (3 * 3), 16 / (3 * 1), 16 / (3 * 12); 8 / (2 * 4)
    assert weights == {"debian": pytest.approx([16 / 9, 16 / 3, 16 / 36]), "news": pytest.approx([1.0, 1.0])}
    from sklearn.utils.class_weight import compute_class_weight

    for domain in space.domains:
        labels = [record["label"] for record in RECORDS if record["domain"] == domain]
        expected = compute_class_weight("balanced", classes=np.array(space.labels(domain)), y=np.array(labels))
        np.testing.assert_allclose(weights[domain], expected)


def test_a_label_without_examples_weighs_zero():
    assert balanced_class_weights([2, 0, 6]) == [2.0, 0.0, pytest.approx(2 / 3)]


def test_none_gives_no_weights(space):
    assert resolve_class_weights("none", space) is None
    assert resolve_class_weights(None, space) is None


def test_weights_file_fills_unnamed_labels_with_one(space, tmp_path):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps({"debian": {"math": 5, "net": 0.5}}))
    assert resolve_class_weights(str(path), space) == {"debian": [1.0, 5.0, 0.5], "news": [1.0, 1.0]}


@pytest.mark.parametrize(
    "content, message",
    [
        ({"blog": {"x": 1}}, r'weights.json: field "domain": unknown domain; known: debian, news'),
        ({"debian": {"chess": 2}}, r'weights.json: field "label": unknown label of domain \'debian\'; known: games, math, net'),
        ({"debian": {"net": -1}}, r"weights.json: field \"weight\": the weight of debian/net must be a finite number >= 0"),
        (["debian"], r"must be a JSON object"),
    ],
)
def test_bad_weights_file_is_one_line(space, tmp_path, content, message):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(content))
    with pytest.raises(DataError, match=message) as error:
        resolve_class_weights(str(path), space)
    assert "\n" not in str(error.value)


def test_missing_weights_file_is_refused_up_front(tmp_path):
    with pytest.raises(XDomainError, match="class_weights must be balanced, none or a JSON file.*no such file"):
        check_class_weights_spec(str(tmp_path / "missing.json"))
    with pytest.raises(XDomainError, match="a folder, not a file"):
        check_class_weights_spec(str(tmp_path))
