import collections

import numpy as np
import tensorflow as tf

from pretraining_fixtures import VOCABULARY, write_corpus, write_pairs
from xdomain_tf.text.preprocessor import Preprocessor
from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
from xdomain_tf.training.pretraining.input_pipelines import causal_lm_dataset, contrastive_dataset, masked_lm_dataset
from xdomain_tf.training.pretraining.input_pipelines import lm_masker

TOKENIZER = WordPieceTokenizer(VOCABULARY)
PREPROCESSOR = Preprocessor(TOKENIZER, sequence_length=24)
MASKER = lm_masker(TOKENIZER, mask_rate=0.2, max_predictions=4)


def _numpy(batch):
    return {key: value.numpy() for key, value in batch.items()}


def test_evaluation_masks_are_the_same_for_every_build(tmp_path):
    corpus = PretrainingCorpus.from_files([write_corpus(tmp_path / "c.jsonl", count=40)])
    first = [_numpy(b) for b in masked_lm_dataset(corpus, PREPROCESSOR, MASKER, 8, ["pets", "tech"], training=False, mask_seed=3)]
    again = [_numpy(b) for b in masked_lm_dataset(corpus, PREPROCESSOR, MASKER, 8, ["pets", "tech"], training=False, mask_seed=3)]
    other = [_numpy(b) for b in masked_lm_dataset(corpus, PREPROCESSOR, MASKER, 8, ["pets", "tech"], training=False, mask_seed=4)]
    assert sum(len(b["domain_id"]) for b in first) == 40
    for a, b in zip(first, again):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a["mask_positions"], c["mask_positions"]) for a, c in zip(first, other))
    batch = first[0]
    assert batch["mask_positions"].shape == (8, 4) and batch["mask_weights"].dtype == np.float32


def test_training_stream_is_reproducible_and_temperature_sampled(tmp_path):
    # 90 pets texts, 10 tech texts: alpha=1 draws ~90% pets, alpha=0 ~50%.
    records = [{"text": f"the cat eats fish {i}", "domain": "pets"} for i in range(90)]
    records += [{"text": f"the phone runs linux {i}", "domain": "tech"} for i in range(10)]
    corpus = PretrainingCorpus.from_records(records)
    shares = {}
    for alpha in (1.0, 0.0):
        stream = masked_lm_dataset(corpus, PREPROCESSOR, MASKER, 10, ["pets", "tech"], alpha=alpha, seed=1).take(40)
        counts = collections.Counter(np.concatenate([b["domain_id"].numpy() for b in stream]).tolist())
        shares[alpha] = counts[0] / sum(counts.values())
    assert 0.85 < shares[1.0] < 0.95 and 0.4 < shares[0.0] < 0.6
    a = [_numpy(b) for b in masked_lm_dataset(corpus, PREPROCESSOR, MASKER, 10, ["pets", "tech"], seed=2).take(15)]
    b = [_numpy(b) for b in masked_lm_dataset(corpus, PREPROCESSOR, MASKER, 10, ["pets", "tech"], seed=2).take(15)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x["token_ids"], y["token_ids"])
        np.testing.assert_array_equal(x["mask_positions"], y["mask_positions"])


def test_sentence_order_batches_carry_labels_and_two_segments(tmp_path):
    corpus = PretrainingCorpus.from_files([write_corpus(tmp_path / "c.jsonl", count=20)])
    batch = _numpy(next(iter(masked_lm_dataset(corpus, PREPROCESSOR, MASKER, 20, ["pets", "tech"], training=False, sentence_objective="sop"))))
    assert set(batch["sentence_label"].tolist()) <= {0, 1}
    assert (batch["segment_ids"].max(axis=1) == 1).all()


def test_causal_labels_are_the_next_tokens(tmp_path):
    corpus = PretrainingCorpus.from_files([write_corpus(tmp_path / "c.jsonl", count=8)])
    batch = _numpy(next(iter(causal_lm_dataset(corpus, PREPROCESSOR, 8, ["pets", "tech"], training=False))))
    np.testing.assert_array_equal(batch["labels"][:, :-1], batch["token_ids"][:, 1:])
    np.testing.assert_array_equal(batch["label_weights"], (batch["labels"] != 0).astype("float32"))
    assert ((batch["labels"] == 3).sum(axis=1) == 1).all()  # every row learns to end with [SEP]
    assert set(batch["domain_id"].tolist()) == {0, 1}


