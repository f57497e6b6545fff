"""Linear warmup followed by linear decay, the BERT fine-tuning schedule."""
import keras


@keras.saving.register_keras_serializable(package="xdomain_tf")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Rises linearly from 0 to `peak_learning_rate` over `warmup_steps`, then falls
    linearly to `end_learning_rate` at `total_steps` and stays there.

    Args:
        peak_learning_rate: the rate reached at the end of warmup.
        total_steps: the step at which the decay ends.
        warmup_steps: steps of linear warmup (0 for none).
        end_learning_rate: the final rate.

    Example:

    >>> schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    >>> round(float(schedule(5)), 6), round(float(schedule(10)), 6), round(float(schedule(100)), 6)
    (0.0005, 0.001, 0.0)
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps=0, end_learning_rate=0.0):
        if total_steps < 1:
            raise ValueError(f"WarmupLinearDecay: total_steps must be >= 1, got {total_steps}")
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"WarmupLinearDecay: warmup_steps must be in [0, total_steps={total_steps}], got {warmup_steps}"
            )
        self.peak_learning_rate = peak_learning_rate
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.end_learning_rate = end_learning_rate

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        peak = keras.ops.cast(self.peak_learning_rate, "float32")
        end = keras.ops.cast(self.end_learning_rate, "float32")
        warmup = float(max(self.warmup_steps, 1))
        decay_steps = float(max(self.total_steps - self.warmup_steps, 1))
        warm = peak * step / warmup
        progress = keras.ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        decayed = peak + (end - peak) * progress
        if self.warmup_steps == 0:
            return decayed
        return keras.ops.where(step < self.warmup_steps, warm, decayed)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "end_learning_rate": self.end_learning_rate,
        }
