"""`ServingModule`: the tf.Module whose signatures a TF Serving SavedModel exports.

Signatures (every input and output has the batch as its first axis, so TF Serving's
batching can merge requests):

- `serving_default`: `text`, `domain` (tf.string `[None]`) -> `label` (tf.string
  `[None]`), `score` (float32 `[None]`, the label's probability), `probabilities`
  (float32 `[None, max_labels]`, zeros past the domain's own labels).
- `serving_pair`: the same plus `text_pair` (tf.string `[None]`), for models trained on
  text pairs (`[CLS] text [SEP] text_pair [SEP]`). A signature cannot have optional
  inputs (TF Serving feeds every input), hence two signatures; an empty `text_pair` is an
  empty second segment, which is not the same as calling `serving_default`.
- `classify_<domain>`, one per domain: `text` -> `probabilities` `[None, n_labels]`,
  `label`, `score`.
- `encode`: `text` -> `embedding` (float32 `[None, hidden]`): the pooled vector the heads
  see (`pooling="cls"`: the encoder's pooled [CLS] output; `"mean"`: the masked mean of
  the sequence). A model with per-domain adapters also takes `domain`.
- `predict_ids`: `token_ids`, `segment_ids`, `padding_mask` (int32 `[None, None]`, as
  `Preprocessor` builds them, at most `max_position_embeddings` long) -> one float32
  logits output `[None, n_labels]` per domain, keyed by the domain name; for clients that
  tokenize themselves.

Tokenization (the run's `Preprocessor`) and the routing of each example to its domain's
head run inside the graph. A `domain` the model does not know fails the request with an
`InvalidArgumentError` that names it and lists the known domains.
"""
import re

import tensorflow as tf

from xdomain_tf.errors import XDomainError

_SIGNATURE_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def classify_signature_name(domain):
    """The name of a domain's classify signature (characters outside `[A-Za-z0-9_.-]` -> `_`).

    >>> classify_signature_name("debian-de")
    'classify_debian-de'
    """
    return "classify_" + _SIGNATURE_SAFE.sub("_", domain)


