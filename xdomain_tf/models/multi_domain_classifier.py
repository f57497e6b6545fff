"""One shared encoder, one classification head per domain (functional Keras model), and the
target convention for mixed-domain batches.

Training convention: the targets are a dict keyed by domain name; an example of another
domain carries label -1 there (`MultiDomainTextClassifier.dataset` builds them).
Compile every output with
`keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)`: Keras 3
then averages each domain's loss over that domain's examples in the batch only (the mask
reweights valid examples by `batch / valid`; a domain absent from a batch adds 0), and the
total loss is the sum over domains. Track accuracy with `MaskedSparseCategoricalAccuracy`.
"""
import keras
from keras import ops

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.classification_head import ClassificationHead
from xdomain_tf.models.encoder_task_model import ENCODER_FEATURES, EncoderTaskModel, token_inputs

POOLING_MODES = ("cls", "mean", "last")
FREEZE_MODES = (False, True, "base")


def validate_domains(domains):
    """Checks `{domain name: [label names]}` and returns it as a plain ordered dict.

    Example:

    >>> validate_domains({"news": ("sport", "politics"), "software": [1, 2]})
    {'news': ['sport', 'politics'], 'software': ['1', '2']}
    """
    if not isinstance(domains, dict) or not domains:
        raise XDomainError(
            "domains must be a non-empty dict mapping each domain name to its label names, "
            f"got {domains!r}"
        )
    checked = {}
    for name, labels in domains.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise XDomainError(f"domain name {name!r} must be a non-empty string without '/'")
        if isinstance(labels, str) or not labels:
            raise XDomainError(f"domain {name!r}: expected a non-empty list of label names")
        labels = [str(label) for label in labels]
        if len(set(labels)) != len(labels):
            raise XDomainError(f"domain {name!r}: duplicate label names in {labels}")
        checked[name] = labels
    return checked


def masked_mean(sequence, padding_mask):
    """Mean of `sequence` `[batch, seq, hidden]` over the positions where the mask is 1.

    Example:

    >>> import numpy as np
    >>> masked_mean(np.array([[[1.0], [3.0], [100.0]]]), np.array([[1, 1, 0]])).numpy().tolist()
    [[2.0]]
    """
    weights = ops.cast(padding_mask, "float32")[:, :, None]
    total = ops.sum(ops.cast(sequence, "float32") * weights, axis=1)
    count = ops.maximum(ops.sum(weights, axis=1), 1.0)
    return total / count


