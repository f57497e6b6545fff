"""Training-data augmentation: seeded token masking, token deletion and masked-LM
replacement of tokenized batches, translate-train from parallel pairs, and user functions.

`make_dataset(..., augment=[...])` applies the steps to training batches only, in three
stages, each in the order given: record steps (`RecordAugmentation`, e.g.
`TranslateTrain`) add records before sampling; text steps (any plain callable
`texts -> texts` on a `tf.string` batch) rewrite the raw texts of a batch; token steps
(`TokenAugmentation`) rewrite the packed `token_ids`, `segment_ids`, `padding_mask` of a
batch. Token steps never touch the protected special tokens ([CLS], [SEP], [PAD], [MASK])
nor the padding, and labels are never changed.

TensorFlow is imported on first use, so `parse_augment_spec` checks `--augment` values
before it loads.
"""
import collections
import dataclasses

from xdomain_tf.errors import DataError, XDomainError

__all__ = [
    "AUGMENTATIONS", "Augmenter", "augmentations_from_spec", "ContextualReplacement", "parse_augment_spec",
    "RecordAugmentation",
    "SpecialTokens", "TokenAugmentation", "TokenDeletion", "TokenMasking", "TranslateTrain",
]

# The names of `--augment`, in the words of the flag: name -> what it does.
AUGMENTATIONS = {
    "mask": "replace a fraction of the tokens with [MASK]",
    "delete": "drop a fraction of the tokens",
    "mlm_replace": "replace a fraction of the tokens with a masked LM's prediction (needs augment_mlm)",
}
_EXAMPLE_SPEC = "mask:0.1,delete:0.1"


def parse_augment_spec(spec):
    """The `(name, rate)` steps of an `--augment` value: comma-separated `name:rate`.

    Args:
        spec: e.g. `"mask:0.1,delete:0.05"` (names in `AUGMENTATIONS`, rates in (0, 1));
            None or `"none"`: no augmentation.

    Returns:
        A list of `(name, rate)`, in the order given.

    Raises:
        XDomainError: one line naming the bad entry.

    Example:

    >>> parse_augment_spec("mask:0.1, delete:0.05")
    [('mask', 0.1), ('delete', 0.05)]
    >>> parse_augment_spec("mask:2")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: augment entry 'mask:2': the rate must be a number in (0, 1), got 2
    """
    if spec is None or str(spec).strip().lower() in ("", "none"):
        return []
    steps = []
    for entry in str(spec).split(","):
        entry = entry.strip()
        name, colon, rate_text = entry.partition(":")
        name = name.strip()
        if not colon:
            raise XDomainError(f"augment entry {entry!r}: expected name:rate, e.g. {_EXAMPLE_SPEC}")
        if name not in AUGMENTATIONS:
            raise XDomainError(
                f"augment entry {entry!r}: unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}"
            )
        try:
            rate = float(rate_text)
        except ValueError:
            rate = None
        if rate is None or not 0 < rate < 1:
            raise XDomainError(f"augment entry {entry!r}: the rate must be a number in (0, 1), got {rate_text.strip()}")
        steps.append((name, rate))
    return steps


def augmentations_from_spec(spec, masked_lm=None):
    """The token steps of an `--augment` value, for `make_dataset(..., augment=...)`.

    Args:
        spec: comma-separated `name:rate` (see `parse_augment_spec`).
        masked_lm: the masked LM of `mlm_replace` (see `ContextualReplacement`).

    Returns:
        A list of `TokenAugmentation`s, in the order given.

    Example:

    >>> augmentations_from_spec("mask:0.1,delete:0.05")
    [TokenMasking(0.1), TokenDeletion(0.05)]
    """
    steps = []
    for name, rate in parse_augment_spec(spec):
        if name == "mlm_replace":
            if masked_lm is None:
                raise XDomainError("augment mlm_replace needs a masked LM (augment_mlm)")
            steps.append(ContextualReplacement(rate, masked_lm))
        else:
            steps.append({"mask": TokenMasking, "delete": TokenDeletion}[name](rate))
    return steps


