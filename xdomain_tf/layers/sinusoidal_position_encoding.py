"""Fixed sine/cosine position encodings ("Attention Is All You Need")."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="xdomain_tf")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Sine/cosine position encodings, broadcast to the shape of the input; no weights.

    Even channels `2i` hold `sin(p / max_wavelength ** (2i / hidden))`, odd channels `2i + 1`
    the cosine of the same angle.

    Args:
        max_wavelength: the longest wavelength of the encoding.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: `[batch, seq, hidden]` (only the shape is used).
        start_index: position of the first element.

    Example:

    >>> import numpy as np
    >>> encoding = SinusoidalPositionEncoding()(np.zeros((1, 3, 4), "float32"))
    >>> [round(float(v), 4) for v in encoding[0, 1]]
    [0.8415, 0.5403, 0.01, 0.9999]
    """

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        length, hidden = shape[-2], shape[-1]
        positions = ops.cast(ops.arange(length) + start_index, "float32")
        channels = ops.arange(hidden)
        exponents = ops.cast(2 * (channels // 2), "float32") / ops.cast(hidden, "float32")
        frequencies = ops.power(ops.cast(self.max_wavelength, "float32"), -exponents)
        angles = positions[:, None] * frequencies[None, :]
        encoding = ops.where(channels % 2 == 0, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), shape)

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
