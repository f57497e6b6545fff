"""Multi-domain tf.data pipelines: temperature-sampled training mixtures, single-pass
evaluation, length bucketing and in-graph tokenization through a Preprocessor."""
import collections
import os

import numpy as np
import tensorflow as tf

from xdomain_tf.data import readers
from xdomain_tf.data.augmentation import Augmenter
from xdomain_tf.data.data_service import DataService, shard_batches
from xdomain_tf.data.read_report import ReadReport
from xdomain_tf.data.record_schema import normalize_record
from xdomain_tf.data.sampling import sampling_probabilities
from xdomain_tf.errors import DataError, XDomainError

_TOKEN_FEATURES = ("token_ids", "segment_ids", "padding_mask")
_LENGTH_BATCH = 256
LABEL_SAMPLING = ("natural", "balanced")


def make_dataset(
    records_or_paths,
    preprocessor,
    label_space,
    batch_size,
    training=True,
    alpha=1.0,
    caps=None,
    weights=None,
    bucketing=True,
    bucket_boundaries=None,
    seed=0,
    multi_head=True,
    with_labels=True,
    keep_ids=False,
    shuffle_buffer=10_000,
    examples_per_epoch=None,
    drop_remainder=False,
    default_domain=None,
    on_error="raise",
    in_memory_limit=100_000,
    input_context=None,
    label_sampling="natural",
    augment=None,
    augment_seed=None,
    shard_policy="auto",
    data_service=None,
):
    """A batched, tokenized `tf.data.Dataset` over records of one or more domains.

    Training (`training=True`) mixes per-domain datasets, each shuffled and repeated, by
    temperature sampling: domain `d` is drawn with probability `∝ w_d * n_d ** alpha`
    (see `sampling_probabilities`); one epoch is `examples_per_epoch` draws (default: the
    number of examples after caps), and the draws are deterministic under `seed` (each
    epoch differs, every run repeats them). Evaluation (`training=False`) reads every
    record once, in input order, so each domain is covered exactly once.

    Texts are tokenized in the graph by `preprocessor`. With `bucketing`, examples are
    grouped into batches of similar token length (each example exactly once) and every
    batch is cut to its longest example, so short texts do not pay for a fixed
    `sequence_length` of padding; without it, batches are packed as `preprocessor`
    pads them (`pad_to="fixed"` or `"longest"`).

    Elements are `(features, targets)`: `features` holds `token_ids`, `segment_ids`,
    `padding_mask` (int32 `[batch, seq]`), `domain_id` (int32 `[batch]`) and, with
    `keep_ids`, `id` (string, `""` where a record has none). With `multi_head`, `targets`
    is `{domain name: label id}` with -1 for examples of other domains (for per-domain
    heads trained with `SparseCategoricalCrossentropy(ignore_class=-1)`); otherwise the
    int32 label ids (domain-local ids, so one domain or one shared label set). With
    `with_labels=False` elements are `features` alone (unlabeled records allowed).

    Args:
        records_or_paths: a data file path, a list of paths, a dict `{domain: path or
            paths}` (files read with that default domain), or an iterable of record dicts.
        preprocessor: a Keras layer mapping a string batch (or `{"text", "text_pair"}`) to
            `token_ids`, `segment_ids`, `padding_mask`, with right-side padding.
        label_space: the `LabelSpace` of the task; records of an unknown domain or label
            are a `DataError`.
        batch_size: the global batch size (split over replicas with `input_context`).
        training: sampled, shuffled mixture (True) or one pass in order (False).
        alpha: temperature exponent: 1 samples by size, 0 uniformly.
        caps: optional `{domain: max examples}`; a domain above its cap uses a random
            subset of that size, fixed by `seed`, and the capped size in `alpha` sampling.
        weights: optional `{domain: weight}` multiplying the sampling probability.
        bucketing: batch by token length and cut the padding to each batch's longest.
        bucket_boundaries: inclusive upper token lengths of the buckets (default every
            16 tokens up to the preprocessor's `sequence_length`).
        seed: seed of the shuffles, the domain draws and the cap subsets.
        multi_head: targets per domain (True) or plain label ids (False).
        with_labels: yield targets; False for prediction on unlabeled data.
        keep_ids: add the records' `id` to the features.
        shuffle_buffer: per-domain shuffle buffer size.
        examples_per_epoch: training draws per epoch.
        drop_remainder: drop partial batches.
        default_domain: the domain of records that have none.
        on_error: `"raise"` or `"skip"` bad records, as in `read_records`.
        in_memory_limit: in training, a domain read from files with at most this many
            examples is kept in memory; larger ones are re-read from the files each time
            they are repeated.
        input_context: a `tf.distribute.InputContext`: shard the records over input
            pipelines and batch per replica (see `distribute`).
        label_sampling: in training, how a domain's examples are drawn: `"natural"`
            (each example as often as any other) or `"balanced"` (each of the domain's
            labels equally often: minority examples repeat more; the domain's share of the
            mixture is unchanged).
        augment: training only: augmentation steps (see `xdomain_tf.data.augmentation`):
            `RecordAugmentation`s such as `TranslateTrain` add records before sampling;
            plain callables map each batch's `tf.string` texts to augmented texts before
            tokenization (bucketing uses the texts before); `TokenAugmentation`s such as
            `TokenMasking(0.1)`, `TokenDeletion(0.1)` or `ContextualReplacement` rewrite
            the packed batch. Each stage runs its steps in the order given; labels and
            special tokens are never changed. Deterministic under `augment_seed`, and
            different in every epoch.
        augment_seed: seed of the token augmentations (default: `seed`).
        shard_policy: with `input_context`, how the input pipelines split the data:
            `"file"`: pipeline `k` of `n` reads files `k, k + n, ...` of the (sorted,
            glob-expanded) file list, so no file is read twice (needs at least `n`
            files, each with a similar mix of domains and labels, as `write_shards`
            writes them: each pipeline samples the mixture from its own files);
            `"data"`: every pipeline reads every file and keeps the records `i % n == k`
            of each domain; `"auto"`: `"file"` when every file is a shard
            (`NAME-00003-of-00008.tfrecord`) and there are at least as many files as
            pipelines, else `"data"` (whole per-domain files split over workers would
            give each worker other domains).
        data_service: a tf.data service dispatcher, `"grpc://HOST:PORT"` or a
            `DataService`: the pipeline (reading, sampling, bucketing, tokenization,
            augmentation) runs on the service's workers, each tokenizing its share of the
            batches, which are those of the local pipeline; only the order in which the
            workers' batches arrive varies. The records are read into memory here (no
            `in_memory_limit`); a pipeline that calls Python or runs a Keras model is a
            one-line `XDomainError`. In training the dataset repeats on the workers (each
            epoch drawn anew, as `make_dataset(...).repeat()` does locally).

    Returns:
        A `tf.data.Dataset`, prefetched.

    Example:

    >>> from xdomain_tf.data import LabelSpace
    >>> from xdomain_tf.text.preprocessor import Preprocessor
    >>> from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "rain", "goal"])
    >>> records = [{"text": "Rain", "label": "weather", "domain": "news"},
    ...            {"text": "Goal goal", "label": "sport", "domain": "news"}]
    >>> space = LabelSpace.from_records(records)
    >>> dataset = make_dataset(records, Preprocessor(tokenizer, 16), space, 2, training=False)
    >>> features, targets = next(iter(dataset))
    >>> features["token_ids"].numpy().tolist(), targets["news"].numpy().tolist()
    ([[2, 5, 3, 0], [2, 6, 6, 3]], [1, 0])
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise XDomainError(f"batch_size must be a positive integer, got {batch_size!r}")
    service = DataService.resolve(data_service)  # a bad address or no dispatcher: fails before reading
    if service is not None:
        service.check()
    shard, replicas, per_replica = replica_layout(input_context, batch_size)
    # One batch for all replicas of this pipeline, split below, so that the replicas
    # of a step get the same padded width.
    batch_size = per_replica * replicas
    augmenter = None
    if augment:
        if not training:
            raise XDomainError("augment applies to training data only; evaluation data is never augmented")
        augmenter = Augmenter(
            augment, getattr(preprocessor, "tokenizer", None), seed=seed if augment_seed is None else augment_seed
        )
    source = _Source(
        records_or_paths, label_space, default_domain, with_labels, on_error, shard, keep_ids,
        memory_limit=(float("inf") if service is not None else in_memory_limit) if training else 0,
        expand=augmenter.expand if augmenter is not None and augmenter.record_steps else None,
        shard_policy=shard_policy,
    )
    if training:
        examples = _training_mixture(
            source, alpha, caps, weights, seed, shuffle_buffer, examples_per_epoch, label_sampling
        )
    else:
        examples = source.dataset()
    boundaries = None
    if bucketing:
        boundaries = _bucket_boundaries(bucket_boundaries, preprocessor)
    batched = _batch_and_pack(
        examples, preprocessor, batch_size, boundaries, drop_remainder, source.has_pair,
        augment_texts=augmenter.augment_texts if augmenter is not None and augmenter.text_steps else None,
        augment_tokens=(augmenter.augment_tokens, _derive_seed(augmenter.seed, "augment", shard[1]))
        if augmenter is not None and augmenter.token_steps else None,
        shard_for_service=service is not None,
    )
    to_model = _model_io(label_space, multi_head, with_labels)
    dataset = batched.map(to_model, num_parallel_calls=tf.data.AUTOTUNE)
    if replicas > 1:
        dataset = split_for_replicas(dataset, replicas, per_replica)
    if service is not None:
        if training:
            # Each client-side repetition of a service dataset is a new job that starts
            # from the same seeds (every epoch alike): the workers repeat instead.
            dataset = dataset.repeat()
        role = "train" if training else "eval"
        dataset = service.distribute(dataset, name=f"{role}-seed{seed}-{shard[1]}of{shard[0]}")
    return dataset.prefetch(tf.data.AUTOTUNE)


class _Source:
    """The records of one `make_dataset` call: validated and counted by one scan, then
    served per domain (training) or all in order (evaluation)."""

    def __init__(
        self, records_or_paths, label_space, default_domain, with_labels, on_error, shard,
        keep_ids, memory_limit, expand=None, shard_policy="auto",
    ):
        self.label_space = label_space
        self.require_label = with_labels
        self.on_error = on_error
        self.shard = shard
        self.keep_ids = keep_ids
        self.expand = expand
        self.files, self.records = _classify_input(records_or_paths, default_domain)
        if self.files is None:
            memory_limit = float("inf")  # the records are in memory already
        else:
            for path, _ in self.files:
                readers.read_records(path, on_error=on_error)  # argument and existence checks
        # The records this pipeline keeps: index % num_shards == shard_index (per domain).
        self.record_shard = shard
        if _shard_policy(shard_policy, self.files, shard[0]) == "file":
            self.files = self.files[shard[1] :: shard[0]]
            self.record_shard = (1, 0)
        self.sizes = collections.Counter()
        self.files_by_domain = collections.defaultdict(list)
        self.memory = collections.defaultdict(list)
        self.has_pair = False
        self._scan(memory_limit)

    def _scan(self, memory_limit):
        with_pair = without_pair = 0
        report = ReadReport()
        for domain_id, label_id, record, source in self._iterate(report=report, warn=True):
            self.sizes[domain_id] += 1
            if source not in self.files_by_domain[domain_id]:
                self.files_by_domain[domain_id].append(source)
            if self.sizes[domain_id] <= memory_limit:
                self.memory[domain_id].append(self._element(domain_id, label_id, record))
            else:
                self.memory.pop(domain_id, None)
            if "text_pair" in record:
                with_pair += 1
            else:
                without_pair += 1
        if with_pair and without_pair:
            raise XDomainError(
                f"{with_pair} records have a text_pair and {without_pair} do not; "
                "a dataset is either all pairs or all single texts"
            )
        self.has_pair = bool(with_pair)
        if not self.sizes:
            raise XDomainError("no records to make a dataset from")

    def _iterate(self, domain_id=None, report=None, warn=False):
        """Yields `(domain_id, label_id, record, file)` of this shard's records."""
        counters = collections.Counter()
        num_shards, shard_index = self.record_shard
        for record, path, line, source in self._located(domain_id, report, warn):
            record_domain, label_id = self.label_space.encode(record, path=path, line=line)
            if domain_id is not None and record_domain != domain_id:
                continue
            index = counters[record_domain]
            counters[record_domain] += 1
            if index % num_shards == shard_index:
                yield record_domain, label_id, record, source

    def _located(self, domain_id, report, warn):
        if self.expand is None:
            yield from self._read(domain_id, report, warn)
            return
        for record, path, line, source in self._read(domain_id, report, warn):
            for expanded in self.expand(record):
                yield expanded, path, line, source

    def _read(self, domain_id, report, warn):
        report = report or ReadReport()
        if self.files is None:
            for index, record in enumerate(self.records, 1):
                try:
                    record = normalize_record(
                        record, require_label=self.require_label, path="<records>", line=index
                    )
                except DataError as error:
                    if self.on_error == "raise":
                        raise
                    report.add_skip(error)
                    continue
                report.add_record(record)
                yield record, "<records>", index, None
        files = [] if self.files is None else (
            self.files if domain_id is None else self.files_by_domain[domain_id]
        )
        for path, default_domain in files:
            located = readers._generate(
                [path], default_domain, self.require_label, self.on_error, report,
                with_location=True, warn=False,
            )
            for record, record_path, line in located:
                yield record, record_path, line, (path, default_domain)
        if warn and report.skipped:
            readers._logger.warning("%s", report.summary())

    def _element(self, domain_id, label_id, record):
        element = (record["text"], record.get("text_pair", ""), domain_id, label_id)
        return element + ((record.get("id", ""),) if self.keep_ids else ())

    def _signature(self):
        signature = {
            "text": tf.TensorSpec([], tf.string),
            "domain_id": tf.TensorSpec([], tf.int32),
            "label_id": tf.TensorSpec([], tf.int32),
        }
        if self.has_pair:
            signature["text_pair"] = tf.TensorSpec([], tf.string)
        if self.keep_ids:
            signature["id"] = tf.TensorSpec([], tf.string)
        return signature

    def _as_dict(self, element):
        values = {"text": element[0], "domain_id": element[2], "label_id": element[3]}
        if self.has_pair:
            values["text_pair"] = element[1]
        if self.keep_ids:
            values["id"] = element[4]
        return values

    def _from_elements(self, elements):
        signature = self._signature()
        columns = {key: [] for key in signature}
        for element in elements:
            for key, value in self._as_dict(element).items():
                columns[key].append(value)
        return tf.data.Dataset.from_tensor_slices(
            {
                key: tf.constant(values, dtype=signature[key].dtype, shape=[len(values)])
                for key, values in columns.items()
            }
        )

    def _from_files(self, domain_id=None, subset=None):
        def generate():
            for index, (record_domain, label_id, record, _) in enumerate(
                self._iterate(domain_id)
            ):
                if subset is None or index in subset:
                    yield self._as_dict(self._element(record_domain, label_id, record))

        return tf.data.Dataset.from_generator(generate, output_signature=self._signature())

    def dataset(self):
        """All records of this shard once, in input order."""
        if self.files is None:
            return self._from_elements(
                self._element(domain_id, label_id, record)
                for domain_id, label_id, record, _ in self._iterate()
            )
        return self._from_files()

    def domain_dataset(self, domain_id, subset=None):
        """The records of one domain (only those whose index is in `subset`, if given)."""
        if domain_id in self.memory:
            elements = self.memory[domain_id]
            if subset is not None:
                elements = [elements[index] for index in sorted(subset)]
            return self._from_elements(elements)
        return self._from_files(domain_id, subset)


