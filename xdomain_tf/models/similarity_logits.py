"""Temperature-scaled similarity logits between two batches of embeddings (InfoNCE/CLIP)."""
import math

import keras
from keras import ops

from xdomain_tf.errors import XDomainError


@keras.saving.register_keras_serializable(package="xdomain_tf")
class SimilarityLogits(keras.layers.Layer):
    """`logits[i, j] = <a_i, b_j> / temperature`, with a fixed or learned temperature.

    For L2-normalized embeddings the dot product is the cosine similarity. A learned
    temperature is stored as `log_scale = log(1 / temperature)` (as in CLIP) and the
    scale is clipped at `max_scale` so that training cannot blow it up.

    Args:
        temperature: the (initial) temperature, > 0.
        learnable: learn the temperature.
        max_scale: the largest allowed `1 / temperature`.
        **kwargs: standard layer arguments.

    Call arguments:
        a: `[batch_a, dim]`.
        b: `[batch_b, dim]`.

    Returns float32 logits `[batch_a, batch_b]`.

    Example:

    >>> import numpy as np
    >>> layer = SimilarityLogits(temperature=0.5, learnable=False)
    >>> layer(np.eye(2, dtype="float32"), np.eye(2, dtype="float32")).numpy().tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """

    def __init__(self, temperature=0.05, learnable=True, max_scale=100.0, **kwargs):
        super().__init__(**kwargs)
        if not temperature > 0:
            raise XDomainError(f"temperature must be > 0, got {temperature!r}")
        if not max_scale >= 1.0 / temperature:
            raise XDomainError(f"max_scale {max_scale} is below 1 / temperature ({1.0 / temperature:g})")
        self.temperature = float(temperature)
        self.learnable = bool(learnable)
        self.max_scale = float(max_scale)

    def build(self, a_shape, b_shape=None):
        self.log_scale = self.add_weight(
            name="log_scale",
            shape=(),
            initializer=keras.initializers.Constant(math.log(1.0 / self.temperature)),
            trainable=self.learnable,
            dtype="float32",
        )
        self.built = True

    @property
    def scale(self):
        """The current `1 / temperature` (clipped)."""
        return ops.minimum(ops.exp(self.log_scale), self.max_scale)

    def call(self, a, b):
        a = ops.cast(a, "float32")
        b = ops.cast(b, "float32")
        return ops.matmul(a, ops.transpose(b)) * self.scale

    def compute_output_spec(self, a, b):
        return keras.KerasTensor((a.shape[0], b.shape[0]), dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {"temperature": self.temperature, "learnable": self.learnable, "max_scale": self.max_scale}
        )
        return config
