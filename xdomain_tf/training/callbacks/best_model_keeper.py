"""Early stopping that also keeps the best weights on disk and survives resumption."""
import math

import keras
import numpy as np

from xdomain_tf.utils.atomic import atomic_path


class BestModelKeeper(keras.callbacks.Callback):
    """Tracks a validation metric, saves the best weights, and stops after `patience`
    epochs without improvement.

    Args:
        monitor: the logged metric, e.g. `"val_loss"` or `"val_macro_accuracy"`.
        mode: `"min"` or `"max"`; `"auto"` is `max` for names containing `acc` or `f1`.
        patience: epochs without improvement before stopping (None: never stop).
        weights_path: where the best weights go (`*.weights.h5`), written atomically.

    Example:

    >>> BestModelKeeper("val_loss").mode
    'min'
    """

    def __init__(self, monitor="val_loss", mode="auto", patience=None, weights_path=None):
        super().__init__()
        if mode == "auto":
            mode = "max" if ("acc" in monitor or "f1" in monitor) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"BestModelKeeper: mode must be min, max or auto, got {mode!r}")
        self.monitor, self.mode, self.patience, self.weights_path = monitor, mode, patience, weights_path
        # The best value and epoch so far, epochs since, and whether patience ran out.
        self.best, self.best_epoch, self.wait, self.stopped = None, None, 0, False

    def get_state(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "stopped": self.stopped}

    def set_state(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.stopped = state["wait"], state["stopped"]

    def _improved(self, value):
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or self.monitor not in logs:
            return
        value = float(np.asarray(logs[self.monitor]))
        if not math.isfinite(value):
            return
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch + 1, 0
            if self.weights_path is not None:
                with atomic_path(self.weights_path) as tmp:
                    self.model.save_weights(str(tmp) + ".weights.h5")
                    tmp.with_name(tmp.name + ".weights.h5").rename(tmp)
        else:
            self.wait += 1
            if self.patience is not None and self.wait >= self.patience:
                self.stopped = True
                self.model.stop_training = True
