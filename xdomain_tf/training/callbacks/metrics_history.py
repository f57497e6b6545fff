"""Keeps every epoch's metrics and writes them as JSON in the run directory."""
import time

import keras
import numpy as np

from xdomain_tf.utils.atomic import write_json_atomic


class MetricsHistory(keras.callbacks.Callback):
    """Records each epoch's logs (plus step, seconds and examples/s) into a JSON file.

    Its state survives resumption (`get_state`/`set_state`), so a resumed run's history
    continues the interrupted one's; an epoch resumed midway counts the seconds its
    interrupted part took (as of the state saved) in its time and speed.

    Args:
        path: the JSON file to rewrite atomically after every epoch (None: keep in memory).
        batch_size: global batch size, to report examples per second.

    Example:

    >>> MetricsHistory(None).epochs
    []
    """

    def __init__(self, path=None, batch_size=None):
        super().__init__()
        self.path = path
        self.batch_size = batch_size
        self.epochs = []
        self._start = None
        self._start_step = 0
        self._epoch = None  # the epoch under way
        self._resumed = None

    def get_state(self):
        state = {"epochs": self.epochs}
        if self._epoch is not None:
            state["current"] = {
                "epoch": self._epoch,
                "start_step": self._start_step,
                "seconds": time.perf_counter() - self._start,
            }
        return state

    def set_state(self, state):
        self.epochs = list(state["epochs"])
        self._resumed = state.get("current")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = time.perf_counter()
        self._start_step = int(self.model.optimizer.iterations.numpy())
        resumed, self._resumed = self._resumed, None
        if resumed is not None and resumed["epoch"] == epoch:
            self._start -= resumed["seconds"]
            self._start_step = resumed["start_step"]

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - (self._start or time.perf_counter())
        step = int(self.model.optimizer.iterations.numpy())
        entry = {"epoch": epoch + 1, "step": step, "seconds": round(seconds, 3)}
        if self.batch_size and seconds > 0:
            entry["examples_per_second"] = round((step - self._start_step) * self.batch_size / seconds, 2)
            if logs is not None:
                logs["examples_per_second"] = entry["examples_per_second"]  # for TensorBoard after us
        entry.update({key: float(np.asarray(value)) for key, value in (logs or {}).items()})
        learning_rate = getattr(self.model.optimizer, "learning_rate", None)
        if learning_rate is not None:
            entry["learning_rate"] = float(np.asarray(learning_rate))
        self.epochs = [e for e in self.epochs if e["epoch"] != epoch + 1] + [entry]
        self._epoch = None
        if self.path is not None:
            write_json_atomic(self.path, {"epochs": self.epochs})
