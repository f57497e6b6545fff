"""`build_encoder`: a BERT-style encoder from an `EncoderConfig`.

The returned model is a `TransformerEncoder` (a functional `keras.Model`); its layer names,
which a Hugging Face / keras-hub weight converter maps, are listed in
`xdomain_tf.models.transformer_encoder`: `embeddings` (`token_embedding`,
`segment_embedding`, `position_embedding`, `layer_norm`), `transformer_layer_{i}`
(`attention` with `qkv` and `output`, `attention_layer_norm`, `intermediate`, `output`,
`output_layer_norm`), `final_layer_norm` (pre-LN only) and `pooler`.
"""
from xdomain_tf.errors import XDomainError
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.models.transformer_encoder import TransformerEncoder


def build_encoder(
    config,
    output_hidden_states=False,
    causal=False,
    num_adapters=0,
    adapter_reduction_factor=16,
    lora_rank=0,
    lora_alpha=None,
    dtype=None,
    name="encoder",
):
    """Builds a BERT-style encoder.

    Args:
        config: an `EncoderConfig`, its dict, or a preset name (`"bert_tiny"`, ...).
        output_hidden_states: add `hidden_states` `[batch, layers + 1, seq, hidden]` to the
            outputs (embedding output first), for feature extraction.
        causal: causal self-attention in every block.
        num_adapters: per-domain bottleneck adapters in every block (0 = none); the model
            then has an `adapter_index` input (int32 `[batch]`).
        adapter_reduction_factor: hidden width / adapter bottleneck width.
        lora_rank: LoRA rank on the attention query/value projections (0 = none).
        lora_alpha: LoRA scale numerator (defaults to `lora_rank`).
        dtype: dtype policy of the layers (None: the global policy).
        name: model name.

    Returns:
        A `TransformerEncoder` with dict inputs `token_ids`, `segment_ids`, `padding_mask`
        (int32 `[batch, seq]`) and dict outputs `sequence_output`, `pooled_output`.

    Example:

    >>> import numpy as np
    >>> encoder = build_encoder(EncoderConfig.preset("bert_tiny", vocab_size=100))
    >>> ids = np.array([[2, 5, 6, 3]], "int32")
    >>> outputs = encoder({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids})
    >>> tuple(outputs["sequence_output"].shape), tuple(outputs["pooled_output"].shape)
    ((1, 4, 128), (1, 128))
    """
    if isinstance(config, str):
        config = EncoderConfig.preset(config)
    elif isinstance(config, dict):
        config = EncoderConfig.from_dict(config)
    elif not isinstance(config, EncoderConfig):
        raise XDomainError(
            f"build_encoder needs an EncoderConfig, a dict or a preset name, got {config!r}"
        )
    for arg, value in (
        ("num_adapters", num_adapters),
        ("lora_rank", lora_rank),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise XDomainError(f"build_encoder: {arg} must be an integer >= 0, got {value!r}")
    if num_adapters and (
        not isinstance(adapter_reduction_factor, int) or adapter_reduction_factor < 1
    ):
        raise XDomainError(
            f"build_encoder: adapter_reduction_factor must be a positive integer, got "
            f"{adapter_reduction_factor!r}"
        )
    return TransformerEncoder(
        config,
        causal=causal,
        num_adapters=num_adapters,
        adapter_reduction_factor=adapter_reduction_factor,
        lora_rank=lora_rank,
        lora_alpha=lora_alpha,
        output_hidden_states=output_hidden_states,
        dtype=dtype,
        name=name,
    )
