"""Knowledge distillation: a multi-domain teacher classifier teaches a smaller student with
the same domains and labels (soft labels at a temperature, hard labels, and optionally
hidden states and attention distributions); the teacher runs once, its outputs cached."""
import dataclasses
import hashlib
import json
import math
import time

import keras
import numpy as np
import tensorflow as tf

from xdomain_tf.errors import DataError, XDomainError

# The logit of a label slot that an example's domain does not have: softmax gives it 0.
PAD_LOGIT = -1e9
# Batches are padded to their longest example rounded up to this many tokens.
PAD_MULTIPLE = 8
# Each window of this many shuffled batches is sorted by length before it is cut.
LENGTH_WINDOW_BATCHES = 16
# log() of attention probabilities is taken at least at this value (masked keys are 0).
PROBABILITY_FLOOR = 1e-12


def soft_label_loss(teacher_logits, student_logits, temperature):
    """Per-example `T^2 * KL(softmax(teacher / T) || softmax(student / T))` (Hinton et al.
    2015; the T^2 keeps the gradients' scale as T changes).

    Label slots that hold `PAD_LOGIT` in both (labels of other domains, see
    `own_domain_logits`) get probability 0 and add nothing.

    Args:
        teacher_logits: float `[batch, labels]`.
        student_logits: float `[batch, labels]`.
        temperature: T > 0.

    Returns:
        float32 `[batch]`.

    Example:

    >>> import numpy as np
    >>> loss = soft_label_loss(np.array([[2.0, 0.0]]), np.array([[0.0, 0.0]]), temperature=2.0)
    >>> p = np.exp([1.0, 0.0]) / np.exp([1.0, 0.0]).sum()
    >>> bool(np.isclose(loss.numpy()[0], 4 * np.sum(p * np.log(p / 0.5)), rtol=1e-5))
    True
    """
    teacher_log = tf.nn.log_softmax(tf.cast(teacher_logits, tf.float32) / temperature, axis=-1)
    student_log = tf.nn.log_softmax(tf.cast(student_logits, tf.float32) / temperature, axis=-1)
    kl = tf.reduce_sum(tf.exp(teacher_log) * (teacher_log - student_log), axis=-1)
    return kl * (temperature**2)


def own_domain_logits(logits, domain_id, domain_names, max_labels):
    """Each example's own domain head: `[batch, max_labels]` logits, `PAD_LOGIT` past the
    domain's labels.

    Args:
        logits: `{domain: [batch, n_labels]}` (a classifier's outputs).
        domain_id: int `[batch]`.
        domain_names: the domains in id order.
        max_labels: the most labels of any domain.

    Example:

    >>> import numpy as np
    >>> own_domain_logits({"a": np.array([[1.0, 2.0]]), "b": np.array([[5.0]])}, np.array([1]), ["a", "b"], 2).numpy()
    array([[ 5.e+00, -1.e+09]], dtype=float32)
    """
    padded = []
    for domain in domain_names:
        values = tf.cast(logits[domain], tf.float32)
        missing = max_labels - values.shape[-1]
        if missing:
            values = tf.pad(values, [[0, 0], [0, missing]], constant_values=PAD_LOGIT)
        padded.append(values)
    return tf.gather(tf.stack(padded, axis=1), tf.cast(domain_id, tf.int32), axis=1, batch_dims=1)


