"""Cross-domain transfer results: a train-domain x eval-domain score matrix as JSON."""
import math

from xdomain_tf.errors import XDomainError

METRICS = ("macro_f1", "accuracy")


def _score(value):
    # JSON has no NaN: a cell that was not evaluated is null.
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _check_metric(metric):
    if metric not in METRICS:
        raise XDomainError(f"unknown transfer metric {metric!r}; known: {', '.join(METRICS)}")


def transfer_matrix(reports, eval_domains=None, metric="macro_f1"):
    """Builds the transfer matrix from evaluation reports of models trained on each domain.

    Args:
        reports: `{train_domain: evaluation_report}`, one report per trained model.
        eval_domains: the column order (default: every evaluated domain, in first-seen order).
        metric: `"macro_f1"` or `"accuracy"`.

    Returns:
        `(matrix, train_domains, eval_domains)`; a domain a model was not evaluated on is None.

    Example:

    >>> reports = {"news": {"domains": {"news": {"macro_f1": 0.9}, "debian": {"macro_f1": 0.2}}}}
    >>> transfer_matrix(reports)
    ([[0.9, 0.2]], ['news'], ['news', 'debian'])
    """
    _check_metric(metric)
    train_domains = list(reports)
    if eval_domains is None:
        eval_domains = []
        for report in reports.values():
            eval_domains += [d for d in report["domains"] if d not in eval_domains]
    eval_domains = list(eval_domains)
    matrix = [
        [
            _score(reports[train]["domains"][d][metric]) if d in reports[train]["domains"] else None
            for d in eval_domains
        ]
        for train in train_domains
    ]
    return matrix, train_domains, eval_domains


def transfer_report(matrix, train_domains, eval_domains, all_but_one=None, metric="macro_f1"):
    """The JSON form of a transfer experiment.

    Args:
        matrix: rows = trained on (`train_domains`), columns = evaluated on (`eval_domains`);
            None or NaN for a cell not evaluated (written as null).
        train_domains: the row names.
        eval_domains: the column names.
        all_but_one: optional `{domain: score}` of models trained on every domain but
            `domain` and evaluated on it (zero-shot transfer into a new domain).
        metric: the score in the cells, `"macro_f1"` or `"accuracy"`.

    Returns:
        `{"metric", "train_domains", "eval_domains", "matrix", "all_but_one"}`.

    Example:

    >>> report = transfer_report([[0.9, float("nan")]], ["news"], ["news", "debian"], {"news": 0.4})
    >>> report["matrix"], report["all_but_one"]
    ([[0.9, None]], {'news': 0.4})
    """
    _check_metric(metric)
    rows = [list(row) for row in matrix]
    if len(rows) != len(train_domains) or any(len(row) != len(eval_domains) for row in rows):
        shape = f"{len(rows)} x {sorted({len(row) for row in rows})}"
        raise XDomainError(
            f"transfer matrix of {shape} does not fit {len(train_domains)} training "
            f"and {len(eval_domains)} evaluation domains"
        )
    return {
        "metric": metric,
        "train_domains": [str(d) for d in train_domains],
        "eval_domains": [str(d) for d in eval_domains],
        "matrix": [[_score(v) for v in row] for row in rows],
        "all_but_one": {str(d): _score(v) for d, v in (all_but_one or {}).items()},
    }
