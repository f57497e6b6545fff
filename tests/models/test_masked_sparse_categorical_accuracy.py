import numpy as np
import pytest
from layer_test_case import run_serialization_test

from xdomain_tf.models import MaskedSparseCategoricalAccuracy

LOGITS = np.array([[0.1, 0.9], [0.9, 0.1], [0.2, 0.8], [0.7, 0.3]], "float32")


def test_examples_labelled_minus_one_are_ignored():
    metric = MaskedSparseCategoricalAccuracy()
    metric.update_state(np.array([1, -1, 0, -1]), LOGITS)
    assert float(metric.result()) == 0.5
    metric.update_state(np.array([-1, 0, -1, 0]), LOGITS)
    assert float(metric.result()) == 0.75
    metric.reset_state()
    metric.update_state(np.array([-1, -1, -1, -1]), LOGITS)
    assert float(metric.result()) == 0.0


def test_sample_weights_and_column_labels():
    metric = MaskedSparseCategoricalAccuracy()
    metric.update_state(np.array([[1], [0], [0], [0]]), LOGITS, sample_weight=[1.0, 3.0, 1.0, 0.0])
    # Correct: example 0 (weight 1) and example 1 (weight 3); wrong: example 2 (weight 1).
    assert float(metric.result()) == pytest.approx(0.8)


def test_config_round_trip():
    metric = MaskedSparseCategoricalAccuracy(ignore_class=255, name="topic_accuracy")
    clone = run_serialization_test(metric)
    assert (clone.ignore_class, clone.name) == (255, "topic_accuracy")
