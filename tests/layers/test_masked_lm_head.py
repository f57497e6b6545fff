import math

import keras
import numpy as np
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.layers import MaskedLMHead, TokenAndPositionEmbedding

VOCAB, HIDDEN = 20, 8


def _sequence():
    return np.random.default_rng(0).normal(size=(2, 5, HIDDEN)).astype("float32")


def _head(embedding=None):
    if embedding is None:
        embedding = keras.layers.Embedding(VOCAB, HIDDEN, name="token_embedding")
        embedding.build((None, None))
    head = MaskedLMHead(embedding, name="mlm_head")
    head.build((None, None, HIDDEN))
    rng = np.random.default_rng(1)
    for variable in head.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    return head


def _reference(head, x):
    hidden = x @ head.transform_dense.kernel.numpy() + head.transform_dense.bias.numpy()
    hidden = 0.5 * hidden * (1.0 + np.vectorize(math.erf)(hidden / np.sqrt(2.0)))
    mean, variance = hidden.mean(-1, keepdims=True), hidden.var(-1, keepdims=True)
    norm = head.transform_layer_norm
    hidden = (hidden - mean) / np.sqrt(variance + 1e-12) * norm.gamma.numpy() + norm.beta.numpy()
    return hidden @ head._embedding_matrix().numpy().T + head.output_bias.numpy()


def test_projection_is_tied_to_the_embedding_matrix():
    head = _head()
    x = _sequence()
    np.testing.assert_allclose(head(x), _reference(head, x), atol=1e-4)
    assert {w.path for w in head.weights} >= {"token_embedding/embeddings", "mlm_head/output_bias"}
    # Changing the embedding changes the head: the matrix is shared, not copied.
    head.token_embedding.embeddings.assign(np.zeros((VOCAB, HIDDEN), "float32"))
    np.testing.assert_allclose(head(x), np.broadcast_to(head.output_bias.numpy(), (2, 5, VOCAB)))


def test_token_and_position_embedding_can_be_tied():
    embedding = TokenAndPositionEmbedding(VOCAB, HIDDEN, max_length=6)
    embedding.build((None, None))
    head = _head(embedding)
    assert head._embedding_matrix() is embedding.token_embedding_matrix
    assert head.vocab_size == VOCAB


def test_mask_positions_project_only_the_gathered_positions():
    head = _head()
    x = _sequence()
    positions = np.array([[0, 3], [4, 1]], "int32")
    logits = head(x, mask_positions=positions).numpy()
    full = head(x).numpy()
    assert logits.shape == (2, 2, VOCAB)
    gathered = np.take_along_axis(full, positions[:, :, None], axis=1)
    np.testing.assert_allclose(logits, gathered, atol=1e-5)


def test_float32_logits_under_bfloat16(mixed_precision):
    mixed_precision("mixed_bfloat16")
    head = _head()
    logits = head(keras.ops.cast(_sequence(), "bfloat16"))
    assert head.compute_dtype == "bfloat16" and logits.dtype == "float32"


def test_keras_round_trip():
    head = _head()
    run_serialization_test(head)
    reloaded = run_model_saving_test(
        head,
        [_sequence(), np.array([[1, 2], [0, 4]], "int32")],
        call=lambda layer, t: layer(t[0], mask_positions=t[1]),
    )
    np.testing.assert_array_equal(
        reloaded.token_embedding.embeddings.numpy(), head.token_embedding.embeddings.numpy()
    )
