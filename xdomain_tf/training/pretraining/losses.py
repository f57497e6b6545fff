"""Loss functions of the pretraining objectives (float32, per example where useful)."""
from keras import ops


def info_nce_loss(logits):
    """Symmetric in-batch InfoNCE: row `i`'s positive is column `i`, the other columns are
    negatives; the mean of the source->target (rows) and target->source (columns)
    cross-entropies.

    Args:
        logits: float `[batch, batch]` similarity / temperature (`ContrastiveAligner`'s
            `logits`).

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> round(float(info_nce_loss(np.array([[5.0, 0.0], [0.0, 5.0]]))), 5)
    0.00672
    """
    logits = ops.cast(logits, "float32")
    labels = ops.arange(ops.shape(logits)[0])
    rows = ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    columns = ops.sparse_categorical_crossentropy(labels, ops.transpose(logits), from_logits=True)
    return 0.5 * (ops.mean(rows) + ops.mean(columns))


def retrieval_accuracy(logits):
    """The fraction of rows whose highest logit is on the diagonal (source->target
    retrieval within the batch).

    Example:

    >>> import numpy as np
    >>> float(retrieval_accuracy(np.array([[2.0, 0.0], [3.0, 1.0]])))
    0.5
    """
    logits = ops.cast(logits, "float32")
    predicted = ops.argmax(logits, axis=-1)
    return ops.mean(ops.cast(ops.equal(predicted, ops.arange(ops.shape(logits)[0])), "float32"))


def token_cross_entropy(labels, logits, weights):
    """Per-example sums of weighted token cross-entropies and of the weights, and the
    per-example count of correct (weighted) predictions.

    Args:
        labels: int `[batch, n]`.
        logits: float `[batch, n, vocab]`.
        weights: float `[batch, n]` (0 for padding slots).

    Returns:
        `(loss_sum, weight_sum, correct_sum)`, each float32 `[batch]`.

    Example:

    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]]))
    >>> loss, weight, correct = token_cross_entropy(np.array([[1, 0]]), logits, np.array([[1.0, 0.0]]))
    >>> round(float(loss[0]), 4), float(weight[0]), float(correct[0])
    (0.6931, 1.0, 0.0)
    """
    labels = ops.cast(labels, "int32")
    weights = ops.cast(weights, "float32")
    logits = ops.cast(logits, "float32")
    per_token = ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    correct = ops.cast(ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), labels), "float32")
    return (
        ops.sum(per_token * weights, axis=-1),
        ops.sum(weights, axis=-1),
        ops.sum(correct * weights, axis=-1),
    )
