"""Stops training at the first NaN or infinite loss and remembers where."""
import math

import keras
import numpy as np


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stops `fit` when the training loss becomes NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN` it records the step and value, so the caller
    can report them (`resumable_fit` raises an error naming the step and the last good
    checkpoint), and checkpoint callbacks can ask `tripped` before saving.

    Example:

    >>> guard = TerminateOnNonFinite()
    >>> guard.tripped
    False
    """

    def __init__(self):
        super().__init__()
        self.tripped = False
        self.step = None
        self.value = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        value = float(np.asarray(loss))
        if not math.isfinite(value):
            self.tripped = True
            self.step = int(self.model.optimizer.iterations.numpy())
            self.value = value
            self.model.stop_training = True
