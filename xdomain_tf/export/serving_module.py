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
  tokenize themselves. A row's tokens end at its last `[SEP]` where it has one
  (`Preprocessor` rows always do): positions after it are padding whatever their values.
  TF Serving's batcher with `pad_variable_length_inputs` pads a shorter request with each
  tensor's *first element* (`[CLS]` ids with `padding_mask` 1, not zeros); this rule
  keeps such padding out of attention, so who shares a batch cannot change an answer.

Tokenization (the run's `Preprocessor`) and the routing of each example to its domain's
head run inside the graph. The text signatures pad each batch to its longest text
(rounded up to a multiple of 8, at most `sequence_length`), then sort it by length and
run the network `CHUNK_ROWS` texts at a time, each chunk at its own longest text
(`in_length_chunks`; `predict_ids` too): a short text costs what its length costs even
beside a long one, and the outputs equal those of fixed-length padding (padding is
masked). Server-side batching merges raw strings, so it cannot change an answer either.
A `domain` the model does not know fails the request with an `InvalidArgumentError` that
names it and lists the known domains.

The network runs in TensorFlow's own kernels, not XLA: `jit_compile=True` on it measured
slower on CPU (MiniLM, one thread: +13% at batch 1, +15% at batch 32) and compiles once
per batch shape.
"""
import re

import tensorflow as tf

from xdomain_tf.errors import XDomainError

_SIGNATURE_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")
# Examples per encoder call (`in_length_chunks`). MiniLM, 32 real texts of 59 tokens on
# average, one thread: 4 rows cost 0.45x one call on the whole batch, 8 rows 0.5x, 16 0.8x.
CHUNK_ROWS = 4


def checked_inputs(shape):
    """A function returning its keyword inputs, in order, each checked in the graph to
    have `shape` (`tf.ensure_shape`: a wrong rank fails the call naming the input).

    Example:

    >>> check = checked_inputs([None])
    >>> [t.shape.as_list() for t in check(text=tf.constant(["a", "b"]), domain=tf.constant(["x", "y"]))]
    [[2], [2]]
    >>> check(text=tf.constant("a"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    tensorflow.python.framework.errors_impl.InvalidArgumentError: Shape of tensor ... [] is not compatible with expected shape [?].
    """

    def check(**inputs):
        return [tf.ensure_shape(value, shape, name=name) for name, value in inputs.items()]

    return check


def one_batch(**inputs):
    """Its keyword inputs (`[batch]` vectors), in order, once each has the first one's
    shape: the checks run before any op that uses the inputs, so a request whose inputs
    disagree fails naming them (`text and domain need one value per example`), not in
    whichever op meets the mismatch first (`Incompatible shapes: [2] vs. [0]`).

    Example:

    >>> [t.shape.as_list() for t in one_batch(text=tf.constant(["a", "b"]), domain=tf.constant(["x", "y"]))]
    [[2], [2]]
    >>> one_batch(text=tf.constant(["a", "b"]), domain=tf.constant(["x"]))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    tensorflow.python.framework.errors_impl.InvalidArgumentError: text and domain need one value per example ...
    """
    (first, reference), *others = inputs.items()
    checks = [
        tf.debugging.assert_equal(
            tf.shape(value), tf.shape(reference), message=f"{first} and {name} need one value per example"
        )
        for name, value in others
    ]
    with tf.control_dependencies(checks):
        return [tf.identity(value) for value in inputs.values()]


def checked_ids(token_ids, segment_ids, padding_mask, encoder_config=None):
    """The id matrices of `predict_ids`, checked in the graph before the encoder sees them.

    All three must have one shape; given the encoder's config, `token_ids` must be in
    `[0, vocab_size)`, `segment_ids` in `[0, type_vocab_size)` and rows at most
    `max_position_embeddings` long. A bad request then fails with an InvalidArgumentError
    naming the input instead of one from inside the encoder (`indices[0,1] = 500 is not
    in [0, 200)`, `Incompatible shapes: [1,3,32] vs. [1,2,32]`).

    Args:
        token_ids, segment_ids, padding_mask: int32 `[batch, length]` tensors.
        encoder_config: None (shapes only), or the encoder's `EncoderConfig`.

    Example:

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(vocab_size=10, type_vocab_size=2, max_position_embeddings=8)
    >>> ids = tf.constant([[2, 7, 3]])
    >>> [t.shape.as_list() for t in checked_ids(ids, 0 * ids, 1 + 0 * ids, config)]
    [[1, 3], [1, 3], [1, 3]]
    >>> checked_ids(ids, tf.zeros([2, 3], tf.int32), ids)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    tensorflow.python.framework.errors_impl.InvalidArgumentError: segment_ids and token_ids need the same shape ...
    >>> checked_ids(ids + 10, 0 * ids, ids, config)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    tensorflow.python.framework.errors_impl.InvalidArgumentError: token_ids must be in [0, 10) (the vocabulary size)
    """
    checks = [
        tf.debugging.assert_equal(
            tf.shape(other), tf.shape(token_ids), message=f"{name} and token_ids need the same shape"
        )
        for name, other in (("segment_ids", segment_ids), ("padding_mask", padding_mask))
    ]
    if encoder_config is not None:
        ranges = [("token_ids", token_ids, encoder_config.vocab_size, "the vocabulary size")]
        if encoder_config.type_vocab_size:
            ranges.append(("segment_ids", segment_ids, encoder_config.type_vocab_size, "type_vocab_size"))
        for name, values, high, what in ranges:
            inside = tf.reduce_all(tf.logical_and(values >= 0, values < high))
            message = f"{name} must be in [0, {high}) ({what})"
            checks.append(tf.debugging.Assert(inside, [message], name=f"{name}_range"))
        longest = encoder_config.max_position_embeddings
        checks.append(tf.debugging.Assert(
            tf.shape(token_ids)[1] <= longest,
            [f"token_ids rows must be at most {longest} long (max_position_embeddings)"],
            name="token_ids_length",
        ))
    with tf.control_dependencies(checks):
        return [tf.identity(values) for values in (token_ids, segment_ids, padding_mask)]


def tokens_to_last_separator(token_ids, padding_mask, sep_id):
    """`padding_mask` with every position after a row's last `[SEP]` (`sep_id`) masked.

    Rows without a `[SEP]` keep their mask. Whatever values a server pads a request with
    (TF Serving pads with each tensor's first element), the padding then stays masked.

    Example:

    >>> ids = tf.constant([[2, 7, 3, 2, 2], [2, 7, 8, 9, 3]])  # row 0 padded with [CLS] = 2
    >>> tokens_to_last_separator(ids, tf.ones_like(ids), sep_id=3).numpy().tolist()
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    """
    padding_mask = tf.cast(padding_mask, tf.int32)
    position = tf.range(tf.shape(token_ids)[1], dtype=tf.int32)[tf.newaxis, :]
    separator = tf.logical_and(tf.equal(token_ids, sep_id), padding_mask > 0)
    last = tf.reduce_max(tf.where(separator, position, -1), axis=1, keepdims=True)
    inside = tf.logical_or(last < 0, position <= last)
    return padding_mask * tf.cast(inside, tf.int32)


def in_length_chunks(function, features, rows, multiple=8, **per_example):
    """`function` run on a batch sorted by length, `rows` examples at a time, each chunk cut
    to its own longest text (rounded up to `multiple`); its outputs in the input order.

    One long text then no longer makes every short text of its batch pay for its length:
    the encoder sees about the tokens the texts have instead of `batch x longest`. The
    positions cut off are masked padding, so each example's outputs stay what the whole
    batch gives it.

    Args:
        function: `(features, **per_example) -> {name: tensor [n, ...]}` for a chunk of
            `n` examples (static sizes past the first axis).
        features: `token_ids`, `segment_ids`, `padding_mask` `[batch, length]`; a row's
            length is its last unmasked position + 1.
        rows: examples per chunk.
        multiple: chunk widths are multiples of it (few distinct shapes), at most `length`.
        **per_example: other `[batch, ...]` inputs, sorted and cut with the features.

    Example:

    >>> ids = tf.constant([[2, 5, 5, 5, 3, 0], [2, 3, 0, 0, 0, 0], [2, 5, 3, 0, 0, 0]])
    >>> features = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": tf.cast(ids > 0, tf.int32)}
    >>> width = lambda chunk: {"width": tf.fill(tf.shape(chunk["token_ids"])[:1], tf.shape(chunk["token_ids"])[1])}
    >>> in_length_chunks(width, features, rows=2, multiple=2)["width"].numpy().tolist()
    [6, 4, 4]
    """
    mask = tf.cast(features["padding_mask"], tf.int32)
    full_width = tf.shape(mask)[1]
    position = tf.range(1, full_width + 1, dtype=tf.int32)[tf.newaxis, :]
    ends = tf.reduce_max(tf.where(mask > 0, position, 0), axis=1)
    batch = tf.shape(ends)[0]
    names = ("token_ids", "segment_ids", "padding_mask")

    def cut(values, stop_ends):
        # An empty batch gives an empty chunk (reduce_max of nothing is the int32 minimum).
        width = (tf.reduce_max(stop_ends) + multiple - 1) // multiple * multiple
        width = tf.minimum(tf.maximum(width, multiple), full_width)
        return {name: values[name][:, :width] for name in names}

    def one_chunk():
        return function(cut(features, ends), **per_example)

    def chunked():
        order = tf.argsort(ends, stable=True)
        sorted_ends = tf.gather(ends, order)
        matrices = {name: tf.gather(features[name], order) for name in names}
        others = {name: tf.gather(value, order) for name, value in per_example.items()}

        def chunk_outputs(start):
            stop = tf.minimum(start + rows, batch)
            chunk = cut({name: value[start:stop] for name, value in matrices.items()}, sorted_ends[start:stop])
            return function(chunk, **{name: value[start:stop] for name, value in others.items()})

        # The first chunk outside the loop: its static shapes give the loop's.
        first = chunk_outputs(0)
        flat = tf.nest.flatten(first)
        arrays = [
            tf.TensorArray(
                value.dtype, size=0, dynamic_size=True, infer_shape=False, element_shape=[None, *value.shape[1:]]
            )
            for value in flat
        ]

        def body(index, arrays):
            outputs = tf.nest.flatten(chunk_outputs(index * rows))
            return index + 1, [array.write(index - 1, value) for array, value in zip(arrays, outputs)]

        chunks = (batch + rows - 1) // rows
        _, arrays = tf.while_loop(lambda index, _: index < chunks, body, [tf.constant(1), arrays])
        inverse = tf.math.invert_permutation(order)
        merged = [tf.gather(tf.concat([value, array.concat()], axis=0), inverse) for value, array in zip(flat, arrays)]
        return tf.nest.pack_sequence_as(first, merged)

    # A batch of at most `rows` examples is one chunk: no sorting and no loop, whose
    # scaffolding measured 10% of a MiniLM call at batch 1.
    return tf.cond(batch <= rows, one_chunk, chunked)


def classify_signature_name(domain):
    """The name of a domain's classify signature (characters outside `[A-Za-z0-9_.-]` -> `_`).

    >>> classify_signature_name("debian-de")
    'classify_debian-de'
    """
    return "classify_" + _SIGNATURE_SAFE.sub("_", domain)


class ServingModule(tf.Module):
    """Wraps a trained `MultiDomainTextClassifier` (its preprocessor inside) for TF Serving.

    Tokenization, routing to each example's domain head, softmax and label lookup are the
    classifier's own methods (`domain_ids`, `route`, `label_names`), traced into the
    signatures. Only the model's variables are tracked, once each, so a SavedModel of this
    module holds every weight a single time.

    Args:
        classifier: the `MultiDomainTextClassifier`.
        assets: optional `{name: path}` of files to ship in the SavedModel's `assets/`
            (label names, vocabulary, metadata); each becomes an attribute holding a
            `tf.saved_model.Asset`.
        chunk_rows: examples per encoder call: the text signatures sort a batch by length
            and run it `chunk_rows` texts at a time, each chunk at its own width
            (`in_length_chunks`).

    Example (`clf` is a trained classifier):

        module = ServingModule(clf)
        tf.saved_model.save(module, "export/xdomain/1", signatures=module.signatures())
    """

    def __init__(self, classifier, assets=None, chunk_rows=CHUNK_ROWS):
        super().__init__(name="xdomain_serving")
        if not hasattr(classifier, "route") or getattr(classifier, "preprocessor", None) is None:
            raise XDomainError(
                "only a MultiDomainTextClassifier with its preprocessor exports (load a run with "
                "MultiDomainTextClassifier.from_preset(run_dir))"
            )
        self._keras = _Hidden(model=classifier)
        # Each variable once: the Keras model itself is not tracked.
        self.model_variables = [variable.value if hasattr(variable, "value") else variable for variable in classifier.variables]
        self.domain_names = list(classifier.domain_names)
        self.domain_labels = {domain: list(labels) for domain, labels in classifier.domains.items()}
        self.max_labels = classifier.max_labels
        self.uses_adapters = "adapter_index" in classifier.encoder.input
        self.chunk_rows = int(chunk_rows)
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
        self._encode = tf.function(
            self._embedding, input_signature=[ids, ids, ids, tf.TensorSpec([None], tf.int32)], autograph=False
        )

    @property
    def model(self):
        return self._keras.model

    @property
    def preprocessor(self):
        return self._keras.model.preprocessor

    # --- graph pieces ---

    def _features(self, text, text_pair=None):
        return self.model.features(text, text_pair, pad_to="longest")

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

    def routed(self, features, domain_id):
        """`route` of the model's logits, in length-sorted chunks of `chunk_rows` texts."""
        return in_length_chunks(
            lambda chunk, domain_id: self.model.route(self.logits(chunk, domain_id), domain_id),
            features, self.chunk_rows, domain_id=domain_id,
        )

    def classify(self, text, domain, text_pair=None):
        if text_pair is None:
            text, domain = one_batch(text=text, domain=domain)
        else:
            text, domain, text_pair = one_batch(text=text, domain=domain, text_pair=text_pair)
        domain_id = self.model.domain_ids(domain)
        routed = self.routed(self.features(text, text_pair), domain_id)
        return {
            "label": self.model.label_names(domain_id, routed["label_id"]),
            "score": routed["score"],
            "probabilities": routed["probabilities"],
        }

    def classify_domain(self, text, domain):
        index = self.domain_names.index(domain)
        domain_id = tf.fill(tf.shape(text), tf.constant(index, tf.int32))
        routed = self.routed(self.features(text), domain_id)
        labels = len(self.domain_labels[domain])
        return {
            "label": self.model.label_names(domain_id, routed["label_id"]),
            "score": routed["score"],
            "probabilities": routed["probabilities"][:, :labels],
        }

    def _embedding(self, token_ids, segment_ids, padding_mask, adapter_index):
        from xdomain_tf.models.multi_domain_classifier import masked_mean

        inputs = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
        if self.uses_adapters:
            inputs["adapter_index"] = adapter_index
        outputs = self.model.encoder(inputs, training=False)
        if getattr(self.model, "pooling", "cls") == "mean":
            pooled = masked_mean(outputs["sequence_output"], padding_mask)
        else:
            pooled = outputs["pooled_output"]
        return tf.cast(pooled, tf.float32)

    def embedding(self, text, domain=None):
        if self.uses_adapters:
            text, domain = one_batch(text=text, domain=domain)
            adapter_index = self.model.domain_ids(domain)
        else:
            adapter_index = tf.zeros(tf.shape(text), tf.int32)  # unused
        return in_length_chunks(
            lambda chunk, adapter_index: {"embedding": self._encode(**chunk, adapter_index=adapter_index)},
            self.features(text), self.chunk_rows, adapter_index=adapter_index,
        )

    def logits_from_ids(self, token_ids, segment_ids, padding_mask):
        padding_mask = tokens_to_last_separator(token_ids, padding_mask, self.preprocessor.tokenizer.sep_token_id)
        features = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
        if not self.uses_adapters:
            # Every head sees the same encoder output: one forward pass for all domains.
            return in_length_chunks(
                lambda chunk: self.logits(chunk, tf.zeros(tf.shape(chunk["token_ids"])[:1], tf.int32)),
                features, self.chunk_rows,
            )
        # Per-domain adapters change the encoder: one pass per domain.
        return {
            domain: in_length_chunks(
                lambda chunk, index=index: self.logits(chunk, tf.fill(tf.shape(chunk["token_ids"])[:1], index)),
                features, self.chunk_rows,
            )[domain]
            for index, domain in enumerate(self.domain_names)
        }

    # --- signatures ---

    def signatures(self):
        """`{signature name: concrete function}` for `tf.saved_model.save`.

        Every signature first checks the rank of each input (`tf.ensure_shape`, before any
        tensorflow-text op): a server that feeds a scalar or a matrix where a vector of
        texts belongs (TF Serving does not check shapes itself) fails that request with an
        InvalidArgumentError naming the input, e.g. `Shape of tensor text [] is not
        compatible with expected shape [?]`, instead of crashing in the tokenizer.
        """
        strings = tf.TensorSpec([None], tf.string)
        ids = tf.TensorSpec([None, None], tf.int32)
        vectors = checked_inputs([None])
        matrices = checked_inputs([None, None])
        signatures = {
            "serving_default": tf.function(
                lambda text, domain: self.classify(*vectors(text=text, domain=domain)),
            ).get_concrete_function(text=strings, domain=strings),
            "serving_pair": tf.function(
                lambda text, text_pair, domain: self.classify(
                    *vectors(text=text, domain=domain, text_pair=text_pair)
                ),
            ).get_concrete_function(text=strings, text_pair=strings, domain=strings),
        }
        for domain in self.domain_names:
            signatures[classify_signature_name(domain)] = tf.function(
                lambda text, domain=domain: self.classify_domain(*vectors(text=text), domain)
            ).get_concrete_function(text=strings)
        if self.uses_adapters:
            signatures["encode"] = tf.function(
                lambda text, domain: self.embedding(*vectors(text=text, domain=domain))
            ).get_concrete_function(text=strings, domain=strings)
        else:
            signatures["encode"] = tf.function(lambda text: self.embedding(*vectors(text=text))).get_concrete_function(
                text=strings
            )
        signatures["predict_ids"] = tf.function(
            lambda token_ids, segment_ids, padding_mask: self.logits_from_ids(
                *checked_ids(
                    *matrices(token_ids=token_ids, segment_ids=segment_ids, padding_mask=padding_mask),
                    encoder_config=getattr(self.model.encoder, "encoder_config", None),
                )
            )
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


class _Hidden:
    """Holds objects that `tf.Module` must not track (the Keras model: its variables are
    tracked once through `model_variables`)."""

    def __init__(self, **values):
        self.__dict__.update(values)
