"""`IntegratedGradients`: why a `MultiDomainTextClassifier` gave its label, word by word.

Integrated gradients (Sundararajan et al., 2017) on the input token embeddings, for the
predicted label of each example's own domain head, summed from word pieces to the words
of the input text with character offsets into it.
"""
import numpy as np
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.models.multi_domain_classifier import masked_mean
from xdomain_tf.tasks.multi_domain_text_classifier import length_order

DEFAULT_STEPS = 50
BASELINES = ("pad", "mask", "zero")
POOLINGS = ("cls", "mean", "last")
# Interpolated inputs per gradient call: a bound on memory (each is one encoder pass).
DEFAULT_ROWS = 32
# How far the re-run embedding path may stray from the model's own probabilities.
AGREEMENT_TOLERANCE = {"float32": 1e-4}
LOW_PRECISION_TOLERANCE = 2e-2


class IntegratedGradients:
    """Integrated-gradients word attributions of a classifier's predictions.

    For each text the model predicts a label with its own domain's head; the explained
    quantity `F` is that label's softmax probability (the `score` of `classify`). Each
    word piece's input embedding `x` moves along the straight line from a baseline `x'`
    to `x`, and its attribution is `(x - x') . mean_k grad F(x' + a_k (x - x'))` with
    the midpoint Riemann rule `a_k = (k + 0.5) / steps`. A word's attribution is the sum
    over its pieces. Positive values pushed the score up, negative ones down.

    Baselines: `"pad"` (default) puts the `[PAD]` token's embedding at every word piece,
    `"mask"` the `[MASK]` embedding, `"zero"` a zero vector; `[CLS]`, `[SEP]`, segment
    and position embeddings stay as they are, so only the words differ between the two
    ends of the path.

    Completeness: the attributions sum to `F(x) - F(x')` up to the Riemann error, which
    falls as `steps` grows. Every result reports it: `completeness = {"sum",
    "score_difference", "error"}` with `error = |sum - score_difference|`.

    Words are BERT's pre-tokenizer words (split at whitespace; each punctuation mark and
    CJK ideograph is a word of its own), with `start`/`end` character offsets into the
    text as given (`text[start:end] == word["text"]`; upper case, accents and characters
    that normalization removes are kept). Words past the classifier's sequence length
    were never seen: their attribution is 0.0 and they carry `"truncated": True` (a word
    cut inside also gets the flag, and the attribution of its pieces that were seen).

    The gradients run in batches of `steps` interpolated copies of each text (up to
    `rows` copies per call) in one `tf.function`, traced once per classifier. The
    encoder's layers are re-run from the embedding output; a check against the model's
    own probabilities refuses an encoder this path does not reproduce.

    Args:
        classifier: a `MultiDomainTextClassifier` (pooling `"cls"`, `"mean"` or `"last"`).
        rows: interpolated inputs per gradient call (memory grows with it).

    Example:

    >>> from xdomain_tf.tasks import MultiDomainTextClassifier
    >>> clf = MultiDomainTextClassifier.from_preset(
    ...     "bert_tiny", domains={"news": ["business", "sport"]}, sequence_length=16,
    ...     vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "goal", "shares", "!"])
    >>> [result] = IntegratedGradients(clf).explain(["Goal!"], "news", steps=64)
    >>> [(word["text"], word["start"], word["end"]) for word in result["words"]]
    [('Goal', 0, 4), ('!', 4, 5)]
    >>> result["completeness"]["error"] < 1e-3
    True
    """

    def __init__(self, classifier, rows=DEFAULT_ROWS):
        if getattr(classifier, "pooling", None) not in POOLINGS:
            raise XDomainError(
                f"explanations need a classifier pooling with one of {POOLINGS}, got "
                f"{getattr(classifier, 'pooling', None)!r}"
            )
        if classifier.preprocessor is None:
            raise XDomainError("this classifier has no preprocessor: explanations need its tokenizer")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise XDomainError(f"rows must be a positive integer, got {rows!r}")
        self.classifier = classifier
        self.rows = rows
        tokenizer = classifier.preprocessor.tokenizer
        self._special_ids = (tokenizer.cls_token_id, tokenizer.sep_token_id)
        vocabulary = tokenizer.vocabulary
        indicator = tokenizer.suffix_indicator
        self._continues_word = np.array(
            [len(token) > len(indicator) and token.startswith(indicator) for token in vocabulary]
        )
        features = [
            tf.TensorSpec([None, None], tf.int32),  # token_ids
            tf.TensorSpec([None, None], tf.int32),  # segment_ids
            tf.TensorSpec([None, None], tf.int32),  # padding_mask
            tf.TensorSpec([None], tf.int32),  # domain_id
            tf.TensorSpec([], tf.int32),  # baseline_id (-1: zero vector)
        ]
        self._endpoint_graph = tf.function(self._endpoint_probabilities, input_signature=features)
        self._gradient_graph = tf.function(
            self._path_gradients,
            input_signature=[*features, tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.float32)],
        )

    def explain(self, texts, domains=None, text_pairs=None, steps=DEFAULT_STEPS, baseline="pad"):
        """Explains the predicted label of each text: one dict per text, in input order.

        Each dict: `{"domain", "label", "score", "words": [{"text", "start", "end",
        "attribution"}], "completeness": {"sum", "score_difference", "error"}}`, plus
        `"pair_words"` (offsets into the text pair) when `text_pairs` are given.

        Args:
            texts: a list of strings (or one string).
            domains: one domain for all texts, or one per text (optional with one domain).
            text_pairs: None, or one second segment per text.
            steps: Riemann steps along the path (more: smaller completeness error).
            baseline: `"pad"`, `"mask"` or `"zero"` (see the class docstring).
        """
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise XDomainError(f"steps must be a positive integer, got {steps!r}")
        steps = int(steps)
        columns = self._checked_columns(texts, domains, text_pairs)
        baseline_id = self._baseline_id(baseline)
        texts, pairs = list(columns["text"]), columns.get("text_pair")
        pairs = None if pairs is None else list(pairs)
        domain_ids = np.array([self.classifier.domain_names.index(domain) for domain in columns["domain"]], np.int32)
        order = length_order(texts, pairs)
        per_call = max(1, self.rows // steps)
        results = [None] * len(texts)
        for start in range(0, len(order), per_call):
            rows = order[start : start + per_call]
            explained = self._explain_batch(
                [texts[i] for i in rows], None if pairs is None else [pairs[i] for i in rows],
                domain_ids[rows], steps, baseline_id,
            )
            for row, result in zip(rows, explained):
                results[row] = {"domain": str(columns["domain"][row]), **result}
        return results

    def _checked_columns(self, texts, domains, text_pairs):
        classifier = self.classifier
        if isinstance(texts, str):
            texts = [texts]
        if texts is None or not isinstance(texts, (list, tuple, np.ndarray)):
            raise XDomainError(f"texts must be a string or a list of strings, got {type(texts).__name__}")
        texts = list(texts)
        if not texts:
            raise XDomainError("no texts given")
        if domains is None and len(classifier.domain_names) != 1:
            raise XDomainError(f"the model has {len(classifier.domain_names)} domains: give domains=")
        if domains is None or isinstance(domains, str):
            domains = [domains or classifier.domain_names[0]] * len(texts)
        columns = {"text": texts, "domain": list(domains)}
        if text_pairs is not None:
            columns["text_pair"] = [text_pairs] * len(texts) if isinstance(text_pairs, str) else list(text_pairs)
        # The classifier's own checks: one-line errors naming the example and field.
        return classifier._columns(columns, None)

    def _baseline_id(self, baseline):
        if baseline not in BASELINES:
            raise XDomainError(f"baseline must be one of {BASELINES}, got {baseline!r}")
        tokenizer = self.classifier.preprocessor.tokenizer
        return {"pad": tokenizer.pad_token_id, "mask": tokenizer.mask_token_id, "zero": -1}[baseline]

    def _explain_batch(self, texts, pairs, domain_ids, steps, baseline_id):
        classifier = self.classifier
        text_tensor = tf.constant(texts, tf.string)
        pair_tensor = None if pairs is None else tf.constant(pairs, tf.string)
        features = classifier.features(text_tensor, pair_tensor, pad_to="longest")
        inputs = (
            features["token_ids"], features["segment_ids"], features["padding_mask"],
            tf.constant(domain_ids, tf.int32), tf.constant(baseline_id, tf.int32),
        )
        at_input, at_baseline, from_model = (value.numpy() for value in self._endpoint_graph(*inputs))
        self._check_agreement(at_input, from_model)
        label_ids = from_model.argmax(axis=-1).astype(np.int32)
        alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
        per_call = max(1, min(steps, self.rows // len(texts)))
        total = 0.0
        for start in range(0, steps, per_call):
            total = total + self._gradient_graph(
                *inputs, tf.constant(label_ids), tf.constant(alphas[start : start + per_call])
            ).numpy()
        token_attributions = total / steps  # [batch, length]

        segment_ids = features["segment_ids"].numpy()
        mask = features["padding_mask"].numpy()
        kept_first = (mask * (segment_ids == 0)).sum(axis=1) - 2
        segments = [(texts, 1 + np.zeros_like(kept_first), kept_first)]
        if pairs is not None:
            kept_second = (mask * (segment_ids == 1)).sum(axis=1) - 1
            segments.append((pairs, kept_first + 2, kept_second))
        words = []
        for strings, first_position, kept in segments:
            ids, starts, ends = classifier.preprocessor.tokenizer.tokenize_with_offsets(tf.constant(strings, tf.string))
            words.append([
                self._words(strings[i], ids[i].numpy(), starts[i].numpy(), ends[i].numpy(),
                            token_attributions[i, first_position[i] : first_position[i] + kept[i]])
                for i in range(len(strings))
            ])

        results = []
        for i, label_id in enumerate(label_ids):
            domain = classifier.domain_names[domain_ids[i]]
            score, baseline_score = float(at_input[i, label_id]), float(at_baseline[i, label_id])
            result = {"label": classifier.domains[domain][label_id], "score": score, "words": words[0][i]}
            if pairs is not None:
                result["pair_words"] = words[1][i]
            attribution_sum = float(token_attributions[i].sum())
            result["completeness"] = {
                "sum": attribution_sum,
                "score_difference": score - baseline_score,
                "error": abs(attribution_sum - (score - baseline_score)),
            }
            results.append(result)
        return results

    def _words(self, text, ids, starts, ends, attributions):
        """Word pieces -> words with character offsets; `attributions` of the pieces the
        model saw (a prefix: the rest was cut by the sequence length)."""
        char_of_byte = _char_index_of_bytes(text)
        words = []
        for piece, (token_id, start, end) in enumerate(zip(ids, starts, ends)):
            seen = piece < len(attributions)
            attribution = float(attributions[piece]) if seen else 0.0
            continues = words and self._continues_word[token_id] and char_of_byte[start] == words[-1]["end"]
            if continues:
                word = words[-1]
                word["end"] = int(char_of_byte[end])
                word["attribution"] += attribution
            else:
                word = {"start": int(char_of_byte[start]), "end": int(char_of_byte[end]), "attribution": attribution}
                words.append(word)
            if not seen:
                word["truncated"] = True
        return [
            {"text": text[word["start"] : word["end"]], **word}
            for word in words
        ]

    def _check_agreement(self, at_input, from_model):
        compute_dtype = self.classifier.encoder.embeddings.compute_dtype
        tolerance = AGREEMENT_TOLERANCE.get(compute_dtype, LOW_PRECISION_TOLERANCE)
        gap = float(np.abs(at_input - from_model).max())
        if gap > tolerance:
            raise XDomainError(
                f"explanations re-run the encoder from its embeddings, and this classifier's encoder gives other "
                f"probabilities that way ({gap:.2g} apart): its architecture is not supported"
            )

    # --- graphs ---

    def _endpoints(self, token_ids, padding_mask, baseline_id):
        """The input token embeddings and the baseline's, float32 `[batch, length, hidden]`."""
        token_embedding = self.classifier.encoder.embeddings.token_embedding
        embedded = tf.cast(token_embedding(token_ids), tf.float32)
        cls_id, sep_id = self._special_ids
        words = (padding_mask > 0) & tf.not_equal(token_ids, cls_id) & tf.not_equal(token_ids, sep_id)
        vector = tf.cast(token_embedding(tf.reshape(tf.maximum(baseline_id, 0), [1, 1])), tf.float32)
        vector = vector * tf.cast(baseline_id >= 0, tf.float32)
        baseline = tf.where(words[:, :, tf.newaxis], vector, embedded)
        return embedded, baseline

    def _probabilities(self, embedded, segment_ids, padding_mask, domain_id):
        """Each example's own-head probabilities from token embeddings: the classifier's
        graph after the token lookup, in inference mode."""
        classifier = self.classifier
        encoder = classifier.encoder
        layer = encoder.embeddings
        x = tf.cast(embedded, layer.compute_dtype)
        x = x + layer.position_embedding(x)
        if layer.segment_embedding is not None:
            x = x + layer.segment_embedding(segment_ids)
        x = layer.layer_norm(x)
        adapter_index = domain_id if "adapter_index" in encoder.input else None
        for block in encoder.transformer_layers:
            x = block(x, padding_mask=padding_mask, causal=encoder.causal, adapter_index=adapter_index, training=False)
        if encoder.final_layer_norm is not None:
            x = encoder.final_layer_norm(x)
        if classifier.pooling == "cls":
            pooled = encoder.pooler(x[:, 0, :])
        elif classifier.pooling == "mean":
            pooled = masked_mean(x, padding_mask)
        else:  # "last": the last real token of each right-padded row
            last = tf.reduce_sum(tf.cast(padding_mask, tf.int32), axis=1) - 1
            pooled = tf.cast(tf.gather(x, last, axis=1, batch_dims=1), tf.float32)
        logits = {name: head(pooled, training=False) for name, head in zip(classifier.domain_names, classifier.heads)}
        return classifier.route(logits, domain_id)["probabilities"]

    def _endpoint_probabilities(self, token_ids, segment_ids, padding_mask, domain_id, baseline_id):
        embedded, baseline = self._endpoints(token_ids, padding_mask, baseline_id)
        batch = tf.shape(token_ids)[0]
        both = self._probabilities(
            tf.concat([embedded, baseline], 0), tf.tile(segment_ids, [2, 1]), tf.tile(padding_mask, [2, 1]),
            tf.tile(domain_id, [2]),
        )
        model_inputs = {
            "token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask, "domain_id": domain_id,
        }
        from_model = self.classifier.route(self.classifier(model_inputs, training=False), domain_id)["probabilities"]
        return both[:batch], both[batch:], from_model

    def _path_gradients(self, token_ids, segment_ids, padding_mask, domain_id, baseline_id, label_id, alphas):
        """Per token, `(x - x') . sum_k grad F(x' + alphas[k] (x - x'))`, `[batch, length]`."""
        embedded, baseline = self._endpoints(token_ids, padding_mask, baseline_id)
        difference = embedded - baseline
        shape = tf.shape(embedded)
        steps = tf.shape(alphas)[0]
        path = baseline[:, tf.newaxis] + alphas[tf.newaxis, :, tf.newaxis, tf.newaxis] * difference[:, tf.newaxis]
        path = tf.reshape(path, [shape[0] * steps, shape[1], shape[2]])

        def repeated(values):
            return tf.repeat(values, steps, axis=0)

        with tf.GradientTape() as tape:
            tape.watch(path)
            probabilities = self._probabilities(
                path, repeated(segment_ids), repeated(padding_mask), repeated(domain_id)
            )
            target = tf.gather(probabilities, repeated(label_id), axis=1, batch_dims=1)
        gradients = tf.reshape(tape.gradient(target, path), [shape[0], steps, shape[1], shape[2]])
        return tf.reduce_sum(tf.reduce_sum(gradients, axis=1) * difference, axis=-1)


def _char_index_of_bytes(text):
    """`index[b]`: the character of `text` that its UTF-8 byte `b` belongs to
    (`index[len(bytes)] == len(text)`)."""
    widths = [len(char.encode("utf-8", "surrogatepass")) for char in text]
    index = np.repeat(np.arange(len(text)), widths)
    return np.append(index, len(text)).astype(np.int64)
