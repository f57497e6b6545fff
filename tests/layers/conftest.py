import json

import keras
import numpy as np
import pytest


@pytest.fixture
def keras_round_trip(tmp_path):
    """Saves a functional model around `layer` as .keras, reloads it with safe_mode=True and
    checks that the reloaded model reproduces the outputs exactly; returns the reloaded layer."""

    def check(layer, inputs, call=None):
        call = call or (lambda layer, tensors: layer(*tensors))
        symbolic = [
            keras.Input(shape=value.shape[1:], dtype=str(value.dtype), name=f"input_{i}")
            for i, value in enumerate(inputs)
        ]
        model = keras.Model(symbolic, call(layer, symbolic))
        expected = model.predict(inputs, verbose=0)
        path = tmp_path / "model.keras"
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
        actual = reloaded.predict(inputs, verbose=0)
        for want, got in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
            np.testing.assert_array_equal(got, want)
        (reloaded_layer,) = [l for l in reloaded.layers if l.name == layer.name]
        # Through JSON, so that tuples and lists compare equal.
        assert json.dumps(reloaded_layer.get_config(), sort_keys=True) == json.dumps(
            layer.get_config(), sort_keys=True
        )
        return reloaded_layer

    return check


@pytest.fixture
def mixed_precision():
    """Sets a global dtype policy for one test and restores float32 afterwards."""
    previous = keras.config.dtype_policy()

    def set_policy(name):
        keras.config.set_dtype_policy(name)

    yield set_policy
    keras.config.set_dtype_policy(previous)
