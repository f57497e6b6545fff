import math

import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.activations import (
    ACTIVATIONS,
    activation_from_hf,
    check_activation,
    get_activation,
    hf_activation_name,
    hf_activation_names,
)

X = np.linspace(-4.0, 4.0, 17).astype("float32")


def test_gelu_is_exact_and_gelu_new_the_tanh_approximation():
    exact = 0.5 * X * (1.0 + np.vectorize(math.erf)(X / math.sqrt(2.0)))
    tanh = 0.5 * X * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (X + 0.044715 * X**3)))
    np.testing.assert_allclose(get_activation("gelu")(X), exact, atol=1e-6)
    for name in ("gelu_new", "gelu_approximate"):
        np.testing.assert_allclose(get_activation(name)(X), tanh, atol=1e-6)
    assert np.abs(exact - tanh).max() > 1e-5


def test_every_activation_maps_to_hugging_face_and_back_to_the_same_function():
    for name in ACTIVATIONS:
        assert get_activation(activation_from_hf(hf_activation_name(name))) is get_activation(name)
    assert activation_from_hf("gelu_pytorch_tanh") == "gelu_approximate"
    assert activation_from_hf("gelu_python") == "gelu"
    assert set(ACTIVATIONS) < set(hf_activation_names())


def test_unknown_names():
    with pytest.raises(XDomainError, match="activation 'mish' is not one of gelu"):
        get_activation("mish")
    with pytest.raises(XDomainError, match="hidden_act 'elu'"):
        check_activation("elu", "hidden_act")
    assert activation_from_hf("mish") is None
