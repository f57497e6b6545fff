"""tf.data pipelines of the pretraining objectives, over a `PretrainingCorpus`.

Every pipeline mixes the corpus groups by temperature sampling in training
(`sampling_probabilities`: group `g` drawn with probability `∝ n_g ** alpha`) and reads
everything once, in order, in evaluation. Training pipelines repeat forever and are
deterministic under `seed` (batch `k` is the same in every run, which `resumable_fit`
needs); evaluation masks are fixed by `mask_seed`, so two models scored on the same data (same
batch size and sequence length) see the same masked tokens.
"""
import numpy as np
import tensorflow as tf

from xdomain_tf.data.data_service import DataService, shard_batches
from xdomain_tf.data.label_space import LabelSpace
from xdomain_tf.data.pipeline import make_dataset, replica_layout, split_for_replicas
from xdomain_tf.data.sampling import sampling_probabilities
from xdomain_tf.errors import XDomainError

_TOKEN_FEATURES = ("token_ids", "segment_ids", "padding_mask")
_NO_LABEL = "_"


def masked_lm_dataset(
    corpus,
    preprocessor,
    masker,
    batch_size,
    groups,
    training=True,
    alpha=1.0,
    seed=0,
    mask_seed=0,
    sentence_objective=None,
    bucketing=True,
    data_service=None,
):
    """Masked-LM batches (the `mlm` part of a `PretrainingTrainer` batch).

    Args:
        corpus: a `PretrainingCorpus`.
        preprocessor: a `Preprocessor` (strings or `{"text", "text_pair"}` -> token features).
        masker: a `xdomain_tf.text.MaskedLMMasker` (called with an explicit seed per batch).
        batch_size: examples per batch.
        groups: the group names in `domain_id` order (the trainer's groups).
        training: sampled, shuffled, repeated (True) or one ordered pass (False).
        alpha: temperature exponent over group sizes.
        seed: seed of the shuffles, the group draws, the sentence pairs and the training masks.
        mask_seed: seed of the evaluation masks.
        sentence_objective: None, `"nsp"` or `"sop"`: two-segment inputs with a
            `sentence_label`.
        bucketing: batch texts of similar length together.
        data_service: a tf.data service (`"grpc://HOST:PORT"` or a `DataService`) that
            reads, samples, buckets and tokenizes (see `make_dataset`); masking stays here.

    Returns:
        A dataset of dicts: `token_ids` (corrupted), `segment_ids`, `padding_mask`,
        `mask_positions`, `mask_ids`, `mask_weights`, `domain_id` (+ `sentence_label`).

    Example:

    >>> from xdomain_tf.text import Preprocessor, WordPieceTokenizer
    >>> from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    ...                                 "hello", "there", "good", "day", "guten", "tag"])
    >>> corpus = PretrainingCorpus.from_records([{"text": "hello there", "domain": "a"},
    ...                                          {"text": "good day", "domain": "b"}])
    >>> dataset = masked_lm_dataset(corpus, Preprocessor(tokenizer, sequence_length=8),
    ...                             lm_masker(tokenizer, 0.5, 2), 2, ["a", "b"], training=False)
    >>> batch = next(iter(dataset))
    >>> tuple(batch["mask_positions"].shape), batch["domain_id"].numpy().tolist()
    ((2, 2), [0, 1])
    """
    _check_groups(corpus.text_groups, groups)
    if sentence_objective:
        max_words = int(0.7 * getattr(preprocessor, "sequence_length", 128))
        records = corpus.sentence_pair_records(sentence_objective, seed=seed, max_words=max_words)
        label_space = LabelSpace({group: ("0", "1") for group in groups})
    else:
        records = corpus.text_records()
        label_space = LabelSpace({group: (_NO_LABEL,) for group in groups})
    dataset = make_dataset(
        records,
        preprocessor,
        label_space,
        batch_size,
        training=training,
        alpha=alpha,
        seed=seed,
        multi_head=False,
        with_labels=bool(sentence_objective),
        bucketing=bucketing,
        data_service=data_service,
    )
    if sentence_objective:
        dataset = dataset.map(lambda features, label: {**features, "sentence_label": label})

    def mask(features, batch_seed):
        return masker(features, seed=batch_seed)

    return _with_seeds(dataset, training, seed, mask_seed).map(mask, num_parallel_calls=tf.data.AUTOTUNE)