@dataclasses.dataclass(frozen=True)
class SpecialTokens:
    """The token ids a token augmentation needs: the [MASK] and [PAD] ids and the ids it
    must never change (nor delete, nor predict).

    Args:
        mask_id: the id of [MASK].
        pad_id: the id of [PAD].
        protected_ids: ids left alone ([PAD], [CLS], [SEP], [MASK]).

    Example:

    >>> from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
    >>> SpecialTokens.from_tokenizer(WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"]))
    SpecialTokens(mask_id=4, pad_id=0, protected_ids=(0, 2, 3, 4))
    """

    mask_id: int
    pad_id: int
    protected_ids: tuple

    @classmethod
    def from_tokenizer(cls, tokenizer):
        """The special tokens of a `WordPieceTokenizer` ([UNK] is an ordinary token here)."""
        protected = [tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id]
        return cls(tokenizer.mask_token_id, tokenizer.pad_token_id, tuple(sorted(set(protected))))


class TokenAugmentation:
    """Base class of the steps that rewrite a tokenized training batch.

    A subclass implements `__call__(features, seed, special_tokens)`: `features` holds
    int32 `token_ids`, `segment_ids`, `padding_mask` (`[batch, seq]`, right-padded) and
    `domain_id`; `seed` is a stateless seed (int `[2]`) that differs per batch and per
    step; it returns the features (same keys, same shapes). Use `tf.random.stateless_*`
    ops with `seed`, so that a run repeats its augmentations exactly.

    Args:
        rate: the fraction of eligible tokens the step changes, in (0, 1).

    Example:

    >>> TokenMasking(0.1).rate
    0.1
    """

    def __init__(self, rate):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1:
            raise XDomainError(f"{type(self).__name__} rate must be a number in (0, 1), got {rate!r}")
        self.rate = float(rate)

    def __call__(self, features, seed, special_tokens):
        raise NotImplementedError

    def chosen(self, features, seed, special_tokens):
        """A bool `[batch, seq]`: each eligible token (not padding, not protected) with
        probability `rate`."""
        import tensorflow as tf

        ids = features["token_ids"]
        draws = tf.random.stateless_uniform(tf.shape(ids), seed)
        return tf.logical_and(_eligible(features, special_tokens), draws < self.rate)

    def __repr__(self):
        return f"{type(self).__name__}({self.rate})"


class TokenMasking(TokenAugmentation):
    """Replaces each eligible token with [MASK] with probability `rate`.

    Args:
        rate: the fraction of tokens masked, in (0, 1).

    Example:

    >>> import tensorflow as tf
    >>> features = {"token_ids": tf.constant([[2, 7, 8, 9, 3, 0]]), "segment_ids": tf.zeros([1, 6], tf.int32),
    ...             "padding_mask": tf.constant([[1, 1, 1, 1, 1, 0]])}
    >>> special = SpecialTokens(mask_id=4, pad_id=0, protected_ids=(0, 2, 3, 4))
    >>> TokenMasking(0.5)(features, tf.constant([1, 2]), special)["token_ids"].numpy().tolist()
    [[2, 4, 8, 4, 3, 0]]
    """

    def __call__(self, features, seed, special_tokens):
        import tensorflow as tf

        ids = features["token_ids"]
        masked = tf.where(self.chosen(features, seed, special_tokens), tf.cast(special_tokens.mask_id, ids.dtype), ids)
        return {**features, "token_ids": masked}


class TokenDeletion(TokenAugmentation):
    """Drops each eligible token with probability `rate` and packs the rest to the left
    (the batch keeps its width; the freed positions become padding).

    Args:
        rate: the fraction of tokens dropped, in (0, 1).

    Example:

    >>> import tensorflow as tf
    >>> features = {"token_ids": tf.constant([[2, 7, 8, 9, 3, 0]]), "segment_ids": tf.zeros([1, 6], tf.int32),
    ...             "padding_mask": tf.constant([[1, 1, 1, 1, 1, 0]])}
    >>> special = SpecialTokens(mask_id=4, pad_id=0, protected_ids=(0, 2, 3, 4))
    >>> out = TokenDeletion(0.5)(features, tf.constant([1, 2]), special)
    >>> out["token_ids"].numpy().tolist(), out["padding_mask"].numpy().tolist()
    ([[2, 8, 3, 0, 0, 0]], [[1, 1, 1, 0, 0, 0]])
    """

    def __call__(self, features, seed, special_tokens):
        import tensorflow as tf

        ids = features["token_ids"]
        keep = tf.logical_and(
            tf.not_equal(features["padding_mask"], 0),
            tf.logical_not(self.chosen(features, seed, special_tokens)),
        )
        shape = tf.shape(ids)

        def repack(values, fill):
            kept = tf.ragged.boolean_mask(values, keep)
            return kept.to_tensor(default_value=tf.cast(fill, values.dtype), shape=shape)

        return {
            **features,
            "token_ids": repack(ids, special_tokens.pad_id),
            "segment_ids": repack(features["segment_ids"], 0),
            "padding_mask": repack(features["padding_mask"], 0),
        }


