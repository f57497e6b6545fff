"""`Predictor`: the interface `xdomain-tf predict` uses for every kind of model."""
from xdomain_tf.errors import DataError, XDomainError


class Predictor:
    """Labels texts with a trained model; subclasses load one kind of model.

    `predict` checks the domains, splits the input into batches and returns one
    `{"domain", "label", "score"}` dict per text. Subclasses set `domains`
    (`{name: [labels]}` in id order) and implement `_predict_batch`.

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
    """

    kind = None

    def __init__(self, batch_size=64):
        if batch_size < 1:
            raise XDomainError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.domains = {}

    def check_domain(self, domain):
        if domain not in self.domains:
            raise DataError(f"unknown domain; known domains: {', '.join(self.domains)}", field="domain", value=domain)

    def predict(self, texts, domains, text_pairs=None):
        """Labels `texts`.

        Args:
            texts: a list of strings.
            domains: one domain name for all texts, or one per text.
            text_pairs: None, or one second segment per text.

        Returns:
            a list of `{"domain": str, "label": str, "score": float}`.
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if isinstance(domains, str):
            domains = [domains] * len(texts)
        domains = list(domains)
        if len(domains) != len(texts) or (text_pairs is not None and len(text_pairs) != len(texts)):
            raise XDomainError("texts, domains and text_pairs need one value per example")
        for domain in set(domains):
            self.check_domain(domain)
        results = []
        for start in range(0, len(texts), self.batch_size):
            end = start + self.batch_size
            pairs = None if text_pairs is None else list(text_pairs[start:end])
            labels, scores = self._predict_batch(texts[start:end], domains[start:end], pairs)
            results.extend(
                {"domain": domain, "label": label, "score": float(score)}
                for domain, label, score in zip(domains[start:end], labels, scores)
            )
        return results

    def _predict_batch(self, texts, domains, text_pairs):
        """`(labels, scores)` of one batch."""
        raise NotImplementedError
