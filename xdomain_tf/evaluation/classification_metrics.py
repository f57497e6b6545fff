"""Per-label precision/recall/F1, accuracy and confusion matrix, from `sklearn.metrics`."""
import warnings

import numpy as np

from xdomain_tf.errors import XDomainError

__all__ = ["classification_report", "worst_label"]


def classification_report(y_true, y_pred, labels):
    """Scores predictions of one label set: accuracy, macro-F1, per-label metrics, confusion.

    `labels` fixes the order of the confusion matrix and the labels macro-F1 averages over
    (labels without support count, with F1 0.0). Values outside `labels` behave as in
    `sklearn.metrics` with `labels=` given: they count in `accuracy` and `n`, a prediction
    outside `labels` is a miss of its true label, a true value outside `labels` a false
    positive of its predicted label, and neither has a row or column in the matrix. Every
    ratio with a zero denominator is 0.0 (`zero_division=0`).

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
    from sklearn import metrics

    y_true = list(y_true)
    y_pred = list(y_pred)
    labels = list(labels)
    if len(y_true) != len(y_pred):
        raise XDomainError(f"y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
    if not labels:
        raise XDomainError("labels is empty")
    codes = {label: i for i, label in enumerate(labels)}
    if len(codes) != len(labels):
        duplicates = sorted({str(x) for x in labels if labels.count(x) > 1})
        raise XDomainError(f"labels are not unique: {', '.join(duplicates)}")

    # Integer codes (labels first, then every other value seen) keep sklearn away from
    # mixed label types and keep values outside `labels` distinct from each other.
    k = len(labels)
    for value in y_true + y_pred:
        codes.setdefault(value, len(codes))
    true_codes = np.array([codes[value] for value in y_true], dtype=np.int64)
    pred_codes = np.array([codes[value] for value in y_pred], dtype=np.int64)
    label_codes = list(range(k))
    n = len(y_true)
    if n:
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            true_codes, pred_codes, labels=label_codes, zero_division=0
        )
        accuracy = float(metrics.accuracy_score(true_codes, pred_codes))
    else:
        precision = recall = f1 = np.zeros(k)
        support = np.zeros(k, dtype=np.int64)
        accuracy = 0.0
    if (true_codes < k).any():
        with warnings.catch_warnings():
            # With one label the 1 x 1 matrix is the right shape; sklearn warns regardless.
            warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
            matrix = metrics.confusion_matrix(true_codes, pred_codes, labels=label_codes)
    else:  # sklearn refuses a matrix none of whose rows occur; every cell is 0
        matrix = np.zeros((k, k), dtype=np.int64)
    return {
        "accuracy": accuracy,
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


def worst_label(per_label):
    """The label with the lowest F1 among those with support (the first of equals).

    Args:
        per_label: `{label: {"f1", "support", ...}}`, as in `classification_report`.

    Returns:
        `{"label", "f1"}`, or None when no label has support (a label the data does not
        hold has F1 0.0 by convention, which says nothing about the model).

    Example:

    >>> report = classification_report(["a", "a", "b", "c"], ["a", "b", "b", "c"], labels=["a", "b", "c", "d"])
    >>> worst_label(report["per_label"])
    {'label': 'a', 'f1': 0.6666666666666666}
    """
    supported = [(label, scores["f1"]) for label, scores in per_label.items() if scores["support"]]
    if not supported:
        return None
    label, f1 = min(supported, key=lambda item: item[1])
    return {"label": label, "f1": f1}