def last_token(sequence, padding_mask):
    """The vector of the last real (non-padding) position of each right-padded row: under a
    causal mask, the only one that has seen the whole text.

    Args:
        sequence: `[batch, seq, hidden]`.
        padding_mask: `[batch, seq]`, 1 on the text, 0 on the padding after it.

    Example:

    >>> import numpy as np
    >>> last_token(np.array([[[1.0], [3.0], [100.0]]]), np.array([[1, 1, 0]])).numpy().tolist()
    [[3.0]]
    """
    mask = ops.cast(padding_mask, "float32")
    # 1 where the mask falls from 1 to 0 at the next position (or the row ends): the last token.
    last = mask - ops.concatenate([mask[:, 1:], ops.zeros_like(mask[:, :1])], axis=1)
    return ops.sum(ops.cast(sequence, "float32") * last[:, :, None], axis=1)


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MultiDomainClassifier(EncoderTaskModel):
    """A shared encoder with one `ClassificationHead` per domain.

    Inputs (dict): the encoder's `token_ids`, `segment_ids`, `padding_mask` plus `domain_id`
    (int32 `[batch]`, the index of each example's domain in `domains`), so one batch can mix
    domains; an encoder with adapters gets `domain_id` as its `adapter_index`. Outputs (dict):
    each domain's float32 logits `[batch, n_labels]` keyed by the domain name (every example
    goes through every head; a loss with `ignore_class=-1` picks each example's own head).

    `model.domains` (`{name: [labels]}`), `model.domain_names` and the other arguments are
    the Keras config, so they survive a `.keras` reload.

    Args:
        encoder: a `TransformerEncoder` (with `num_adapters` equal to the number of domains
            for per-domain adapters).
        domains: `{domain name: [label names]}`; its order defines the domain ids.
        dropout: dropout before each head.
        freeze_encoder: False (fine-tune everything); True (feature extraction: the encoder is
            frozen and runs in inference mode, no dropout); `"base"` (only the encoder's
            adapter/LoRA weights and the heads train).
        pooling: `"cls"` (the encoder's `pooled_output`), `"mean"` (masked mean of
            `sequence_output`) or `"last"` (`sequence_output` at the last real token,
            `[SEP]`: what a causal encoder, whose `[CLS]` sees only itself, pools); with
            `"mean"` and `"last"` the encoder's unused `pooler` is frozen.
        dtype: dtype policy of the heads (the logits are float32 regardless).
        **kwargs: `name`, `trainable`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> encoder = build_encoder(EncoderConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
    ...                                       num_attention_heads=2, intermediate_size=64))
    >>> model = MultiDomainClassifier(encoder, {"news": ["business", "sport"], "software": ["games"]},
    ...                               pooling="mean")
    >>> ids = np.array([[2, 5, 3]], "int32")
    >>> logits = model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids,
    ...                 "domain_id": np.array([0], "int32")})
    >>> model.domain_names, {name: tuple(value.shape) for name, value in logits.items()}
    (['news', 'software'], {'news': (1, 2), 'software': (1, 1)})
    """

    def __init__(
        self,
        encoder,
        domains,
        dropout=0.1,
        freeze_encoder=False,
        pooling="cls",
        dtype=None,
        **kwargs,
    ):
        domains = validate_domains(domains)
        num_adapters = getattr(encoder, "num_adapters", 0)
        if num_adapters and num_adapters != len(domains):
            raise XDomainError(f"the encoder has {num_adapters} adapters but there are {len(domains)} domains")
        if pooling not in POOLING_MODES:
            raise XDomainError(f"pooling must be one of {POOLING_MODES}, got {pooling!r}")
        if pooling == "cls" and getattr(encoder, "causal", False):
            raise XDomainError(
                "a causal encoder's [CLS] sees only itself: pool with 'last' (the last token) or 'mean'"
            )
        if not (freeze_encoder is True or freeze_encoder is False or freeze_encoder == "base"):
            raise XDomainError(
                f"freeze_encoder must be one of {FREEZE_MODES}, got {freeze_encoder!r}"
            )

        # === Layers ===
        self.encoder = encoder
        if freeze_encoder is True:
            encoder.trainable = False
        elif freeze_encoder == "base":
            encoder.freeze_base_weights()
        self.heads = [
            ClassificationHead(len(labels), dropout=dropout, dtype=dtype, name=f"{name}_head")
            for name, labels in domains.items()
        ]

        # === Functional Model ===
        inputs = token_inputs()
        inputs["domain_id"] = keras.Input(shape=(), dtype="int32", name="domain_id")
        encoder_inputs = {name: inputs[name] for name in ENCODER_FEATURES}
        if "adapter_index" in encoder.input:
            encoder_inputs["adapter_index"] = inputs["domain_id"]
        encoder_outputs = encoder(encoder_inputs)
        if pooling == "cls":
            pooled = encoder_outputs["pooled_output"]
        else:
            # The pooler is unused: freeze it so the optimizer gets no missing gradients.
            encoder.get_layer("pooler").trainable = False
            pool = masked_mean if pooling == "mean" else last_token
            pooled = pool(encoder_outputs["sequence_output"], inputs["padding_mask"])
        outputs = {name: head(pooled) for name, head in zip(domains, self.heads)}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        if dtype is not None:
            # A functional model ignores `dtype`; compile() reads the policy (fp16 loss scaling).
            self.dtype_policy = keras.dtype_policies.get(dtype)

        # === Config ===
        self.domains = domains
        self.dropout = dropout
        self.freeze_encoder = freeze_encoder
        self.pooling = pooling

    @property
    def domain_names(self):
        """Domain names in domain-id order."""
        return list(self.domains)

    def label_names(self, domain):
        """The label names of `domain`, in label-id order."""
        if domain not in self.domains:
            raise XDomainError(f"unknown domain {domain!r}; known: {', '.join(self.domains)}")
        return list(self.domains[domain])

    def get_config(self):
        return {
            **super().get_config(),
            "domains": {name: list(labels) for name, labels in self.domains.items()},
            "dropout": self.dropout,
            "freeze_encoder": self.freeze_encoder,
            "pooling": self.pooling,
        }


def build_multi_domain_classifier(encoder, domains, name="multi_domain_classifier", **options):
    """`MultiDomainClassifier(encoder, domains, name=name, **options)` under its older name.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import TransformerEncoder
    >>> build_multi_domain_classifier(TransformerEncoder({"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2}), {"news": ["a", "b"]}).domain_names
    ['news']
    """
    return MultiDomainClassifier(encoder, domains, name=name, **options)
