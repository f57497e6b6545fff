import keras
import numpy as np
import pytest
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers import MatmulVarianceLayerNormalization
from xdomain_tf.layers.layer_normalization import layer_normalization


def _outlier_inputs(seed=3):
    x = np.random.default_rng(seed).normal(size=(2, 7, 16)).astype("float32")
    x[..., 5] *= 100.0  # a BERT-style outlier feature
    return x


def _pair(**kwargs):
    """A keras LayerNormalization with random weights and a matmul-variance twin holding them."""
    standard = keras.layers.LayerNormalization(**kwargs)
    standard.build((None, None, 16))
    rng = np.random.default_rng(0)
    standard.set_weights([rng.normal(size=w.shape).astype("float32") for w in standard.weights])
    twin = MatmulVarianceLayerNormalization(**kwargs)
    twin.build((None, None, 16))
    twin.set_weights(standard.get_weights())
    return standard, twin


@pytest.mark.parametrize(
    "kwargs",
    [{"epsilon": 1e-12}, {"epsilon": 1e-3, "center": False, "scale": False}],
)
def test_equals_keras_with_outlier_features(kwargs):
    standard, twin = _pair(**kwargs)
    x = _outlier_inputs()
    np.testing.assert_allclose(twin(x), standard(x), atol=1e-5, rtol=1e-5)


def test_other_axis_falls_back_to_keras():
    standard = keras.layers.LayerNormalization(axis=1)
    twin = MatmulVarianceLayerNormalization(axis=1)
    x = _outlier_inputs()
    np.testing.assert_allclose(twin(x), standard(x), atol=1e-6)


def test_same_weight_names_and_shapes_as_keras():
    standard, twin = _pair(name="layer_norm")
    assert [(w.path, tuple(w.shape)) for w in twin.weights] == [(w.path, tuple(w.shape)) for w in standard.weights]


def test_graph_sums_squares_with_a_matmul():
    import tensorflow as tf

    _, twin = _pair(epsilon=1e-12)
    graph = tf.function(twin).get_concrete_function(tf.TensorSpec([None, 4, 16], tf.float32)).graph
    ops = [node.op for node in graph.as_graph_def().node]
    assert ops.count("BatchMatMulV2") == 1 and "SquaredDifference" not in ops


def test_factory_and_errors():
    assert type(layer_normalization()) is keras.layers.LayerNormalization
    assert type(layer_normalization("matmul_variance", epsilon=1e-12)) is MatmulVarianceLayerNormalization
    with pytest.raises(XDomainError, match="layer_norm_mode must be one of"):
        layer_normalization("rms")


def test_keras_round_trip():
    _, twin = _pair(epsilon=1e-12, name="layer_norm")
    run_serialization_test(twin)
    reloaded = run_model_saving_test(twin, [_outlier_inputs()])
    assert type(reloaded) is MatmulVarianceLayerNormalization and reloaded.epsilon == 1e-12
