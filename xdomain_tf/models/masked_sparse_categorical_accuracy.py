"""Sparse categorical accuracy that skips examples labelled -1 (other domains)."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MaskedSparseCategoricalAccuracy(keras.metrics.Metric):
    """Accuracy of `argmax(y_pred)` against integer labels, ignoring `ignore_class` labels.

    In a multi-domain batch each head's targets carry -1 for the other domains' examples;
    this metric counts only the head's own examples (a batch without any counts nothing).

    Args:
        ignore_class: the label to skip.
        name: metric name.
        dtype: dtype of the accumulators.

    Example:

    >>> metric = MaskedSparseCategoricalAccuracy()
    >>> metric.update_state([1, -1, 0], [[0.1, 0.9], [0.9, 0.1], [0.2, 0.8]])
    >>> float(metric.result())
    0.5
    """

    def __init__(self, ignore_class=-1, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.ignore_class = ignore_class
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.reshape(ops.cast(ops.convert_to_tensor(y_true), "int32"), (-1,))
        y_pred = ops.convert_to_tensor(y_pred)
        predicted = ops.reshape(
            ops.cast(ops.argmax(y_pred, axis=-1), "int32"), (-1,)
        )
        weights = ops.cast(ops.not_equal(y_true, self.ignore_class), self.dtype)
        if sample_weight is not None:
            weights = weights * ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        matches = ops.cast(ops.equal(y_true, predicted), self.dtype)
        self.correct.assign_add(ops.sum(matches * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.divide_no_nan(self.correct, self.count)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"ignore_class": self.ignore_class})
        return config
