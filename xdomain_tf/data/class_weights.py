"""Per-domain label weights for the loss, against class imbalance."""
import collections
import json
import math
import numbers
import os
import pathlib

from xdomain_tf.errors import DataError, XDomainError

CLASS_WEIGHTS = ("none", "balanced")


def label_counts(records, label_space):
    """How many records each label of each domain has.

    Args:
        records: record dicts (with `domain` and `label`).
        label_space: the task's `LabelSpace`.

    Returns:
        `{domain: [count of label id 0, 1, ...]}`.

    Example:

    >>> from xdomain_tf.data.label_space import LabelSpace
    >>> records = [{"text": "a", "domain": "d", "label": "x"}, {"text": "b", "domain": "d", "label": "x"},
    ...            {"text": "c", "domain": "d", "label": "y"}]
    >>> label_counts(records, LabelSpace.from_records(records))
    {'d': [2, 1]}
    """
    counts = collections.Counter(label_space.encode(record) for record in records)
    return {
        domain: [counts[(label_space.domain_id(domain), label_id)] for label_id in range(len(label_space.labels(domain)))]
        for domain in label_space.domains
    }


def balanced_class_weights(counts):
    """`n / (k * count)` for each label: the weights of scikit-learn's
    `compute_class_weight("balanced")` over one domain's `k` labels and `n` examples (a
    label without examples gets 0).

    Args:
        counts: the examples of each label, in label-id order.

    Example:

    >>> balanced_class_weights([6, 2, 0, 4])
    [0.6666666666666666, 2.0, 0.0, 1.0]
    """
    present = [count for count in counts if count > 0]
    total = sum(present)
    return [total / (len(present) * count) if count > 0 else 0.0 for count in counts]


def resolve_class_weights(spec, label_space, counts=None):
    """The per-domain label weights that `spec` asks for.

    Args:
        spec: `"none"` (or None), `"balanced"` (`balanced_class_weights` in each domain:
            labels weigh `n_domain / (n_labels_domain * count)`), or the path of a JSON
            file `{domain: {label: weight}}` (domains and labels left out weigh 1).
        label_space: the task's `LabelSpace`.
        counts: `label_counts(...)` of the training records (needed by `"balanced"`).

    Returns:
        None for `"none"`, else `{domain: [weight of label id 0, 1, ...]}`.

    Example:

    >>> from xdomain_tf.data.label_space import LabelSpace
    >>> space = LabelSpace({"news": ["sport", "tech"], "debian": ["games", "math", "net"]})
    >>> resolve_class_weights("balanced", space, {"news": [30, 10], "debian": [5, 5, 20]})
    {'news': [0.6666666666666666, 2.0], 'debian': [2.0, 2.0, 0.5]}
    """
    if spec is None or spec == "none":
        return None
    if spec == "balanced":
        if counts is None:
            raise XDomainError("class weights balanced need the label counts of the training data")
        return {domain: balanced_class_weights(counts[domain]) for domain in label_space.domains}
    if not isinstance(spec, (str, os.PathLike)):
        raise XDomainError(f"class weights must be balanced, none or a JSON file, got {spec!r}")
    return _weights_file(pathlib.Path(spec), label_space)


def check_class_weights_spec(spec):
    """Refuses a `class_weights` value that is neither a known name nor an existing file.

    Example:

    >>> check_class_weights_spec("balanced")
    >>> check_class_weights_spec("no/such.json")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: class_weights must be balanced, none or a JSON file {domain: {label: weight}}; no/such.json: no such file
    """
    if spec is None or spec in CLASS_WEIGHTS:
        return
    path = pathlib.Path(spec)
    if not path.is_file():
        raise XDomainError(
            "class_weights must be balanced, none or a JSON file {domain: {label: weight}}; "
            f"{spec}: {'a folder, not a file' if path.is_dir() else 'no such file'}"
        )


def _weights_file(path, label_space):
    check_class_weights_spec(str(path))
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"not a JSON file ({error})", path=path) from None
    if not isinstance(values, dict) or not all(isinstance(labels, dict) for labels in values.values()):
        raise DataError("class weights must be a JSON object {domain: {label: weight}}", path=path)
    weights = {}
    for domain in values:
        if domain not in label_space.domains:
            raise DataError(
                f"unknown domain; known: {', '.join(label_space.domains)}", path=path, field="domain", value=domain
            )
    for domain in label_space.domains:
        labels = list(label_space.labels(domain))
        given = values.get(domain, {})
        for label, weight in given.items():
            if label not in labels:
                raise DataError(
                    f"unknown label of domain {domain!r}; known: {', '.join(labels)}", path=path, field="label",
                    value=label,
                )
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not math.isfinite(weight) or weight < 0:
                raise DataError(
                    f"the weight of {domain}/{label} must be a finite number >= 0", path=path, field="weight", value=weight
                )
        weights[domain] = [float(given.get(label, 1.0)) for label in labels]
    return weights
