"""BERT's embedding layer: token + segment + position, LayerNorm, dropout."""
import keras
from keras import ops

from xdomain_tf.layers._utils import check_choice, clone_initializer, default_kernel_initializer
from xdomain_tf.layers.layer_normalization import LAYER_NORM_MODES, layer_normalization
from xdomain_tf.layers.position_embedding import PositionEmbedding


@keras.saving.register_keras_serializable(package="xdomain_tf")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Sum of token, segment and learned position embeddings, then LayerNorm and dropout.

    Sub-layers (names a checkpoint converter maps): `token_embedding` (`[vocab, hidden]`,
    exposed as `token_embedding_matrix` for weight tying), `segment_embedding`
    (`[type_vocab_size, hidden]`, absent when `type_vocab_size` is 0), `position_embedding`
    (`[max_length, hidden]`) and `layer_norm`. Without `segment_ids` every token gets segment 0,
    as in Hugging Face BERT.

    Args:
        vocab_size: number of token ids.
        hidden_size: embedding width.
        max_length: number of positions.
        type_vocab_size: number of segment ids; 0 for no segment embedding.
        dropout: dropout rate after the LayerNorm.
        layer_norm_epsilon: LayerNorm epsilon.
        embeddings_initializer: initializer of the three tables.
        layer_norm_mode: `"standard"` (default) or `"matmul_variance"`, see
            `xdomain_tf.layers.layer_normalization.layer_normalization`.
        **kwargs: standard layer arguments.

    Call arguments:
        token_ids: int `[batch, seq]`.
        segment_ids: int `[batch, seq]` or None.
        start_index: position of the first token (incremental decoding).

    Example:

    >>> import numpy as np
    >>> layer = TokenAndPositionEmbedding(vocab_size=10, hidden_size=8, max_length=6)
    >>> tuple(layer(np.array([[1, 2, 3]])).shape), tuple(layer.token_embedding_matrix.shape)
    ((1, 3, 8), (10, 8))
    >>> type(TokenAndPositionEmbedding(10, 8, 6, layer_norm_mode="matmul_variance").layer_norm).__name__
    'MatmulVarianceLayerNormalization'
    """

    def __init__(
        self,
        vocab_size,
        hidden_size,
        max_length,
        type_vocab_size=2,
        dropout=0.0,
        layer_norm_epsilon=1e-12,
        embeddings_initializer=None,
        layer_norm_mode="standard",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("layer_norm_mode", layer_norm_mode, LAYER_NORM_MODES)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_length = max_length
        self.type_vocab_size = type_vocab_size
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.layer_norm_mode = layer_norm_mode
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer or default_kernel_initializer()
        )
        self.token_embedding = keras.layers.Embedding(
            vocab_size,
            hidden_size,
            embeddings_initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.segment_embedding = None
        if type_vocab_size:
            self.segment_embedding = keras.layers.Embedding(
                type_vocab_size,
                hidden_size,
                embeddings_initializer=clone_initializer(self.embeddings_initializer),
                dtype=self.dtype_policy,
                name="segment_embedding",
            )
        self.position_embedding = PositionEmbedding(
            max_length,
            initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.layer_norm = layer_normalization(
            layer_norm_mode, epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, token_ids_shape):
        embedded_shape = tuple(token_ids_shape) + (self.hidden_size,)
        self.token_embedding.build(token_ids_shape)
        if self.segment_embedding is not None:
            self.segment_embedding.build(token_ids_shape)
        self.position_embedding.build(embedded_shape)
        self.layer_norm.build(embedded_shape)
        self.built = True

    @property
    def token_embedding_matrix(self):
        """The `[vocab_size, hidden_size]` token embedding variable (for weight tying)."""
        return self.token_embedding.embeddings

    def call(self, token_ids, segment_ids=None, start_index=0, training=None):
        embedded = _lookup(self.token_embedding, token_ids)
        embedded = embedded + self.position_embedding(embedded, start_index=start_index)
        if self.segment_embedding is not None:
            if segment_ids is None:
                segment_ids = ops.zeros_like(token_ids)
            embedded = embedded + _lookup(self.segment_embedding, segment_ids)
        return self.dropout_layer(self.layer_norm(embedded), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "hidden_size": self.hidden_size,
                "max_length": self.max_length,
                "type_vocab_size": self.type_vocab_size,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
                "layer_norm_mode": self.layer_norm_mode,
            }
        )
        return config


def _lookup(embedding, ids):
    """`embedding(ids)` for ids >= 0, as one gather.

    On TensorFlow `keras.ops.take` first maps negative ids with an int32 `where`; in a
    TFLite file that int32 SELECT_V2 makes TFLite's int16x8 quantizer fail ("Max and min
    for dynamic tensors should be recorded during calibration"). Token and segment ids are
    never negative, so the gather alone gives the same values.
    """
    if keras.backend.backend() != "tensorflow" or getattr(embedding, "quantization_mode", None):
        return embedding(ids)
    import tensorflow as tf

    return tf.gather(ops.cast(embedding.embeddings, embedding.compute_dtype), ops.cast(ids, "int32"))
