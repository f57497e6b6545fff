import collections
import functools
import math

import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.data.label_space import LabelSpace
from xdomain_tf.data.pipeline import make_dataset
from xdomain_tf.data.sampling import sampling_probabilities
from xdomain_tf.data.writers import write_jsonl, write_tfrecord
from xdomain_tf.errors import DataError, XDomainError

SIZES = {"big": 1000, "mid": 100, "small": 10}


def _records(sizes=SIZES, pair=False):
    records = []
    for domain, size in sizes.items():
        for index in range(size):
            words = " ".join(f"{domain}{index}w{k}" for k in range(1 + (index * 7) % 30))
            record = {"text": words, "label": f"{domain}-l{index % 3}", "domain": domain,
                      "id": f"{domain}-{index}"}
            if pair:
                record["text_pair"] = f"second {index}"
            records.append(record)
    return records


def _unbatch(dataset):
    """Per-example rows: (id, domain_id, real token ids, targets dict) and batch sizes and widths."""
    rows, widths = [], []
    for features, targets in dataset:
        widths.append(tuple(features["token_ids"].shape))
        mask = features["padding_mask"].numpy()
        for i in range(mask.shape[0]):
            length = int(mask[i].sum())
            assert mask[i, :length].all() and not mask[i, length:].any()
            rows.append((
                features["id"].numpy()[i].decode(),
                int(features["domain_id"].numpy()[i]),
                tuple(features["token_ids"].numpy()[i, :length]),
                {domain: int(value.numpy()[i]) for domain, value in targets.items()},
            ))
    return rows, widths


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_domain_frequencies_follow_alpha(preprocessor, alpha):
    records = _records()
    space = LabelSpace.from_records(records)
    dataset = make_dataset(records, preprocessor, space, batch_size=500, alpha=alpha,
                           bucketing=False, examples_per_epoch=5000, seed=1)
    counts = collections.Counter()
    for features, _ in dataset:
        counts.update(features["domain_id"].numpy().tolist())
    assert sum(counts.values()) == 5000
    expected = sampling_probabilities(SIZES, alpha)
    for domain, p in expected.items():
        observed = counts[space.domain_id(domain)] / 5000
        assert abs(observed - p) < 5 * math.sqrt(p * (1 - p) / 5000), (domain, observed, p)


def test_weights_and_caps(preprocessor):
    records = _records()
    space = LabelSpace.from_records(records)
    dataset = make_dataset(records, preprocessor, space, batch_size=500, alpha=0.0,
                           weights={"big": 3.0, "small": 0.0}, caps={"big": 50},
                           bucketing=False, keep_ids=True, examples_per_epoch=4000, seed=3)
    rows, _ = _unbatch(dataset.repeat(2))
    domains = collections.Counter(space.domains[domain_id] for _, domain_id, _, _ in rows)
    assert domains["small"] == 0
    assert abs(domains["big"] / 8000 - 0.75) < 5 * math.sqrt(0.75 * 0.25 / 8000)
    big_ids = {row[0] for row in rows if row[0].startswith("big-")}
    assert len(big_ids) == 50  # the same random subset of 50 in both epochs
    assert sorted(big_ids) != [f"big-{i}" for i in range(50)]


def test_deterministic_under_seed_and_reshuffled_each_epoch(preprocessor):
    records = _records({"big": 200, "small": 20})
    space = LabelSpace.from_records(records)
    make = functools.partial(make_dataset, records, preprocessor, space, 16, alpha=0.5,
                             keep_ids=True)
    dataset = make(seed=7)
    first, _ = _unbatch(dataset)
    second_epoch, _ = _unbatch(dataset)
    # A rebuilt dataset (as after a restart) repeats every epoch, the second one too.
    again, _ = _unbatch(make(seed=7).repeat(2))
    other, _ = _unbatch(make(seed=8))
    assert again == first + second_epoch and len(first) == 220
    assert [row[0] for row in first] != [row[0] for row in other]
    assert [row[0] for row in second_epoch] != [row[0] for row in first]


def _expected_tokens(preprocessor, records):
    outputs = preprocessor(tf.constant([r["text"] for r in records]))
    mask = outputs["padding_mask"].numpy()
    return {
        record["id"]: tuple(outputs["token_ids"].numpy()[i, : mask[i].sum()])
        for i, record in enumerate(records)
    }


