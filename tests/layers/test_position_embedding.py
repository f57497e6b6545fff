import numpy as np
import pytest
import tensorflow as tf
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers import PositionEmbedding


def _layer(max_length=6, hidden=4):
    layer = PositionEmbedding(max_length, name="position_embedding")
    layer.build((None, None, hidden))
    table = np.arange(max_length * hidden, dtype="float32").reshape(max_length, hidden)
    layer.embeddings.assign(table)
    return layer


def test_rows_are_broadcast_over_the_batch():
    layer = _layer()
    output = layer(np.zeros((3, 4, 4), "float32")).numpy()
    assert output.shape == (3, 4, 4)
    for example in output:
        np.testing.assert_array_equal(example, layer.embeddings.numpy()[:4])


def test_start_index_selects_later_rows():
    layer = _layer()
    output = layer(np.zeros((1, 2, 4), "float32"), start_index=3).numpy()
    np.testing.assert_array_equal(output[0], layer.embeddings.numpy()[3:5])


def test_too_long_sequence_is_a_clear_error():
    layer = _layer(max_length=6)
    with pytest.raises(XDomainError, match="length 7.*longer than the 6 positions"):
        layer(np.zeros((1, 7, 4), "float32"))
    with pytest.raises(XDomainError, match="length 2 \\(starting at position 5\\)"):
        layer(np.zeros((1, 2, 4), "float32"), start_index=5)

    @tf.function(input_signature=[tf.TensorSpec([None, None, 4], tf.float32)])
    def dynamic(x):
        return layer(x)

    assert dynamic(tf.zeros((1, 6, 4))).shape == (1, 6, 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="longer than the 6 positions"):
        dynamic(tf.zeros((1, 7, 4)))


def test_keras_round_trip():
    layer = _layer()
    assert run_serialization_test(layer).max_length == 6
    reloaded = run_model_saving_test(layer, [np.zeros((2, 5, 4), "float32")])
    assert reloaded.max_length == 6
