"""Runs a trained multi-domain classifier over records."""
import numpy as np

from xdomain_tf.data.pipeline import make_dataset
from xdomain_tf.data.readers import read_records


def classify_records(model, preprocessor, label_space, records_or_paths, batch_size=64, with_labels=True):
    """Classifies every record with its own domain's head.

    Args:
        model: a `MultiDomainClassifier` (dict of logits by domain).
        preprocessor: its `Preprocessor`.
        label_space: its `LabelSpace`.
        records_or_paths: data files or record dicts (each with `text` and `domain`).
        batch_size: examples per batch.
        with_labels: the records carry labels (returned as `true`).

    Returns:
        A list, in input order, of dicts `{"domain", "label", "score"}` (plus `"true"` with labels).

    Example:

    >>> rows = classify_records(model, preprocessor, label_space, "valid.jsonl")  # doctest: +SKIP
    """
    if isinstance(records_or_paths, (str, bytes)) or hasattr(records_or_paths, "__fspath__"):
        records_or_paths = [records_or_paths]
    records_or_paths = list(records_or_paths)
    if records_or_paths and not isinstance(records_or_paths[0], dict):
        records_or_paths = list(read_records(records_or_paths, require_label=with_labels))
    dataset = make_dataset(
        records_or_paths, preprocessor, label_space, batch_size, training=False, bucketing=False,
        multi_head=False, with_labels=with_labels,
    )
    rows = []
    for batch in dataset:
        features = batch[0] if with_labels else batch
        logits = model.predict_on_batch(features)
        domain_ids = features["domain_id"].numpy()
        truths = batch[1].numpy() if with_labels else [None] * len(domain_ids)
        for index, (domain_id, truth) in enumerate(zip(domain_ids, truths)):
            domain = label_space.domains[domain_id]
            row_logits = np.asarray(logits[domain][index], dtype="float64")
            probabilities = np.exp(row_logits - row_logits.max())
            probabilities /= probabilities.sum()
            best = int(probabilities.argmax())
            row = {"domain": domain, "label": label_space.labels(domain)[best], "score": float(probabilities[best])}
            if with_labels:
                row["true"] = label_space.labels(domain)[int(truth)]
            rows.append(row)
    return rows


def evaluate_rows(rows, label_space):
    """`evaluation_report` input from `classify_records` rows: `{domain: (true, predicted, labels)}`.

    Example:

    >>> from xdomain_tf.data.label_space import LabelSpace
    >>> space = LabelSpace({"news": ["politics", "sport"]})
    >>> evaluate_rows([{"domain": "news", "true": "sport", "label": "politics"},
    ...                {"domain": "news", "true": "sport", "label": "sport"}], space)
    {'news': (['sport', 'sport'], ['politics', 'sport'], ['politics', 'sport'])}
    """
    per_domain = {}
    for row in rows:
        true, predicted, _ = per_domain.setdefault(row["domain"], ([], [], list(label_space.labels(row["domain"]))))
        true.append(row["true"])
        predicted.append(row["label"])
    return per_domain
