"""`MultiDomainTextClassifier.fit(..., augment=...)`: the augmentation steps of
`xdomain_tf.data.augmentation` on raw-string training input, seeded, never on validation
data, never on special tokens or labels."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from task_fixtures import fixture_records, tiny_classifier
from xdomain_tf.data.augmentation import TokenDeletion, TokenMasking, TranslateTrain
from xdomain_tf.errors import XDomainError


def _columns(records):
    return {"text": [r["text"] for r in records], "domain": [r["domain"] for r in records]}, [r["label"] for r in records]


@pytest.fixture(scope="module")
def clf():
    keras.utils.set_random_seed(2)
    return tiny_classifier()


def _batches(clf, augment=None, augment_seed=None, seed=3, **kwargs):
    x, y = _columns(fixture_records())
    dataset = clf.dataset(x, y, batch_size=16, shuffle=True, seed=seed, labelled=True, augment=augment,
                          augment_seed=augment_seed, **kwargs)
    return [(tf.nest.map_structure(np.asarray, features), tf.nest.map_structure(np.asarray, targets))
            for features, targets in dataset]


def _special_ids(clf):
    tokenizer = clf.preprocessor.tokenizer
    return [tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id]


def test_same_seed_same_batches_other_seed_other_batches(clf):
    first = _batches(clf, "mask:0.3,delete:0.1", augment_seed=5)
    again = _batches(clf, "mask:0.3,delete:0.1", augment_seed=5)
    other = _batches(clf, "mask:0.3,delete:0.1", augment_seed=6)
    plain = _batches(clf)
    ids = lambda batches: np.concatenate([features["token_ids"].ravel() for features, _ in batches])
    np.testing.assert_array_equal(ids(first), ids(again))
    assert not np.array_equal(ids(first), ids(other))
    assert not np.array_equal(ids(first), ids(plain))


def test_special_tokens_padding_and_labels_untouched(clf):
    plain = _batches(clf)
    masked = _batches(clf, [TokenMasking(0.5)], augment_seed=1)
    mask_id = clf.preprocessor.tokenizer.mask_token_id
    changed = 0
    for (before, targets), (after, augmented_targets) in zip(plain, masked):
        tf.nest.map_structure(np.testing.assert_array_equal, targets, augmented_targets)
        np.testing.assert_array_equal(before["domain_id"], after["domain_id"])
        np.testing.assert_array_equal(before["padding_mask"], after["padding_mask"])
        kept = np.isin(before["token_ids"], _special_ids(clf)) | (before["padding_mask"] == 0)
        np.testing.assert_array_equal(after["token_ids"][kept], before["token_ids"][kept])
        differs = after["token_ids"] != before["token_ids"]
        assert (after["token_ids"][differs] == mask_id).all()
        changed += int(differs.sum())
    assert changed > 0


def test_deletion_keeps_every_special_token_in_each_row(clf):
    tokenizer = clf.preprocessor.tokenizer
    plain = _batches(clf)
    deleted = _batches(clf, [TokenDeletion(0.5)], augment_seed=1)
    shorter = 0
    for (before, _), (after, _) in zip(plain, deleted):
        for token in (tokenizer.cls_token_id, tokenizer.sep_token_id):
            np.testing.assert_array_equal((before["token_ids"] == token).sum(1), (after["token_ids"] == token).sum(1))
        np.testing.assert_array_equal(after["token_ids"][:, 0], before["token_ids"][:, 0])
        shorter += int((after["padding_mask"].sum(1) < before["padding_mask"].sum(1)).sum())
    assert shorter > 0


def test_text_steps_rewrite_texts_before_tokenization(clf):
    upper_then_lower = _batches(clf, [tf.strings.upper])
    plain = _batches(clf)
    # The tokenizer lowercases, so upper-casing changes nothing: the step ran, tokens agree.
    for (before, _), (after, _) in zip(plain, upper_then_lower):
        np.testing.assert_array_equal(before["token_ids"], after["token_ids"])
    emptied = _batches(clf, [lambda texts: tf.fill(tf.shape(texts), "goal")])
    goal = clf.preprocessor.tokenizer.token_to_id("goal")
    assert all((features["token_ids"][:, 1] == goal).all() for features, _ in emptied)


def test_translate_train_adds_the_translations_of_python_inputs(clf):
    records = fixture_records()
    pairs = [{"text": records[0]["text"], "text_pair": "Ein spätes Tor", "lang": "de"},
             {"text": records[1]["text"], "text_pair": "Der Stürmer traf", "lang": "de"}]
    x, y = _columns(records)
    dataset = clf.dataset(x, y, batch_size=16, labelled=True, augment=[TranslateTrain(pairs)])
    assert sum(int(features["token_ids"].shape[0]) for features, _ in dataset) == len(records) + 2
    first, targets = next(iter(dataset))
    domain = records[0]["domain"]
    # The translation follows its source example, with the same domain and label.
    assert int(first["domain_id"][1]) == int(first["domain_id"][0])
    assert int(targets[domain][1]) == int(targets[domain][0]) >= 0
    with pytest.raises(XDomainError, match="need Python inputs"):
        clf.dataset(tf.data.Dataset.from_tensor_slices((x, y)), augment=[TranslateTrain(pairs)])


def test_a_dataset_input_is_augmented_too(clf):
    x, y = _columns(fixture_records())
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    plain = [np.asarray(f["token_ids"]) for f, _ in clf.dataset(dataset, batch_size=16)]
    masked = [np.asarray(f["token_ids"]) for f, _ in clf.dataset(dataset, batch_size=16, augment="mask:0.5")]
    assert len(plain) == len(masked) and any(not np.array_equal(a, b) for a, b in zip(plain, masked))


def test_fit_with_augmentation_trains_and_leaves_validation_alone():
    keras.utils.set_random_seed(4)
    clf = tiny_classifier()
    x, y = _columns(fixture_records())
    valid_x, valid_y = _columns(fixture_records("valid"))
    history = clf.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_data=(valid_x, valid_y),
                      augment=[TokenMasking(0.9), tf.strings.lower], augment_seed=1, seed=1)
    assert np.isfinite(history.history["loss"]).all()
    # The validation loss is that of the untouched validation data; masked 90% it is not.
    clean = clf.evaluate(valid_x, valid_y, batch_size=16, verbose=0, return_dict=True)["loss"]
    assert history.history["val_loss"][0] == pytest.approx(clean, rel=1e-5)
    masked = clf.dataset(valid_x, valid_y, batch_size=16, labelled=True, augment="mask:0.9")
    assert keras.Model.evaluate(clf, masked, verbose=0, return_dict=True)["loss"] != pytest.approx(clean, rel=1e-3)


@pytest.mark.parametrize("spec, message", [
    ("mask:2", "the rate must be a number in (0, 1)"),
    ("flip:0.1", "unknown augmentation 'flip'"),
    ("mask", "expected name:rate"),
    ("mlm_replace:0.1", "needs a masked LM"),
])
def test_a_bad_spec_is_a_one_line_error(clf, spec, message):
    x, y = _columns(fixture_records()[:8])
    with pytest.raises(XDomainError) as error:
        clf.fit(x, y, augment=spec, verbose=0)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_bad_step_is_a_one_line_error(clf):
    x, y = _columns(fixture_records()[:8])
    with pytest.raises(XDomainError, match="an augmentation must be") as error:
        clf.fit(x, y, augment=[0.1], verbose=0)
    assert "\n" not in str(error.value)
