"""Serialization shared by the functional models built around one encoder."""
import keras


class EncoderTaskModel(keras.Model):
    """Base class of models that wrap an encoder (classifier, masked LM, causal LM,
    contrastive aligner): their config is the encoder's serialized config plus their own
    arguments, so `.keras` files rebuild them with `safe_mode=True`.

    Subclasses return `{**super().get_config(), <their arguments>}` from `get_config`
    and keep the encoder as `self.encoder`.

    Example:

    >>> import xdomain_tf
    >>> encoder = xdomain_tf.build_encoder(xdomain_tf.EncoderConfig.preset("bert_tiny", vocab_size=30))
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
