import numpy as np
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.layers import TokenAndPositionEmbedding

TOKENS = np.array([[2, 5, 7, 3], [2, 9, 3, 0]], "int32")
SEGMENTS = np.array([[0, 0, 1, 1], [0, 1, 1, 0]], "int32")


def _layer(**kwargs):
    layer = TokenAndPositionEmbedding(
        vocab_size=12, hidden_size=8, max_length=6, name="embeddings", **kwargs
    )
    layer.build(TOKENS.shape)
    rng = np.random.default_rng(0)
    for variable in layer.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    return layer


def _layer_norm(x, gamma, beta, epsilon=1e-12):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def test_sum_of_the_three_tables_then_layer_norm():
    layer = _layer()
    expected = _layer_norm(
        layer.token_embedding.embeddings.numpy()[TOKENS]
        + layer.segment_embedding.embeddings.numpy()[SEGMENTS]
        + layer.position_embedding.embeddings.numpy()[:4][None],
        layer.layer_norm.gamma.numpy(),
        layer.layer_norm.beta.numpy(),
    )
    np.testing.assert_allclose(layer(TOKENS, segment_ids=SEGMENTS), expected, atol=1e-5)
    # Without segment ids every token is in segment 0, as in Hugging Face BERT.
    np.testing.assert_allclose(
        layer(TOKENS), layer(TOKENS, segment_ids=np.zeros_like(TOKENS)), atol=1e-6
    )


def test_weight_names_and_tying_handle():
    layer = _layer()
    assert [w.path for w in layer.weights] == [
        "embeddings/token_embedding/embeddings",
        "embeddings/segment_embedding/embeddings",
        "embeddings/position_embedding/embeddings",
        "embeddings/layer_norm/gamma",
        "embeddings/layer_norm/beta",
    ]
    assert layer.token_embedding_matrix is layer.token_embedding.embeddings
    assert tuple(layer.token_embedding_matrix.shape) == (12, 8)


def test_start_index_shifts_positions_and_no_segment_table():
    layer = _layer(type_vocab_size=0)
    assert layer.segment_embedding is None and len(layer.weights) == 4
    full = layer(np.array([[4, 5, 6]], "int32")).numpy()
    last = layer(np.array([[6]], "int32"), start_index=2).numpy()
    np.testing.assert_allclose(last[0, 0], full[0, 2], atol=1e-6)


def test_dropout_only_in_training():
    layer = _layer(dropout=0.5)
    inference = layer(TOKENS).numpy()
    assert np.abs(layer(TOKENS, training=True).numpy() - inference).max() > 1e-3


def test_keras_round_trip():
    layer = _layer(dropout=0.1)
    run_serialization_test(layer)
    reloaded = run_model_saving_test(
        layer,
        [TOKENS, SEGMENTS],
        call=lambda layer, tensors: layer(tensors[0], segment_ids=tensors[1]),
    )
    assert reloaded.vocab_size == 12 and reloaded.max_length == 6


def test_matmul_variance_layer_norm_mode():
    layer = _layer()
    twin = _layer(layer_norm_mode="matmul_variance")
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(twin(TOKENS, segment_ids=SEGMENTS), layer(TOKENS, segment_ids=SEGMENTS), atol=1e-5)
    assert run_serialization_test(twin).layer_norm_mode == "matmul_variance"
    reloaded = run_model_saving_test(
        twin,
        [TOKENS, SEGMENTS],
        call=lambda layer, tensors: layer(tensors[0], segment_ids=tensors[1]),
    )
    assert reloaded.layer_norm_mode == "matmul_variance"
    assert type(reloaded.layer_norm).__name__ == "MatmulVarianceLayerNormalization"