def test_causal_batches_start_with_the_domain_token_except_the_unconditioned_fraction(tmp_path):
    from xdomain_tf.text.domain_tokens import reserve_domain_tokens

    tokenizer = WordPieceTokenizer(reserve_domain_tokens(VOCABULARY, ["pets", "tech"]))
    preprocessor = Preprocessor(tokenizer, sequence_length=24)
    pets, tech = len(VOCABULARY), len(VOCABULARY) + 1
    corpus = PretrainingCorpus.from_files([write_corpus(tmp_path / "c.jsonl", count=40)])

    def first_tokens(training, rate=0.0, **options):
        dataset = causal_lm_dataset(
            corpus, preprocessor, 20, ["pets", "tech"], training=training, seed=3, domain_token_ids=[pets, tech],
            unconditioned_rate=rate, **options,
        )
        batches = [_numpy(batch) for batch in dataset.take(8)]
        return np.concatenate([b["token_ids"][:, 0] for b in batches]), np.concatenate([b["domain_id"] for b in batches])

    first, domain = first_tokens(training=False)
    np.testing.assert_array_equal(first, np.where(domain == 0, pets, tech))
    first, domain = first_tokens(training=True, rate=0.5)
    conditioned = first != 2
    np.testing.assert_array_equal(first[conditioned], np.where(domain == 0, pets, tech)[conditioned])
    assert 0.3 < 1 - conditioned.mean() < 0.7
    np.testing.assert_array_equal(first, first_tokens(training=True, rate=0.5)[0])  # seeded
    assert set(first_tokens(training=True, rate=1.0)[0]) == {2}
    assert set(first_tokens(training=False, start_id=tech)[0]) == {tech}
    # The label of the first position is the first text token, whatever the start.
    batch = _numpy(next(iter(causal_lm_dataset(corpus, preprocessor, 4, ["pets", "tech"], training=False,
                                               domain_token_ids=[pets, tech]))))
    plain = _numpy(next(iter(causal_lm_dataset(corpus, preprocessor, 4, ["pets", "tech"], training=False))))
    np.testing.assert_array_equal(batch["labels"], plain["labels"])
    np.testing.assert_array_equal(batch["token_ids"][:, 1:], plain["token_ids"][:, 1:])


def test_contrastive_batches_hold_both_sides(tmp_path):
    corpus = PretrainingCorpus.from_files([write_pairs(tmp_path / "p.jsonl", count=10)])
    batches = [_numpy(b) for b in contrastive_dataset(corpus, PREPROCESSOR, 4, training=False)]
    assert [len(b["domain_id"]) for b in batches] == [4, 4, 2]
    first = batches[0]
    source = TOKENIZER.detokenize(first["source_token_ids"][:1, 1:first["source_padding_mask"][0].sum() - 1]).numpy()[0]
    target = TOKENIZER.detokenize(first["target_token_ids"][:1, 1:first["target_padding_mask"][0].sum() - 1]).numpy()[0]
    assert source.decode().startswith("the ") and target.decode().startswith("der ")
    training = next(iter(contrastive_dataset(corpus, PREPROCESSOR, 4, training=True, seed=0)))
    assert training["source_token_ids"].shape[0] == 4


def _context(pipelines, pipeline, replicas):
    return tf.distribute.InputContext(num_input_pipelines=pipelines, input_pipeline_id=pipeline,
                                      num_replicas_in_sync=replicas)


def test_contrastive_batches_split_over_replicas_and_pipelines(tmp_path):
    corpus = PretrainingCorpus.from_files([write_pairs(tmp_path / "p.jsonl", count=10)])
    whole = [_numpy(b) for b in contrastive_dataset(corpus, PREPROCESSOR, 4, seed=1).take(3)]
    # one pipeline feeding two replicas: each global batch becomes two slices of 2 rows, one width
    sliced = [_numpy(b) for b in contrastive_dataset(corpus, PREPROCESSOR, 4, seed=1,
                                                     input_context=_context(1, 0, 2)).take(6)]
    assert [len(b["domain_id"]) for b in sliced] == [2] * 6
    for batch, (first, second) in zip(whole, zip(sliced[::2], sliced[1::2])):
        for key in batch:
            np.testing.assert_array_equal(batch[key], np.concatenate([first[key], second[key]]))
    # two pipelines (workers) of one replica each: half the batch each, drawn differently
    workers = [[_numpy(b) for b in contrastive_dataset(corpus, PREPROCESSOR, 4, seed=1,
                                                       input_context=_context(2, index, 2)).take(3)]
               for index in range(2)]
    assert [len(b["domain_id"]) for b in workers[0] + workers[1]] == [2] * 6
    assert any(not np.array_equal(a["source_token_ids"], b["source_token_ids"]) for a, b in zip(*workers))
