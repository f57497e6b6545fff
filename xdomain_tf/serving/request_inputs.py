"""Checks and lines up the texts, domains and text pairs of a serving request."""
from xdomain_tf.errors import XDomainError


def request_inputs(texts, domains=None, text_pairs=None):
    """The request's columns as equally long lists.

    Args:
        texts: a string (one example) or a list of `str`/`bytes`.
        domains: one domain for every text, or one per text; None for a signature without
            a `domain` input.
        text_pairs: None, or one second segment per text.

    Returns:
        `{"text": [...], "domain": [...], "text_pair": [...]}` holding only the given
        columns.

    Example:

    >>> request_inputs("hello", "news")
    {'text': ['hello'], 'domain': ['news']}
    """
    texts = _as_list(texts, "texts")
    if not texts:
        raise XDomainError("a request needs at least one text")
    columns = {"text": texts}
    if domains is not None:
        if isinstance(domains, (str, bytes)):
            domains = [domains] * len(texts)
        columns["domain"] = _as_list(domains, "domains")
    if text_pairs is not None:
        columns["text_pair"] = _as_list(text_pairs, "text_pairs")
    for name, values in columns.items():
        if len(values) != len(texts):
            raise XDomainError(f"{len(texts)} texts but {len(values)} values for {name!r}")
    return columns


def _as_list(values, what):
    if isinstance(values, (str, bytes)):
        values = [values]
    values = list(values)
    for value in values:
        if not isinstance(value, (str, bytes)):
            raise XDomainError(f"{what} must be strings or bytes, got {type(value).__name__}: {value!r}")
    return values
