import keras
import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import MaskedLMMasker, WordPieceTokenizer

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(40)] + [
    f"##p{i}" for i in range(15)
]
CONTINUATION = set(range(45, 60))


def random_batch(rng, batch=64, length=48):
    ids = np.zeros((batch, length), np.int32)
    for row in range(batch):
        n = rng.integers(3, length - 1)
        ids[row, 0] = 2
        ids[row, 1:n] = rng.integers(5, 60, size=n - 1)
        ids[row, n] = 3
    return ids


def test_selection_rules_and_statistics():
    rng = np.random.default_rng(0)
    ids = random_batch(rng, batch=400)
    padding_mask = (ids != 0).astype(np.int32)
    masker = MaskedLMMasker(WordPieceTokenizer(VOCAB), max_predictions=12, seed=5)
    out = masker({"token_ids": tf.constant(ids), "padding_mask": tf.constant(padding_mask)})
    masked = out["token_ids"].numpy()
    positions, original = out["mask_positions"].numpy(), out["mask_ids"].numpy()
    weights = out["mask_weights"].numpy()
    assert positions.shape == original.shape == weights.shape == (400, 12)
    np.testing.assert_array_equal(out["padding_mask"], padding_mask)  # Passed through.
    selected_total = kept = masked_total = random_total = 0
    for row in range(400):
        count = int(weights[row].sum())
        real = positions[row, :count]
        assert (weights[row, count:] == 0).all() and (positions[row, count:] == 0).all()
        assert (original[row, count:] == 0).all()
        assert (np.diff(real) > 0).all()
        candidates = int(((ids[row] > 4)).sum())
        assert count == min(12, max(1, round(candidates * 0.15)))
        assert (ids[row, real] > 4).all()  # Never special tokens or padding.
        np.testing.assert_array_equal(original[row, :count], ids[row, real])
        untouched = np.setdiff1d(np.arange(ids.shape[1]), real)
        np.testing.assert_array_equal(masked[row, untouched], ids[row, untouched])
        selected_total += count
        masked_total += int((masked[row, real] == 4).sum())
        kept += int((masked[row, real] == ids[row, real]).sum())
        random_total += int(((masked[row, real] != 4) & (masked[row, real] != ids[row, real])).sum())
    assert 0.75 < masked_total / selected_total < 0.85
    assert 0.05 < random_total / selected_total < 0.15
    assert 0.05 < kept / selected_total < 0.15


def test_whole_word_masking_takes_continuation_pieces_along():
    rng = np.random.default_rng(1)
    ids = random_batch(rng, batch=200)
    masker = MaskedLMMasker(WordPieceTokenizer(VOCAB), whole_word=True, max_predictions=10, seed=2)
    out = masker(tf.constant(ids))
    positions, weights = out["mask_positions"].numpy(), out["mask_weights"].numpy()
    words_with_pieces = 0
    for row in range(200):
        chosen = set(positions[row, : int(weights[row].sum())].tolist())
        for position in chosen:
            if ids[row, position] in CONTINUATION:
                # Its word (back to the start piece) is selected too.
                start = position
                while ids[row, start] in CONTINUATION and ids[row, start - 1] > 4:
                    start -= 1
                    assert start in chosen
                words_with_pieces += 1
            following = position + 1
            while following < ids.shape[1] and ids[row, following] in CONTINUATION:
                assert following in chosen
                following += 1
    assert words_with_pieces > 50


def test_same_seed_same_masks_and_calls_differ():
    ids = tf.constant(random_batch(np.random.default_rng(2)))
    first = MaskedLMMasker(vocabulary_size=60, mask_token_id=4, unselectable_token_ids=[0, 2, 3], seed=9)
    second = MaskedLMMasker(vocabulary_size=60, mask_token_id=4, unselectable_token_ids=[0, 2, 3], seed=9)
    a1, a2 = first(ids), first(ids)
    b1, b2 = second(ids), second(ids)
    for key in a1:
        np.testing.assert_array_equal(a1[key], b1[key])
        np.testing.assert_array_equal(a2[key], b2[key])
    assert not np.array_equal(a1["mask_positions"], a2["mask_positions"])
    explicit = [first(ids, seed=tf.constant([1, 2])) for _ in range(2)]
    np.testing.assert_array_equal(explicit[0]["token_ids"], explicit[1]["token_ids"])
    other = MaskedLMMasker(vocabulary_size=60, mask_token_id=4, seed=10)(ids)
    assert not np.array_equal(other["mask_positions"], a1["mask_positions"])


def test_in_tf_data_map_and_single_sequences():
    ids = random_batch(np.random.default_rng(3), batch=8)
    masker = MaskedLMMasker(WordPieceTokenizer(VOCAB), max_predictions=4, seed=1)
    dataset = tf.data.Dataset.from_tensor_slices({"token_ids": ids}).batch(4).map(masker)
    batches = list(dataset)
    assert len(batches) == 2 and batches[0]["mask_positions"].shape == (4, 4)
    single = masker(tf.constant(ids[0]))
    assert single["token_ids"].shape == (48,) and single["mask_positions"].shape == (4,)
    short = MaskedLMMasker(WordPieceTokenizer(VOCAB), max_predictions=6, mask_rate=1.0, seed=1)(
        tf.constant([[2, 7, 8, 3]])
    )
    assert short["mask_positions"].numpy().tolist() == [[1, 2, 0, 0, 0, 0]]
    assert short["mask_weights"].numpy().tolist() == [[1, 1, 0, 0, 0, 0]]
    nothing = masker(tf.constant([[2, 3, 0, 0], [0, 0, 0, 0]]))
    assert nothing["mask_weights"].numpy().sum() == 0
    empty = masker(tf.zeros([0, 5], tf.int32))
    assert empty["mask_positions"].shape == (0, 4)


def test_config_round_trip_and_errors():
    masker = MaskedLMMasker(WordPieceTokenizer(VOCAB), whole_word=True, mask_rate=0.2, seed=4)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(masker), safe_mode=True
    )
    assert restored.whole_word and restored.mask_rate == 0.2 and restored.mask_token_id == 4
    assert restored.unselectable_token_ids == [0, 2, 3, 4]
    # The vocabulary is an asset, not config: a `.keras` load sets it through load_assets.
    assert not restored.tokenizer.has_vocabulary
    restored.tokenizer.set_vocabulary(VOCAB)
    ids = tf.constant(random_batch(np.random.default_rng(4)))
    np.testing.assert_array_equal(restored(ids, seed=[3, 4])["token_ids"], masker(ids, seed=[3, 4])["token_ids"])
    with pytest.raises(XDomainError, match="vocabulary_size and mask_token_id"):
        MaskedLMMasker(vocabulary_size=10)
    with pytest.raises(XDomainError, match="whole_word"):
        MaskedLMMasker(vocabulary_size=10, mask_token_id=4, whole_word=True)
    with pytest.raises(XDomainError, match="mask_rate"):
        MaskedLMMasker(vocabulary_size=10, mask_token_id=4, mask_rate=0)
    with pytest.raises(XDomainError, match="sum <= 1"):
        MaskedLMMasker(vocabulary_size=10, mask_token_id=4, mask_token_rate=0.9, random_token_rate=0.2)
