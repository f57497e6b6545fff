import numpy as np
import pytest
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers import BottleneckAdapter
from xdomain_tf.layers.activations import get_activation

HIDDEN = 16


def _inputs():
    return np.random.default_rng(0).normal(size=(4, 3, HIDDEN)).astype("float32")


def _randomized(adapter):
    adapter.build((None, None, HIDDEN))
    rng = np.random.default_rng(1)
    for variable in adapter.weights:
        variable.assign(0.5 * rng.normal(size=variable.shape).astype("float32"))
    return adapter


def test_fresh_adapters_are_the_identity():
    adapter = BottleneckAdapter(num_adapters=3, reduction_factor=4)
    x = _inputs()
    np.testing.assert_array_equal(adapter(x, adapter_index=np.array([0, 1, 2, 1])), x)
    assert adapter.bottleneck_size == 4
    assert [tuple(w.shape) for w in adapter.weights] == [(3, 16, 4), (3, 4), (3, 4, 16), (3, 16)]
    np.testing.assert_array_equal(adapter.up_kernel.numpy(), 0.0)


def test_each_example_goes_through_its_own_adapter():
    adapter = _randomized(BottleneckAdapter(num_adapters=2, reduction_factor=4))
    x = _inputs()
    index = np.array([1, 0, 0, 1], "int32")
    output = adapter(x, adapter_index=index).numpy()
    gelu = get_activation("gelu")
    for example, k in enumerate(index):
        hidden = x[example] @ adapter.down_kernel.numpy()[k] + adapter.down_bias.numpy()[k]
        expected = (
            x[example]
            + np.asarray(gelu(hidden)) @ adapter.up_kernel.numpy()[k]
            + adapter.up_bias.numpy()[k]
        )
        np.testing.assert_allclose(output[example], expected, atol=1e-4)


def test_adapter_index_is_required_with_several_adapters():
    single = _randomized(BottleneckAdapter(num_adapters=1, reduction_factor=4))
    x = _inputs()
    np.testing.assert_allclose(single(x), single(x, adapter_index=np.zeros(4, "int32")), atol=1e-6)
    with pytest.raises(XDomainError, match="adapter_index is required with 2 adapters"):
        BottleneckAdapter(num_adapters=2)(x)
    with pytest.raises(XDomainError, match="num_adapters >= 1"):
        BottleneckAdapter(num_adapters=0)


def test_keras_round_trip():
    adapter = _randomized(
        BottleneckAdapter(num_adapters=2, reduction_factor=8, activation="relu", name="adapter")
    )
    run_serialization_test(adapter)
    reloaded = run_model_saving_test(
        adapter,
        [_inputs(), np.array([1, 0, 1, 1], "int32")],
        call=lambda layer, tensors: layer(tensors[0], adapter_index=tensors[1]),
    )
    assert (reloaded.num_adapters, reloaded.activation) == (2, "relu")
