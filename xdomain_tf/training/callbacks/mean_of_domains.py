"""Adds the mean over domains of each per-domain metric to the epoch logs."""
import keras
import numpy as np


class MeanOfDomains(keras.callbacks.Callback):
    """Adds `mean_<metric>` and `val_mean_<metric>` (the unweighted mean over domains of
    `<domain>_<metric>`) to each epoch's logs, for early stopping and model selection
    that treat every domain alike whatever its size.

    Args:
        domains: the domain names.
        metrics: the per-domain metric names to average.

    Example:

    >>> logs = {"a_accuracy": 0.5, "b_accuracy": 1.0}
    >>> MeanOfDomains(["a", "b"]).on_epoch_end(0, logs)
    >>> logs["mean_accuracy"]
    0.75
    """

    def __init__(self, domains, metrics=("accuracy", "loss")):
        super().__init__()
        self.domains = list(domains)
        self.metrics = list(metrics)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for prefix in ("", "val_"):
            for metric in self.metrics:
                values = [logs.get(f"{prefix}{d}_{metric}") for d in self.domains]
                if all(v is not None for v in values):
                    logs[f"{prefix}mean_{metric}"] = float(np.mean([float(np.asarray(v)) for v in values]))
