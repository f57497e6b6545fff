"""Per-label precision/recall/F1, accuracy and confusion matrix, computed with numpy."""
import numpy as np

from xdomain_tf.errors import XDomainError


def _safe_divide(numerator, denominator):
    # Zero-division rule of every metric here: 0.0 (like scikit-learn's zero_division=0).
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _label_indices(values, index):
    return np.fromiter((index.get(value, -1) for value in values), dtype=np.int64, count=len(values))


def classification_report(y_true, y_pred, labels):
    """Scores predictions of one label set: accuracy, macro-F1, per-label metrics, confusion.

    `labels` fixes the order of the confusion matrix and the labels macro-F1 averages over
    (labels without support count, with F1 0.0). Values outside `labels` behave as in
    `sklearn.metrics` with `labels=` given: they count in `accuracy` and `n`, a prediction
    outside `labels` is a miss of its true label, a true value outside `labels` a false
    positive of its predicted label, and neither has a row or column in the matrix. Every
    ratio with a zero denominator is 0.0.

    Args:
        y_true: the true labels.
        y_pred: the predicted labels, as many as `y_true`.
        labels: the label set, unique, in display order.

    Returns:
        A JSON-ready dict: `accuracy`, `macro_f1` (floats), `n` (int), `labels` (list of
        str, the matrix order), `per_label` (`{label: {precision, recall, f1, support}}`)
        and `confusion_matrix` (list of lists of int, rows true, columns predicted).

    Example:

    >>> report = classification_report(["a", "a", "b"], ["a", "b", "b"], labels=["a", "b"])
    >>> report["accuracy"], report["confusion_matrix"]
    (0.6666666666666666, [[1, 1], [0, 1]])
    >>> report["per_label"]["a"]
    {'precision': 1.0, 'recall': 0.5, 'f1': 0.6666666666666666, 'support': 2}
    """
    y_true = list(y_true)
    y_pred = list(y_pred)
    labels = list(labels)
    if len(y_true) != len(y_pred):
        raise XDomainError(f"y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
    if not labels:
        raise XDomainError("labels is empty")
    index = {label: i for i, label in enumerate(labels)}
    if len(index) != len(labels):
        duplicates = sorted({str(x) for x in labels if labels.count(x) > 1})
        raise XDomainError(f"labels are not unique: {', '.join(duplicates)}")

    k = len(labels)
    true_idx = _label_indices(y_true, index)
    pred_idx = _label_indices(y_pred, index)
    in_matrix = (true_idx >= 0) & (pred_idx >= 0)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (true_idx[in_matrix], pred_idx[in_matrix]), 1)

    true_positives = np.diag(matrix)
    support = np.bincount(true_idx[true_idx >= 0], minlength=k)
    predicted = np.bincount(pred_idx[pred_idx >= 0], minlength=k)
    precision = _safe_divide(true_positives, predicted)
    recall = _safe_divide(true_positives, support)
    f1 = _safe_divide(2 * true_positives, predicted + support)

    n = len(y_true)
    correct = sum(1 for t, p in zip(y_true, y_pred) if t == p)
    return {
        "accuracy": correct / n if n else 0.0,
        "macro_f1": float(np.mean(f1)),
        "n": n,
        "labels": [str(label) for label in labels],
        "per_label": {
            str(label): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": matrix.tolist(),
    }