class ServingModule(tf.Module):
    """Wraps a trained `MultiDomainClassifier` and its `Preprocessor` for TF Serving.

    Only the model's variables are tracked, once each, so a SavedModel of this module
    holds every weight a single time.

    Args:
        model: the `MultiDomainClassifier` (from `RunDirectory.load_model()`).
        preprocessor: the run's `Preprocessor`.
        assets: optional `{name: path}` of files to ship in the SavedModel's `assets/`
            (label names, vocabulary, metadata); each becomes an attribute holding a
            `tf.saved_model.Asset`.

    Example (`run` is a classifier run directory):

        module = ServingModule(run.load_model(), run.load_preprocessor())
        tf.saved_model.save(module, "export/xdomain/1", signatures=module.signatures())
    """

    def __init__(self, model, preprocessor, assets=None):
        super().__init__(name="xdomain_serving")
        domains = getattr(model, "domains", None)
        if not domains:
            raise XDomainError(
                "the model is not a multi-domain classifier (no `domains`); only classifier runs export"
            )
        self._keras = _Hidden(model=model, preprocessor=preprocessor)
        # Each variable once: the Keras model itself is not tracked.
        self.model_variables = [variable.value if hasattr(variable, "value") else variable for variable in model.variables]
        self.domain_names = list(domains)
        self.domain_labels = {domain: list(labels) for domain, labels in domains.items()}
        self.max_labels = max(len(labels) for labels in domains.values())
        self.uses_adapters = "adapter_index" in model.encoder.input
        names = [classify_signature_name(domain) for domain in self.domain_names]
        if len(set(names)) != len(names):
            raise XDomainError(f"domain names {self.domain_names} give clashing signature names {names}")
        for name, path in (assets or {}).items():
            setattr(self, name, tf.saved_model.Asset(str(path)))
        # Shared graph functions: every signature calls them, so the SavedModel's function
        # library holds the tokenizer (its vocabulary and normalizer tables) and the network
        # once instead of once per signature.
        strings = tf.TensorSpec([None], tf.string)
        ids = tf.TensorSpec([None, None], tf.int32)
        self._tokenize = tf.function(self._features, input_signature=[strings], autograph=False)
        self._tokenize_pair = tf.function(self._features, input_signature=[strings, strings], autograph=False)
        self._forward = tf.function(
            self._logits, input_signature=[ids, ids, ids, tf.TensorSpec([None], tf.int32)], autograph=False
        )

    @property
    def model(self):
        return self._keras.model

    @property
    def preprocessor(self):
        return self._keras.preprocessor

    # --- graph pieces ---

    def domain_ids(self, domain):
        """int32 ids of domain names; an InvalidArgumentError for an unknown name."""
        known = tf.constant(self.domain_names)
        matches = tf.equal(domain[:, tf.newaxis], known[tf.newaxis, :])
        found = tf.reduce_any(matches, axis=1)
        check = tf.debugging.Assert(
            tf.reduce_all(found),
            [
                "unknown domain(s):",
                tf.boolean_mask(domain, tf.logical_not(found)),
                "known domains: " + ", ".join(self.domain_names),
            ],
            summarize=8,
            name="unknown_domain",
        )
        with tf.control_dependencies([check]):
            return tf.argmax(tf.cast(matches, tf.int32), axis=1, output_type=tf.int32)

    def _features(self, text, text_pair=None):
        inputs = {"text": text} if text_pair is None else {"text": text, "text_pair": text_pair}
        return self.preprocessor(inputs)

    def _logits(self, token_ids, segment_ids, padding_mask, domain_id):
        inputs = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
        inputs["domain_id"] = domain_id
        return {domain: tf.cast(value, tf.float32) for domain, value in self.model(inputs, training=False).items()}

    def features(self, text, text_pair=None):
        """Packed `token_ids`, `segment_ids`, `padding_mask` of a batch of texts."""
        return self._tokenize(text) if text_pair is None else self._tokenize_pair(text, text_pair)

    def logits(self, features, domain_id):
        """The model's float32 `{domain: logits}` for packed features."""
        return self._forward(features["token_ids"], features["segment_ids"], features["padding_mask"], domain_id)

    def routed(self, logits, domain_id):
        """Each example's own head: probabilities padded with zeros, label index, score."""
        return route_to_domain(logits, domain_id, self.domain_names, self.max_labels)

    def label_names(self, domain_id, label_id):
        table = tf.constant(
            [labels + [""] * (self.max_labels - len(labels)) for labels in self.domain_labels.values()]
        )
        return tf.gather_nd(table, tf.stack([domain_id, label_id], axis=1))

    def classify(self, text, domain, text_pair=None):
        tf.debugging.assert_equal(
            tf.shape(text), tf.shape(domain), message="text and domain need one value per example"
        )
        if text_pair is not None:
            tf.debugging.assert_equal(
                tf.shape(text), tf.shape(text_pair), message="text and text_pair need one value per example"
            )
        domain_id = self.domain_ids(domain)
        logits = self.logits(self.features(text, text_pair), domain_id)
        probabilities, label_id, score = self.routed(logits, domain_id)
        return {"label": self.label_names(domain_id, label_id), "score": score, "probabilities": probabilities}

    def classify_domain(self, text, domain):
        index = self.domain_names.index(domain)
        domain_id = tf.fill(tf.shape(text), tf.constant(index, tf.int32))
        logits = tf.cast(self.logits(self.features(text), domain_id)[domain], tf.float32)
        probabilities = tf.nn.softmax(logits, axis=-1)
        label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        labels = tf.gather(tf.constant(self.domain_labels[domain]), label_id)
        return {"label": labels, "score": tf.reduce_max(probabilities, axis=-1), "probabilities": probabilities}

    def embedding(self, text, domain=None):
        from xdomain_tf.models.multi_domain_classifier import masked_mean

        features = self.features(text)
        inputs = {name: features[name] for name in ("token_ids", "segment_ids", "padding_mask")}
        if self.uses_adapters:
            inputs["adapter_index"] = self.domain_ids(domain)
        outputs = self.model.encoder(inputs, training=False)
        if getattr(self.model, "pooling", "cls") == "mean":
            pooled = masked_mean(outputs["sequence_output"], features["padding_mask"])
        else:
            pooled = outputs["pooled_output"]
        return {"embedding": tf.cast(pooled, tf.float32)}

    def logits_from_ids(self, token_ids, segment_ids, padding_mask):
        features = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
        batch = tf.shape(token_ids)[:1]
        if not self.uses_adapters:
            # Every head sees the same encoder output: one forward pass for all domains.
            logits = self.logits(features, tf.zeros(batch, tf.int32))
            return {domain: tf.cast(logits[domain], tf.float32) for domain in self.domain_names}
        # Per-domain adapters change the encoder: one pass per domain.
        return {
            domain: tf.cast(self.logits(features, tf.fill(batch, tf.constant(index, tf.int32)))[domain], tf.float32)
            for index, domain in enumerate(self.domain_names)
        }

    # --- signatures ---

    def signatures(self):
        """`{signature name: concrete function}` for `tf.saved_model.save`."""
        strings = tf.TensorSpec([None], tf.string)
        ids = tf.TensorSpec([None, None], tf.int32)
        signatures = {
            "serving_default": tf.function(
                lambda text, domain: self.classify(text, domain),
            ).get_concrete_function(text=strings, domain=strings),
            "serving_pair": tf.function(
                lambda text, text_pair, domain: self.classify(text, domain, text_pair),
            ).get_concrete_function(text=strings, text_pair=strings, domain=strings),
        }
        for domain in self.domain_names:
            signatures[classify_signature_name(domain)] = tf.function(
                lambda text, domain=domain: self.classify_domain(text, domain)
            ).get_concrete_function(text=strings)
        if self.uses_adapters:
            signatures["encode"] = tf.function(
                lambda text, domain: self.embedding(text, domain)
            ).get_concrete_function(text=strings, domain=strings)
        else:
            signatures["encode"] = tf.function(lambda text: self.embedding(text)).get_concrete_function(text=strings)
        signatures["predict_ids"] = tf.function(
            lambda token_ids, segment_ids, padding_mask: self.logits_from_ids(token_ids, segment_ids, padding_mask)
        ).get_concrete_function(token_ids=ids, segment_ids=ids, padding_mask=ids)
        return signatures

    def signature_inputs(self):
        """`{signature name: (input kind, domain or None)}`, as warm-up requests need them."""
        kinds = {
            "serving_default": ("text_domain", None),
            "serving_pair": ("text_pair_domain", None),
            "encode": ("text_domain" if self.uses_adapters else "text", None),
        }
        for domain in self.domain_names:
            kinds[classify_signature_name(domain)] = ("text", domain)
        kinds["predict_ids"] = ("ids", None)
        return kinds

    def tokenize_numpy(self, texts):
        """`{token_ids, segment_ids, padding_mask}` int32 arrays of a list of texts."""
        features = self.features(tf.constant(texts, tf.string))
        return {name: features[name].numpy() for name in ("token_ids", "segment_ids", "padding_mask")}


