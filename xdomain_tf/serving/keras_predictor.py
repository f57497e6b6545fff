"""`KerasPredictor`: predictions of a `MultiDomainTextClassifier` (object, run or .keras)."""
from xdomain_tf.serving.predictor import Predictor


class KerasPredictor(Predictor):
    """Labels texts with a classifier's own `classify` (tokenization, routing and label
    lookup in one graph).

    Args:
        model: a `MultiDomainTextClassifier`, a classifier run directory or a `.keras` file
            (local or a URL).
        batch_size: texts per model call.

    Example:

        KerasPredictor("runs/news").predict(["A late goal won the cup"], "news")
    """

    kind = "keras"

    def __init__(self, model, batch_size=64):
        super().__init__(batch_size)
        from xdomain_tf.tasks import load_classifier

        self.model, _ = load_classifier(model)
        self.domains = {domain: list(labels) for domain, labels in self.model.domains.items()}

    def _predict_batch(self, texts, domains, text_pairs):
        results = self.model.classify(texts, domains, text_pairs, batch_size=len(texts))
        return [row["label"] for row in results], [row["score"] for row in results]
