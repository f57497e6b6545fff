"""Runs a trained multi-domain classifier over records and gathers what a report needs."""
import os

from xdomain_tf.data.readers import read_records


def classify_records(classifier, records_or_paths, batch_size=64, with_labels=True):
    """Classifies every record with its own domain's head (`classifier.classify`).

    Args:
        classifier: a `MultiDomainTextClassifier`.
        records_or_paths: data files or record dicts (each with `text` and `domain`).
        batch_size: examples per model call.
        with_labels: the records carry labels (returned as `true`).

    Returns:
        A list, in input order, of dicts `{"domain", "label", "score"}` (plus `"true"` with labels).

    Example:

    >>> rows = classify_records(clf, "valid.jsonl")  # doctest: +SKIP
    >>> rows[0]  # doctest: +SKIP
    {'domain': 'news', 'label': 'sport', 'score': 0.97, 'true': 'sport'}
    """
    if isinstance(records_or_paths, (str, bytes, os.PathLike)):
        records_or_paths = [records_or_paths]
    records = list(records_or_paths)
    if records and not isinstance(records[0], dict):
        records = list(read_records(records, require_label=with_labels))
    pairs = [record.get("text_pair", "") for record in records] if any("text_pair" in r for r in records) else None
    rows = classifier.classify(
        [record["text"] for record in records], [record["domain"] for record in records], pairs, batch_size=batch_size
    )
    if with_labels:
        for row, record in zip(rows, records):
            row["true"] = record["label"]
    return rows


def evaluate_rows(rows, domains):
    """`evaluation_report` input from `classify_records` rows: `{domain: (true, predicted, labels)}`.

    Args:
        rows: `classify_records` rows with `true` labels.
        domains: `{domain: [labels]}` (e.g. `classifier.domains`).

    Example:

    >>> evaluate_rows([{"domain": "news", "true": "sport", "label": "politics"},
    ...                {"domain": "news", "true": "sport", "label": "sport"}], {"news": ["politics", "sport"]})
    {'news': (['sport', 'sport'], ['politics', 'sport'], ['politics', 'sport'])}
    """
    per_domain = {}
    for row in rows:
        true, predicted, _ = per_domain.setdefault(row["domain"], ([], [], list(domains[row["domain"]])))
        true.append(row["true"])
        predicted.append(row["label"])
    return per_domain
