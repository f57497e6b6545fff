import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text as tf_text
from tokenizers import BertWordPieceTokenizer

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import pack_segments, trimmed_lengths


def flat(rows):
    values = [v for row in rows for v in row]
    splits = np.cumsum([0] + [len(row) for row in rows])
    return tf.constant(values, tf.int32), tf.constant(splits, tf.int32)


def reference_pack(first, second, length, truncation):
    """Plain-Python packing, with the trimming rules written out step by step."""
    budget = length - (3 if second is not None else 2)
    a, b = list(first), list(second or [])
    if second is None:
        a = a[:budget]
    elif truncation == "round_robin":
        keep_a = keep_b = 0
        turn = 0
        while keep_a + keep_b < budget and (keep_a < len(a) or keep_b < len(b)):
            if turn == 0 and keep_a < len(a):
                keep_a += 1
            elif turn == 1 and keep_b < len(b):
                keep_b += 1
            turn = 1 - turn
        a, b = a[:keep_a], b[:keep_b]
    else:
        # Hugging Face: cut the longer one; once they are equal, cut first the one
        # that was shorter at the start (the first one on a tie), so that it keeps
        # floor(budget / 2) when both were long.
        first_was_shorter = len(a) <= len(b)
        while len(a) + len(b) > budget:
            if len(a) > len(b) or (len(a) == len(b) and first_was_shorter):
                a = a[:-1]
            else:
                b = b[:-1]
    ids = [2] + a + [3] + ((b + [3]) if second is not None else [])
    segments = [0] * (len(a) + 2) + ([1] * (len(b) + 1) if second is not None else [])
    pad = length - len(ids)
    return ids + [0] * pad, segments + [0] * pad, [1] * len(ids) + [0] * pad


@pytest.mark.parametrize("truncation", ["round_robin", "longest_first"])
def test_pack_matches_reference_on_random_pairs(truncation):
    rng = np.random.default_rng(1)
    firsts = [rng.integers(5, 50, size=rng.integers(0, 12)).tolist() for _ in range(200)]
    seconds = [rng.integers(5, 50, size=rng.integers(0, 12)).tolist() for _ in range(200)]
    for length in (3, 4, 9, 16):
        out = pack_segments([flat(firsts), flat(seconds)], length, 2, 3, 0, truncation)
        for index, (first, second) in enumerate(zip(firsts, seconds)):
            ids, segments, mask = reference_pack(first, second, length, truncation)
            assert out["token_ids"][index].numpy().tolist() == ids
            assert out["segment_ids"][index].numpy().tolist() == segments
            assert out["padding_mask"][index].numpy().tolist() == mask
    single = pack_segments([flat(firsts)], 7, 2, 3, 0, truncation)
    for index, first in enumerate(firsts):
        assert single["token_ids"][index].numpy().tolist() == reference_pack(first, None, 7, truncation)[0]


def test_round_robin_equals_tf_text_trimmer():
    rng = np.random.default_rng(2)
    lengths_a = rng.integers(0, 20, size=300)
    lengths_b = rng.integers(0, 20, size=300)
    a = tf.RaggedTensor.from_row_lengths(tf.zeros([int(lengths_a.sum())], tf.int32), lengths_a)
    b = tf.RaggedTensor.from_row_lengths(tf.zeros([int(lengths_b.sum())], tf.int32), lengths_b)
    for budget in (0, 1, 5, 12, 40):
        trimmed = tf_text.RoundRobinTrimmer(max_seq_length=budget).trim([a, b])
        ours = trimmed_lengths([tf.constant(lengths_a, tf.int32), tf.constant(lengths_b, tf.int32)], budget)
        assert ours[0].numpy().tolist() == trimmed[0].row_lengths().numpy().tolist()
        assert ours[1].numpy().tolist() == trimmed[1].row_lengths().numpy().tolist()


def test_longest_first_equals_hugging_face_truncation(tmp_path):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(30)]
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    rng = np.random.default_rng(3)
    pairs = [
        (
            " ".join(f"w{i}" for i in rng.integers(0, 30, size=rng.integers(0, 15))),
            " ".join(f"w{i}" for i in rng.integers(0, 30, size=rng.integers(0, 15))),
        )
        for _ in range(150)
    ]
    to_ids = {token: index for index, token in enumerate(vocab)}
    for length in (5, 8, 13):
        hf = BertWordPieceTokenizer(str(path), lowercase=True)
        hf.enable_truncation(length, strategy="longest_first")
        hf.enable_padding(length=length)
        firsts = [[to_ids[w] for w in a.split()] for a, _ in pairs]
        seconds = [[to_ids[w] for w in b.split()] for _, b in pairs]
        out = pack_segments([flat(firsts), flat(seconds)], length, 2, 3, 0, "longest_first")
        for index, encoding in enumerate(hf.encode_batch(pairs)):
            assert out["token_ids"][index].numpy().tolist() == encoding.ids
            assert out["segment_ids"][index].numpy().tolist() == encoding.type_ids
            assert out["padding_mask"][index].numpy().tolist() == encoding.attention_mask


def test_pad_to_longest_and_empty_batches():
    out = pack_segments([flat([[7], [7, 8, 9]])], 10, 2, 3, 0, pad_to="longest")
    assert out["token_ids"].numpy().tolist() == [[2, 7, 3, 0, 0], [2, 7, 8, 9, 3]]
    capped = pack_segments([flat([[7] * 20])], 6, 2, 3, 0, pad_to="longest")
    assert capped["token_ids"].shape == (1, 6)
    empty = pack_segments([flat([])], 6, 2, 3, 0)
    assert empty["token_ids"].shape == (0, 6)
    empty_longest = pack_segments([flat([]), flat([])], 6, 2, 3, 0, pad_to="longest")
    assert empty_longest["token_ids"].shape == (0, 0)


def test_errors():
    with pytest.raises(XDomainError, match="no room"):
        pack_segments([flat([[1]]), flat([[1]])], 2, 2, 3, 0)
    with pytest.raises(XDomainError, match="truncation"):
        trimmed_lengths([tf.constant([1])], 3, "middle")
    with pytest.raises(XDomainError, match="pad_to"):
        pack_segments([flat([[1]])], 4, 2, 3, 0, pad_to="max")
