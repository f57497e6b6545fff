"""BERT's masked-LM corruption as stateless TensorFlow ops: same seed, same masks."""
import tensorflow as tf

from xdomain_tf.errors import XDomainError


class TokenMasker:
    """Chooses the tokens a masked LM predicts and corrupts them, reproducibly.

    Per sequence, `round(mask_rate * candidates)` tokens are chosen (at least 1, at most
    `max_predictions`) among the real, non-special tokens; 80% of them become `[MASK]`,
    10% a random non-special token, 10% stay. With `whole_word`, all WordPiece pieces of
    a word (a piece plus its `##` continuations) are chosen together: words are taken in
    random order until the next word's pieces would exceed the budget (so a sequence may
    get fewer predictions than the budget).

    Randomness comes from stateless ops keyed by an explicit `seed` (an int tensor of
    shape `[2]`): the same batch and seed always give the same masks (held-out evaluation
    before and after training is then comparable; a resumed run re-masks identically).
    Works eagerly and inside `tf.data` maps.

    Args:
        vocabulary_size: number of token ids.
        mask_token_id: the `[MASK]` id.
        special_token_ids: ids never chosen nor used as random replacements
            (`[PAD]`, `[CLS]`, `[SEP]`, `[UNK]`, `[MASK]`).
        mask_rate: fraction of candidate tokens to predict.
        max_predictions: the most predictions per sequence (the width of the outputs).
        whole_word: mask whole words.
        continuation: bool per token id, True for `##` pieces (needed with `whole_word`).
        mask_token_rate: of the chosen tokens, the fraction replaced by `[MASK]`.
        random_token_rate: of the chosen tokens, the fraction replaced by a random token.

    Call arguments:
        token_ids: int `[batch, seq]`.
        padding_mask: `[batch, seq]`, 1 for real tokens.
        seed: int `[2]`.

    Returns a dict: `token_ids` (corrupted), `mask_positions` (int32
    `[batch, max_predictions]`, ascending, padded with 0), `mask_ids` (the original tokens
    there, 0 in padding slots) and `mask_weights` (float32, 1 for real predictions).

    Example:

    >>> masker = TokenMasker(vocabulary_size=10, mask_token_id=4, special_token_ids=[0, 1, 2, 3, 4],
    ...                      mask_rate=0.5, max_predictions=3)
    >>> out = masker(tf.constant([[2, 5, 6, 7, 8, 3, 0]]), tf.constant([[1, 1, 1, 1, 1, 1, 0]]), [1, 2])
    >>> out["mask_weights"].numpy().tolist()
    [[1.0, 1.0, 0.0]]
    """

    def __init__(
        self,
        vocabulary_size,
        mask_token_id,
        special_token_ids,
        mask_rate=0.15,
        max_predictions=20,
        whole_word=False,
        continuation=None,
        mask_token_rate=0.8,
        random_token_rate=0.1,
    ):
        if not 0 < mask_rate < 1:
            raise XDomainError(f"mask_rate must be in (0, 1), got {mask_rate!r}")
        if isinstance(max_predictions, bool) or not isinstance(max_predictions, int) or max_predictions < 1:
            raise XDomainError(f"max_predictions must be a positive integer, got {max_predictions!r}")
        if not (0 <= mask_token_rate and 0 <= random_token_rate and mask_token_rate + random_token_rate <= 1):
            raise XDomainError("mask_token_rate and random_token_rate must be >= 0 and add up to at most 1")
        if whole_word and continuation is None:
            raise XDomainError("whole_word masking needs the continuation flags of the vocabulary")
        special = sorted({int(i) for i in special_token_ids})
        allowed = [i for i in range(vocabulary_size) if i not in set(special)]
        if not allowed:
            raise XDomainError("the vocabulary has no non-special token to predict")
        self.vocabulary_size = int(vocabulary_size)
        self.mask_token_id = int(mask_token_id)
        self.special_token_ids = special
        self.mask_rate = float(mask_rate)
        self.max_predictions = max_predictions
        self.whole_word = bool(whole_word)
        self.mask_token_rate = float(mask_token_rate)
        self.random_token_rate = float(random_token_rate)
        self._special = tf.constant(special or [-1], tf.int32)
        self._allowed = tf.constant(allowed, tf.int32)
        self._continuation = None
        if continuation is not None:
            if len(continuation) != vocabulary_size:
                raise XDomainError(f"continuation has {len(continuation)} flags for {vocabulary_size} tokens")
            self._continuation = tf.constant([bool(c) for c in continuation], tf.bool)

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs):
        """A masker for a `WordPieceTokenizer` (special tokens and `##` pieces from it).

        Args:
            tokenizer: a `WordPieceTokenizer` (or a `Preprocessor` holding one).
            **kwargs: `mask_rate`, `max_predictions`, `whole_word`, ...
        """
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        vocabulary = tokenizer.vocabulary
        indicator = getattr(tokenizer, "suffix_indicator", "##")
        return cls(
            vocabulary_size=len(vocabulary),
            mask_token_id=tokenizer.mask_token_id,
            special_token_ids=tokenizer.special_token_ids(),
            continuation=[token.startswith(indicator) and len(token) > len(indicator) for token in vocabulary],
            **kwargs,
        )

    def __call__(self, token_ids, padding_mask, seed):
        ids = tf.cast(token_ids, tf.int32)
        shape = tf.shape(ids)
        batch, length = shape[0], shape[1]
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
        is_special = tf.reduce_any(tf.equal(ids[..., None], self._special), axis=-1)
        candidate = tf.cast(padding_mask, tf.bool) & ~is_special

        if self.whole_word:
            starts = candidate & ~tf.gather(self._continuation, tf.clip_by_value(ids, 0, self.vocabulary_size - 1))
            # A continuation piece after a special token starts a word of its own.
            previous = tf.pad(candidate[:, :-1], [[0, 0], [1, 0]])
            starts = starts | (candidate & ~previous)
            word = tf.maximum(tf.cumsum(tf.cast(starts, tf.int32), axis=1) - 1, 0)
            score = tf.gather(tf.random.stateless_uniform([batch, length], seeds[0]), word, batch_dims=1)
        else:
            word = None
            score = tf.random.stateless_uniform([batch, length], seeds[0])

        count = tf.reduce_sum(tf.cast(candidate, tf.float32), axis=1)
        budget = tf.cast(tf.round(self.mask_rate * count), tf.int32)
        budget = tf.where(count > 0, tf.maximum(budget, 1), 0)
        budget = tf.minimum(budget, self.max_predictions)
        # Candidates by descending score; the pieces of a word share a score and stay adjacent.
        order = tf.argsort(tf.where(candidate, score, -1.0), axis=1, direction="DESCENDING", stable=True)
        rank = tf.argsort(order, axis=1, stable=True)
        selected = candidate & (rank < budget[:, None])
        if self.whole_word:
            selected = self._whole_words_only(selected, candidate, word, batch, length)

        corrupted = self._corrupt(ids, selected, seeds, batch, length)
        positions, weights = self._positions(selected, length)
        mask_ids = tf.gather(ids, positions, batch_dims=1) * tf.cast(weights, tf.int32)
        return {
            "token_ids": corrupted,
            "mask_positions": positions,
            "mask_ids": mask_ids,
            "mask_weights": weights,
        }

    def _whole_words_only(self, selected, candidate, word, batch, length):
        """Drops the words of which the budget took only some pieces."""
        segments = word + tf.range(batch)[:, None] * length
        total = tf.math.unsorted_segment_sum(tf.cast(candidate, tf.int32), segments, batch * length)
        taken = tf.math.unsorted_segment_sum(tf.cast(selected, tf.int32), segments, batch * length)
        complete = tf.gather(tf.equal(total, taken), segments)
        return selected & complete

    def _corrupt(self, ids, selected, seeds, batch, length):
        draw = tf.random.stateless_uniform([batch, length], seeds[1])
        random_index = tf.random.stateless_uniform(
            [batch, length], seeds[2], minval=0, maxval=tf.size(self._allowed), dtype=tf.int32
        )
        random_ids = tf.gather(self._allowed, random_index)
        to_mask = selected & (draw < self.mask_token_rate)
        to_random = selected & ~to_mask & (draw < self.mask_token_rate + self.random_token_rate)
        corrupted = tf.where(to_mask, self.mask_token_id, ids)
        return tf.where(to_random, random_ids, corrupted)

    def _positions(self, selected, length):
        width = tf.maximum(length, self.max_predictions)
        # Earlier positions get larger keys, so top_k lists the chosen ones in order.
        key = tf.where(selected, length - tf.range(length)[None, :], 0)
        key = tf.pad(key, [[0, 0], [0, width - length]])
        values, _ = tf.math.top_k(key, k=self.max_predictions)
        weights = tf.cast(values > 0, tf.float32)
        positions = tf.where(values > 0, length - values, 0)
        return positions, weights
