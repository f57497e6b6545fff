"""Layer normalization with a choice of variance formulation (`layer_norm_mode`)."""
import keras
from keras import ops

from xdomain_tf.layers._utils import check_choice

LAYER_NORM_MODES = ("standard", "matmul_variance")


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MatmulVarianceLayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` whose variance is a dot product (quantizes well).

    Keras computes the variance as the mean of a squared-difference tensor and the output
    as `x * inv + (beta - mean * inv)`. In an int8 TFLite file each of those tensors gets
    one scale for all features: a few large features (BERT-style models have some) push the
    small squared differences to zero, and the two large terms of the output cancel. Here
    the squared differences are summed by a matmul (int32 accumulation in int8) and the
    output is `(x - mean) * inv * gamma + beta`. Equal to Keras in float32 (to ~1e-6), but
    slower there, so it is meant for export (`layer_norm_mode="matmul_variance"`).

    The weights (`gamma`, `beta`) have the names and shapes of
    `keras.layers.LayerNormalization`, so weights transfer 1:1. With `rms_scaling` or a
    normalization axis other than the last one the layer computes exactly as Keras.

    Args:
        **kwargs: the arguments of `keras.layers.LayerNormalization` (`axis`, `epsilon`,
            `center`, `scale`, `name`, `dtype`, ...).

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(2, 3, 8)).astype("float32")
    >>> expected = keras.layers.LayerNormalization(epsilon=1e-12)(x)
    >>> layer = MatmulVarianceLayerNormalization(epsilon=1e-12)
    >>> bool(np.allclose(layer(x), expected, atol=1e-5)), [w.path.split("/")[-1] for w in layer.weights]
    (True, ['gamma', 'beta'])
    """

    def call(self, inputs):
        rank = len(inputs.shape)
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        if self.rms_scaling or [axis % rank for axis in axes] != [rank - 1]:
            return super().call(inputs)
        x = ops.cast(inputs, "float32")
        centered = x - ops.mean(x, axis=-1, keepdims=True)
        squares = ops.matmul(centered[..., None, :], centered[..., :, None])[..., 0]
        outputs = centered * ops.rsqrt(squares / inputs.shape[-1] + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * ops.cast(self.gamma, "float32")
        if self.beta is not None:
            outputs = outputs + ops.cast(self.beta, "float32")
        return ops.cast(outputs, self.compute_dtype)


def layer_normalization(layer_norm_mode="standard", **kwargs):
    """A LayerNorm layer of the given mode, for layers that take a `layer_norm_mode` option.

    Args:
        layer_norm_mode: `"standard"` (`keras.layers.LayerNormalization`) or
            `"matmul_variance"` (`MatmulVarianceLayerNormalization`: the same function and
            weights, a formulation that keeps its resolution under int8 quantization).
        **kwargs: arguments of `keras.layers.LayerNormalization`.

    Returns:
        The (unbuilt) layer.

    Example:

    >>> type(layer_normalization("matmul_variance", epsilon=1e-12, name="ln")).__name__
    'MatmulVarianceLayerNormalization'
    >>> layer_normalization("fast")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: layer_norm_mode must be one of ('standard', 'matmul_variance'), got 'fast'
    """
    check_choice("layer_norm_mode", layer_norm_mode, LAYER_NORM_MODES)
    if layer_norm_mode == "matmul_variance":
        return MatmulVarianceLayerNormalization(**kwargs)
    return keras.layers.LayerNormalization(**kwargs)

