"""A causal (left-to-right) language model: a causal encoder and an LM head tied to the
token embedding."""
import keras

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.masked_lm_head import MaskedLMHead
from xdomain_tf.models.encoder_task_model import EncoderTaskModel


@keras.saving.register_keras_serializable(package="xdomain_tf")
class CausalLM(EncoderTaskModel):
    """Next-token prediction over a causal `TransformerEncoder`; build it with `build_causal_lm`.

    Inputs (dict): `token_ids`, `segment_ids`, `padding_mask` (int32 `[batch, seq]`,
    right-padded). Output: float32 logits `[batch, seq, vocab]`; position `t` predicts the
    token at `t + 1` (train on `xdomain_tf.text.causal_lm_inputs`: labels shifted left by
    one). The head (`model.lm_head`, a `MaskedLMHead`) projects with the encoder's token
    embedding matrix (tied, one variable).

    Decode with `xdomain_tf.models.CausalLMGenerator`, which reuses these layers with a
    key/value cache.

    Args:
        encoder: a causal `TransformerEncoder` (`build_encoder(config, causal=True)`).
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
    """

    def __init__(self, encoder, dtype=None, **kwargs):
        if not getattr(encoder, "causal", False):
            raise XDomainError(
                "a causal LM needs an encoder built with causal=True (build_causal_lm converts one)"
            )
        if getattr(encoder, "num_adapters", 0):
            raise XDomainError("a causal LM does not support per-domain adapters")
        config = encoder.encoder_config

        # === Layers ===
        self.encoder = encoder
        self.lm_head = MaskedLMHead(
            encoder.embeddings,
            activation=config.hidden_act,
            layer_norm_epsilon=config.layer_norm_eps,
            dtype=dtype,
            name="lm_head",
        )

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        sequence = encoder(inputs)["sequence_output"]
        outputs = self.lm_head(sequence)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