SHARD_POLICIES = ("auto", "file", "data")


def _shard_policy(policy, files, num_shards):
    """The policy a pipeline uses: `"file"` or `"data"` (see `make_dataset`)."""
    if policy not in SHARD_POLICIES:
        raise XDomainError(f"shard_policy must be one of {', '.join(SHARD_POLICIES)}, got {policy!r}")
    if num_shards == 1:
        return "data"
    enough = files is not None and len(files) >= num_shards
    if policy == "auto":
        sharded = enough and all(readers.SHARD_NAME.match(str(path)) for path, _ in files)
        return "file" if sharded else "data"
    if policy == "file" and not enough:
        have = "records in memory" if files is None else f"{len(files)} data file(s)"
        raise XDomainError(
            f"shard_policy file needs at least as many data files as input pipelines ({num_shards}), got {have}; "
            "use shard_policy data or auto, or write more shards (xdomain-tf data shard)"
        )
    return policy


def _classify_input(records_or_paths, default_domain):
    if isinstance(records_or_paths, (str, os.PathLike)):
        return [(path, default_domain) for path in readers.expand_data_files([records_or_paths])], None
    if isinstance(records_or_paths, dict):
        if "text" in records_or_paths:
            raise XDomainError("pass a list of records, not a single record")
        files = []
        for domain, paths in records_or_paths.items():
            paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
            files.extend((path, domain) for path in readers.expand_data_files(paths))
        if not files:
            raise XDomainError("no data files given")
        return files, None
    items = list(records_or_paths)
    if not items:
        raise XDomainError("no records or data files given")
    if all(isinstance(item, (str, os.PathLike)) for item in items):
        return [(path, default_domain) for path in readers.expand_data_files(items)], None
    if not all(isinstance(item, dict) for item in items):
        raise XDomainError("records_or_paths must be paths or record dicts, not a mix")
    if default_domain is not None:
        items = [item if item.get("domain") else {**item, "domain": default_domain} for item in items]
    return None, items


