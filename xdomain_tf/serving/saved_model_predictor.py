"""`SavedModelPredictor`: predictions of an exported SavedModel (what TF Serving runs)."""
import json

from xdomain_tf.errors import XDomainError
from xdomain_tf.serving.predictor import Predictor
from xdomain_tf.utils.storage import storage_path


class SavedModelPredictor(Predictor):
    """Labels texts with the `serving_default` (or `serving_pair`) signature of an export.

    Args:
        path: a SavedModel version folder written by `xdomain-tf export --saved-model`
            (local or a URL: TensorFlow reads it from any of its file systems).
        batch_size: texts per call.

    Example:

        SavedModelPredictor("export/xdomain/1").predict(["A late goal won the cup"], "news")
    """

    kind = "saved_model"

    def __init__(self, path, batch_size=64):
        super().__init__(batch_size)
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

        self.path = storage_path(path)
        labels = self.path / "assets" / "labels.json"
        if not labels.exists():
            raise XDomainError(f"{self.path}: no assets/labels.json; not an xdomain-tf SavedModel export")
        entries = json.loads(labels.read_text(encoding="utf-8"))["domains"]
        self.domains = {entry["name"]: list(entry["labels"]) for entry in entries}
        self.model = tf.saved_model.load(str(self.path))

    def _predict_batch(self, texts, domains, text_pairs):
        import tensorflow as tf

        inputs = {"text": tf.constant(texts), "domain": tf.constant(domains)}
        if text_pairs is None:
            outputs = self.model.signatures["serving_default"](**inputs)
        else:
            outputs = self.model.signatures["serving_pair"](text_pair=tf.constant(text_pairs), **inputs)
        labels = [label.decode("utf-8") for label in outputs["label"].numpy()]
        return labels, outputs["score"].numpy()