class ContextualReplacement(TokenAugmentation):
    """Masks each eligible token with probability `rate` and puts back what a masked
    language model predicts there (contextual augmentation): a token sampled from the
    model's distribution, or its most likely token with `sample=False`. Special tokens
    are never predicted.

    The model runs inside the input pipeline (on the CPU with the rest of `tf.data`), so
    a small one keeps training fast. Its vocabulary must be the classifier's.

    Args:
        rate: the fraction of tokens replaced, in (0, 1).
        masked_lm: a callable taking `token_ids`, `segment_ids`, `padding_mask` and
            `mask_positions` (int32 `[batch, predictions]`) and returning
            `{"mlm_logits": [batch, predictions, vocabulary]}`: an
            `xdomain_tf.models.MaskedLM`, e.g. of a `xdomain-tf pretrain` run.
        sample: sample the replacement (True) or take the top token (False).

    Example:

    >>> import tensorflow as tf
    >>> def always_seven(inputs, training=False):  # a stand-in masked LM over 10 tokens
    ...     positions = inputs["mask_positions"]
    ...     return {"mlm_logits": tf.one_hot(7 + 0 * positions, 10) * 50.0}
    >>> features = {"token_ids": tf.constant([[2, 5, 6, 8, 3]]), "segment_ids": tf.zeros([1, 5], tf.int32),
    ...             "padding_mask": tf.ones([1, 5], tf.int32)}
    >>> special = SpecialTokens(mask_id=4, pad_id=0, protected_ids=(0, 2, 3, 4))
    >>> step = ContextualReplacement(0.5, always_seven, sample=False)
    >>> step(features, tf.constant([1, 2]), special)["token_ids"].numpy().tolist()
    [[2, 5, 7, 7, 3]]
    """

    def __init__(self, rate, masked_lm, sample=True):
        super().__init__(rate)
        if not callable(masked_lm):
            raise XDomainError(f"ContextualReplacement needs a masked LM (a callable), got {masked_lm!r}")
        self.masked_lm = masked_lm
        self.sample = bool(sample)

    def __call__(self, features, seed, special_tokens):
        import tensorflow as tf

        ids = features["token_ids"]
        choose_seed, sample_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        chosen = self.chosen(features, choose_seed, special_tokens)
        width = tf.shape(ids)[1]
        positions = tf.ragged.boolean_mask(tf.broadcast_to(tf.range(width, dtype=ids.dtype), tf.shape(ids)), chosen)
        outputs = self.masked_lm(
            {
                "token_ids": tf.where(chosen, tf.cast(special_tokens.mask_id, ids.dtype), ids),
                "segment_ids": features["segment_ids"],
                "padding_mask": features["padding_mask"],
                "mask_positions": positions.to_tensor(default_value=0),
            },
            training=False,
        )
        logits = tf.cast(outputs["mlm_logits"], tf.float32)
        vocabulary = tf.shape(logits)[-1]
        never = tf.reduce_sum(tf.one_hot(list(special_tokens.protected_ids), vocabulary), axis=0)
        logits = logits - 1e9 * never
        flat = tf.reshape(logits, [-1, vocabulary])
        if self.sample:
            predicted = tf.random.stateless_categorical(flat, 1, sample_seed, dtype=tf.int32)[:, 0]
        else:
            predicted = tf.argmax(flat, axis=-1, output_type=tf.int32)
        predicted = tf.reshape(predicted, tf.shape(logits)[:2])
        # Only the real prediction slots of each row (the dense positions are padded).
        slots = tf.sequence_mask(positions.row_lengths(), tf.shape(predicted)[1])
        rows = tf.broadcast_to(tf.range(tf.shape(ids)[0], dtype=ids.dtype)[:, None], tf.shape(predicted))
        indices = tf.stack([tf.boolean_mask(rows, slots), positions.flat_values], axis=-1)
        updates = tf.cast(tf.boolean_mask(predicted, slots), ids.dtype)
        return {**features, "token_ids": tf.tensor_scatter_nd_update(ids, indices, updates)}

    def __repr__(self):
        return f"ContextualReplacement({self.rate}, sample={self.sample})"


