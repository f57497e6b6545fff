"""Two views through one shared encoder, mean-pooled, L2-normalized, compared in-batch."""
import keras
from keras import ops

from xdomain_tf.models.encoder_task_model import ENCODER_FEATURES, EncoderTaskModel, token_inputs
from xdomain_tf.models.multi_domain_classifier import masked_mean
from xdomain_tf.models.similarity_logits import SimilarityLogits


@keras.saving.register_keras_serializable(package="xdomain_tf")
class ContrastiveAligner(EncoderTaskModel):
    """Embeds parallel texts with one encoder for in-batch contrastive (InfoNCE) training.

    Inputs (dict): `source_token_ids`, `source_segment_ids`, `source_padding_mask` and the
    same three with `target_` (int32 `[batch, seq]`; the two sides may differ in length).
    Row `i` of the source and row `i` of the target are translations of each other; every
    other row of the batch is a negative. Outputs (dict, float32):
    `source_embedding`, `target_embedding` (`[batch, hidden]`, masked mean of the
    sequence output, L2-normalized, as sentence-transformers pool MiniLM) and `logits`
    `[batch, batch]` = cosine similarity / temperature. The loss is
    `xdomain_tf.training.pretraining.losses.info_nce_loss(logits)` (symmetric:
    source->target and target->source), which makes each source closest to its own
    translation among the batch; combined with masked LM on both languages this aligns a
    multilingual encoder.

    Args:
        encoder: a bidirectional `TransformerEncoder`, shared by both sides.
        temperature: the (initial) softmax temperature.
        learn_temperature: learn it (`model.similarity.log_scale`) or keep it fixed.
        dtype: dtype policy of the similarity layer.
        **kwargs: `name`, `trainable`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> encoder = build_encoder(EncoderConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
    ...                                       num_attention_heads=2, intermediate_size=64))
    >>> model = ContrastiveAligner(encoder, temperature=0.1, learn_temperature=False)
    >>> source = np.array([[2, 5, 3], [2, 6, 3]], "int32")
    >>> target = np.array([[2, 7, 8, 3], [2, 9, 3, 0]], "int32")
    >>> out = model({"source_token_ids": source, "source_segment_ids": 0 * source,
    ...              "source_padding_mask": np.ones_like(source),
    ...              "target_token_ids": target, "target_segment_ids": 0 * target,
    ...              "target_padding_mask": (target > 0).astype("int32")})
    >>> tuple(out["logits"].shape), tuple(out["target_embedding"].shape)
    ((2, 2), (2, 32))
    """

    def __init__(self, encoder, temperature=0.05, learn_temperature=True, dtype=None, **kwargs):
        # === Layers ===
        self.encoder = encoder
        self.similarity = SimilarityLogits(
            temperature=temperature, learnable=learn_temperature, dtype=dtype, name="similarity"
        )

        # === Functional Model ===
        inputs = {**token_inputs(prefix="source_"), **token_inputs(prefix="target_")}
        embeddings = {}
        for side in ("source", "target"):
            features = {name: inputs[f"{side}_{name}"] for name in ENCODER_FEATURES}
            sequence = encoder(features)["sequence_output"]
            pooled = masked_mean(sequence, features["padding_mask"])
            embeddings[side] = ops.normalize(pooled, axis=-1, order=2)
        outputs = {
            "source_embedding": embeddings["source"],
            "target_embedding": embeddings["target"],
            "logits": self.similarity(embeddings["source"], embeddings["target"]),
        }
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.temperature = temperature
        self.learn_temperature = learn_temperature

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "learn_temperature": self.learn_temperature,
        }


def build_contrastive(encoder, temperature=0.05, learn_temperature=True, name="contrastive_aligner", **options):
    """`ContrastiveAligner(encoder, temperature, learn_temperature, name=name, **options)` under
    its older name.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import TransformerEncoder
    >>> build_contrastive(TransformerEncoder({"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2}), 0.1).temperature
    0.1
    """
    return ContrastiveAligner(
        encoder, temperature=temperature, learn_temperature=learn_temperature, name=name, **options
    )
