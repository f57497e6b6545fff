"""`Predictor`: the interface `xdomain-tf predict` uses for every kind of model."""
from collections.abc import Mapping, Set

from xdomain_tf.errors import DataError, XDomainError


def checked_strings(values, field, count=None, allow_empty=True):
    """The list of strings in `values`, each checked before any model sees it.

    A bad value fails with a one-line error naming the input: `XDomainError` for the
    container (not a string or a one-dimensional sequence), `DataError` (with
    `path="<inputs>"`, the 1-based position as `line` and `field`) for an element that is
    not a `str`, holds a lone surrogate (no UTF-8 encoding) or, unless `allow_empty`, is
    empty or white space (as in a data file).

    Args:
        values: one `str`, or a list, tuple, one-dimensional array or other iterable of `str`.
        field: the input's record field in messages: `"text"`, `"domain"` or `"text_pair"`.
        count: None, or how many values are needed; one string is then repeated `count`
            times, and another number of values fails.
        allow_empty: whether an empty or white-space string is a value.

    Returns:
        A list of `str`.

    Example:

    >>> checked_strings("news", "domain", count=2)
    ['news', 'news']
    >>> checked_strings(["a", 3], "text")
    Traceback (most recent call last):
    xdomain_tf.errors.DataError: <inputs>:2: field "text": expected a string (value 3)
    >>> checked_strings([["a"]], "text")
    Traceback (most recent call last):
    xdomain_tf.errors.DataError: <inputs>:1: field "text": expected a string (value ['a'])
    """
    name = field + "s"
    if isinstance(values, str):
        values = [values] * (1 if count is None else count)
    elif getattr(values, "ndim", 1) != 1:
        raise XDomainError(f"{name} must be one-dimensional (one value per example), got {values.ndim} dimensions")
    elif values is None or isinstance(values, (bytes, bytearray, Mapping, Set)) or not hasattr(values, "__iter__"):
        raise XDomainError(f"{name} must be a string or a list of strings, got {type(values).__name__}")
    else:
        values = list(values)
    if count is not None and len(values) != count:
        raise XDomainError(f"{name} needs one value per text: got {len(values)} for {count} texts")
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise DataError("expected a string", path="<inputs>", line=index + 1, field=field, value=value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise DataError(
                f"is not valid UTF-8 text (a lone surrogate at offset {error.start})",
                path="<inputs>", line=index + 1, field=field, value=value,
            ) from None
        if not allow_empty and not value.strip():
            raise DataError("is empty", path="<inputs>", line=index + 1, field=field, value=value)
    return values


class Predictor:
    """Labels texts with a trained model; subclasses load one kind of model.

    `predict` checks every input before a model sees it (each text, domain and text pair
    a `str`, texts not empty, one domain and text pair per text, known domains), splits the input into
    batches and returns one `{"domain", "label", "score"}` dict per text. A bad input
    fails with a one-line `XDomainError` (a `DataError` for one bad value, naming the
    field and position). Subclasses set `domains` (`{name: [labels]}` in id order) and
    implement `_predict_batch`; one that cannot take text pairs sets `takes_pairs = False`.

    Args:
        batch_size: texts per model call.

    Example:

    >>> class LengthPredictor(Predictor):
    ...     def __init__(self):
    ...         super().__init__(batch_size=2)
    ...         self.domains = {"news": ["short", "long"]}
    ...     def _predict_batch(self, texts, domains, text_pairs):
    ...         return ["short" if len(text) < 10 else "long" for text in texts], [1.0] * len(texts)
    >>> LengthPredictor().predict(["hi", "a much longer text", "ok"], "news")[1]
    {'domain': 'news', 'label': 'long', 'score': 1.0}
    >>> LengthPredictor().predict(["hi"], "weather")
    Traceback (most recent call last):
    xdomain_tf.errors.DataError: <inputs>:1: field "domain": unknown domain; known domains: news (value 'weather')
    """

    kind = None
    takes_pairs = True

    def __init__(self, batch_size=64):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise XDomainError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size
        self.domains = {}

    def check_domain(self, domain, index=None):
        if domain not in self.domains:
            raise DataError(
                f"unknown domain; known domains: {', '.join(self.domains)}",
                path=None if index is None else "<inputs>",
                line=None if index is None else index + 1,
                field="domain",
                value=domain,
            )

    def predict(self, texts, domains, text_pairs=None):
        """Labels `texts`.

        Args:
            texts: a string, or a list of strings.
            domains: one domain name for all texts, or one per text.
            text_pairs: None, or one second segment per text.

        Returns:
            a list of `{"domain": str, "label": str, "score": float}`.
        """
        texts = checked_strings(texts, "text", allow_empty=False)
        domains = checked_strings(domains, "domain", count=len(texts))
        if text_pairs is not None:
            if not self.takes_pairs:
                raise XDomainError(
                    f"{self.kind} models take single texts; text pairs need the SavedModel or run directory"
                )
            text_pairs = checked_strings(text_pairs, "text_pair", count=len(texts))
        for index, domain in enumerate(domains):
            self.check_domain(domain, index)
        results = []
        for start in range(0, len(texts), self.batch_size):
            end = start + self.batch_size
            pairs = None if text_pairs is None else text_pairs[start:end]
            labels, scores = self._predict_batch(texts[start:end], domains[start:end], pairs)
            results.extend(
                {"domain": domain, "label": label, "score": float(score)}
                for domain, label, score in zip(domains[start:end], labels, scores)
            )
        return results

    def _predict_batch(self, texts, domains, text_pairs):
        """`(labels, scores)` of one batch of checked inputs."""
        raise NotImplementedError