class RecordAugmentation:
    """Base class of the steps that add training records: a subclass's
    `__call__(record)` returns the extra records made from one labelled record (normalized:
    `text`, `domain`, `label`, optional `lang`, `id`, `text_pair`), each with the same
    domain and label. They are added where the record is read, so they are sampled,
    shuffled and counted like any other.

    Example:

    >>> class Lowercase(RecordAugmentation):
    ...     def __call__(self, record):
    ...         return [{**record, "text": record["text"].lower()}] if record["text"] != record["text"].lower() else []
    >>> Lowercase()({"text": "Goal!", "domain": "news", "label": "sport"})
    [{'text': 'goal!', 'domain': 'news', 'label': 'sport'}]
    """

    def __call__(self, record):
        raise NotImplementedError


class TranslateTrain(RecordAugmentation):
    """Translate-train: a training record whose text is the source side of a translation
    pair also trains as the pair's translation, with the same domain and label.

    Pairs are records with `text` (in `source_lang`), `text_pair` (its translation) and
    `lang` (the translation's language): the format `xdomain-tf data pairs` writes and
    pretraining's contrastive objective reads. Records with a `text_pair` of their own are
    left alone (a translation of one side would mix languages).

    Args:
        pairs: a data file of pairs (any format `read_records` reads; domains and labels
            optional), or an iterable of pair dicts.
        source_lang: the language of the pairs' `text`; a record in another `lang` is not
            translated.

    Example:

    >>> step = TranslateTrain([{"text": "A late goal", "text_pair": "Ein spätes Tor", "lang": "de"}])
    >>> step({"id": "n1", "text": "A late goal", "domain": "news", "label": "sport"})
    [{'id': 'n1/translation-de', 'text': 'Ein spätes Tor', 'domain': 'news', 'label': 'sport', 'lang': 'de'}]
    >>> step({"text": "Rain", "domain": "news", "label": "weather"})
    []
    """

    def __init__(self, pairs, source_lang="en"):
        self.source_lang = source_lang
        self.translations = collections.defaultdict(list)
        for pair, path, line in _pair_records(pairs):
            if "text_pair" not in pair:
                raise DataError("a translation pair needs text_pair (the translation)", path=path, line=line,
                                field="text_pair")
            translation = (pair["text_pair"], pair.get("lang"))
            if translation not in self.translations[pair["text"]]:
                self.translations[pair["text"]].append(translation)
        if not self.translations:
            raise XDomainError(f"no translation pairs in {pairs if isinstance(pairs, str) else 'the pairs given'}")
        self.translations = dict(self.translations)

    def __call__(self, record):
        if "text_pair" in record or record.get("lang", self.source_lang) != self.source_lang:
            return []
        added = []
        for text, lang in self.translations.get(record["text"], ()):
            translated = {**record, "text": text}
            if lang:
                translated["lang"] = lang
            if "id" in record:
                translated["id"] = f"{record['id']}/translation-{lang or 'pair'}"
            added.append(translated)
        return added

    def __repr__(self):
        return f"TranslateTrain({sum(map(len, self.translations.values()))} translations)"


