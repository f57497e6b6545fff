"""An encoder with BERT's masked-LM head (tied to the token embedding) and an optional
sentence-pair head (next-sentence or sentence-order prediction)."""
import keras

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.classification_head import ClassificationHead
from xdomain_tf.layers.masked_lm_head_weights import assign_mlm_head_weights
from xdomain_tf.models.encoder_task_model import ENCODER_FEATURES, EncoderTaskModel, tied_lm_head, token_inputs

SENTENCE_OBJECTIVES = (None, "nsp", "sop")


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MaskedLM(EncoderTaskModel):
    """Masked language model over a `TransformerEncoder`, its output projection tied to the
    encoder's token embedding.

    Inputs (dict): the encoder's `token_ids`, `segment_ids`, `padding_mask` (int32
    `[batch, seq]`) and `mask_positions` (int32 `[batch, max_predictions]`, the positions
    to predict; padding slots may hold any valid position and get weight 0 in the loss).
    Outputs (dict, float32): `mlm_logits` `[batch, max_predictions, vocab]` and, with a
    `sentence_objective`, `sentence_logits` `[batch, 2]` from the pooled [CLS] output
    (NSP: 1 = the second segment is a random other text; SOP: 1 = the two segments are
    swapped).

    Train it on batches masked by `xdomain_tf.text.MaskedLMMasker` (or any masker giving
    `mask_positions`, `mask_ids`, `mask_weights`): the loss is the sparse cross-entropy of
    `mlm_logits` against `mask_ids`, weighted by `mask_weights` (padding slots weigh 0).
    `compile(loss={"mlm_logits": SparseCategoricalCrossentropy(from_logits=True)},
    weighted_metrics={"mlm_logits": ["sparse_categorical_accuracy"]})` and
    `fit(x, {"mlm_logits": mask_ids}, sample_weight={"mlm_logits": mask_weights})` does
    exactly that; `xdomain_tf.training.pretraining.trainer.PretrainingTrainer` adds
    per-domain metrics and other objectives.

    The head's output projection is the encoder's token embedding matrix itself (one
    variable, trained by both); the head owns the transform (dense, activation,
    LayerNorm) and an output bias. `model.mlm_head`, `model.sentence_head`,
    `model.encoder` reach the parts.

    Args:
        encoder: a bidirectional `TransformerEncoder` (e.g. from
            `xdomain_tf.checkpoints.resolve_init`).
        sentence_objective: None, `"nsp"` (next-sentence prediction) or `"sop"`
            (sentence-order prediction).
        mlm_head_weights: optional pretrained head weights in the Keras layout of
            `xdomain_tf.layers.masked_lm_head_weights` (e.g. `resolve_init(...).mlm_head_weights`
            from a checkpoint with `cls.predictions.*` tensors); otherwise the head's
            transform starts from BERT's initialisation and its bias at zero. Not part of
            the config: a `.keras` file stores the weights themselves.
        dtype: dtype policy of the heads (logits are float32 regardless).
        **kwargs: `name`, `trainable`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> encoder = build_encoder(EncoderConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
    ...                                       num_attention_heads=2, intermediate_size=64))
    >>> model = MaskedLM(encoder)
    >>> ids = np.array([[2, 5, 4, 3]], "int32")
    >>> out = model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids,
    ...              "mask_positions": np.array([[2]], "int32")})
    >>> sorted(out), tuple(out["mlm_logits"].shape)
    (['mlm_logits'], (1, 1, 50))
    >>> model.mlm_head._embedding_matrix() is encoder.embeddings.token_embedding_matrix
    True
    """

    def __init__(self, encoder, sentence_objective=None, mlm_head_weights=None, dtype=None, **kwargs):
        if sentence_objective not in SENTENCE_OBJECTIVES:
            raise XDomainError(
                f"sentence_objective must be one of None, 'nsp', 'sop', got {sentence_objective!r}"
            )
        if getattr(encoder, "causal", False):
            raise XDomainError("a masked LM needs a bidirectional encoder (this one is causal)")

        # === Layers ===
        self.encoder = encoder
        self.mlm_head = tied_lm_head(encoder, dtype=dtype, name="mlm_head")
        self.sentence_head = None
        if sentence_objective:
            self.sentence_head = ClassificationHead(2, dtype=dtype, name="sentence_head")

        # === Functional Model ===
        inputs = token_inputs(ENCODER_FEATURES + ("mask_positions",))
        encoder_inputs = {name: inputs[name] for name in ENCODER_FEATURES}
        if "adapter_index" in encoder.input:
            inputs["adapter_index"] = keras.Input(shape=(), dtype="int32", name="adapter_index")
            encoder_inputs["adapter_index"] = inputs["adapter_index"]
        encoded = encoder(encoder_inputs)
        outputs = {
            "mlm_logits": self.mlm_head(
                encoded["sequence_output"], mask_positions=inputs["mask_positions"]
            )
        }
        if self.sentence_head is not None:
            outputs["sentence_logits"] = self.sentence_head(encoded["pooled_output"])
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        if mlm_head_weights is not None:
            assign_mlm_head_weights(self.mlm_head, mlm_head_weights)

        # === Config ===
        self.sentence_objective = sentence_objective

    def get_config(self):
        return {
            **super().get_config(),
            "sentence_objective": self.sentence_objective,
        }


def build_masked_lm(encoder, sentence_objective=None, name="masked_lm", **options):
    """`MaskedLM(encoder, sentence_objective, name=name, **options)` under its older name.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import TransformerEncoder
    >>> build_masked_lm(TransformerEncoder({"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2}), "sop").sentence_objective
    'sop'
    """
    return MaskedLM(encoder, sentence_objective=sentence_objective, name=name, **options)