def classifier_internals(classifier, features, training=False, hidden_states=False, attentions=False):
    """Runs a `MultiDomainClassifier` layer by layer: its logits and, when asked, every
    hidden state and every layer's attention probabilities (what intermediate-layer
    distillation compares). The logits equal `classifier(features)`'s.

    Args:
        classifier: a `MultiDomainClassifier` (e.g. a `MultiDomainTextClassifier`).
        features: `token_ids`, `segment_ids`, `padding_mask` and `domain_id`.
        training: dropout on (the student) or off (the teacher).
        hidden_states: also return `hidden_states`, a list: index 0 the embeddings'
            output, index i the output of layer i.
        attentions: also return `attentions`, a list: index i the probabilities
            `[batch, heads, queries, keys]` of layer i + 1's self-attention.

    Returns:
        `{"logits": {domain: [batch, n_labels]}, ["hidden_states"], ["attentions"]}`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.tasks import MultiDomainTextClassifier
    >>> clf = MultiDomainTextClassifier.from_preset("bert_tiny", domains={"news": ["a", "b"]}, sequence_length=8,
    ...                                             vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "goal"])
    >>> features = {**clf.features(tf.constant(["goal goal"])), "domain_id": tf.constant([0])}
    >>> outputs = classifier_internals(clf, features, hidden_states=True, attentions=True)
    >>> len(outputs["hidden_states"]), tuple(outputs["attentions"][0].shape)
    (3, (1, 2, 4, 4))
    >>> bool(np.allclose(outputs["logits"]["news"], clf(features)["news"], atol=1e-5))
    True
    """
    from xdomain_tf.models.multi_domain_classifier import masked_mean

    encoder = classifier.encoder
    training = bool(training) and encoder.trainable
    mask = features["padding_mask"]
    adapter_index = features["domain_id"] if getattr(encoder, "num_adapters", 0) else None
    x = encoder.embeddings(features["token_ids"], segment_ids=features["segment_ids"], training=training)
    states, probabilities = [x], []
    for block in encoder.transformer_layers:
        if attentions:
            attention_input = block.attention_layer_norm(x) if block.pre_layer_norm else x
            _, scores = block.attention(attention_input, padding_mask=mask, return_attention_scores=True)
            probabilities.append(scores)
        x = block(x, padding_mask=mask, causal=encoder.causal, adapter_index=adapter_index, training=training)
        states.append(x)
    if encoder.final_layer_norm is not None:
        x = encoder.final_layer_norm(x)
        states[-1] = x
    if classifier.pooling == "cls":
        pooled = encoder.pooler(x[:, 0, :])
    else:
        pooled = masked_mean(x, mask)
    outputs = {
        "logits": {
            name: head(pooled, training=training) for name, head in zip(classifier.domain_names, classifier.heads)
        }
    }
    if hidden_states:
        outputs["hidden_states"] = states
    if attentions:
        outputs["attentions"] = probabilities
    return outputs


@dataclasses.dataclass
class TeacherCache:
    """The teacher's outputs on the distillation examples, computed once (the teacher is
    frozen) and reused by every epoch (and by other students of the same examples).

    Args:
        logits: float32 `[examples, max_labels]`: each example's own domain head,
            `PAD_LOGIT` past its domain's labels.
        lengths: int `[examples]`: the teacher's token count of each example.
        hidden_states: None, or per example float16 `[layers, length, hidden]`: the
            teacher hidden states named by `hidden_layers`.
        attentions: None, or per example float16 `[layers, heads, length, length]`: the
            attention probabilities of the teacher layers named by `attention_layers`.
        hidden_layers: teacher hidden-state indices cached (0: embeddings).
        attention_layers: teacher layer indices whose attention is cached (1-based).
        fingerprint: digest of the examples (text, pair, domain, in order).
        seconds: how long the teacher pass took.

    Example:

    >>> cache = TeacherCache(np.zeros((2, 3), "float32"), np.array([5, 7]), fingerprint="x", seconds=1.5)
    >>> cache.size, cache.nbytes
    (2, 24)
    """

    logits: np.ndarray
    lengths: np.ndarray
    hidden_states: list = None
    attentions: list = None
    hidden_layers: tuple = ()
    attention_layers: tuple = ()
    fingerprint: str = ""
    seconds: float = 0.0

    @property
    def size(self):
        """The number of examples."""
        return len(self.logits)

    @property
    def nbytes(self):
        """Bytes held."""
        total = self.logits.nbytes
        for arrays in (self.hidden_states, self.attentions):
            total += sum(array.nbytes for array in arrays or ())
        return int(total)


@dataclasses.dataclass
class DistillationResult:
    """What `distill` returns.

    Args:
        student: the trained student `MultiDomainTextClassifier` (the best epoch's
            weights when validation data was given).
        history: one dict per epoch: losses, seconds, validation scores.
        teacher_cache: the `TeacherCache` (pass it as `teacher_cache=` to distill another
            student on the same examples without running the teacher again), or None when
            the teacher was not needed (`alpha=1`).
        summary: examples, steps, parameters, teacher pass and the time its cache saved,
            best epoch.

    Example:

    >>> DistillationResult(student=None, history=[{"epoch": 1}], teacher_cache=None, summary={}).history
    [{'epoch': 1}]
    """

    student: object
    history: list
    teacher_cache: TeacherCache
    summary: dict