class Augmenter:
    """The augmentation steps of one training pipeline, sorted into their stages.

    `make_dataset(..., augment=steps)` builds one; it is public for writing pipelines of
    your own.

    Args:
        steps: `RecordAugmentation`s, `TokenAugmentation`s and plain callables mapping a
            `tf.string` batch of texts `[batch]` to augmented texts of the same shape
            (e.g. `tf.strings.lower`); applied in the order given within each stage.
        special_tokens: the `SpecialTokens` of the tokenizer, or the tokenizer itself
            (needed by token steps only).
        seed: the base seed of the token steps.

    Example:

    >>> import tensorflow as tf
    >>> special = SpecialTokens(mask_id=4, pad_id=0, protected_ids=(0, 2, 3, 4))
    >>> augmenter = Augmenter([tf.strings.lower, TokenMasking(0.5)], special, seed=3)
    >>> augmenter.augment_texts(tf.constant(["Goal"])).numpy().tolist()
    [b'goal']
    >>> features = {"token_ids": tf.constant([[2, 7, 8, 3]]), "segment_ids": tf.zeros([1, 4], tf.int32),
    ...             "padding_mask": tf.ones([1, 4], tf.int32)}
    >>> ids = augmenter.augment_tokens(features, tf.constant(11, tf.int64))["token_ids"]
    >>> ids.numpy()[0, [0, 3]].tolist()  # [CLS] and [SEP] stay
    [2, 3]
    """

    def __init__(self, steps, special_tokens=None, seed=0):
        if callable(steps) or isinstance(steps, (RecordAugmentation, TokenAugmentation)):
            steps = [steps]
        self.record_steps, self.text_steps, self.token_steps = [], [], []
        for step in steps or []:
            if isinstance(step, RecordAugmentation):
                self.record_steps.append(step)
            elif isinstance(step, TokenAugmentation):
                self.token_steps.append(step)
            elif callable(step):
                self.text_steps.append(step)
            else:
                raise XDomainError(
                    f"an augmentation must be a TokenAugmentation, a RecordAugmentation or a callable "
                    f"texts -> texts, got {step!r}"
                )
        if self.token_steps and special_tokens is None:
            raise XDomainError("token augmentations need the tokenizer's special tokens")
        if self.token_steps and not isinstance(special_tokens, SpecialTokens):
            special_tokens = SpecialTokens.from_tokenizer(special_tokens)
        self.special_tokens = special_tokens
        self.seed = int(seed)

    def __bool__(self):
        return bool(self.record_steps or self.text_steps or self.token_steps)

    def expand(self, record):
        """`record` followed by the records the record steps add."""
        records = [record]
        for step in self.record_steps:
            records += [added for existing in records for added in step(existing)]
        return records

    def augment_texts(self, texts):
        """The text steps applied to a `tf.string` batch."""
        for step in self.text_steps:
            texts = step(texts)
        return texts

    def augment_tokens(self, features, batch_seed):
        """The token steps applied to packed features; `batch_seed` (an int64 scalar, one
        per batch) and the step's index make each step's stateless seed."""
        import tensorflow as tf

        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(batch_seed, tf.int64)])
        for index, step in enumerate(self.token_steps):
            step_seed = tf.random.experimental.stateless_fold_in(seed, index)
            features = step(features, step_seed, self.special_tokens)
        return features

    def augment_batches(self, batches, seed=None):
        """`batches` of packed features (`(features, ...)` tuples or features alone) with the
        token steps applied; each batch's seed is drawn anew in every epoch (every pass over
        the dataset), the same in every run.

        Args:
            batches: a `tf.data.Dataset` of packed batches.
            seed: the seed of the per-batch seeds (default: the augmenter's `seed`).
        """
        import tensorflow as tf

        if not self.token_steps:
            return batches
        seeds = tf.data.Dataset.random(seed=self.seed if seed is None else seed, rerandomize_each_iteration=True)

        def augment(element, batch_seed):
            if isinstance(element, tuple):
                return (self.augment_tokens(element[0], batch_seed), *element[1:])
            return self.augment_tokens(element, batch_seed)

        return tf.data.Dataset.zip((batches, seeds)).map(augment, num_parallel_calls=tf.data.AUTOTUNE)


def _eligible(features, special_tokens):
    import tensorflow as tf

    ids = features["token_ids"]
    protected = tf.constant(list(special_tokens.protected_ids), ids.dtype)
    special = tf.reduce_any(tf.equal(ids[..., None], protected), axis=-1)
    return tf.logical_and(tf.not_equal(features["padding_mask"], 0), tf.logical_not(special))


def _pair_records(pairs):
    """`(pair, path, line)` of a pairs file or of an iterable of pair dicts."""
    import os

    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.record_schema import normalize_record

    if isinstance(pairs, (str, os.PathLike)):
        yield from read_records(pairs, default_domain="pairs", require_label=False, with_location=True)
        return
    for line, pair in enumerate(pairs, 1):
        pair = normalize_record({"domain": "pairs", **pair}, require_label=False, path="<pairs>", line=line)
        yield pair, "<pairs>", line