def _training_mixture(source, alpha, caps, weights, seed, shuffle_buffer, examples_per_epoch, label_sampling="natural"):
    if label_sampling not in LABEL_SAMPLING:
        raise XDomainError(f"label_sampling must be one of {', '.join(LABEL_SAMPLING)}, got {label_sampling!r}")
    label_space = source.label_space
    _check_domain_keys(caps, label_space, "caps")
    _check_domain_keys(weights, label_space, "weights")
    num_shards, shard_index = source.shard
    datasets, sizes, domain_weights = [], {}, {}
    for domain in label_space.domains:
        domain_id = label_space.domain_id(domain)
        size = source.sizes[domain_id]
        if size == 0:
            continue
        subset = None
        cap = (caps or {}).get(domain)
        if cap is not None:
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise XDomainError(f"cap for domain {domain!r} must be a positive integer, got {cap!r}")
            if cap < size:
                rng = np.random.default_rng(_derive_seed(seed, "cap", domain_id, shard_index))
                subset = frozenset(rng.choice(size, cap, replace=False).tolist())
                size = cap
        dataset = source.domain_dataset(domain_id, subset)
        if label_sampling == "balanced":
            dataset = _label_balanced(source, dataset, domain_id, subset, seed, shuffle_buffer)
        else:
            dataset = dataset.shuffle(
                min(size, shuffle_buffer),
                seed=_derive_seed(seed, "shuffle", domain_id, shard_index),
                reshuffle_each_iteration=True,
            ).repeat()
        datasets.append(dataset)
        sizes[domain] = size
        if weights is not None:
            domain_weights[domain] = weights.get(domain, 1.0)
    probabilities = sampling_probabilities(sizes, alpha, domain_weights if weights else None)
    kept = [(dataset, p) for dataset, p in zip(datasets, probabilities.values()) if p > 0]
    mixture = tf.data.Dataset.sample_from_datasets(
        [dataset for dataset, _ in kept],
        weights=[p for _, p in kept],
        seed=_derive_seed(seed, "mix", num_shards, shard_index),
        rerandomize_each_iteration=True,
    )
    if examples_per_epoch is None:
        examples_per_epoch = sum(sizes.values())
    return mixture.take(examples_per_epoch)