def distill(
    teacher,
    student,
    train,
    unlabelled=None,
    valid=None,
    temperature=2.0,
    alpha=0.5,
    hidden_loss=0.0,
    attention_loss=0.0,
    epochs=3,
    batch_size=32,
    learning_rate=None,
    seed=0,
    layer_map=None,
    teacher_cache=None,
    out=None,
    log=None,
):
    """Trains `student` to classify like `teacher` (same domains and labels).

    The loss of a batch is

        (1 - alpha) * mean(T^2 * KL(teacher_T || student_T))       every example
        + alpha * mean(cross-entropy(label, student))                labelled examples
        + hidden_loss * mean((project(student_hidden) - teacher_hidden)^2)
        + attention_loss * mean(KL(teacher_attention || student_attention))

    each on the example's own domain head (`soft_label_loss`, `own_domain_logits`).
    Records without a `label` (all of `unlabelled`, and any in `train`) get the soft
    loss only: the teacher labels them.

    Intermediate transfer (off by default): student hidden state i is compared with
    teacher hidden state `layer_map[i]` (index 0 the embeddings) on real tokens, through
    a learned linear projection when the widths differ (TinyBERT); attention
    probabilities of student layer i with those of teacher layer `layer_map[i]`, on real
    query rows; this needs as many attention heads in both (a narrower student with
    other heads uses `hidden_loss`). An example whose student tokens differ in number
    from the teacher's (only possible with a trimmed vocabulary on text it was not
    trimmed on) skips the intermediate losses.

    The teacher runs once, over every training example, before the first epoch: its
    logits (and the hidden states / attentions the losses need, float16) stay in memory
    (`TeacherCache`; hidden states cost `examples x layers x tokens x width x 2` bytes,
    attentions `examples x layers x heads x tokens^2 x 2`). The summary reports the
    teacher pass's seconds and what recomputing it each epoch would have cost.

    Training: AdamW (weight decay 0.01), linear warmup over 10% of the steps then
    decay to 0, peak `learning_rate`; batches of texts of similar length (windows of
    `LENGTH_WINDOW_BATCHES` shuffled batches sorted by length), reshuffled each epoch.
    With `valid`, the student is scored (macro-F1 per domain) after each epoch and the
    best epoch's weights (highest mean macro-F1) are kept.

    Args:
        teacher: a `MultiDomainTextClassifier`, a classifier run directory or `.keras` file.
        student: a `MultiDomainTextClassifier`, or a SPEC (see
            `xdomain_tf.tasks.student_spec.StudentSpec`, e.g. `"layers=3,vocab=trim"`,
            `"bert_tiny"`) built from the teacher (`build_student`, trimmed on the
            training and unlabelled text); None: `DEFAULT_STUDENT`.
        train: data files or records (`text`, `domain`, optional `label`, `text_pair`).
        unlabelled: more data files or records of the same domains; labels are ignored.
        valid: labelled data files or records to score each epoch on.
        temperature: T > 0 of the soft labels.
        alpha: weight in [0, 1] of the hard-label loss (1: labels alone, no teacher).
        hidden_loss: weight >= 0 of the hidden-state loss.
        attention_loss: weight >= 0 of the attention loss.
        epochs: passes over the examples.
        batch_size: examples per step.
        learning_rate: peak learning rate (default: the student's `learning_rate`, else 5e-5).
        seed: seed of the initialisation, dropout and order.
        layer_map: teacher hidden-state index for each student hidden state (default:
            from the SPEC, else evenly spaced `round(i * N / K)`).
        teacher_cache: a `TeacherCache` of an earlier `distill` on the same examples.
        out: a run directory to write (as `xdomain-tf train --out` does: model.keras,
            vocabulary, label space, options, history), or None.
        log: a function taking one line of progress.

    Returns:
        A `DistillationResult`.

    Example:

    >>> from xdomain_tf.tasks import MultiDomainTextClassifier
    >>> records = [{"text": "a late goal won the cup", "domain": "news", "label": "sport"},
    ...            {"text": "shares fell on the market", "domain": "news", "label": "business"}] * 8
    >>> teacher = MultiDomainTextClassifier.from_preset(
    ...     "bert_mini", domains={"news": ["business", "sport"]}, sequence_length=16,
    ...     vocabulary=[r["text"] for r in records], vocabulary_size=60)
    >>> unlabelled = [{"text": "the cup final", "domain": "news"}, {"text": "the market", "domain": "news"}]
    >>> result = distill(teacher, "bert_tiny", records, unlabelled=unlabelled, epochs=2, batch_size=8)
    >>> result.summary["examples"], result.summary["unlabelled_examples"], len(result.history)
    (18, 2, 2)
    >>> distill(teacher, "bert_tiny", records, temperature=0)
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: temperature must be a number > 0, got 0
    """
    from xdomain_tf.tasks import MultiDomainTextClassifier, load_classifier
    from xdomain_tf.tasks.student_spec import DEFAULT_STUDENT, build_student

    log = log or (lambda line: None)
    _check_hyperparameters(temperature, alpha, hidden_loss, attention_loss, epochs, batch_size, learning_rate)
    teacher_name = _paths(teacher)[0] if not isinstance(teacher, MultiDomainTextClassifier) else "<classifier>"
    teacher, _ = load_classifier(teacher)
    labelled = _read_examples(train, teacher, "train", keep_labels=True)
    extra = _read_examples(unlabelled, teacher, "unlabelled", keep_labels=False) if unlabelled is not None else []
    examples = labelled + extra
    valid_records = _read_examples(valid, teacher, "valid", keep_labels=True) if valid is not None else None
    if valid_records is not None and any(record.get("label") is None for record in valid_records):
        raise XDomainError("valid: every record needs a label")
    if alpha == 1 and any(record.get("label") is None for record in examples):
        raise XDomainError("records without labels need alpha < 1: they learn from the teacher's soft labels only")
    keras.utils.set_random_seed(seed)
    spec = None
    if student is None:
        student = DEFAULT_STUDENT
    if not isinstance(student, MultiDomainTextClassifier):
        texts = [text for record in examples for text in (record["text"], record.get("text_pair")) if text]
        built = build_student(teacher, student, texts=texts)
        student, spec = built.classifier, built.spec
        layer_map = layer_map if layer_map is not None else built.layer_map
        cut = f", teacher layers {built.teacher_layers}" if built.teacher_layers else ""
        log(f"student {spec}: {_describe(student)}{cut}")
    _check_same_labels(teacher, student)
    layer_map = _layer_map(teacher, student, layer_map)
    if attention_loss:
        _check_attention_heads(teacher, student, layer_map)
    log(f"teacher: {_describe(teacher)}")
    log(f"distilling on {len(examples)} examples ({len(extra)} unlabelled, "
        f"{sum(r.get('label') is None for r in labelled)} unlabelled in train)")

    run, lock = None, None
    options = {
        "teacher": teacher_name, "student": str(spec) if spec is not None else "<classifier>",
        "train": _paths(train), "unlabelled": _paths(unlabelled), "valid": _paths(valid),
        "temperature": temperature, "alpha": alpha, "hidden_loss": hidden_loss, "attention_loss": attention_loss,
        "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
        "layer_map": layer_map,
    }
    if out is not None:
        from xdomain_tf.runs import RunDirectory

        run = RunDirectory(out)
        lock = run.claim(options, data_options=("train", "unlabelled", "valid"))
    try:
        result = _Distillation(
            teacher, student, examples, valid_records, temperature, alpha, hidden_loss, attention_loss,
            batch_size, learning_rate, seed, layer_map, log,
        ).run(epochs, teacher_cache)
        result.summary["student_spec"] = options["student"]
        if run is not None:
            _save_run(run, result, options, log)
    finally:
        if lock is not None:
            lock.release()
    return result


