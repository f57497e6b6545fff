import keras
import numpy as np
import pytest
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers import MultiHeadAttention
from xdomain_tf.layers.multi_head_attention import MASK_MARGIN, bounded_mask_attention

BATCH, SEQ, HIDDEN, HEADS = 2, 5, 16, 4
HEAD_SIZE = HIDDEN // HEADS
PADDING = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], "int32")


def _inputs(seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, SEQ, HIDDEN)).astype("float32")


def _randomized(layer, seed=1):
    """Builds `layer` and gives every weight random values (biases would be zero otherwise)."""
    rng = np.random.default_rng(seed)
    layer.build((BATCH, SEQ, HIDDEN))
    for variable in layer.weights:
        variable.assign(0.3 * rng.normal(size=variable.shape).astype("float32"))
    return layer


def _keras_reference(layer):
    """keras.layers.MultiHeadAttention holding the same weights as `layer`."""
    reference = keras.layers.MultiHeadAttention(HEADS, HEAD_SIZE)
    x = _inputs()
    reference(x, x)
    kernel = layer.qkv.kernel.numpy()
    bias = layer.qkv.bias.numpy()
    projections = (reference._query_dense, reference._key_dense, reference._value_dense)
    for i, dense in enumerate(projections):
        columns = slice(i * HIDDEN, (i + 1) * HIDDEN)
        dense.kernel.assign(kernel[:, columns].reshape(HIDDEN, HEADS, HEAD_SIZE))
        dense.bias.assign(bias[columns].reshape(HEADS, HEAD_SIZE))
    reference._output_dense.kernel.assign(
        layer.output_dense.kernel.numpy().reshape(HEADS, HEAD_SIZE, HIDDEN)
    )
    reference._output_dense.bias.assign(layer.output_dense.bias.numpy())
    return reference


@pytest.mark.parametrize(
    "use_padding, causal", [(False, False), (True, False), (False, True), (True, True)]
)
def test_equals_keras_multi_head_attention(use_padding, causal):
    layer = _randomized(MultiHeadAttention(HEADS))
    reference = _keras_reference(layer)
    x = _inputs()
    mask = np.ones((BATCH, SEQ, SEQ), bool)
    if use_padding:
        mask &= PADDING[:, None, :].astype(bool)
    if causal:
        mask &= np.tril(np.ones((SEQ, SEQ), bool))
    expected, expected_scores = reference(x, x, attention_mask=mask, return_attention_scores=True)
    padding = PADDING if use_padding else None
    fused = layer(x, padding_mask=padding, causal=causal)
    explicit, scores = layer(x, padding_mask=padding, causal=causal, return_attention_scores=True)
    np.testing.assert_allclose(fused, expected, atol=1e-5)
    np.testing.assert_allclose(explicit, expected, atol=1e-5)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
    assert scores.shape == (BATCH, HEADS, SEQ, SEQ)
    np.testing.assert_allclose(np.sum(scores, axis=-1), 1.0, atol=1e-5)


def test_padded_positions_do_not_change_real_outputs():
    layer = _randomized(MultiHeadAttention(HEADS))
    x = _inputs()
    changed = x.copy()
    changed[1, 3:] = 100.0
    before = layer(x, padding_mask=PADDING).numpy()
    after = layer(changed, padding_mask=PADDING).numpy()
    np.testing.assert_allclose(after[1, :3], before[1, :3], atol=1e-6)
    np.testing.assert_array_equal(after[0], before[0])


def test_causal_outputs_ignore_later_tokens():
    layer = _randomized(MultiHeadAttention(HEADS))
    x = _inputs()
    changed = x.copy()
    changed[:, 3:] = -7.0
    before = layer(x, causal=True).numpy()
    after = layer(changed, causal=True).numpy()
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-6)
    assert np.abs(after[:, 3:] - before[:, 3:]).max() > 1e-3


