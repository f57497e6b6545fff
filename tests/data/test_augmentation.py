"""Training-data augmentation: token masking, deletion, masked-LM replacement, translate-train
and user functions; seeded, training batches only, labels and special tokens untouched."""
import json

import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.data.augmentation import (
    Augmenter, ContextualReplacement, SpecialTokens, TokenDeletion, TokenMasking, TranslateTrain,
    augmentations_from_spec, parse_augment_spec,
)
from xdomain_tf.data.label_space import LabelSpace
from xdomain_tf.data.pipeline import make_dataset
from xdomain_tf.errors import DataError, XDomainError

# The vocabulary of tests/data/conftest.py: "the" is 5, "cat" 6, ..., "mat" 10.
VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "a", "mat"]

SPECIAL = SpecialTokens(mask_id=4, pad_id=0, protected_ids=(0, 2, 3, 4))
PROTECTED = list(SPECIAL.protected_ids)
WORDS = ["the", "cat", "sat", "on", "a", "mat"]
RECORDS = [
    {"id": f"r{index}", "domain": domain, "label": label,
     "text": " ".join(WORDS[(index + k) % len(WORDS)] for k in range(4 + index % 5))}
    for index in range(24)
    for domain, label in [(("news", "sport"), ("news", "tech"), ("apps", "games"), ("apps", "tools"))[index % 4]]
]