class _Distillation:
    """One distillation: the examples tokenized for the student, the teacher's cache, the
    projection, the optimizer and the training loop."""

    def __init__(self, teacher, student, examples, valid, temperature, alpha, hidden_loss, attention_loss,
                 batch_size, learning_rate, seed, layer_map, log):
        self.teacher, self.student, self.examples, self.valid = teacher, student, examples, valid
        self.temperature, self.alpha = float(temperature), float(alpha)
        self.hidden_loss, self.attention_loss = float(hidden_loss), float(attention_loss)
        self.batch_size, self.seed, self.layer_map, self.log = batch_size, seed, layer_map, log
        self.learning_rate = learning_rate
        self.domain_names = teacher.domain_names
        self.max_labels = max(len(labels) for labels in teacher.domains.values())
        self.needs_teacher = self.alpha < 1 or self.hidden_loss > 0 or self.attention_loss > 0
        self.hidden_layers = tuple(layer_map) if self.hidden_loss else ()
        self.attention_layers = tuple(max(1, layer) for layer in layer_map[1:]) if self.attention_loss else ()
        self.projection = None
        teacher_width = teacher.encoder.encoder_config.hidden_size
        if self.hidden_loss and student.encoder.encoder_config.hidden_size != teacher_width:
            self.projection = keras.layers.Dense(teacher_width, name="hidden_projection")
            self.projection.build((None, None, student.encoder.encoder_config.hidden_size))

    # --- the examples as arrays ---

    def _columns(self, records):
        columns = {
            "text": [record["text"] for record in records],
            "domain": [record["domain"] for record in records],
        }
        if any(record.get("text_pair") for record in records):
            columns["text_pair"] = [record.get("text_pair", "") for record in records]
        return columns

    def _tokenized(self, classifier, records):
        """Per example: (token_ids, segment_ids) arrays cut to its length, in input order."""
        columns = self._columns(records)
        pairs = columns.get("text_pair", [""] * len(records))
        order = sorted(range(len(records)), key=lambda i: len(columns["text"][i]) + len(pairs[i]))
        rows = [None] * len(records)
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            features = classifier.features(
                tf.constant([columns["text"][i] for i in batch]),
                tf.constant([columns["text_pair"][i] for i in batch]) if "text_pair" in columns else None,
                pad_to="longest",
            )
            lengths = features["padding_mask"].numpy().sum(axis=1)
            for row, index in enumerate(batch):
                length = int(lengths[row])
                rows[index] = (
                    features["token_ids"].numpy()[row, :length].astype(np.int32),
                    features["segment_ids"].numpy()[row, :length].astype(np.int32),
                )
        return rows

    def _domain_ids(self, records):
        return np.array([self.domain_names.index(record["domain"]) for record in records], np.int32)

    def _label_ids(self, records):
        return np.array(
            [-1 if record.get("label") is None else self.teacher.domains[record["domain"]].index(record["label"])
             for record in records],
            np.int32,
        )

    # --- the teacher, once ---

    def teacher_pass(self):
        """The `TeacherCache` of the examples: one teacher forward pass per example."""
        started = time.perf_counter()
        records = self.examples
        tokens = self._tokenized(self.teacher, records)
        domain_ids = self._domain_ids(records)
        lengths = np.array([len(ids) for ids, _ in tokens], np.int64)
        logits = np.zeros((len(records), self.max_labels), np.float32)
        hidden = [None] * len(records) if self.hidden_layers else None
        attention = [None] * len(records) if self.attention_layers else None
        for batch in _length_batches(lengths, self.batch_size):
            features = _padded(tokens, batch, lengths)
            features["domain_id"] = tf.constant(domain_ids[batch])
            outputs = classifier_internals(
                self.teacher, features, hidden_states=bool(hidden), attentions=bool(attention)
            )
            own = own_domain_logits(outputs["logits"], features["domain_id"], self.domain_names, self.max_labels)
            logits[batch] = own.numpy()
            if hidden is not None:
                stacked = np.stack([outputs["hidden_states"][i].numpy() for i in self.hidden_layers], axis=1)
                for row, index in enumerate(batch):
                    hidden[index] = stacked[row, :, : lengths[index]].astype(np.float16)
            if attention is not None:
                stacked = np.stack([outputs["attentions"][i - 1].numpy() for i in self.attention_layers], axis=1)
                for row, index in enumerate(batch):
                    length = lengths[index]
                    attention[index] = stacked[row, :, :, :length, :length].astype(np.float16)
        cache = TeacherCache(
            logits, lengths, hidden, attention, self.hidden_layers, self.attention_layers,
            fingerprint=_fingerprint(records), seconds=time.perf_counter() - started,
        )
        self.log(f"teacher pass: {cache.size} examples in {cache.seconds:.1f} s, cached ({cache.nbytes / 1e6:.1f} MB)")
        return cache

    def _checked_cache(self, cache):
        if cache is None:
            return self.teacher_pass()
        if cache.fingerprint != _fingerprint(self.examples):
            raise XDomainError("teacher_cache: it was computed on other examples (text, pairs, domains or order differ)")
        if tuple(cache.hidden_layers) != self.hidden_layers or tuple(cache.attention_layers) != self.attention_layers:
            raise XDomainError(
                "teacher_cache: it holds other intermediate outputs (hidden layers "
                f"{list(cache.hidden_layers)}, attention layers {list(cache.attention_layers)}) than these losses need"
            )
        self.log(f"teacher pass: reusing the cache of {cache.size} examples")
        return cache

    # --- the student's steps ---

    def _losses(self, batch, training):
        student_outputs = classifier_internals(
            self.student, batch["features"], training=training,
            hidden_states=self.hidden_loss > 0, attentions=self.attention_loss > 0,
        )
        logits = own_domain_logits(
            student_outputs["logits"], batch["features"]["domain_id"], self.domain_names, self.max_labels
        )
        labels = batch["label"]
        has_label = tf.cast(labels >= 0, tf.float32)
        cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.maximum(labels, 0), logits)
        hard = tf.reduce_sum(cross_entropy * has_label) / tf.maximum(tf.reduce_sum(has_label), 1.0)
        losses = {"hard_loss": hard}
        total = self.alpha * hard
        if self.alpha < 1:
            soft = tf.reduce_mean(soft_label_loss(batch["teacher_logits"], logits, self.temperature))
            losses["soft_loss"] = soft
            total += (1 - self.alpha) * soft
        if self.hidden_loss:
            losses["hidden_loss"] = self._hidden_loss(student_outputs["hidden_states"], batch)
            total += self.hidden_loss * losses["hidden_loss"]
        if self.attention_loss:
            losses["attention_loss"] = self._attention_loss(student_outputs["attentions"], batch)
            total += self.attention_loss * losses["attention_loss"]
        losses["loss"] = total
        return losses

    def _token_weights(self, batch):
        """`[batch, tokens]` float: 1 on real tokens of examples whose lengths agree."""
        mask = tf.cast(batch["features"]["padding_mask"], tf.float32)
        return mask * batch["aligned"][:, tf.newaxis]

    def _hidden_loss(self, states, batch):
        weights = self._token_weights(batch)
        student = tf.stack([states[i] for i in range(len(self.layer_map))], axis=1)  # [b, L, t, h]
        if self.projection is not None:
            student = self.projection(student)
        squared = tf.reduce_mean(tf.square(tf.cast(student, tf.float32) - batch["teacher_hidden"]), axis=-1)
        return tf.reduce_sum(squared * weights[:, tf.newaxis, :]) / tf.maximum(
            tf.reduce_sum(weights) * len(self.layer_map), 1.0
        )

    def _attention_loss(self, attentions, batch):
        weights = self._token_weights(batch)  # real query rows
        student = tf.stack([tf.cast(a, tf.float32) for a in attentions], axis=1)  # [b, L, heads, q, k]
        teacher = batch["teacher_attention"]
        def log_of(probabilities):
            return tf.math.log(tf.maximum(probabilities, PROBABILITY_FLOOR))

        kl = tf.reduce_sum(teacher * (log_of(teacher) - log_of(student)), axis=-1)  # [b, L, heads, q]
        count = tf.reduce_sum(weights) * float(kl.shape[1] * kl.shape[2])
        return tf.reduce_sum(kl * weights[:, tf.newaxis, tf.newaxis, :]) / tf.maximum(count, 1.0)

    def _batches(self, epoch, tokens, cache, domain_ids, label_ids, aligned):
        rng = np.random.default_rng([self.seed, epoch])
        lengths = np.array([len(ids) for ids, _ in tokens])
        for batch in _shuffled_length_batches(lengths, self.batch_size, rng):
            features = _padded(tokens, batch, lengths)
            features["domain_id"] = tf.constant(domain_ids[batch])
            item = {
                "features": features,
                "label": tf.constant(label_ids[batch]),
                "teacher_logits": tf.constant(
                    cache.logits[batch] if cache is not None else np.zeros((len(batch), self.max_labels), np.float32)
                ),
                "aligned": tf.constant(aligned[batch]),
            }
            width = int(features["token_ids"].shape[1])
            if self.hidden_loss:
                hidden = [cache.hidden_states[i] for i in batch]
                item["teacher_hidden"] = tf.constant(_pad_stack(hidden, (1,), width, aligned[batch]))
            if self.attention_loss:
                attention = [cache.attentions[i] for i in batch]
                item["teacher_attention"] = tf.constant(_pad_stack(attention, (2, 3), width, aligned[batch]))
            yield item

    def run(self, epochs, teacher_cache):
        records = self.examples
        cache = self._checked_cache(teacher_cache) if self.needs_teacher else None
        started = time.perf_counter()
        tokens = self._tokenized(self.student, records)
        domain_ids, label_ids = self._domain_ids(records), self._label_ids(records)
        aligned = np.ones(len(records), np.float32)
        if cache is not None and (self.hidden_loss or self.attention_loss):
            student_lengths = np.array([len(ids) for ids, _ in tokens])
            aligned = (student_lengths == cache.lengths).astype(np.float32)
            if not aligned.all():
                self.log(f"{int(len(aligned) - aligned.sum())} examples tokenize to other lengths for the student: "
                         "no intermediate losses on them")
        steps_per_epoch = math.ceil(len(records) / self.batch_size)
        total_steps = steps_per_epoch * epochs
        if self.learning_rate is not None:
            self.student.learning_rate = float(self.learning_rate)
        optimizer = self.student.default_optimizer(total_steps)
        variables = list(self.student.trainable_variables)
        if self.projection is not None:
            variables += list(self.projection.trainable_variables)
        optimizer.build(variables)

        @tf.function(reduce_retracing=True)
        def train_step(batch):
            with tf.GradientTape() as tape:
                losses = self._losses(batch, training=True)
            gradients = tape.gradient(losses["loss"], variables)
            optimizer.apply_gradients(zip(gradients, variables))
            return losses

        history, best, best_weights = [], None, None
        for epoch in range(epochs):
            epoch_started = time.perf_counter()
            totals, count = {}, 0
            for batch in self._batches(epoch, tokens, cache, domain_ids, label_ids, aligned):
                losses = train_step(batch)
                size = int(batch["label"].shape[0])
                for name, value in losses.items():
                    totals[name] = totals.get(name, 0.0) + float(value) * size
                count += size
            row = {"epoch": epoch + 1, **{name: value / count for name, value in totals.items()}}
            row["seconds"] = time.perf_counter() - epoch_started
            if self.valid is not None:
                row.update(self._validation_scores())
                score = row["val_mean_macro_f1"]
                if best is None or score > best[1]:
                    best = (epoch + 1, score)
                    best_weights = self.student.get_weights()
            history.append(row)
            self.log("epoch {epoch}: ".format(**row) + ", ".join(
                f"{name} {value:.4f}" for name, value in row.items() if name not in ("epoch", "seconds")
            ) + f" ({row['seconds']:.1f} s)")
        if best_weights is not None and best[0] != epochs:
            self.student.set_weights(best_weights)
            self.log(f"kept the best epoch ({best[0]}, val_mean_macro_f1 {best[1]:.4f})")
        training_seconds = time.perf_counter() - started
        summary = {
            "examples": len(records),
            "unlabelled_examples": int(np.sum(label_ids < 0)),
            "steps": total_steps,
            "epochs": epochs,
            "parameters": {"teacher": self.teacher.count_params(), "student": self.student.count_params()},
            "training_seconds": round(training_seconds, 2),
            "best_epoch": best[0] if best else None,
        }
        if cache is not None:
            # The teacher's outputs are reused by epochs 2..E (and by any student given this cache).
            summary["teacher_pass_seconds"] = round(cache.seconds, 2)
            summary["teacher_cache_bytes"] = cache.nbytes
            summary["teacher_seconds_saved"] = round(cache.seconds * (epochs - 1), 2)
            self.log(
                f"teacher cache: {cache.seconds:.1f} s once instead of {cache.seconds * epochs:.1f} s over {epochs} "
                f"epochs ({cache.seconds * (epochs - 1):.1f} s saved; training took {training_seconds:.1f} s)"
            )
        return DistillationResult(self.student, history, cache, summary)

    def _validation_scores(self):
        from xdomain_tf.evaluation.multi_domain_report import evaluation_report
        from xdomain_tf.training.record_classification import classify_records, evaluate_rows

        report = evaluation_report(evaluate_rows(classify_records(self.student, self.valid), self.student.domains))
        scores = {f"val_{domain}_macro_f1": values["macro_f1"] for domain, values in report["domains"].items()}
        scores["val_mean_macro_f1"] = float(np.mean(list(scores.values())))
        return scores


