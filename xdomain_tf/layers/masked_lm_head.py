"""BERT's masked language model head with the output projection tied to the embeddings."""
import keras
from keras import ops

from xdomain_tf.layers._utils import clone_initializer, default_kernel_initializer
from xdomain_tf.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MaskedLMHead(keras.layers.Layer):
    """Predicts token ids: transform (dense, activation, LayerNorm), then tied projection.

    The output projection multiplies by the transposed token embedding matrix of
    `token_embedding` (a `keras.layers.Embedding` or a `TokenAndPositionEmbedding`) and adds the
    head's own `output_bias` (`[vocab]`). Sub-layers: `transform_dense`,
    `transform_layer_norm`. Logits are float32 under mixed precision too.

    Args:
        token_embedding: the layer whose embedding matrix is reused (weight tying).
        activation: transform activation (`"gelu"` is the exact erf GELU).
        layer_norm_epsilon: LayerNorm epsilon.
        kernel_initializer: initializer of the transform kernel.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: `[batch, seq, hidden]`.
        mask_positions: optional int `[batch, n]`; only these positions are projected.

    Returns logits `[batch, seq or n, vocab]`.

    Example:

    >>> import numpy as np
    >>> embedding = keras.layers.Embedding(20, 8)
    >>> embedding.build((None,))
    >>> head = MaskedLMHead(embedding)
    >>> x = np.zeros((2, 5, 8), "float32")
    >>> tuple(head(x, mask_positions=np.array([[0, 3], [1, 4]])).shape)
    (2, 2, 20)
    """

    def __init__(
        self,
        token_embedding,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or default_kernel_initializer()
        )
        self.transform_dense = None

    def _embedding_matrix(self):
        if hasattr(self.token_embedding, "token_embedding_matrix"):
            return self.token_embedding.token_embedding_matrix
        return self.token_embedding.embeddings

    def build(self, inputs_shape):
        if not self.token_embedding.built:
            self.token_embedding.build((None, None))
        hidden_size = inputs_shape[-1]
        self.vocab_size = self._embedding_matrix().shape[0]
        self.transform_dense = keras.layers.Dense(
            hidden_size,
            activation=get_activation(self.activation),
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="transform_dense",
        )
        self.transform_dense.build(inputs_shape)
        self.transform_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="transform_layer_norm"
        )
        self.transform_layer_norm.build(inputs_shape)
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.vocab_size,), initializer="zeros", dtype="float32"
        )
        self.built = True

    def call(self, inputs, mask_positions=None):
        if mask_positions is not None:
            positions = ops.cast(mask_positions, "int32")[:, :, None]
            inputs = ops.take_along_axis(inputs, positions, axis=1)
        x = self.transform_layer_norm(self.transform_dense(inputs))
        matrix = ops.cast(self._embedding_matrix(), x.dtype)
        logits = ops.matmul(x, ops.transpose(matrix))
        return ops.cast(logits, "float32") + ops.cast(self.output_bias, "float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "token_embedding": keras.saving.serialize_keras_object(self.token_embedding),
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["token_embedding"] = keras.saving.deserialize_keras_object(
            config["token_embedding"]
        )
        return cls(**config)
