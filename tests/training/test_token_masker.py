import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.token_masker import TokenMasker

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(20)] + [f"##p{i}" for i in range(10)]
CONTINUATION = [token.startswith("##") for token in VOCAB]
SPECIAL = [0, 1, 2, 3, 4]


def _batch(rows=64, length=40, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 25, size=(rows, length)).astype("int32")
    lengths = rng.integers(5, length + 1, size=rows)
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    ids[:, 0] = 2
    ids[np.arange(rows), lengths - 1] = 3
    ids[mask == 0] = 0
    return ids, mask


def test_same_seed_same_masks_other_seed_other_masks():
    masker = TokenMasker(len(VOCAB), 4, SPECIAL, mask_rate=0.2, max_predictions=8)
    ids, mask = _batch()
    a, b, c = masker(ids, mask, [1, 2]), masker(ids, mask, [1, 2]), masker(ids, mask, [1, 3])
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    assert not np.array_equal(a["mask_positions"].numpy(), c["mask_positions"].numpy())


def test_budget_positions_and_targets():
    masker = TokenMasker(len(VOCAB), 4, SPECIAL, mask_rate=0.2, max_predictions=8)
    ids, mask = _batch()
    out = {key: value.numpy() for key, value in masker(ids, mask, [0, 0]).items()}
    candidates = mask.sum(1) - 2  # [CLS] and [SEP] are never chosen
    expected = np.minimum(np.maximum(np.round(0.2 * candidates), 1), 8)
    np.testing.assert_array_equal(out["mask_weights"].sum(1), expected)
    for row in range(len(ids)):
        n = int(expected[row])
        positions = out["mask_positions"][row]
        assert list(positions[:n]) == sorted(positions[:n]) and len(set(positions[:n])) == n
        assert (positions[n:] == 0).all() and (out["mask_ids"][row, n:] == 0).all()
        np.testing.assert_array_equal(out["mask_ids"][row, :n], ids[row, positions[:n]])
        assert not np.isin(ids[row, positions[:n]], SPECIAL).any()
        untouched = np.setdiff1d(np.arange(ids.shape[1]), positions[:n])
        np.testing.assert_array_equal(out["token_ids"][row, untouched], ids[row, untouched])


def test_eighty_ten_ten_replacement():
    masker = TokenMasker(len(VOCAB), 4, SPECIAL, mask_rate=0.15, max_predictions=20)
    ids = np.random.default_rng(1).integers(5, 35, size=(400, 128)).astype("int32")
    out = masker(ids, np.ones_like(ids), [5, 5])
    positions, weights = out["mask_positions"].numpy(), out["mask_weights"].numpy() > 0
    chosen_before = np.take_along_axis(ids, positions, 1)[weights]
    chosen_after = np.take_along_axis(out["token_ids"].numpy(), positions, 1)[weights]
    masked = np.mean(chosen_after == 4)
    kept = np.mean(chosen_after == chosen_before)
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1 - 0.1 / 30) < 0.02
    assert not np.isin(chosen_after[chosen_after != 4], SPECIAL).any()


def test_whole_words_are_masked_together():
    masker = TokenMasker(len(VOCAB), 4, SPECIAL, mask_rate=0.4, max_predictions=10, whole_word=True,
                         continuation=CONTINUATION)
    # words: w0 | w1 ##p0 ##p1 | w2 | w3 ##p2 | w4 ...
    row = [2, 5, 6, 25, 26, 7, 8, 27, 9, 10, 11, 28, 12, 3]
    ids = np.array([row] * 50, "int32")
    for seed in range(50):
        out = masker(ids[:1], np.ones((1, len(row)), "int32"), [seed, 0])
        n = int(out["mask_weights"].numpy().sum())
        chosen = set(out["mask_positions"].numpy()[0, :n].tolist())
        assert chosen and n <= round(0.4 * 12)
        for start, end in ((2, 5), (6, 8), (10, 12)):
            span = set(range(start, end))
            assert not (span & chosen) or span <= chosen, (seed, chosen)


def test_short_and_empty_rows_and_validation():
    masker = TokenMasker(len(VOCAB), 4, SPECIAL, mask_rate=0.15, max_predictions=5)
    out = masker(tf.constant([[2, 9, 3, 0], [0, 0, 0, 0]]), tf.constant([[1, 1, 1, 0], [0, 0, 0, 0]]), [0, 1])
    assert out["mask_weights"].numpy().tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
    assert out["mask_positions"].numpy()[0, 0] == 1
    with pytest.raises(XDomainError):
        TokenMasker(len(VOCAB), 4, SPECIAL, mask_rate=1.5)
    with pytest.raises(XDomainError, match="continuation"):
        TokenMasker(len(VOCAB), 4, SPECIAL, whole_word=True)
