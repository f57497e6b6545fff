"""`build_multi_domain_classifier` and the target convention for mixed-domain batches.

Training convention: the targets are a dict keyed by domain name; an example of another
domain carries label -1 there (`multi_domain_targets` builds it inside a `tf.data` map).
Compile every output with
`keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)`: Keras 3
then averages each domain's loss over that domain's examples in the batch only (the mask
reweights valid examples by `batch / valid`; a domain absent from a batch adds 0), and the
total loss is the sum over domains. Track accuracy with `MaskedSparseCategoricalAccuracy`.
"""
from xdomain_tf.errors import XDomainError
from xdomain_tf.models.multi_domain_classifier import MultiDomainClassifier, validate_domains


def build_multi_domain_classifier(
    encoder,
    domains,
    dropout=0.1,
    freeze_encoder=False,
    pooling="cls",
    dtype=None,
    name="multi_domain_classifier",
):
    """Builds one shared encoder with one classification head per domain.

    Args:
        encoder: a `TransformerEncoder` from `build_encoder` (with `num_adapters` equal to the
            number of domains for per-domain adapters).
        domains: `{domain name: [label names]}`; the order of the keys defines `domain_id`.
        dropout: dropout before each head.
        freeze_encoder: False, True (feature extraction) or `"base"` (train only adapters/LoRA
            and the heads).
        pooling: `"cls"` (pooled [CLS] output) or `"mean"` (masked mean of the sequence).
        dtype: dtype policy of the heads.
        name: model name.

    Returns:
        A `MultiDomainClassifier`: inputs `token_ids`, `segment_ids`, `padding_mask`,
        `domain_id`; outputs `{domain: float32 logits [batch, n_labels]}`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> encoder = build_encoder(EncoderConfig.preset("bert_tiny", vocab_size=100))
    >>> model = build_multi_domain_classifier(
    ...     encoder, {"news": ["business", "sport"], "software": ["games", "math", "net"]})
    >>> ids = np.array([[2, 5, 3]], "int32")
    >>> logits = model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids,
    ...                 "domain_id": np.array([1], "int32")})
    >>> {name: tuple(value.shape) for name, value in logits.items()}
    {'news': (1, 2), 'software': (1, 3)}
    """
    domains = validate_domains(domains)
    num_adapters = getattr(encoder, "num_adapters", 0)
    if num_adapters and num_adapters != len(domains):
        raise XDomainError(
            f"the encoder has {num_adapters} adapters but there are {len(domains)} domains"
        )
    return MultiDomainClassifier(
        encoder,
        domains,
        dropout=dropout,
        freeze_encoder=freeze_encoder,
        pooling=pooling,
        dtype=dtype,
        name=name,
    )


def multi_domain_targets(labels, domain_ids, domains):
    """Per-domain targets for a mixed-domain batch: each domain's label, -1 elsewhere.

    Works on tensors inside a `tf.data` map as well as eagerly.

    Args:
        labels: int `[batch]`, each example's label index within its own domain.
        domain_ids: int `[batch]`, each example's domain index.
        domains: the classifier's `{domain: [labels]}` dict (or a list of domain names).

    Returns:
        `{domain name: int32 [batch]}`.

    Example:

    >>> targets = multi_domain_targets([1, 0, 2], [0, 1, 1], ["news", "software"])
    >>> {name: value.numpy().tolist() for name, value in targets.items()}
    {'news': [1, -1, -1], 'software': [-1, 0, 2]}
    """
    import tensorflow as tf

    labels = tf.cast(labels, tf.int32)
    domain_ids = tf.cast(domain_ids, tf.int32)
    return {
        name: tf.where(tf.equal(domain_ids, index), labels, tf.constant(-1, tf.int32))
        for index, name in enumerate(domains)
    }
