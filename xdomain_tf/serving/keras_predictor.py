"""`KerasPredictor`: predictions of a run directory's Keras model."""
from xdomain_tf.serving.predictor import Predictor


class KerasPredictor(Predictor):
    """Labels texts with the Keras model and Preprocessor of a classifier run directory.

    Args:
        run_dir: a finished classifier run directory.
        batch_size: texts per model call.

    Example:

        KerasPredictor("runs/news").predict(["A late goal won the cup"], "news")
    """

    kind = "keras"

    def __init__(self, run_dir, batch_size=64):
        super().__init__(batch_size)
        from xdomain_tf.export.saved_model_export import load_classifier_run
        from xdomain_tf.runs.run_directory import RunDirectory

        self.model, self.preprocessor, _ = load_classifier_run(RunDirectory(run_dir))
        self.domains = {domain: list(labels) for domain, labels in self.model.domains.items()}

    def _predict_batch(self, texts, domains, text_pairs):
        import numpy as np
        import tensorflow as tf

        names = list(self.domains)
        inputs = {"text": tf.constant(texts)}
        if text_pairs is not None:
            inputs["text_pair"] = tf.constant(text_pairs)
        features = dict(self.preprocessor(inputs))
        features["domain_id"] = tf.constant([names.index(domain) for domain in domains], tf.int32)
        logits = self.model(features, training=False)
        labels, scores = [], []
        for row, domain in enumerate(domains):
            probabilities = tf.nn.softmax(tf.cast(logits[domain][row], tf.float32)).numpy()
            index = int(np.argmax(probabilities))
            labels.append(self.domains[domain][index])
            scores.append(probabilities[index])
        return labels, scores
