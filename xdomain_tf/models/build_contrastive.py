"""`build_contrastive`: translation-pair contrastive alignment of an encoder."""
from xdomain_tf.models.contrastive_aligner import ContrastiveAligner


def build_contrastive(encoder, temperature=0.05, learn_temperature=True, dtype=None, name="contrastive_aligner"):
    """Builds a model that pulls the embeddings of parallel sentences together.

    Both sides go through the same encoder and are mean-pooled and L2-normalized; the
    in-batch InfoNCE loss (`info_nce_loss`, symmetric: source->target and
    target->source) makes each source closest to its own translation among the batch.
    Combined with masked LM on both languages this aligns a multilingual encoder.

    Args:
        encoder: a bidirectional `TransformerEncoder`.
        temperature: softmax temperature (initial value when learned).
        learn_temperature: learn the temperature.
        dtype: dtype policy of the similarity layer.
        name: model name.

    Returns:
        A `ContrastiveAligner` (inputs `source_*`/`target_*` token features; outputs
        `source_embedding`, `target_embedding`, `logits`).

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> model = build_contrastive(build_encoder(EncoderConfig.preset("bert_tiny", vocab_size=50)))
    >>> ids = np.array([[2, 5, 3], [2, 6, 3]], "int32")
    >>> side = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}
    >>> out = model({**{f"source_{k}": v for k, v in side.items()},
    ...              **{f"target_{k}": v for k, v in side.items()}})
    >>> tuple(out["logits"].shape), round(float(np.linalg.norm(out["source_embedding"][0])), 4)
    ((2, 2), 1.0)
    """
    return ContrastiveAligner(
        encoder, temperature=temperature, learn_temperature=learn_temperature, dtype=dtype, name=name
    )
