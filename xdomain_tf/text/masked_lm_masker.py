"""Masked-LM inputs: BERT's 15% selection with the 80/10/10 rule, as a Keras layer."""
import keras
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.preprocessing_layer import PreprocessingLayer, deserialize_tokenizer
from xdomain_tf.text.word_piece_tokenizer import (
    CLS_TOKEN,
    MASK_TOKEN,
    PAD_TOKEN,
    SEP_TOKEN,
)


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MaskedLMMasker(PreprocessingLayer):
    """Selects and masks tokens for masked-language-model pretraining.

    Per sequence, `round(mask_rate * candidates)` tokens are selected (at least
    one, at most `max_predictions`), where candidates are all tokens except
    padding and `unselectable_token_ids` ([PAD], [CLS], [SEP], [MASK] by
    default). Each selected token becomes [MASK] with probability
    `mask_token_rate`, a uniformly random id with `random_token_rate`, and stays
    unchanged otherwise (BERT's 80/10/10). With `whole_word=True` a word's
    continuation pieces (`##...`) are selected together with it, and a word is
    only taken when all its pieces fit in the sequence's budget.

    Randomness is stateless (`tf.random.stateless_*`): the same seed gives the
    same masks. Without a `seed` call argument, each call draws the next seed
    from a `keras.random.SeedGenerator` built from the constructor's `seed`, so
    calls differ from each other but the sequence of calls is reproducible (in
    `tf.data`, keep the map sequential, or pass per-batch seeds, e.g. from
    `Dataset.enumerate()`, for exact reproducibility under parallelism).

    Args:
        tokenizer: a `WordPieceTokenizer`; gives the vocabulary size, the
            [MASK] id, the special ids and the continuation pieces.
        vocabulary_size: without a tokenizer: the number of ids.
        mask_token_id: without a tokenizer: the [MASK] id.
        unselectable_token_ids: ids never selected; default the tokenizer's
            [PAD], [CLS], [SEP], [MASK] (without a tokenizer: none).
        mask_rate: the share of candidate tokens selected.
        max_predictions: predictions per sequence (the width of the outputs).
        whole_word: select continuation pieces with their word (needs `tokenizer`).
        mask_token_rate: the share of selected tokens replaced by [MASK].
        random_token_rate: the share replaced by a random id.
        seed: int or None (random).
        **kwargs: Keras layer arguments.

    Call arguments:
        inputs: int token ids [batch, seq] (or [seq]), or a dict with
            `token_ids` and optionally `padding_mask` (0 marks padding) and other
            entries, which are passed through.
        seed: optional int tensor of shape [2] for this call.

    Returns:
        dict: the input entries plus `token_ids` (masked), `mask_positions`
        (int32 [batch, max_predictions], ascending, 0 on unused slots), `mask_ids`
        (the original ids there, 0 on unused slots) and `mask_weights` (float32,
        1.0 on real predictions, 0.0 on unused slots).

    Example:

    >>> masker = MaskedLMMasker(vocabulary_size=100, mask_token_id=4, unselectable_token_ids=[0],
    ...                         mask_rate=0.5, max_predictions=3, seed=1)
    >>> out = masker(tf.constant([[10, 11, 12, 13, 0, 0]]))
    >>> out["mask_positions"].shape, float(tf.reduce_sum(out["mask_weights"]))
    (TensorShape([1, 3]), 2.0)
    """

    def __init__(
        self,
        tokenizer=None,
        vocabulary_size=None,
        mask_token_id=None,
        unselectable_token_ids=None,
        mask_rate=0.15,
        max_predictions=20,
        whole_word=False,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if tokenizer is not None:
            tokenizer = deserialize_tokenizer(tokenizer)
        if tokenizer is not None and tokenizer.has_vocabulary:
            vocabulary_size = tokenizer.vocabulary_size if vocabulary_size is None else vocabulary_size
            mask_token_id = tokenizer.mask_token_id if mask_token_id is None else mask_token_id
            if unselectable_token_ids is None:
                vocabulary = tokenizer.vocabulary
                unselectable_token_ids = [
                    vocabulary.index(token)
                    for token in (PAD_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)
                    if token in vocabulary
                ]
        if vocabulary_size is None or mask_token_id is None:
            raise XDomainError("give a tokenizer, or vocabulary_size and mask_token_id")
        if whole_word and tokenizer is None:
            raise XDomainError("whole_word=True needs the tokenizer (to find the ## pieces)")
        if not 0.0 < mask_rate <= 1.0:
            raise XDomainError(f"mask_rate must be in (0, 1], got {mask_rate}")
        if int(max_predictions) < 1:
            raise XDomainError(f"max_predictions must be >= 1, got {max_predictions}")
        if mask_token_rate < 0 or random_token_rate < 0 or mask_token_rate + random_token_rate > 1:
            raise XDomainError(
                "mask_token_rate and random_token_rate must be >= 0 with a sum <= 1, got "
                f"{mask_token_rate} and {random_token_rate}"
            )
        self.tokenizer = tokenizer
        self.vocabulary_size = int(vocabulary_size)
        self.mask_token_id = int(mask_token_id)
        self.unselectable_token_ids = [int(i) for i in (unselectable_token_ids or [])]
        self.mask_rate = float(mask_rate)
        self.max_predictions = int(max_predictions)
        self.whole_word = bool(whole_word)
        self.mask_token_rate = float(mask_token_rate)
        self.random_token_rate = float(random_token_rate)
        self.seed = seed
        self._seed_generator = keras.random.SeedGenerator(seed)
        self._continuation_table = None

    def _continuation(self):
        # Built on first use: a tokenizer rebuilt from config gets its vocabulary later.
        if self._continuation_table is None:
            suffix = self.tokenizer.suffix_indicator
            self._continuation_table = tf.constant(
                [token.startswith(suffix) and len(token) > len(suffix) for token in self.tokenizer.vocabulary]
            )
        return self._continuation_table

    def call(self, inputs, seed=None):
        features = dict(inputs) if isinstance(inputs, dict) else {"token_ids": inputs}
        if "token_ids" not in features:
            raise XDomainError(f'expected "token_ids" in the inputs, got {sorted(features)}')
        token_ids = tf.cast(features["token_ids"], tf.int32)
        single = token_ids.shape.rank == 1
        padding_mask = features.get("padding_mask")
        if single:
            token_ids = token_ids[tf.newaxis]
            padding_mask = None if padding_mask is None else padding_mask[tf.newaxis]
        if seed is None:
            seed = self._seed_generator.next()
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
        selected = self._select(token_ids, padding_mask, seeds[0])
        masked_ids = self._replace(token_ids, selected, seeds[1], seeds[2])
        positions, original_ids, weights = self._gather_predictions(token_ids, selected)
        if single:
            masked_ids, positions, original_ids, weights = (
                masked_ids[0],
                positions[0],
                original_ids[0],
                weights[0],
            )
        features.update(
            token_ids=masked_ids,
            mask_positions=positions,
            mask_ids=original_ids,
            mask_weights=weights,
        )
        return features

    def _select(self, token_ids, padding_mask, seed):
        batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        candidate = tf.ones_like(token_ids, tf.bool)
        if self.unselectable_token_ids:
            unselectable = tf.constant(self.unselectable_token_ids, tf.int32)
            candidate = ~tf.reduce_any(token_ids[..., tf.newaxis] == unselectable, axis=-1)
        if padding_mask is not None:
            candidate &= tf.cast(padding_mask, tf.bool)
        starts = candidate
        if self.whole_word:
            safe_ids = tf.clip_by_value(token_ids, 0, self.vocabulary_size - 1)
            continuation = tf.gather(self._continuation(), safe_ids)
            previous_candidate = tf.pad(candidate[:, :-1], [[0, 0], [1, 0]])
            starts = candidate & ~(continuation & previous_candidate)
        # Groups: a word (start + its continuation pieces); every other token alone.
        new_group = starts | ~candidate
        group = tf.cumsum(tf.cast(new_group, tf.int32), axis=1) - 1
        flat_group = group + tf.range(batch)[:, tf.newaxis] * length
        groups = batch * length
        candidates = tf.reduce_sum(tf.cast(candidate, tf.float32), axis=1)
        budget = tf.cast(tf.round(candidates * self.mask_rate), tf.int32)
        budget = tf.minimum(tf.maximum(budget, 1), self.max_predictions)[:, tf.newaxis]
        # A word longer than the budget can never be taken whole: leave it out.
        word_size = tf.gather(
            tf.math.unsorted_segment_sum(tf.cast(candidate, tf.int32), flat_group, groups),
            flat_group,
        )
        eligible = candidate & (word_size <= budget)
        score = tf.random.stateless_uniform(tf.shape(token_ids), seed)
        group_score = tf.math.unsorted_segment_min(tf.where(starts, score, 2.0), flat_group, groups)
        token_score = tf.where(eligible, tf.gather(group_score, flat_group), 3.0)
        # Lowest scores first; a stable sort keeps each word's pieces together.
        order = tf.argsort(token_score, axis=1, stable=True)
        sorted_eligible = tf.gather(eligible, order, batch_dims=1)
        taken = tf.cumsum(tf.cast(sorted_eligible, tf.int32), axis=1)
        sorted_group = tf.gather(flat_group, order, batch_dims=1)
        group_end = tf.gather(tf.math.unsorted_segment_max(taken, sorted_group, groups), sorted_group)
        selected_sorted = sorted_eligible & (group_end <= budget)
        return tf.gather(selected_sorted, tf.argsort(order, axis=1), batch_dims=1)

    def _replace(self, token_ids, selected, action_seed, random_seed):
        action = tf.random.stateless_uniform(tf.shape(token_ids), action_seed)
        random_ids = tf.random.stateless_uniform(
            tf.shape(token_ids), random_seed, minval=0, maxval=self.vocabulary_size, dtype=tf.int32
        )
        to_mask = selected & (action < self.mask_token_rate)
        to_random = (
            selected
            & (action >= self.mask_token_rate)
            & (action < self.mask_token_rate + self.random_token_rate)
        )
        masked = tf.where(to_mask, self.mask_token_id, token_ids)
        return tf.where(to_random, random_ids, masked)

    def _gather_predictions(self, token_ids, selected):
        length = tf.shape(token_ids)[1]
        position = tf.range(length)[tf.newaxis, :]
        key = tf.sort(tf.where(selected, position, length + position), axis=1)
        key = key[:, : self.max_predictions]
        key = tf.pad(
            key,
            [[0, 0], [0, tf.maximum(self.max_predictions - length, 0)]],
            constant_values=tf.int32.max,
        )
        real = key < length
        positions = tf.reshape(tf.where(real, key, 0), [-1, self.max_predictions])
        original = tf.where(real, tf.gather(token_ids, positions, batch_dims=1), 0)
        weights = tf.reshape(tf.cast(real, tf.float32), [-1, self.max_predictions])
        return positions, tf.reshape(original, [-1, self.max_predictions]), weights

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "tokenizer": (
                    None
                    if self.tokenizer is None
                    else keras.saving.serialize_keras_object(self.tokenizer)
                ),
                "vocabulary_size": self.vocabulary_size,
                "mask_token_id": self.mask_token_id,
                "unselectable_token_ids": self.unselectable_token_ids,
                "mask_rate": self.mask_rate,
                "max_predictions": self.max_predictions,
                "whole_word": self.whole_word,
                "mask_token_rate": self.mask_token_rate,
                "random_token_rate": self.random_token_rate,
                "seed": self.seed,
            }
        )
        return config