def lm_masker(tokenizer, mask_rate, max_predictions, whole_word=False):
    """The `MaskedLMMasker` of pretraining: BERT's 80/10/10 corruption; special tokens
    ([PAD], [UNK], [CLS], [SEP], [MASK]) are never predicted.

    Example:

    >>> from xdomain_tf.text import WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello"])
    >>> masker = lm_masker(tokenizer, mask_rate=0.15, max_predictions=4)
    >>> masker.unselectable_token_ids, masker.max_predictions
    ([0, 1, 2, 3, 4], 4)
    """
    from xdomain_tf.text.masked_lm_masker import MaskedLMMasker

    return MaskedLMMasker(
        tokenizer,
        unselectable_token_ids=tokenizer.special_token_ids(),
        mask_rate=mask_rate,
        max_predictions=max_predictions,
        whole_word=whole_word,
    )


def causal_lm_dataset(
    corpus,
    preprocessor,
    batch_size,
    groups,
    training=True,
    alpha=1.0,
    seed=0,
    bucketing=True,
    domain_token_ids=None,
    unconditioned_rate=0.0,
    start_id=None,
    data_service=None,
):
    """Causal-LM batches (the `clm` part of a `PretrainingTrainer` batch).

    Each text is packed as `[CLS] text [SEP]` and shifted by `xdomain_tf.text.causal_lm_inputs`:
    the inputs drop the last position, `labels` are the next tokens (the final `[SEP]`
    included) and `label_weights` is 1 where the next token is real.

    Domain conditioning (`xdomain_tf.text.domain_tokens`): with `domain_token_ids`, each
    text starts with its group's domain token instead of `[CLS]`, except, in training, a
    `unconditioned_rate` fraction of them drawn at random (seeded), which keep `[CLS]` so
    the model also learns to do without a domain; a group whose id is negative (no token)
    keeps `[CLS]`. `start_id` instead starts every text with that token (a given domain's,
    or `[CLS]`: no conditioning), e.g. to score text against a wrong domain.

    Args:
        corpus: a `PretrainingCorpus`.
        preprocessor: a `Preprocessor`.
        batch_size: examples per batch.
        groups: the group names in `domain_id` order.
        training: sampled, shuffled, repeated (True) or one ordered pass (False).
        alpha: temperature exponent over group sizes.
        seed: seed of the shuffles, the group draws and the unconditioned draws.
        bucketing: batch texts of similar length together.
        domain_token_ids: one token id per group (-1: none), or None (no conditioning).
        unconditioned_rate: in training, the fraction of texts left unconditioned.
        start_id: the first token of every text (overrides `domain_token_ids`).
        data_service: a tf.data service that reads, samples, buckets and tokenizes (see
            `make_dataset`); the shift and the conditioning stay here.

    Returns:
        A dataset of dicts: `token_ids`, `segment_ids`, `padding_mask`, `labels`,
        `label_weights`, `domain_id`.

    Example:

    >>> from xdomain_tf.text import Preprocessor, WordPieceTokenizer
    >>> from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    ...                                 "hello", "there", "good", "day", "[domain:a]"])
    >>> corpus = PretrainingCorpus.from_records([{"text": "hello there", "domain": "a"}])
    >>> dataset = causal_lm_dataset(corpus, Preprocessor(tokenizer, sequence_length=8), 2, ["a"],
    ...                             training=False)
    >>> batch = next(iter(dataset))
    >>> batch["token_ids"].numpy().tolist(), batch["labels"].numpy().tolist()
    ([[2, 5, 6]], [[5, 6, 3]])
    >>> conditioned = causal_lm_dataset(corpus, Preprocessor(tokenizer, sequence_length=8), 2, ["a"],
    ...                                 training=False, domain_token_ids=[9])
    >>> next(iter(conditioned))["token_ids"].numpy().tolist()
    [[9, 5, 6]]
    """
    from xdomain_tf.text.causal_lm_features import causal_lm_inputs
    from xdomain_tf.text.domain_tokens import condition_on_domains

    _check_groups(corpus.text_groups, groups)
    if domain_token_ids is not None and len(domain_token_ids) != len(groups):
        raise XDomainError(f"{len(groups)} groups but {len(domain_token_ids)} domain token ids")
    if not 0.0 <= float(unconditioned_rate) <= 1.0:
        raise XDomainError(f"unconditioned_rate must be in [0, 1], got {unconditioned_rate!r}")
    label_space = LabelSpace({group: (_NO_LABEL,) for group in groups})
    dataset = make_dataset(
        corpus.text_records(), preprocessor, label_space, batch_size, training=training, alpha=alpha,
        seed=seed, multi_head=False, with_labels=False, bucketing=bucketing, data_service=data_service,
    )
    cls_id = preprocessor.tokenizer.cls_token_id
    table = None if domain_token_ids is None else tf.constant([int(i) for i in domain_token_ids], tf.int32)
    draw = training and table is not None and start_id is None and float(unconditioned_rate) > 0

    def first_tokens(features, batch_seed):
        domain_id = tf.cast(features["domain_id"], tf.int32)
        if start_id is not None:
            return tf.fill(tf.shape(domain_id), tf.constant(int(start_id), tf.int32))
        own = tf.gather(table, domain_id)
        keep_cls = own < 0
        if draw:
            uniform = tf.random.stateless_uniform(tf.shape(domain_id), seed=batch_seed)
            keep_cls = tf.logical_or(keep_cls, uniform < float(unconditioned_rate))
        return tf.where(keep_cls, cls_id, own)

    def shift(features, batch_seed=None):
        features = {key: features[key] for key in (*_TOKEN_FEATURES, "domain_id")}
        if start_id is not None or table is not None:
            features["token_ids"] = condition_on_domains(features["token_ids"], first_tokens(features, batch_seed))
        inputs, labels, weights = causal_lm_inputs({key: features[key] for key in _TOKEN_FEATURES})
        return {**inputs, "labels": labels, "label_weights": weights, "domain_id": features["domain_id"]}

    if draw:
        seeds = tf.data.Dataset.random(seed=_derive(seed, "unconditioned"), rerandomize_each_iteration=True)
        seeds = seeds.map(lambda value: tf.stack([value, tf.constant(0, tf.int64)]))
        return tf.data.Dataset.zip(dataset, seeds).repeat().map(shift, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.map(shift, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.repeat() if training else dataset


def contrastive_dataset(corpus, preprocessor, batch_size, training=True, alpha=1.0, seed=0, data_service=None,
                        input_context=None):
    """Translation-pair batches (the `contrastive` part of a `PretrainingTrainer` batch).

    Training draws pair groups by temperature sampling, shuffles within each group and
    drops partial batches (every batch has `batch_size` in-batch negatives minus one).
    With `data_service` (`"grpc://HOST:PORT"` or a `DataService`), the batches are drawn
    and tokenized on the tf.data service's workers (see `make_dataset`). With
    `input_context` (a pipeline of `distribute_datasets_from_function`), `batch_size` is
    the global batch: the pipeline yields one slice per replica (in-batch negatives are
    the replica's own pairs) and draws under its own seed, so pipelines differ.

    Returns:
        A dataset of dicts: `source_token_ids`, `source_segment_ids`,
        `source_padding_mask`, the same with `target_`, each cut to its longest row, and
        `domain_id` (the pair group index).

    Example:

    >>> from xdomain_tf.text import Preprocessor, WordPieceTokenizer
    >>> from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    ...                                 "hello", "there", "good", "day", "guten", "tag"])
    >>> corpus = PretrainingCorpus.from_records(
    ...     [{"text": "good day", "text_pair": "guten Tag", "domain": "a", "lang": "de"}])
    >>> dataset = contrastive_dataset(corpus, Preprocessor(tokenizer, sequence_length=8), 1,
    ...                               training=False)
    >>> batch = next(iter(dataset))
    >>> batch["source_token_ids"].numpy().tolist(), batch["target_token_ids"].numpy().tolist()
    ([[2, 7, 8, 3]], [[2, 9, 10, 3]])
    """
    if not corpus.pairs:
        raise XDomainError(
            "the contrastive objective needs translation pairs: records with text and text_pair "
            "(e.g. from `xdomain-tf data debian-pairs`)"
        )
    (pipelines, pipeline), replicas, per_replica = replica_layout(input_context, batch_size)
    if pipelines > 1:
        seed = _derive(seed, "pipeline", pipeline)
    if training:
        parts, sizes = [], {}
        for index, (group, values) in enumerate(corpus.pairs.items()):
            part = tf.data.Dataset.from_tensor_slices(
                {
                    "source": [source for source, _ in values],
                    "target": [target for _, target in values],
                    "domain_id": tf.fill([len(values)], index),
                }
            )
            part = part.shuffle(min(len(values), 10_000), seed=_derive(seed, "pairs", index), reshuffle_each_iteration=True)
            parts.append(part.repeat())
            sizes[group] = len(values)
        weights = list(sampling_probabilities(sizes, alpha).values())
        dataset = tf.data.Dataset.sample_from_datasets(
            parts, weights=weights, seed=_derive(seed, "pair-mix"), rerandomize_each_iteration=True
        )
        dataset = dataset.batch(per_replica * replicas, drop_remainder=True)
    else:
        sources, targets, group_ids = corpus.pair_rows()
        dataset = tf.data.Dataset.from_tensor_slices(
            {"source": sources, "target": targets, "domain_id": tf.constant(group_ids, tf.int32)}
        ).batch(per_replica * replicas)

    def tokenize(batch):
        features = {"domain_id": batch["domain_id"]}
        for side in ("source", "target"):
            packed = _cut_to_longest(preprocessor(batch[side]))
            features.update({f"{side}_{key}": packed[key] for key in _TOKEN_FEATURES})
        return features

    service = DataService.resolve(data_service)
    if service is not None:
        dataset = shard_batches(dataset)  # each worker tokenizes its own batches
    dataset = dataset.map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)
    if replicas > 1:
        dataset = split_for_replicas(dataset, replicas, per_replica)
    if service is not None:
        dataset = service.distribute(dataset, name=f"pairs-{'train' if training else 'eval'}-seed{seed}")
    return dataset.prefetch(tf.data.AUTOTUNE)


def _with_seeds(dataset, training, seed, mask_seed):
    """Pairs each batch with a seed `[2]`: random and different every epoch in training,
    `[mask_seed, batch index]` in evaluation."""
    if training:
        seeds = tf.data.Dataset.random(seed=_derive(seed, "mask"), rerandomize_each_iteration=True)
        seeds = seeds.map(lambda value: tf.stack([value, tf.constant(0, tf.int64)]))
        return tf.data.Dataset.zip(dataset, seeds).repeat()
    return dataset.enumerate().map(
        lambda index, features: (features, tf.stack([tf.constant(mask_seed, tf.int64), index]))
    )


def _cut_to_longest(features):
    longest = tf.reduce_max(tf.reduce_sum(tf.cast(features["padding_mask"], tf.int32), axis=1))
    return {key: tf.cast(features[key][:, :longest], tf.int32) for key in _TOKEN_FEATURES}


def _check_groups(corpus_groups, groups):
    missing = sorted(set(corpus_groups) - set(groups))
    if missing:
        raise XDomainError(f"groups {missing} of the data are not among the model's groups {list(groups)}")


def _derive(seed, *parts):
    words = [int(seed)] + [int.from_bytes(str(part).encode("utf-8")[:8], "little") for part in parts]
    return int(np.random.SeedSequence(words).generate_state(1)[0] & 0x7FFFFFFF)
