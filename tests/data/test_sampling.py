import pytest

from xdomain_tf.data.sampling import sampling_probabilities
from xdomain_tf.errors import XDomainError


@pytest.mark.parametrize(
    "alpha, expected",
    [
        (1.0, [1000 / 1110, 100 / 1110, 10 / 1110]),
        (0.0, [1 / 3, 1 / 3, 1 / 3]),
        (0.5, [31.6227766 / 44.7850543, 10 / 44.7850543, 3.16227766 / 44.7850543]),
    ],
)
def test_temperature(alpha, expected):
    assert sampling_probabilities([1000, 100, 10], alpha) == pytest.approx(expected)


def test_mapping_weights_and_empty_domains():
    probabilities = sampling_probabilities({"a": 100, "b": 100, "c": 0}, 1.0, weights={"b": 3})
    assert probabilities == pytest.approx({"a": 0.25, "b": 0.75, "c": 0.0})
    assert sampling_probabilities([5, 5], 0, weights=[1, 0]) == [1.0, 0.0]


@pytest.mark.parametrize(
    "sizes, alpha, weights, message",
    [
        ([10, -1], 1, None, "integer >= 0"),
        ([10, 1.5], 1, None, "integer >= 0"),
        ([0, 0], 1, None, "no domain can be sampled"),
        ([10], float("nan"), None, "finite"),
        ([10, 10], 1, [1], "2 domains"),
        ([10, 10], 1, [1, -1], ">= 0"),
        ({"a": 1}, 1, {"b": 1}, "unknown domain"),
        ([], 1, None, "at least one"),
    ],
)
def test_invalid(sizes, alpha, weights, message):
    with pytest.raises(XDomainError, match=message):
        sampling_probabilities(sizes, alpha, weights)
