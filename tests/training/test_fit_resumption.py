import json
import pathlib
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.fit_resumption import resumable_fit

SCRIPT = pathlib.Path(__file__).with_name("resumable_script.py")


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_sigkill_mid_epoch_resumes_to_the_same_model(tmp_path):
    """The model has dropout: its random state is checkpointed, so the resumed run draws the
    masks the uninterrupted one drew, and ends bit-identical, with the same epoch losses
    (the killed epoch's metrics so far are restored)."""
    straight = _run(tmp_path / "a", tmp_path / "a.npz")
    assert straight.returncode == 0, straight.stderr

    killed = _run(tmp_path / "b", tmp_path / "b.npz", 8)
    assert killed.returncode == -signal.SIGKILL
    state = json.loads((tmp_path / "b" / "state.json").read_text())
    assert state["step"] == 6  # checkpoint every 3 steps; killed at step 8, mid-epoch 2
    resumed = _run(tmp_path / "b", tmp_path / "b.npz")
    assert resumed.returncode == 0, resumed.stderr

    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert int(a["step"]) == int(b["step"]) == 15
    assert int(b["epochs"]) == 3  # history of the killed run carried over
    np.testing.assert_array_equal(a["losses"], b["losses"])
    for key in a.files:
        if key.startswith("arr_"):
            np.testing.assert_array_equal(a[key], b[key])


def test_a_step_checkpoint_on_the_last_step_of_an_epoch_keeps_that_epoch(tmp_path):
    """Steps per epoch (5) divide the checkpoint interval (5): the step save comes before
    the epoch's validation and history; the epoch-end save must still record them."""
    straight = _run(tmp_path / "a", tmp_path / "a.npz", "-", 5)
    assert straight.returncode == 0, straight.stderr
    killed = _run(tmp_path / "b", tmp_path / "b.npz", 7, 5)
    assert killed.returncode == -signal.SIGKILL
    state = json.loads((tmp_path / "b" / "state.json").read_text())
    assert state["step"] == 5 and len(state["callbacks"]["MetricsHistory"]["epochs"]) == 1
    resumed = _run(tmp_path / "b", tmp_path / "b.npz", "-", 5)
    assert resumed.returncode == 0, resumed.stderr
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert int(a["step"]) == int(b["step"]) == 15
    assert int(a["epochs"]) == int(b["epochs"]) == 3  # before the fix: 2 (epoch 1 lost)


def test_non_finite_loss_stops_with_message_and_keeps_checkpoint(tmp_path):
    x = np.ones((24, 2), "float32")
    y = np.ones((24, 1), "float32")
    y[16:] = np.inf  # batches 5 and 6 (batch size 4) have an infinite target
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    with pytest.raises(XDomainError, match=r"loss became (inf|nan) at step 5.*last good checkpoint \(step 3\)"):
        resumable_fit(model, data, epochs=1, steps_per_epoch=6, checkpoint_dir=tmp_path, checkpoint_every=3, verbose=0)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["step"] == 3
    restored = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    restored.compile(keras.optimizers.SGD(0.01), "mse")
    tf.train.Checkpoint(model=restored).read(str(tmp_path / state["checkpoint"])).expect_partial()
    assert all(np.isfinite(w).all() for w in restored.get_weights())
