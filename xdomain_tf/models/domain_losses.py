"""The loss of a multi-domain batch: each domain head's mean over that domain's examples."""
import keras
from keras import ops


def masked_domain_losses(y, y_pred, domain_names, class_weights=None):
    """Per-domain cross-entropy of a mixed-domain batch.

    Each head's targets carry -1 for examples of other domains; a domain's loss is the
    mean cross-entropy of its head over its own examples (0 when the batch has none).
    With `class_weights`, each example's cross-entropy is multiplied by its label's
    weight before the mean (as Keras' `class_weight`: the sum is still divided by the
    number of examples).

    Args:
        y: `{domain: int labels [batch]}` with -1 for other domains' examples.
        y_pred: `{domain: logits [batch, n_labels]}`.
        domain_names: the domains, in order.
        class_weights: optional `{domain: [weight of label id 0, 1, ...]}` (domains left
            out weigh 1).

    Returns:
        A list of `(loss, count)` scalar tensors, one pair per domain.

    Example:

    >>> import numpy as np
    >>> y = {"a": np.array([0, -1]), "b": np.array([-1, 1])}
    >>> y_pred = {"a": np.array([[0.0, 0.0], [5.0, 0.0]]), "b": np.array([[0.0, 9.0], [0.0, 0.0]])}
    >>> [(round(float(loss), 4), float(count)) for loss, count in masked_domain_losses(y, y_pred, ["a", "b"])]
    [(0.6931, 1.0), (0.6931, 1.0)]
    >>> weighted = masked_domain_losses(y, y_pred, ["a", "b"], class_weights={"a": [3.0, 1.0]})
    >>> [round(float(loss), 4) for loss, _ in weighted]
    [2.0794, 0.6931]
    """
    results = []
    for domain in domain_names:
        labels = ops.cast(y[domain], "int32")
        mask = ops.cast(ops.not_equal(labels, -1), "float32")
        count = ops.sum(mask)
        per_example = keras.losses.sparse_categorical_crossentropy(
            ops.maximum(labels, 0), ops.cast(y_pred[domain], "float32"), from_logits=True
        )
        weights = (class_weights or {}).get(domain)
        if weights is not None:
            mask = mask * ops.take(ops.convert_to_tensor(weights, "float32"), ops.maximum(labels, 0))
        results.append((ops.sum(per_example * mask) / ops.maximum(count, 1.0), count))
    return results
