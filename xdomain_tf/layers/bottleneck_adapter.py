"""Houlsby bottleneck adapters, one per domain, chosen per example."""
import keras
from keras import ops

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers._utils import default_kernel_initializer
from xdomain_tf.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="xdomain_tf")
class BottleneckAdapter(keras.layers.Layer):
    """`num_adapters` bottleneck adapters; each example goes through the one it selects.

    Adapter `k` maps `x` to `x + up_k(activation(down_k(x)))`, with
    `bottleneck = max(1, hidden // reduction_factor)`. The up-projection starts at zero, so a
    fresh adapter is the identity. Weights: `down_kernel [num_adapters, hidden, bottleneck]`,
    `down_bias`, `up_kernel [num_adapters, bottleneck, hidden]`, `up_bias`; each example's
    adapter weights are gathered by its index, so one batch may mix domains.

    Args:
        num_adapters: number of adapters (e.g. one per domain).
        reduction_factor: hidden width divided by the bottleneck width.
        activation: activation name between the projections.
        kernel_initializer: initializer of the down-projection.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: `[batch, seq, hidden]`.
        adapter_index: int `[batch]`, each example's adapter; may be omitted with one adapter.

    Example:

    >>> import numpy as np
    >>> adapter = BottleneckAdapter(num_adapters=2, reduction_factor=4)
    >>> x = np.ones((2, 3, 8), "float32")
    >>> bool(np.allclose(adapter(x, adapter_index=np.array([0, 1])), x))
    True
    """

    def __init__(
        self,
        num_adapters=1,
        reduction_factor=16,
        activation="gelu",
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_adapters < 1:
            raise XDomainError(f"BottleneckAdapter needs num_adapters >= 1, got {num_adapters}")
        self.num_adapters = num_adapters
        self.reduction_factor = reduction_factor
        self.activation = activation
        self._activation_fn = get_activation(activation)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or default_kernel_initializer()
        )

    def build(self, inputs_shape):
        hidden = inputs_shape[-1]
        self.bottleneck_size = max(1, hidden // self.reduction_factor)
        self.down_kernel = self.add_weight(
            name="down_kernel",
            shape=(self.num_adapters, hidden, self.bottleneck_size),
            initializer=self.kernel_initializer,
        )
        self.down_bias = self.add_weight(
            name="down_bias", shape=(self.num_adapters, self.bottleneck_size), initializer="zeros"
        )
        self.up_kernel = self.add_weight(
            name="up_kernel",
            shape=(self.num_adapters, self.bottleneck_size, hidden),
            initializer="zeros",
        )
        self.up_bias = self.add_weight(
            name="up_bias", shape=(self.num_adapters, hidden), initializer="zeros"
        )
        self.built = True

    def call(self, inputs, adapter_index=None):
        if adapter_index is None:
            if self.num_adapters != 1:
                raise XDomainError(
                    f"{self.name}: adapter_index is required with {self.num_adapters} adapters"
                )
            adapter_index = ops.zeros(ops.shape(inputs)[:1], dtype="int32")
        adapter_index = ops.cast(adapter_index, "int32")
        down_kernel = ops.take(self.down_kernel, adapter_index, axis=0)
        down_bias = ops.take(self.down_bias, adapter_index, axis=0)
        up_kernel = ops.take(self.up_kernel, adapter_index, axis=0)
        up_bias = ops.take(self.up_bias, adapter_index, axis=0)
        hidden = ops.einsum("bsh,bhr->bsr", inputs, down_kernel) + down_bias[:, None, :]
        hidden = self._activation_fn(hidden)
        return inputs + ops.einsum("bsr,brh->bsh", hidden, up_kernel) + up_bias[:, None, :]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_adapters": self.num_adapters,
                "reduction_factor": self.reduction_factor,
                "activation": self.activation,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
