"""What the functional models built around one encoder share: their inputs, the tied LM head,
serialization."""
import keras

from xdomain_tf.layers.masked_lm_head import MaskedLMHead

ENCODER_FEATURES = ("token_ids", "segment_ids", "padding_mask")


def token_inputs(names=ENCODER_FEATURES, prefix=""):
    """Symbolic int32 `[batch, seq]` inputs, `{prefix + name: keras.Input}`.

    Example:

    >>> sorted(token_inputs(prefix="source_"))
    ['source_padding_mask', 'source_segment_ids', 'source_token_ids']
    """
    return {prefix + name: keras.Input(shape=(None,), dtype="int32", name=prefix + name) for name in names}


def tied_lm_head(encoder, dtype=None, name="mlm_head"):
    """A `MaskedLMHead` on `encoder`'s token embedding, with the encoder's activation and epsilon.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import TransformerEncoder
    >>> encoder = TransformerEncoder({"vocab_size": 20, "hidden_size": 8, "num_hidden_layers": 1,
    ...                               "num_attention_heads": 2})
    >>> tied_lm_head(encoder).activation
    'gelu'
    """
    config = encoder.encoder_config
    return MaskedLMHead(
        encoder.embeddings,
        activation=config.hidden_act,
        layer_norm_epsilon=config.layer_norm_eps,
        dtype=dtype,
        name=name,
    )


class EncoderTaskModel(keras.Model):
    """Base class of models that wrap an encoder (classifier, masked LM, causal LM,
    contrastive aligner): their config is the encoder's serialized config plus their own
    arguments, so `.keras` files rebuild them with `safe_mode=True`.

    Subclasses return `{**super().get_config(), <their arguments>}` from `get_config`
    and keep the encoder as `self.encoder`.

    Example:

    >>> import xdomain_tf
    >>> encoder = xdomain_tf.build_encoder(xdomain_tf.EncoderConfig.architecture("bert_tiny", vocab_size=30))
    >>> model = xdomain_tf.build_multi_domain_classifier(encoder, {"a": ["x", "y"]})
    >>> isinstance(model, EncoderTaskModel), sorted(model.get_config())[:3]
    (True, ['domains', 'dropout', 'dtype'])
    """

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
