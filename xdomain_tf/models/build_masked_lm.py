"""`build_masked_lm`: a masked language model (BERT pretraining) on an encoder."""
from xdomain_tf.models.masked_lm import MaskedLM


def build_masked_lm(encoder, sentence_objective=None, mlm_head_weights=None, dtype=None, name="masked_lm"):
    """Builds a masked LM whose output projection is tied to the encoder's token embedding.

    Train it on batches masked by `xdomain_tf.text.MaskedLMMasker` (or any masker giving
    `mask_positions`, `mask_ids`, `mask_weights`): the loss is the sparse cross-entropy of
    `mlm_logits` against `mask_ids`, weighted by `mask_weights` (padding slots weigh 0).
    `compile(loss={"mlm_logits": SparseCategoricalCrossentropy(from_logits=True)},
    weighted_metrics={"mlm_logits": ["sparse_categorical_accuracy"]})` and
    `fit(x, {"mlm_logits": mask_ids}, sample_weight={"mlm_logits": mask_weights})` does
    exactly that; `xdomain_tf.training.pretraining_trainer.PretrainingTrainer` adds
    per-domain metrics and other objectives.

    Args:
        encoder: a bidirectional `TransformerEncoder` (e.g. from `build_encoder` or
            `xdomain_tf.checkpoints.resolve_init`).
        sentence_objective: None, `"nsp"` (next-sentence prediction) or `"sop"`
            (sentence-order prediction): adds `sentence_logits` `[batch, 2]` on the pooled
            [CLS] output.
        mlm_head_weights: optional pretrained head weights in the Keras layout of
            `xdomain_tf.checkpoints.mlm_head_weights` (e.g. `resolve_init(...).mlm_head_weights`
            from a checkpoint with `cls.predictions.*` tensors); otherwise the head's
            transform starts from BERT's initialisation and its bias at zero.
        dtype: dtype policy of the heads.
        name: model name.

    Returns:
        A `MaskedLM` with inputs `token_ids`, `segment_ids`, `padding_mask`,
        `mask_positions` and outputs `{"mlm_logits": [batch, predictions, vocab]}` (+
        `sentence_logits`).

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> encoder = build_encoder(EncoderConfig.preset("bert_tiny", vocab_size=100))
    >>> model = build_masked_lm(encoder, sentence_objective="sop")
    >>> ids = np.array([[2, 5, 4, 7, 3]], "int32")
    >>> out = model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids,
    ...              "mask_positions": np.array([[2, 0]], "int32")})
    >>> tuple(out["mlm_logits"].shape), tuple(out["sentence_logits"].shape)
    ((1, 2, 100), (1, 2))
    >>> model.mlm_head._embedding_matrix() is encoder.embeddings.token_embedding_matrix
    True
    """
    model = MaskedLM(encoder, sentence_objective=sentence_objective, dtype=dtype, name=name)
    if mlm_head_weights is not None:
        from xdomain_tf.checkpoints.mlm_head_weights import assign_mlm_head_weights

        assign_mlm_head_weights(model.mlm_head, mlm_head_weights)
    return model
