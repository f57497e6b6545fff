"""`build_causal_lm`: a left-to-right language model on the encoder stack."""
from xdomain_tf.models.causal_lm import CausalLM


def build_causal_lm(encoder, lm_head_weights=None, dtype=None, name="causal_lm"):
    """Builds a causal LM: the same blocks under a causal mask, an LM head tied to the
    token embedding.

    A bidirectional encoder is converted: a causal encoder of the same config is built and
    every weight copied (the causal mask changes no weight), so a BERT checkpoint can be
    continued as a causal LM.

    Args:
        encoder: a `TransformerEncoder`, causal or not (no adapters).
        lm_head_weights: optional head weights in the Keras layout of
            `xdomain_tf.checkpoints.mlm_head_weights`.
        dtype: dtype policy of the head.
        name: model name.

    Returns:
        A `CausalLM`: inputs `token_ids`, `segment_ids`, `padding_mask`; output logits
        `[batch, seq, vocab]` (position t predicts token t + 1).

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> lm = build_causal_lm(build_encoder(EncoderConfig.preset("bert_tiny", vocab_size=50)))
    >>> ids = np.array([[2, 7, 9, 3]], "int32")
    >>> tuple(lm({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}).shape)
    (1, 4, 50)
    >>> lm.encoder.causal
    True
    """
    if not getattr(encoder, "causal", False):
        encoder = _causal_copy(encoder)
    model = CausalLM(encoder, dtype=dtype, name=name)
    if lm_head_weights is not None:
        from xdomain_tf.checkpoints.mlm_head_weights import assign_mlm_head_weights

        assign_mlm_head_weights(model.lm_head, lm_head_weights)
    return model


def _causal_copy(encoder):
    """A causal encoder with `encoder`'s config, LoRA setting and weights (copied)."""
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.models.build_encoder import build_encoder

    if getattr(encoder, "num_adapters", 0):
        raise XDomainError("cannot make a causal LM from an encoder with per-domain adapters")
    causal = build_encoder(
        encoder.encoder_config,
        causal=True,
        lora_rank=encoder.lora_rank,
        lora_alpha=encoder.lora_alpha,
        dtype=encoder.dtype_policy,
        name=encoder.name,
    )
    causal.set_weights(encoder.get_weights())
    return causal