def _check_hyperparameters(temperature, alpha, hidden_loss, attention_loss, epochs, batch_size, learning_rate):
    def number(value):
        return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)

    if not number(temperature) or temperature <= 0:
        raise XDomainError(f"temperature must be a number > 0, got {temperature!r}")
    if not number(alpha) or not 0 <= alpha <= 1:
        raise XDomainError(f"alpha must be a number in [0, 1] (the weight of the hard-label loss), got {alpha!r}")
    for name, value in (("hidden_loss", hidden_loss), ("attention_loss", attention_loss)):
        if not number(value) or value < 0:
            raise XDomainError(f"{name} must be a weight >= 0, got {value!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise XDomainError(f"{name} must be a positive integer, got {value!r}")
    if learning_rate is not None and (not number(learning_rate) or not 0 < learning_rate < 1):
        raise XDomainError(f"learning_rate must be in (0, 1), got {learning_rate!r}")


def _read_examples(source, teacher, name, keep_labels):
    """Records of `source` (data files or record dicts) checked against the teacher's
    domains and labels: `{"text", "domain", ["text_pair"], "label" or None}`."""
    import os

    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.record_schema import normalize_record

    default_domain = teacher.domain_names[0] if len(teacher.domain_names) == 1 else None
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    items = list(source)
    if not items:
        raise XDomainError(f"{name}: no examples given")
    if all(isinstance(item, (str, os.PathLike)) for item in items):
        located = read_records(items, default_domain=default_domain, require_label=False, with_location=True)
    elif all(isinstance(item, dict) for item in items):
        located = (
            (normalize_record(item, default_domain=default_domain, require_label=False, path=f"<{name}>", line=index),
             f"<{name}>", index)
            for index, item in enumerate(items, 1)
        )
    else:
        raise XDomainError(f"{name} must be data file paths or record dicts")
    records = []
    for record, path, line in located:
        domain = record.get("domain")
        if domain not in teacher.domains:
            raise DataError(
                f"the teacher has no domain {domain!r} (its domains: {', '.join(teacher.domain_names)})",
                path=path, line=line, field="domain",
            )
        label = record.get("label") if keep_labels else None
        if label is not None and label not in teacher.domains[domain]:
            raise DataError(
                f"the teacher's domain {domain!r} has no label {label!r} (its labels: {', '.join(teacher.domains[domain])})",
                path=path, line=line, field="label",
            )
        example = {"text": record["text"], "domain": domain, "label": label}
        if record.get("text_pair"):
            example["text_pair"] = record["text_pair"]
        records.append(example)
    if not records:
        raise XDomainError(f"{name}: no examples given")
    return records


def _check_same_labels(teacher, student):
    if list(student.domains) != list(teacher.domains):
        raise XDomainError(
            f"the student's domains ({', '.join(student.domains)}) differ from the teacher's "
            f"({', '.join(teacher.domains)})"
        )
    for domain, labels in teacher.domains.items():
        if list(student.domains[domain]) != list(labels):
            raise XDomainError(
                f"domain {domain!r}: the student's labels ({', '.join(student.domains[domain])}) differ from the "
                f"teacher's ({', '.join(labels)})"
            )


def _heads(config, layer):
    """Attention heads of layer `layer` (0-based); pruned encoders have per-layer counts."""
    heads_of = getattr(config, "heads_of", None)
    return heads_of(layer) if heads_of is not None else config.num_attention_heads


def _check_attention_heads(teacher, student, layer_map):
    teacher_config, student_config = teacher.encoder.encoder_config, student.encoder.encoder_config
    for layer, teacher_state in enumerate(layer_map[1:]):
        teacher_heads = _heads(teacher_config, max(1, teacher_state) - 1)
        student_heads = _heads(student_config, layer)
        if teacher_heads != student_heads:
            raise XDomainError(
                f"attention_loss compares attention heads one to one: student layer {layer + 1} has {student_heads} "
                f"heads, teacher layer {max(1, teacher_state)} has {teacher_heads} (use hidden_loss)"
            )


def _layer_map(teacher, student, layer_map):
    teacher_depth = teacher.encoder.encoder_config.num_hidden_layers
    student_depth = student.encoder.encoder_config.num_hidden_layers
    if layer_map is None:
        return [round(index * teacher_depth / student_depth) for index in range(student_depth + 1)]
    layer_map = [int(index) for index in layer_map]
    if len(layer_map) != student_depth + 1 or not all(0 <= index <= teacher_depth for index in layer_map):
        raise XDomainError(
            f"layer_map must give a teacher hidden state (0..{teacher_depth}) for each of the student's "
            f"{student_depth + 1} hidden states, got {layer_map}"
        )
    return layer_map


def _length_batches(lengths, batch_size):
    """Index batches in length order (the teacher pass: least padding)."""
    order = np.argsort(lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def _shuffled_length_batches(lengths, batch_size, rng):
    """Shuffled index batches of similar lengths (see `distill`)."""
    order = rng.permutation(len(lengths))
    window = batch_size * LENGTH_WINDOW_BATCHES
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[offset : offset + batch_size] for offset in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _padded(tokens, batch, lengths):
    """Packed features of the examples `batch`, padded to a multiple of `PAD_MULTIPLE`."""
    width = int(math.ceil(max(lengths[batch]) / PAD_MULTIPLE) * PAD_MULTIPLE)
    token_ids = np.zeros((len(batch), width), np.int32)
    segment_ids = np.zeros((len(batch), width), np.int32)
    padding_mask = np.zeros((len(batch), width), np.int32)
    for row, index in enumerate(batch):
        ids, segments = tokens[index]
        token_ids[row, : len(ids)] = ids
        segment_ids[row, : len(ids)] = segments
        padding_mask[row, : len(ids)] = 1
    return {
        "token_ids": tf.constant(token_ids),
        "segment_ids": tf.constant(segment_ids),
        "padding_mask": tf.constant(padding_mask),
    }


def _pad_stack(arrays, axes, width, aligned):
    """float32 stack of per-example arrays, each zero-padded to `width` along `axes`
    (examples not `aligned` are zeros: their intermediate losses are masked)."""
    first = arrays[0]
    shape = [len(arrays), *first.shape]
    for axis in axes:
        shape[axis + 1] = width
    stacked = np.zeros(shape, np.float32)
    for row, (array, keep) in enumerate(zip(arrays, aligned)):
        if not keep:
            continue
        index = (row,) + tuple(slice(0, min(size, width)) for size in array.shape)
        stacked[index] = array[tuple(slice(0, min(size, width)) for size in array.shape)]
    return stacked


def _fingerprint(records):
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps([record["text"], record.get("text_pair"), record["domain"]]).encode("utf-8"))
    return digest.hexdigest()


def _describe(classifier):
    config = classifier.encoder.encoder_config
    return (
        f"{config.num_hidden_layers} layers, width {config.hidden_size}, {config.num_attention_heads} heads, "
        f"vocabulary {config.vocab_size}, {classifier.count_params():,} parameters"
    )


def _paths(source):
    import os

    if source is None:
        return []
    if isinstance(source, (str, os.PathLike)):
        return [os.fspath(source)]
    items = list(source)
    if items and all(isinstance(item, (str, os.PathLike)) for item in items):
        return [os.fspath(item) for item in items]
    return [f"<{len(items)} records>"]


def _save_run(run, result, options, log):
    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.utils.atomic import write_json_atomic

    student = result.student
    write_json_atomic(run.history_path, {"epochs": result.history})
    run.save(
        kind="classifier",
        model=student,
        encoder=student.encoder,
        encoder_config=student.encoder.encoder_config,
        preprocessor=student.preprocessor,
        options=options,
        label_space=LabelSpace(student.domains),
        extra={"summary": result.summary},
    )
    log(f"wrote {run.path}")