@pytest.mark.parametrize("training", [False, True])
def test_bucketing_keeps_every_example_once_and_cuts_padding(training, make_preprocessor):
    preprocessor = make_preprocessor(sequence_length=32)
    records = _records({"big": 300}) if training else _records()
    space = LabelSpace.from_records(records)
    dataset = make_dataset(records, preprocessor, space, batch_size=8, training=training,
                           bucket_boundaries=[4, 8, 16], keep_ids=True, seed=2)
    rows, widths = _unbatch(dataset)
    assert collections.Counter(row[0] for row in rows) == collections.Counter(
        r["id"] for r in records)
    expected = _expected_tokens(preprocessor, records)
    assert all(tokens == expected[example_id] for example_id, _, tokens, _ in rows)
    # Each batch holds one bucket's lengths and is as wide as its longest example.
    position = 0
    for size, width in widths:
        batch = rows[position : position + size]
        position += size
        lengths = [len(tokens) for _, _, tokens, _ in batch]
        assert width == max(lengths)
        buckets = {np.searchsorted([4, 8, 16], length) for length in lengths}
        assert len(buckets) == 1
    assert sum(size < 8 for size, _ in widths) <= 4  # at most one partial batch per bucket
    padded_per_example = sum(size * width for size, width in widths) / len(rows)
    real_per_example = np.mean([len(tokens) for _, _, tokens, _ in rows])
    assert real_per_example < padded_per_example < 0.8 * 32  # vs 32 with fixed padding


def test_evaluation_covers_each_domain_once_with_masked_targets(preprocessor):
    records = _records()
    space = LabelSpace.from_records(records)
    dataset = make_dataset(records, preprocessor, space, batch_size=64, training=False,
                           bucketing=False, keep_ids=True)
    rows, widths = _unbatch(dataset)
    assert [row[0] for row in rows] == [r["id"] for r in records]  # input order, once
    assert {width for _, width in widths} == {16}  # pad_to="fixed" without bucketing
    by_id = {r["id"]: r for r in records}
    for example_id, domain_id, _, targets in rows:
        record = by_id[example_id]
        assert space.domains[domain_id] == record["domain"]
        assert targets == {
            domain: space.label_id(domain, record["label"]) if domain == record["domain"] else -1
            for domain in space.domains
        }


def test_files_streamed_or_in_memory_give_the_same_batches(tmp_path, preprocessor):
    records = _records({"big": 120, "small": 12})
    write_jsonl([r for r in records if r["domain"] == "big"], tmp_path / "big.jsonl")
    write_tfrecord([{k: v for k, v in r.items() if k != "domain"}
                    for r in records if r["domain"] == "small"], tmp_path / "small.tfrecord")
    space = LabelSpace.from_records(records)
    inputs = {"big": tmp_path / "big.jsonl", "small": [tmp_path / "small.tfrecord"]}
    make = functools.partial(make_dataset, preprocessor=preprocessor, label_space=space,
                             batch_size=10, alpha=0.3, keep_ids=True, seed=4)
    in_memory, _ = _unbatch(make(records))
    streamed, _ = _unbatch(make(inputs, in_memory_limit=0))
    cached, _ = _unbatch(make(inputs))
    assert in_memory == streamed == cached
    evaluated, _ = _unbatch(make(inputs, training=False))
    assert sorted(row[0] for row in evaluated) == sorted(r["id"] for r in records)


def test_pairs_single_head_and_unlabeled(preprocessor):
    records = _records({"news": 20}, pair=True)
    space = LabelSpace.from_records(records)
    features, labels = next(iter(make_dataset(records, preprocessor, space, 20, training=False,
                                              multi_head=False, bucketing=False)))
    assert sorted(features) == ["domain_id", "padding_mask", "segment_ids", "token_ids"]
    assert labels.numpy().tolist() == [space.label_id("news", r["label"]) for r in records]
    assert features["segment_ids"].numpy().max() == 1
    unlabeled = [{"text": r["text"], "text_pair": "x"} for r in records]
    features = next(iter(make_dataset(unlabeled, preprocessor, space, 20, training=False,
                                      with_labels=False, default_domain="news")))
    assert isinstance(features, dict) and features["domain_id"].numpy().tolist() == [0] * 20


