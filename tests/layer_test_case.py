"""Shared checks for the tests of Keras layers, models and metrics (in the manner of keras-hub's
`TestCase.run_serialization_test` / `run_model_saving_test`).

`tests/` is on the import path (pytest puts the folder of the root `conftest.py` there), so a
test imports them as `from layer_test_case import run_serialization_test`.

- `run_serialization_test(obj)`: `get_config` -> `from_config`, and
  `serialize_keras_object` -> JSON -> `deserialize_keras_object`, give an equal config.
- `run_model_saving_test(model_or_layer, inputs)`: a `.keras` file reloads with
  `safe_mode=True` into an object of the same class, config and outputs (exactly).
- `run_fit_step_test(model, x, y)`: one training step gives a finite loss and moves weights.
"""
import json
import pathlib
import tempfile

import keras
import numpy as np


def config_json(obj_or_config):
    """A config (or the config of `obj_or_config`) as canonical JSON: tuples equal lists."""
    config = obj_or_config if isinstance(obj_or_config, dict) else obj_or_config.get_config()
    return json.dumps(config, sort_keys=True)


def run_serialization_test(obj):
    """Checks that `obj`'s config survives `from_config` and Keras (de)serialization via JSON.

    Args:
        obj: a layer, model or metric of a registered class.

    Returns:
        The object rebuilt by `type(obj).from_config(obj.get_config())`.
    """
    expected = config_json(obj)
    revived = type(obj).from_config(json.loads(expected))
    assert type(revived) is type(obj)
    assert config_json(revived) == expected, "get_config -> from_config changed the config"
    serialized = json.dumps(keras.saving.serialize_keras_object(obj))
    deserialized = keras.saving.deserialize_keras_object(json.loads(serialized))
    assert type(deserialized) is type(obj)
    assert config_json(deserialized) == expected, "serialize -> deserialize changed the config"
    return revived


def run_model_saving_test(model, inputs, call=None):
    """Saves `model` as `.keras`, reloads it with `safe_mode=True` and checks that the reloaded
    object has the same class and config and computes exactly the same outputs.

    Args:
        model: a `keras.Model`; or a layer, which is then wrapped in a functional model with
            one `keras.Input` per array of `inputs` (its shape and dtype without the batch).
        inputs: what the model is called with; for a layer, a list of arrays.
        call: for a layer, `call(layer, symbolic_inputs)` builds the outputs (default:
            `layer(*symbolic_inputs)`), to pass keyword arguments.

    Returns:
        The reloaded model, or for a layer the reloaded layer.
    """
    layer = None
    if not isinstance(model, keras.Model):
        layer, call = model, call or (lambda layer, tensors: layer(*tensors))
        symbolic = [
            keras.Input(shape=value.shape[1:], dtype=str(value.dtype), name=f"input_{i}")
            for i, value in enumerate(inputs)
        ]
        model = keras.Model(symbolic, call(layer, symbolic))
    expected = model.predict(inputs, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "model.keras"
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    assert type(reloaded) is type(model)
    actual = reloaded.predict(inputs, verbose=0)
    keras.tree.assert_same_structure(actual, expected)
    for want, got in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
        np.testing.assert_array_equal(got, want)
    if layer is None:
        assert config_json(reloaded) == config_json(model)
        return reloaded
    (reloaded_layer,) = [candidate for candidate in reloaded.layers if candidate.name == layer.name]
    assert type(reloaded_layer) is type(layer)
    assert config_json(reloaded_layer) == config_json(layer)
    return reloaded_layer


def run_fit_step_test(model, x, y, sample_weight=None, loss=None, optimizer=None, **compile_options):
    """Runs one training step and checks that the loss is finite and trainable weights moved.

    Args:
        model: a `keras.Model`; compiled here (with `loss`, `optimizer` (default Adam 1e-2)
            and `compile_options`) unless `loss` is None and it is compiled already.
        x, y, sample_weight: one batch.

    Returns:
        `(logs, unchanged)`: the step's logs (a dict of floats) and the paths of the
        trainable weights the step left unchanged (a test may require none).
    """
    if loss is not None or not model.compiled:
        model.compile(optimizer=optimizer or keras.optimizers.Adam(1e-2), loss=loss, **compile_options)
    before = {variable.path: np.array(variable.numpy()) for variable in model.trainable_weights}
    assert before, "the model has no trainable weights"
    logs = model.train_on_batch(x, y, sample_weight=sample_weight, return_dict=True)
    logs = {name: float(value) for name, value in logs.items()}
    assert np.isfinite(logs["loss"]), f"the loss is {logs['loss']}"
    unchanged = sorted(
        variable.path
        for variable in model.trainable_weights
        if np.array_equal(variable.numpy(), before[variable.path])
    )
    assert len(unchanged) < len(before), "one training step changed no trainable weight"
    return logs, unchanged
