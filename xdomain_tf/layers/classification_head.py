"""A classification head: optional hidden dense layer, dropout, float32 logits."""
import keras

from xdomain_tf.layers._utils import clone_initializer, default_kernel_initializer
from xdomain_tf.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="xdomain_tf")
class ClassificationHead(keras.layers.Layer):
    """Maps pooled features `[batch, hidden]` to logits `[batch, num_classes]`.

    `dropout -> [dense(hidden_size) + activation -> dropout] -> logits`. The `logits` Dense
    always computes in float32, so logits are float32 under mixed precision too.

    Args:
        num_classes: number of classes.
        hidden_size: width of the optional hidden layer (`dense`); None or 0 for none.
        activation: activation of the hidden layer (e.g. `"tanh"`, `"gelu"`).
        dropout: dropout rate before each dense layer.
        kernel_initializer: initializer of the kernels.
        **kwargs: standard layer arguments.

    Example:

    >>> import numpy as np
    >>> head = ClassificationHead(3, hidden_size=8)
    >>> logits = head(np.zeros((2, 16), "float32"))
    >>> tuple(logits.shape), logits.dtype.name
    ((2, 3), 'float32')
    """

    def __init__(
        self,
        num_classes,
        hidden_size=None,
        activation="tanh",
        dropout=0.0,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.hidden_size = hidden_size
        self.activation = activation
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or default_kernel_initializer()
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.dense = None
        if hidden_size:
            self.dense = keras.layers.Dense(
                hidden_size,
                activation=get_activation(activation),
                kernel_initializer=clone_initializer(self.kernel_initializer),
                dtype=self.dtype_policy,
                name="dense",
            )
        self.logits_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype="float32",
            name="logits",
        )

    def build(self, inputs_shape):
        if self.dense is not None:
            self.dense.build(inputs_shape)
            inputs_shape = tuple(inputs_shape[:-1]) + (self.hidden_size,)
        self.logits_dense.build(inputs_shape)
        self.built = True

    def call(self, inputs, training=None):
        x = self.dropout_layer(inputs, training=training)
        if self.dense is not None:
            x = self.dropout_layer(self.dense(x), training=training)
        return self.logits_dense(x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "hidden_size": self.hidden_size,
                "activation": self.activation,
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