def test_input_errors(tmp_path, preprocessor):
    records = _records({"news": 5})
    space = LabelSpace.from_records(records)
    bad_label = tmp_path / "eval.jsonl"
    write_jsonl(records[:2] + [{**records[0], "label": "nope"}], bad_label)
    with pytest.raises(DataError, match=r"eval.jsonl:3: field \"label\": unknown label.*known labels"):
        make_dataset(bad_label, preprocessor, space, 4, training=False)
    with pytest.raises(XDomainError, match="text_pair and 1 do not"):
        make_dataset(records[:1] + _records({"news": 1}, pair=True), preprocessor, space, 4)
    with pytest.raises(XDomainError, match=r"caps for unknown domain\(s\) \['law'\]; known domains: news"):
        make_dataset(records, preprocessor, space, 4, caps={"law": 3})
    with pytest.raises(XDomainError, match="batch_size"):
        make_dataset(records, preprocessor, space, 0)
    skipped = make_dataset(records + [{"text": "", "label": "x", "domain": "news"}], preprocessor,
                           space, 8, training=False, on_error="skip", bucketing=False)
    assert sum(int(f["token_ids"].shape[0]) for f, _ in skipped) == 5


def test_sharding_over_input_pipelines(preprocessor):
    records = _records({"big": 40, "small": 5})
    space = LabelSpace.from_records(records)
    seen = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=4)
        rows, batches = _unbatch(make_dataset(records, preprocessor, space, 8, training=False,
                                              keep_ids=True, bucketing=False,
                                              input_context=context))
        assert max(size for size, _ in batches) == 2  # global 8 over 4 replicas
        seen.append([row[0] for row in rows])
    assert len(seen[0]) == 23 and len(seen[1]) == 22
    assert sorted(seen[0] + seen[1]) == sorted(r["id"] for r in records)


@pytest.mark.parametrize("pad_to", ["fixed", "longest"])
def test_pairs_with_real_words_in_buckets(pad_to, make_preprocessor):
    preprocessor = make_preprocessor(sequence_length=24, pad_to=pad_to)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog"]
    rng = np.random.default_rng(0)
    records = [
        {"text": " ".join(rng.choice(words, size=int(rng.integers(1, 30)))),
         "text_pair": " ".join(rng.choice(words, size=int(rng.integers(1, 6)))),
         "label": str(i % 2), "domain": "d", "id": str(i)}
        for i in range(60)
    ]
    space = LabelSpace.from_records(records)
    dataset = make_dataset(records, preprocessor, space, 8, training=False,
                           bucket_boundaries=[8, 16], keep_ids=True)
    rows, widths = _unbatch(dataset)
    expected = preprocessor({"text": tf.constant([r["text"] for r in records]),
                             "text_pair": tf.constant([r["text_pair"] for r in records])})
    mask = expected["padding_mask"].numpy()
    for example_id, _, tokens, _ in rows:
        index = int(example_id)
        assert tokens == tuple(expected["token_ids"].numpy()[index, : mask[index].sum()])
    assert sorted(int(row[0]) for row in rows) == list(range(60))
    assert max(width for _, width in widths) == 24 and min(width for _, width in widths) <= 16


def _imbalanced_records():
    """One domain with labels of 90, 9 and 1 examples."""
    sizes = {"common": 90, "rare": 9, "single": 1}
    return [{"text": f"{label} {index}", "label": label, "domain": "debian"}
            for label, size in sizes.items() for index in range(size)]


@pytest.mark.parametrize("sampling", ["natural", "balanced"])
def test_label_balanced_sampling_draws_each_label_equally_often(preprocessor, sampling):
    records = _imbalanced_records()
    space = LabelSpace.from_records(records)
    dataset = make_dataset(records, preprocessor, space, batch_size=300, bucketing=False, examples_per_epoch=3000,
                           seed=2, label_sampling=sampling)
    counts = collections.Counter()
    for _, targets in dataset:
        counts.update(targets["debian"].numpy().tolist())
    assert sum(counts.values()) == 3000
    shares = [counts[space.labels("debian").index(label)] / 3000 for label in ("common", "rare", "single")]
    expected = [1 / 3] * 3 if sampling == "balanced" else [0.9, 0.09, 0.01]
    for share, p in zip(shares, expected):
        assert abs(share - p) < 5 * math.sqrt(p * (1 - p) / 3000), (sampling, shares)


def test_unknown_label_sampling_is_refused(preprocessor):
    records = _imbalanced_records()
    with pytest.raises(XDomainError, match="label_sampling must be one of natural, balanced"):
        make_dataset(records, preprocessor, LabelSpace.from_records(records), 8, label_sampling="uniform")