def _label_balanced(source, dataset, domain_id, subset, seed, shuffle_buffer):
    """`dataset` (one domain's examples) repeated so that each label present is drawn
    equally often."""
    counts = collections.Counter(
        label_id
        for index, (_, label_id, _, _) in enumerate(source._iterate(domain_id))
        if subset is None or index in subset
    )
    shard_index = source.shard[1]
    per_label = []
    for label_id in sorted(counts):
        label_data = dataset.filter(lambda example, label_id=label_id: tf.equal(example["label_id"], label_id))
        per_label.append(
            label_data.shuffle(
                min(counts[label_id], shuffle_buffer),
                seed=_derive_seed(seed, "shuffle", domain_id, shard_index, label_id),
                reshuffle_each_iteration=True,
            ).repeat()
        )
    if len(per_label) == 1:
        return per_label[0]
    return tf.data.Dataset.sample_from_datasets(
        per_label, weights=[1.0 / len(per_label)] * len(per_label),
        seed=_derive_seed(seed, "labels", domain_id, shard_index), rerandomize_each_iteration=True,
    )


def _check_domain_keys(values, label_space, name):
    if values is None:
        return
    if not hasattr(values, "items"):
        raise XDomainError(f"{name} must be a dict {{domain: value}}")
    unknown = sorted(set(values) - set(label_space.domains), key=str)
    if unknown:
        raise XDomainError(
            f"{name} for unknown domain(s) {unknown}; known domains: {', '.join(label_space.domains)}"
        )