def batch(rows=8, width=16, seed=0):
    """Packed features: [CLS] words [SEP] then padding, rows of different lengths."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((rows, width), "int32")
    mask = np.zeros((rows, width), "int32")
    for row in range(rows):
        length = int(rng.integers(3, width - 1))
        ids[row, 0], ids[row, 1:length + 1], ids[row, length + 1] = 2, rng.integers(5, 11, length), 3
        mask[row, : length + 2] = 1
    return {"token_ids": tf.constant(ids), "segment_ids": tf.zeros_like(ids), "padding_mask": tf.constant(mask),
            "domain_id": tf.zeros([rows], tf.int32)}


def assert_special_tokens_and_padding_kept(out, features):
    before, mask = features["token_ids"].numpy(), features["padding_mask"].numpy()
    kept = np.isin(before, PROTECTED) | (mask == 0)
    np.testing.assert_array_equal(out["token_ids"].numpy()[kept], before[kept])
    np.testing.assert_array_equal(out["padding_mask"], mask)


def tiny_masked_lm(vocabulary_size=len(VOCABULARY)):
    from xdomain_tf.models import EncoderConfig, MaskedLM, build_encoder

    tf.keras.utils.set_random_seed(0)
    encoder = build_encoder(EncoderConfig(vocab_size=vocabulary_size, hidden_size=16, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=32))
    return MaskedLM(encoder)


# --- the --augment spec ---

def test_spec_is_parsed_in_order():
    assert parse_augment_spec("mask:0.1,delete:0.2,mask:0.05") == [("mask", 0.1), ("delete", 0.2), ("mask", 0.05)]
    assert parse_augment_spec(None) == parse_augment_spec("none") == []
    steps = augmentations_from_spec("delete:0.3,mask:0.1")
    assert [repr(step) for step in steps] == ["TokenDeletion(0.3)", "TokenMasking(0.1)"]


@pytest.mark.parametrize("spec, message", [
    ("mask", "augment entry 'mask': expected name:rate, e.g. mask:0.1,delete:0.1"),
    ("shuffle:0.1", "augment entry 'shuffle:0.1': unknown augmentation 'shuffle'; known: mask, delete, mlm_replace"),
    ("mask:0.1,delete:x", "augment entry 'delete:x': the rate must be a number in (0, 1), got x"),
    ("mask:1", "augment entry 'mask:1': the rate must be a number in (0, 1), got 1"),
    ("mask:0.1,", "augment entry '': expected name:rate, e.g. mask:0.1,delete:0.1"),
])
def test_bad_spec_is_one_line_naming_the_entry(spec, message):
    with pytest.raises(XDomainError) as error:
        parse_augment_spec(spec)
    assert str(error.value) == message


def test_mlm_replace_needs_a_masked_lm():
    with pytest.raises(XDomainError, match="needs a masked LM"):
        augmentations_from_spec("mlm_replace:0.1")


# --- token steps ---

@pytest.mark.parametrize("step", [TokenMasking(0.3), TokenDeletion(0.3)], ids=repr)
def test_token_steps_are_seeded_and_leave_special_tokens_and_padding(step):
    features = batch()
    first = step(features, tf.constant([1, 2]), SPECIAL)
    again = step(features, tf.constant([1, 2]), SPECIAL)
    other = step(features, tf.constant([1, 3]), SPECIAL)
    for key in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["token_ids"], other["token_ids"])
    assert not np.array_equal(first["token_ids"], features["token_ids"])
    np.testing.assert_array_equal(first["domain_id"], features["domain_id"])
    ids, mask = first["token_ids"].numpy(), first["padding_mask"].numpy()
    before = features["token_ids"].numpy()
    for row in range(ids.shape[0]):
        kept = ids[row][mask[row] == 1].tolist()
        original = before[row][features["padding_mask"].numpy()[row] == 1].tolist()
        # [CLS] first, [SEP] last, padding only after the text, no [PAD] inside.
        assert kept[0] == 2 and kept[-1] == 3 and 0 not in kept and kept.count(3) == original.count(3)
        assert (ids[row][mask[row] == 0] == 0).all()
    if isinstance(step, TokenMasking):
        assert_special_tokens_and_padding_kept(first, features)
        changed = ids != before
        assert (ids[changed] == 4).all() and not np.isin(before[changed], PROTECTED).any()


def test_deletion_keeps_the_order_of_the_tokens_it_keeps():
    features = batch()
    out = TokenDeletion(0.4)(features, tf.constant([5, 5]), SPECIAL)
    for row in range(8):
        kept = out["token_ids"].numpy()[row][out["padding_mask"].numpy()[row] == 1].tolist()
        original = iter(features["token_ids"].numpy()[row].tolist())
        assert all(token in original for token in kept)  # a subsequence
        assert len(kept) <= int(features["padding_mask"].numpy()[row].sum())


def test_rate_is_roughly_the_fraction_of_tokens_masked():
    features = batch(rows=64, width=32)
    out = TokenMasking(0.2)(features, tf.constant([0, 9]), SPECIAL)
    eligible = (features["padding_mask"].numpy() == 1) & ~np.isin(features["token_ids"].numpy(), PROTECTED)
    assert 0.15 < (out["token_ids"].numpy() == 4)[eligible].mean() < 0.25


def test_contextual_replacement_predicts_with_the_masked_lm():
    masked_lm = tiny_masked_lm()
    features = batch()
    step = ContextualReplacement(0.3, masked_lm)
    first = step(features, tf.constant([1, 2]), SPECIAL)
    np.testing.assert_array_equal(first["token_ids"], step(features, tf.constant([1, 2]), SPECIAL)["token_ids"])
    assert not np.array_equal(first["token_ids"], step(features, tf.constant([1, 3]), SPECIAL)["token_ids"])
    assert_special_tokens_and_padding_kept(first, features)
    ids = first["token_ids"].numpy()
    assert not np.isin(ids[ids != features["token_ids"].numpy()], PROTECTED).any()  # never [MASK] etc.
    # The top token, with sample=False: what the model predicts at the masked positions.
    top = ContextualReplacement(0.3, masked_lm, sample=False)(features, tf.constant([1, 2]), SPECIAL)
    assert (top["token_ids"].numpy() != features["token_ids"].numpy()).any()


def test_augmenter_sorts_steps_and_applies_text_functions():
    translate = TranslateTrain([{"text": "a", "text_pair": "b", "lang": "de"}])
    augmenter = Augmenter([tf.strings.upper, TokenMasking(0.1), translate], SPECIAL)
    assert len(augmenter.text_steps) == len(augmenter.token_steps) == len(augmenter.record_steps) == 1
    assert augmenter.augment_texts(tf.constant(["the cat"])).numpy().tolist() == [b"THE CAT"]
    with pytest.raises(XDomainError, match="an augmentation must be"):
        Augmenter([0.1])


# --- translate-train ---

def write_pairs(path, pairs):
    path.write_text("".join(json.dumps(pair) + "\n" for pair in pairs), encoding="utf-8")
    return path


def test_translate_train_adds_the_translation_with_the_same_domain_and_label(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl", [
        {"text": "the cat sat", "text_pair": "die Katze sass", "lang": "de", "domain": "debian"},
        {"text": "the cat sat", "text_pair": "le chat", "lang": "fr", "domain": "debian"},
        {"text": "on a mat", "text_pair": "auf einer Matte", "lang": "de", "domain": "debian"},
    ])
    step = TranslateTrain(str(pairs))
    record = {"id": "n1", "text": "the cat sat", "domain": "news", "label": "sport", "lang": "en"}
    assert step(record) == [
        {"id": "n1/translation-de", "text": "die Katze sass", "domain": "news", "label": "sport", "lang": "de"},
        {"id": "n1/translation-fr", "text": "le chat", "domain": "news", "label": "sport", "lang": "fr"},
    ]
    assert step({**record, "lang": "de"}) == []  # only the pairs' source language
    assert step({**record, "text": "unpaired"}) == []

    # Through the pipeline: the translation is a training example of its own, same label.
    records = [record, {"id": "n2", "text": "a mat", "domain": "news", "label": "tech"}]
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    preprocessor = Preprocessor(WordPieceTokenizer(VOCABULARY), 16)
    space = LabelSpace.from_records(records)
    dataset = make_dataset(records, preprocessor, space, 8, keep_ids=True, augment=[step], bucketing=False)
    features, targets = next(iter(dataset))
    labels = dict(zip([i.decode() for i in features["id"].numpy()], targets["news"].numpy().tolist()))
    assert labels == {"n1": 0, "n1/translation-de": 0, "n1/translation-fr": 0, "n2": 1}


def test_translate_train_refuses_a_pair_without_translation(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl", [{"text": "the cat", "lang": "de", "domain": "d"}])
    with pytest.raises(DataError, match="pairs.jsonl:1: .*needs text_pair"):
        TranslateTrain(str(pairs))


# --- in make_dataset ---

def dataset_batches(preprocessor, augment=None, seed=0, augment_seed=None, batches=3):
    space = LabelSpace.from_records(RECORDS)
    dataset = make_dataset(RECORDS, preprocessor, space, 8, seed=seed, augment=augment, augment_seed=augment_seed,
                           bucketing=False)
    return [(features, targets) for features, targets in dataset.take(batches)]


def test_pipeline_augmentation_is_seeded_and_keeps_the_labels(preprocessor):
    plain = dataset_batches(preprocessor)
    masked = dataset_batches(preprocessor, [TokenMasking(0.3), TokenDeletion(0.2)])
    again = dataset_batches(preprocessor, [TokenMasking(0.3), TokenDeletion(0.2)])
    other = dataset_batches(preprocessor, [TokenMasking(0.3), TokenDeletion(0.2)], augment_seed=1)
    for (p_features, p_targets), (m_features, m_targets), (a_features, _), (o_features, o_targets) in zip(
            plain, masked, again, other):
        for domain in p_targets:  # the same examples, the same labels: only the tokens change
            np.testing.assert_array_equal(p_targets[domain], m_targets[domain])
            np.testing.assert_array_equal(p_targets[domain], o_targets[domain])
        np.testing.assert_array_equal(p_features["domain_id"], m_features["domain_id"])
        np.testing.assert_array_equal(m_features["token_ids"], a_features["token_ids"])
        assert (m_features["token_ids"].numpy()[:, 0] == 2).all()
    assert any(not np.array_equal(p["token_ids"], m["token_ids"]) for (p, _), (m, _) in zip(plain, masked))
    assert any(not np.array_equal(m["token_ids"], o["token_ids"]) for (m, _), (o, _) in zip(masked, other))


def test_pipeline_runs_user_text_functions_and_the_masked_lm(preprocessor):
    def drop_cats(texts):
        return tf.strings.regex_replace(texts, "cat", "")

    plain, _ = dataset_batches(preprocessor, batches=1)[0]
    dropped, _ = dataset_batches(preprocessor, [drop_cats], batches=1)[0]
    assert 6 in plain["token_ids"].numpy() and 6 not in dropped["token_ids"].numpy()
    replaced, _ = dataset_batches(preprocessor, [drop_cats, ContextualReplacement(0.3, tiny_masked_lm())], batches=1)[0]
    assert replaced["token_ids"].shape == dropped["token_ids"].shape
    changed = replaced["token_ids"].numpy() != dropped["token_ids"].numpy()
    assert changed.any() and not np.isin(dropped["token_ids"].numpy()[changed], PROTECTED).any()


def test_evaluation_data_is_never_augmented(preprocessor):
    space = LabelSpace.from_records(RECORDS)
    with pytest.raises(XDomainError, match="augment applies to training data only"):
        make_dataset(RECORDS, preprocessor, space, 8, training=False, augment=[TokenMasking(0.1)])
