import numpy as np
import pytest
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import SimilarityLogits


def test_scaled_dot_products_and_clipped_scale():
    a = np.array([[1.0, 0.0], [0.6, 0.8]], "float32")
    b = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]], "float32")
    layer = SimilarityLogits(temperature=0.25)
    np.testing.assert_allclose(layer(a, b).numpy(), (a @ b.T) * 4.0, atol=1e-6)
    layer.log_scale.assign(np.log(1e6))
    np.testing.assert_allclose(float(layer.scale), 100.0)


def test_config_round_trip_and_validation():
    layer = SimilarityLogits(temperature=0.2, learnable=False)
    clone = run_serialization_test(layer)
    assert (clone.temperature, clone.learnable, clone.max_scale) == (0.2, False, 100.0)
    a = np.array([[1.0, 0.0], [0.6, 0.8]], "float32")
    run_model_saving_test(layer, [a, a], call=lambda layer, tensors: layer(*tensors))
    with pytest.raises(XDomainError):
        SimilarityLogits(temperature=0.0)
    with pytest.raises(XDomainError):
        SimilarityLogits(temperature=0.001, max_scale=100)
