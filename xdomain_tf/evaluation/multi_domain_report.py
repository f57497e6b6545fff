"""Multi-domain evaluation report: per-domain scores, overall scores, JSON and PNG output."""
import re

from xdomain_tf.errors import XDomainError
from xdomain_tf.evaluation.classification_metrics import classification_report
from xdomain_tf.utils.atomic import write_json_atomic
from xdomain_tf.utils.storage import storage_path


def evaluation_report(per_domain):
    """Scores each domain and the whole set.

    Args:
        per_domain: a mapping `domain -> (y_true, y_pred, labels)`, one entry per domain
            (see `classification_report` for the three values).

    Returns:
        A JSON-ready dict `{"domains": {domain: classification_report(...)}, "overall":
        {"accuracy", "macro_f1", "n"}}`. Overall accuracy is micro (correct over all
        examples); overall macro-F1 is the mean of the macro-F1s of the domains that have
        examples (0.0 if none has).

    Example:

    >>> report = evaluation_report({
    ...     "news": (["sport", "tech"], ["sport", "sport"], ["sport", "tech"]),
    ...     "debian": (["games"], ["games"], ["games", "math"]),
    ... })
    >>> report["overall"]
    {'accuracy': 0.6666666666666666, 'macro_f1': 0.41666666666666663, 'n': 3}
    """
    if not per_domain:
        raise XDomainError("no domains to evaluate")
    domains = {}
    correct = 0
    for domain, value in per_domain.items():
        try:
            y_true, y_pred, labels = value
        except (TypeError, ValueError):
            raise XDomainError(
                f"domain {domain!r}: expected (y_true, y_pred, labels), got {type(value).__name__}"
            ) from None
        y_true, y_pred = list(y_true), list(y_pred)
        try:
            domains[str(domain)] = classification_report(y_true, y_pred, labels)
        except XDomainError as error:
            raise XDomainError(f"domain {domain!r}: {error}") from None
        correct += sum(1 for t, p in zip(y_true, y_pred) if t == p)
    scored = [report for report in domains.values() if report["n"]]
    n = sum(report["n"] for report in domains.values())
    macro = sum(report["macro_f1"] for report in scored) / len(scored) if scored else 0.0
    return {"domains": domains, "overall": {"accuracy": correct / n if n else 0.0, "macro_f1": macro, "n": n}}


def file_stem(name):
    """A file-name-safe form of a domain (or other) name: letters, digits, `.`, `_`, `-`.

    Example:

    >>> file_stem("news/BBC (en)")
    'news_BBC_en'
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._")
    return stem or "unnamed"


def write_report(report, json_path=None, report_dir=None):
    """Writes an `evaluation_report` as JSON and its confusion matrices as PNG images.

    Args:
        report: the dict from `evaluation_report`.
        json_path: the JSON file to write atomically (None: no JSON).
        report_dir: folder for one `confusion_<domain>.png` per domain (None: no images);
            the domain is made file-name safe, and a number appended if two collide.

    Returns:
        The list of paths written.

    Example:

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> report = evaluation_report({"news": (["a", "b"], ["a", "a"], ["a", "b"])})
    >>> [p.name for p in write_report(report, folder / "eval.json", folder)]
    ['eval.json', 'confusion_news.png']
    """
    written = []
    if json_path is not None:
        write_json_atomic(json_path, report)
        written.append(storage_path(json_path))
    if report_dir is not None:
        from xdomain_tf.evaluation.plots import confusion_matrix_plot

        used = set()
        for domain, scores in report["domains"].items():
            stem = file_stem(domain)
            candidate, number = stem, 1
            while candidate.lower() in used:
                number += 1
                candidate = f"{stem}_{number}"
            used.add(candidate.lower())
            labels = scores.get("labels") or list(scores["per_label"])
            path = storage_path(report_dir) / f"confusion_{candidate}.png"
            title = f"{domain}: accuracy {scores['accuracy']:.3f}, macro-F1 {scores['macro_f1']:.3f}"
            confusion_matrix_plot(scores["confusion_matrix"], labels, path, title=title)
            written.append(path)
    return written
