"""`TFLiteModule`: the single-signature graph that a TFLite file is converted from."""
import tensorflow as tf

from xdomain_tf.export.serving_module import _Hidden, route_to_domain
from xdomain_tf.errors import XDomainError

IDS_INPUTS = ("token_ids", "segment_ids", "padding_mask")


class TFLiteModule(tf.Module):
    """A classifier with a static sequence length, for conversion to TFLite.

    Its one signature, `serving_default`, takes either packed ids (`token_ids`,
    `segment_ids`, `padding_mask`: int32 `[batch, sequence_length]`) or, with
    `with_tokenizer`, raw `text` (tf.string `[batch]`), plus `domain_id` (int32 `[batch]`,
    the domain's index in the labels file). Outputs: `probabilities` (float32
    `[batch, max_labels]`, zeros past the domain's labels), `label_id` (int32 `[batch]`)
    and `score` (float32 `[batch]`). A `domain_id` outside `[0, domains)` makes the
    interpreter's invoke fail (gather index out of bounds).

    Args:
        model: the `MultiDomainClassifier`.
        preprocessor: the run's `Preprocessor`; with `with_tokenizer` it runs in the graph
            (padded to its `sequence_length`).
        with_tokenizer: take raw text (tensorflow-text TFLite custom ops tokenize it).

    Example:

        module = TFLiteModule(model, preprocessor)
        tf.saved_model.save(module, path, signatures={"serving_default": module.signature()})
    """

    def __init__(self, model, preprocessor, with_tokenizer=False):
        super().__init__(name="xdomain_tflite")
        from xdomain_tf.text.preprocessor import Preprocessor

        domains = getattr(model, "domains", None)
        if not domains:
            raise XDomainError("the model is not a multi-domain classifier (no `domains`)")
        if preprocessor.pad_to != "fixed":
            preprocessor = Preprocessor.from_config({**preprocessor.get_config(), "pad_to": "fixed"})
        self._keras = _Hidden(model=model, preprocessor=preprocessor)
        self.model_variables = [variable.value if hasattr(variable, "value") else variable for variable in model.variables]
        self.domain_names = list(domains)
        self.max_labels = max(len(labels) for labels in domains.values())
        self.sequence_length = preprocessor.sequence_length
        self.with_tokenizer = with_tokenizer

    @property
    def preprocessor(self):
        """The Preprocessor used (padding to the fixed sequence length)."""
        return self._keras.preprocessor

    def _classify(self, features, domain_id):
        inputs = {name: features[name] for name in IDS_INPUTS}
        inputs["domain_id"] = domain_id
        logits = self._keras.model(inputs, training=False)
        probabilities, label_id, score = route_to_domain(logits, domain_id, self.domain_names, self.max_labels)
        return {"probabilities": probabilities, "label_id": label_id, "score": score}

    def signature(self):
        """The concrete function to save as `serving_default`."""
        domain_id = tf.TensorSpec([None], tf.int32, name="domain_id")
        if self.with_tokenizer:
            def classify_text(text, domain_id):
                return self._classify(self._keras.preprocessor(text), domain_id)

            return tf.function(classify_text, autograph=False).get_concrete_function(
                tf.TensorSpec([None], tf.string, name="text"), domain_id
            )

        ids = tf.TensorSpec([None, self.sequence_length], tf.int32)

        def classify_ids(token_ids, segment_ids, padding_mask, domain_id):
            features = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
            return self._classify(features, domain_id)

        return tf.function(classify_ids, autograph=False).get_concrete_function(
            tf.TensorSpec.from_spec(ids, name="token_ids"),
            tf.TensorSpec.from_spec(ids, name="segment_ids"),
            tf.TensorSpec.from_spec(ids, name="padding_mask"),
            domain_id,
        )
