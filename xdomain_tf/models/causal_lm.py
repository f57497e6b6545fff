"""A causal (left-to-right) language model: a causal encoder and an LM head tied to the
token embedding."""
import keras

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.masked_lm_head_weights import assign_mlm_head_weights
from xdomain_tf.models.encoder_task_model import EncoderTaskModel, tied_lm_head, token_inputs
from xdomain_tf.models.transformer_encoder import TransformerEncoder


@keras.saving.register_keras_serializable(package="xdomain_tf")
class CausalLM(EncoderTaskModel):
    """Next-token prediction: the encoder's blocks under a causal mask, an LM head tied to
    the token embedding.

    Inputs (dict): `token_ids`, `segment_ids`, `padding_mask` (int32 `[batch, seq]`,
    right-padded). Output: float32 logits `[batch, seq, vocab]`; position `t` predicts the
    token at `t + 1` (train on `xdomain_tf.text.causal_lm_inputs`: labels shifted left by
    one). The head (`model.lm_head`, a `MaskedLMHead`) projects with the encoder's token
    embedding matrix (tied, one variable).

    A bidirectional encoder is converted: a causal encoder of the same config, LoRA setting,
    dtype and name is built and every weight copied (the causal mask changes no weight), so
    a BERT checkpoint can be continued as a causal LM. `model.encoder` is then the copy.

    Decode with `xdomain_tf.models.CausalLMGenerator`, which reuses these layers with a
    key/value cache.

    Args:
        encoder: a `TransformerEncoder`, causal or not (no adapters).
        lm_head_weights: optional head weights in the Keras layout of
            `xdomain_tf.layers.masked_lm_head_weights` (not part of the config).
        dtype: dtype policy of the head.
        **kwargs: `name`, `trainable`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> config = EncoderConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
    ...                        num_attention_heads=2, intermediate_size=64)
    >>> lm = CausalLM(build_encoder(config, causal=True))
    >>> ids = np.array([[2, 7, 9, 3]], "int32")
    >>> tuple(lm({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}).shape)
    (1, 4, 50)
    >>> CausalLM(build_encoder(config)).encoder.causal
    True
    """

    def __init__(self, encoder, lm_head_weights=None, dtype=None, **kwargs):
        if getattr(encoder, "num_adapters", 0):
            raise XDomainError("a causal LM does not support per-domain adapters")
        if not getattr(encoder, "causal", False):
            encoder = _causal_copy(encoder)

        # === Layers ===
        self.encoder = encoder
        self.lm_head = tied_lm_head(encoder, dtype=dtype, name="lm_head")

        # === Functional Model ===
        inputs = token_inputs()
        sequence = encoder(inputs)["sequence_output"]
        outputs = self.lm_head(sequence)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        if lm_head_weights is not None:
            assign_mlm_head_weights(self.lm_head, lm_head_weights)


def _causal_copy(encoder):
    """A causal encoder with `encoder`'s config, LoRA setting, export options, dtype, name
    and weights (copied)."""
    causal = TransformerEncoder.from_config({**encoder.get_config(), "causal": True})
    causal.set_weights(encoder.get_weights())
    return causal


def build_causal_lm(encoder, name="causal_lm", **options):
    """`CausalLM(encoder, name=name, **options)` under its older name (converts a bidirectional
    encoder, see `CausalLM`).

    Example:

    >>> from xdomain_tf.models.transformer_encoder import TransformerEncoder
    >>> build_causal_lm(TransformerEncoder({"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2})).encoder.causal
    True
    """
    return CausalLM(encoder, name=name, **options)