def route_to_domain(logits, domain_id, domain_names, max_labels):
    """Picks each example's own domain head: `(probabilities, label_id, score)`.

    Each head's softmax is padded with zeros to `max_labels`, the heads are stacked and
    every row gathers its domain's. Only builtin ops, so it also converts to TFLite.

    Args:
        logits: `{domain: float logits [batch, n_labels]}`.
        domain_id: int32 `[batch]`.
        domain_names: the domains in id order.
        max_labels: the most labels of any domain.

    Example:

    >>> logits = {"news": tf.constant([[2.0, 0.0], [2.0, 0.0]]),
    ...           "web": tf.constant([[0.0, 0.0, 5.0], [0.0, 0.0, 5.0]])}
    >>> probabilities, label_id, score = route_to_domain(logits, tf.constant([0, 1]), ["news", "web"], 3)
    >>> probabilities.shape, label_id.numpy().tolist(), float(probabilities[0, 2])
    (TensorShape([2, 3]), [0, 2], 0.0)
    """
    padded = []
    for domain in domain_names:
        probabilities = tf.nn.softmax(tf.cast(logits[domain], tf.float32), axis=-1)
        missing = max_labels - probabilities.shape[-1]
        if missing:
            probabilities = tf.pad(probabilities, [[0, 0], [0, missing]])
        padded.append(probabilities)
    stacked = tf.stack(padded, axis=1)  # [batch, domains, max_labels]
    probabilities = tf.gather(stacked, domain_id, axis=1, batch_dims=1)
    label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    score = tf.reduce_max(probabilities, axis=-1)
    return probabilities, label_id, score


class _Hidden:
    """Holds objects that `tf.Module` must not track (the Keras model: its variables are
    tracked once through `model_variables`)."""

    def __init__(self, **values):
        self.__dict__.update(values)