def _derive_seed(seed, *parts):
    words = [seed] + [_word(part) for part in parts]
    return int(np.random.SeedSequence(words).generate_state(1)[0] & 0x7FFFFFFF)


def _word(part):
    if isinstance(part, str):
        return int.from_bytes(part.encode("utf-8")[:8], "little")
    return int(part)


def _bucket_boundaries(boundaries, preprocessor):
    sequence_length = getattr(preprocessor, "sequence_length", None) or 512
    if boundaries is None:
        boundaries = list(range(16, sequence_length, 16))
    boundaries = list(boundaries)
    if any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in boundaries) or any(
        a >= b for a, b in zip(boundaries, boundaries[1:])
    ):
        raise XDomainError(
            f"bucket_boundaries must be increasing positive integers, got {boundaries!r}"
        )
    return boundaries


def _preprocessor_inputs(batch, has_pair):
    if has_pair:
        return {"text": batch["text"], "text_pair": batch["text_pair"]}
    return batch["text"]


def _batch_and_pack(
    examples, preprocessor, batch_size, boundaries, drop_remainder, has_pair, augment_texts=None,
    augment_tokens=None, shard_for_service=False,
):
    """Batches of packed token features; `augment_tokens` is `(augment(features, seed),
    seed)` of the token augmentations (each batch's seed drawn anew every epoch). With
    `shard_for_service`, each tf.data service worker packs only its share of the batches,
    their augmentation seeds drawn before the split as locally."""
    if boundaries is None:
        batched = examples.batch(batch_size, drop_remainder=drop_remainder)
    else:
        # The token lengths come from the preprocessor itself (special tokens and
        # truncation included), so bucketed texts are tokenized twice; on 2 CPU cores
        # that still runs far ahead of the encoder.
        def add_lengths(batch):
            mask = preprocessor(_preprocessor_inputs(batch, has_pair))["padding_mask"]
            return {**batch, "length": tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)}

        with_lengths = (
            examples.batch(_LENGTH_BATCH)
            .map(add_lengths, num_parallel_calls=tf.data.AUTOTUNE)
            .unbatch()
        )
        # tf.data buckets hold lengths in [boundary[i-1], boundary[i]); ours are inclusive.
        batched = with_lengths.bucket_by_sequence_length(
            lambda example: example["length"],
            bucket_boundaries=[b + 1 for b in boundaries],
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            no_padding=True,
            drop_remainder=drop_remainder,
        )
    if augment_tokens is not None:
        seeds = tf.data.Dataset.random(seed=augment_tokens[1], rerandomize_each_iteration=True)
        batched = tf.data.Dataset.zip(batched, seeds)
    if shard_for_service:
        batched = shard_batches(batched)

    def pack(batch, batch_seed=None):
        if augment_texts is not None:
            batch = {**batch, "text": augment_texts(batch["text"])}
        features = dict(preprocessor(_preprocessor_inputs(batch, has_pair)))
        if boundaries is not None:
            longest = tf.reduce_max(
                tf.reduce_sum(tf.cast(features["padding_mask"], tf.int32), axis=1)
            )
            for key in _TOKEN_FEATURES:
                features[key] = features[key][:, :longest]
        packed = {key: features[key] for key in _TOKEN_FEATURES}
        packed["domain_id"] = batch["domain_id"]
        if "id" in batch:
            packed["id"] = batch["id"]
        if augment_tokens is not None:
            packed = augment_tokens[0](packed, batch_seed)
        return packed, batch["label_id"]

    return batched.map(pack, num_parallel_calls=tf.data.AUTOTUNE)