def test_incremental_decoding_with_cache_equals_full_causal_pass():
    layer = _randomized(MultiHeadAttention(HEADS))
    x = _inputs()
    full = layer(x, padding_mask=PADDING, causal=True).numpy()
    cache = np.zeros((BATCH, 2, SEQ, HEADS, HEAD_SIZE), "float32")
    steps = []
    for position in range(SEQ):
        output, cache = layer(
            x[:, position : position + 1],
            padding_mask=PADDING,
            causal=True,
            cache=cache,
            cache_index=position,
        )
        steps.append(output.numpy())
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # Prefill three positions at once, then one more step.
    empty = np.zeros((BATCH, 2, SEQ, HEADS, HEAD_SIZE), "float32")
    prefix, cache = layer(x[:, :3], causal=True, cache=empty, cache_index=0)
    step, cache = layer(x[:, 3:4], causal=True, cache=cache, cache_index=3)
    reference = layer(x[:, :4], causal=True).numpy()
    np.testing.assert_allclose(np.concatenate([prefix, step], axis=1), reference, atol=1e-5)
    assert cache.shape == (BATCH, 2, SEQ, HEADS, HEAD_SIZE)
    assert np.all(cache.numpy()[:, :, 4:] == 0.0)


def test_lora_starts_as_the_plain_layer_and_trains_alone():
    plain = _randomized(MultiHeadAttention(HEADS))
    lora = MultiHeadAttention(
        HEADS, lora_rank=2, lora_alpha=4, lora_targets=("query", "key", "value")
    )
    lora.build((BATCH, SEQ, HIDDEN))
    lora.qkv.set_weights(plain.qkv.get_weights())
    lora.output_dense.set_weights(plain.output_dense.get_weights())
    x = _inputs()
    np.testing.assert_array_equal(lora(x, causal=True), plain(x, causal=True))
    assert [w.shape for w in lora.lora_weights] == [(HIDDEN, 2), (2, HIDDEN)] * 3
    lora.qkv.trainable = False
    lora.output_dense.trainable = False
    assert {id(w) for w in lora.trainable_weights} == {id(w) for w in lora.lora_weights}
    # A non-zero B changes exactly the targeted projection: value only here.
    lora.lora_value_b.assign(np.ones((2, HIDDEN), "float32"))
    a = lora.lora_value_a.numpy()
    kernel, bias = plain.qkv.get_weights()
    kernel[:, 2 * HIDDEN :] += 2.0 * a @ np.ones((2, HIDDEN), "float32")
    plain.qkv.set_weights([kernel, bias])
    np.testing.assert_allclose(lora(x), plain(x), atol=1e-4)


def test_default_lora_targets_query_and_value():
    layer = MultiHeadAttention(HEADS, lora_rank=3)
    layer.build((BATCH, SEQ, HIDDEN))
    assert [w.name for w in layer.lora_weights] == [
        "lora_query_a",
        "lora_query_b",
        "lora_value_a",
        "lora_value_b",
    ]
    np.testing.assert_array_equal(layer.lora_query_b.numpy(), 0.0)


def test_attention_dropout_only_in_training():
    layer = _randomized(MultiHeadAttention(HEADS, dropout=0.5))
    x = _inputs()
    inference = layer(x, training=False).numpy()
    np.testing.assert_array_equal(layer(x).numpy(), inference)
    assert np.abs(layer(x, training=True).numpy() - inference).max() > 1e-3


def test_weight_names_and_shapes():
    layer = MultiHeadAttention(HEADS, name="attention")
    layer.build((None, None, HIDDEN))
    assert {w.path: tuple(w.shape) for w in layer.weights} == {
        "attention/qkv/kernel": (HIDDEN, 3 * HIDDEN),
        "attention/qkv/bias": (3 * HIDDEN,),
        "attention/output/kernel": (HIDDEN, HIDDEN),
        "attention/output/bias": (HIDDEN,),
    }


