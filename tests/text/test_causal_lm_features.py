import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import Preprocessor, WordPieceTokenizer, causal_lm_inputs


def test_shifts_ids_and_weights():
    ids = tf.constant([[2, 7, 8, 3, 0], [2, 9, 3, 0, 0]])
    mask = tf.cast(ids != 0, tf.int32)
    inputs, labels, weights = causal_lm_inputs(ids, mask)
    assert inputs["token_ids"].numpy().tolist() == [[2, 7, 8, 3], [2, 9, 3, 0]]
    assert inputs["padding_mask"].numpy().tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert labels.numpy().tolist() == [[7, 8, 3, 0], [9, 3, 0, 0]]
    assert weights.dtype == tf.float32
    assert weights.numpy().tolist() == [[1, 1, 1, 0], [1, 1, 0, 0]]
    _, _, all_ones = causal_lm_inputs(tf.constant([5, 6, 7]))
    assert all_ones.numpy().tolist() == [1.0, 1.0]


def test_works_on_preprocessor_output_in_tf_data():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]
    preprocessor = Preprocessor(WordPieceTokenizer(vocab), 6)
    dataset = tf.data.Dataset.from_tensor_slices(["a b c", "b"]).batch(2).map(preprocessor)
    inputs, labels, weights = next(iter(dataset.map(causal_lm_inputs)))
    assert set(inputs) == {"token_ids", "padding_mask", "segment_ids"}
    assert inputs["segment_ids"].shape == (2, 5)
    assert labels.numpy().tolist() == [[5, 6, 7, 3, 0], [6, 3, 0, 0, 0]]
    np.testing.assert_array_equal(weights.numpy(), [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]])
    with pytest.raises(XDomainError, match="token_ids"):
        causal_lm_inputs({"ids": tf.constant([[1, 2]])})