def replica_layout(input_context, batch_size):
    """How one input pipeline feeds its replicas, for a global `batch_size`.

    Args:
        input_context: the `tf.distribute.InputContext` of the pipeline, or None (one
            pipeline, one replica).
        batch_size: the global batch size; it must divide evenly over the replicas.

    Returns:
        `(shard, replicas, per_replica)`: `shard` is `(number of pipelines, this
        pipeline's index)`, `replicas` the replicas this pipeline feeds and `per_replica`
        each replica's batch size. The pipeline batches `replicas * per_replica` examples
        at a time and splits each batch with `split_for_replicas`.

    Example:

    >>> import tensorflow as tf
    >>> replica_layout(tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
    ...                                           num_replicas_in_sync=4), 32)
    ((2, 1), 2, 8)
    >>> replica_layout(None, 32)
    ((1, 0), 1, 32)
    """
    if input_context is None:
        return (1, 0), 1, batch_size
    per_replica = input_context.get_per_replica_batch_size(batch_size)
    shard = (input_context.num_input_pipelines, input_context.input_pipeline_id)
    return shard, max(1, input_context.num_replicas_in_sync // input_context.num_input_pipelines), per_replica


def split_for_replicas(dataset, replicas, per_replica):
    """Splits every batch of `dataset` into `replicas` consecutive slices of `per_replica` rows.

    tf.distribute hands consecutive elements of a pipeline to its replicas in turn, so
    the replicas of one step get slices of one batch (one padded width); the last
    slices of a short batch may be short or empty.

    Args:
        dataset: a batched dataset (any structure of tensors with a batch axis).
        replicas: the replicas the pipeline feeds (see `replica_layout`).
        per_replica: rows per slice.

    Example:

    >>> import tensorflow as tf
    >>> batches = tf.data.Dataset.range(6).batch(3)
    >>> [x.numpy().tolist() for x in split_for_replicas(batches, 2, 2)]
    [[0, 1], [2], [3, 4], [5]]
    """
    def split(*element):
        element = element[0] if len(element) == 1 else element
        return tf.data.Dataset.range(replicas).map(
            lambda index: tf.nest.map_structure(
                lambda x: x[index * per_replica : (index + 1) * per_replica], element
            )
        )

    return dataset.flat_map(split)


def _model_io(label_space, multi_head, with_labels):
    domains = label_space.domains

    def to_model(features, label_id):
        if not with_labels:
            return features
        if not multi_head:
            return features, label_id
        domain_id = features["domain_id"]
        targets = {
            domain: tf.where(tf.equal(domain_id, index), label_id, -1)
            for index, domain in enumerate(domains)
        }
        return features, targets

    return to_model

