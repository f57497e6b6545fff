"""The gradient-reversal lambda schedule of Ganin et al. (2016)."""
import math

import keras


class DomainAdversarySchedule(keras.callbacks.Callback):
    """Sets a `GradientReversal` layer's lambda to `max_lambda * (2 / (1 + exp(-gamma * p)) - 1)`
    before every step, where `p` in [0, 1] is the training progress. Lambda starts at 0 so
    the domain classifier's noisy early gradients do not disturb the encoder.

    Args:
        reversal: the `GradientReversal` layer.
        total_steps: steps of the whole run.
        gamma: steepness (10 in the paper).
        max_lambda: the value approached at the end.

    Example:

    >>> schedule = DomainAdversarySchedule(None, total_steps=100)
    >>> round(schedule.value_at(0), 3), round(schedule.value_at(100), 3)
    (0.0, 1.0)
    """

    def __init__(self, reversal, total_steps, gamma=10.0, max_lambda=1.0):
        super().__init__()
        self.reversal = reversal
        self.total_steps = max(int(total_steps), 1)
        self.gamma = gamma
        self.max_lambda = max_lambda

    def value_at(self, step):
        progress = min(step / self.total_steps, 1.0)
        return self.max_lambda * (2.0 / (1.0 + math.exp(-self.gamma * progress)) - 1.0)

    def on_train_batch_begin(self, batch, logs=None):
        self.reversal.set_lambda(self.value_at(int(self.model.optimizer.iterations.numpy())))
