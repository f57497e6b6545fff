"""Trains a tiny model resumably; used by test_resumable_fit in subprocesses.

argv: checkpoint_dir weights_out [kill_at_step [checkpoint_every]]
"""
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from xdomain_tf.training.callbacks.metrics_history import MetricsHistory  # noqa: E402
from xdomain_tf.training.fit_resumption import resumable_fit  # noqa: E402

checkpoint_dir, weights_out = sys.argv[1], sys.argv[2]
kill_at = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != "-" else None
checkpoint_every = int(sys.argv[4]) if len(sys.argv) > 4 else 3

keras.utils.set_random_seed(1)
rng = np.random.default_rng(0)
x = rng.normal(size=(40, 6)).astype("float32")
y = (x @ rng.normal(size=(6, 1))).astype("float32")
def data():
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(40, seed=3).batch(4)


model = keras.Sequential(
    [keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dropout(0.3), keras.layers.Dense(1)]
)
model.compile(keras.optimizers.Adam(0.05), "mse")


class KillAt(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if kill_at is not None and int(self.model.optimizer.iterations.numpy()) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


history = MetricsHistory()
step = resumable_fit(
    model, data, epochs=3, steps_per_epoch=5, checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every,
    callbacks=[history, KillAt()], verbose=0,
)
losses = [e["loss"] for e in history.epochs]
np.savez(weights_out, step=step, epochs=len(history.epochs), losses=losses, *model.get_weights())