def test_errors():
    with pytest.raises(XDomainError, match="not divisible by num_heads 3"):
        MultiHeadAttention(3).build((None, None, HIDDEN))
    with pytest.raises(XDomainError, match="Unknown LoRA target"):
        MultiHeadAttention(HEADS, lora_rank=2, lora_targets=("output",))


def test_keras_round_trip():
    layer = _randomized(MultiHeadAttention(HEADS, lora_rank=2, dropout=0.1, name="attention"))
    layer.lora_query_b.assign(np.full((2, HIDDEN), 0.1, "float32"))
    run_serialization_test(layer)
    reloaded = run_model_saving_test(
        layer,
        [_inputs(), PADDING],
        call=lambda layer, tensors: layer(tensors[0], padding_mask=tensors[1], causal=True),
    )
    assert reloaded.lora_rank == 2 and reloaded.lora_targets == ("query", "value")


def _attention_heads(seed=0, scale=4.0):
    generator = np.random.default_rng(seed)
    # Large scores: a softmax that is far from uniform.
    return [(scale * generator.normal(size=(3, 5, 2, 8))).astype("float32") for _ in range(3)]


@pytest.mark.parametrize(
    "mask",
    [
        np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool)[:, None, None, :],
        np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, 1, 0, 1]], bool)[:, None, None, :],  # a row with no key
        np.tril(np.ones((5, 5), bool))[None, None],  # per query
        None,
    ],
)
def test_bounded_mask_attention_equals_keras(mask):
    query, key, value = _attention_heads()
    expected = keras.ops.dot_product_attention(query, key, value, mask=mask, scale=0.35)
    actual = bounded_mask_attention(query, key, value, mask=mask, scale=0.35)
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_bounded_mask_attention_keeps_masked_scores_near_the_real_ones():
    import tensorflow as tf

    query, key, value = _attention_heads(seed=2)
    mask = np.array([[1, 1, 1, 0, 0]] * 3, bool)[:, None, None, :]
    graph = tf.function(lambda q, k, v: bounded_mask_attention(q, k, v, mask=mask, scale=0.35))
    graph_def = graph.get_concrete_function(query, key, value).graph.as_graph_def()
    constants = [
        abs(float(value))
        for node in graph_def.node
        if node.op == "Const" and node.attr["dtype"].type == tf.float32.as_datatype_enum
        for value in tf.make_ndarray(node.attr["value"].tensor).ravel()
    ]
    assert constants and max(constants) <= MASK_MARGIN  # no -1e9 or -3.4e38 fill value


@pytest.mark.parametrize("causal", [False, True])
def test_bounded_mask_mode_equals_the_default(causal):
    default = _randomized(MultiHeadAttention(HEADS))
    bounded = MultiHeadAttention(HEADS, mask_mode="bounded")
    bounded.build((BATCH, SEQ, HIDDEN))
    bounded.set_weights(default.get_weights())
    x = 4.0 * _inputs()
    np.testing.assert_allclose(
        bounded(x, padding_mask=PADDING, causal=causal), default(x, padding_mask=PADDING, causal=causal), atol=1e-5
    )
    output, scores = bounded(x, padding_mask=PADDING, causal=causal, return_attention_scores=True)
    expected, expected_scores = default(x, padding_mask=PADDING, causal=causal, return_attention_scores=True)
    np.testing.assert_allclose(output, expected, atol=1e-5)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)


def test_mask_mode_round_trip_and_errors():
    layer = _randomized(MultiHeadAttention(HEADS, mask_mode="bounded", name="attention"))
    assert run_serialization_test(layer).mask_mode == "bounded"
    reloaded = run_model_saving_test(
        layer,
        [_inputs(), PADDING],
        call=lambda layer, tensors: layer(tensors[0], padding_mask=tensors[1]),
    )
    assert reloaded.mask_mode == "bounded"
    assert MultiHeadAttention(HEADS).get_config()["mask_mode"] == "large_negative"
    with pytest.raises(XDomainError, match="mask_mode must be one of"):
        MultiHeadAttention(HEADS, mask_mode="-inf")
