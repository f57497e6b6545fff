"""Learned absolute position embeddings."""
import keras
from keras import ops

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers._utils import default_kernel_initializer


@keras.saving.register_keras_serializable(package="xdomain_tf")
class PositionEmbedding(keras.layers.Layer):
    """A learned embedding per position, broadcast to the shape of its input.

    The table (weight `embeddings`, `[max_length, hidden]`) holds `max_length` positions; a
    longer sequence is an error that names both lengths.

    Args:
        max_length: the number of positions in the table.
        initializer: initializer of the table.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: `[batch, seq, hidden]` (only the shape is used).
        start_index: position of the first element (for incremental decoding).

    Example:

    >>> import numpy as np
    >>> layer = PositionEmbedding(max_length=16)
    >>> tuple(layer(np.zeros((2, 5, 8), "float32")).shape)
    (2, 5, 8)
    """

    def __init__(self, max_length, initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.initializer = keras.initializers.get(initializer or default_kernel_initializer())

    def build(self, inputs_shape):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.max_length, inputs_shape[-1]),
            initializer=self.initializer,
        )
        self.built = True

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        length = shape[-2]
        length = self._check_length(length, start_index)
        table = ops.slice(self.embeddings, (start_index, 0), (length, shape[-1]))
        return ops.broadcast_to(ops.cast(table, self.compute_dtype), shape)

    def _check_length(self, length, start_index):
        message = (
            f"{self.name}: sequence of length {{}} (starting at position {{}}) is longer than "
            f"the {self.max_length} positions of the position embedding table "
            "(max_position_embeddings)"
        )
        if isinstance(length, int) and isinstance(start_index, int):
            if start_index + length > self.max_length:
                raise XDomainError(message.format(length, start_index))
        elif keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            check = tf.debugging.assert_less_equal(
                ops.cast(start_index, "int32") + ops.cast(length, "int32"),
                self.max_length,
                message=message.format("(dynamic)", "(dynamic)"),
            )
            # The slice must wait for the check, or it may fail first with a bare shape error.
            with tf.control_dependencies([check] if check is not None else []):
                length = tf.identity(length)
        return length

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
