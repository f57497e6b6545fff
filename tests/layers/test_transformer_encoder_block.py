import math

import numpy as np
import pytest
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.layers import TransformerEncoderBlock

BATCH, SEQ, HIDDEN, HEADS, FFN = 2, 5, 16, 2, 32
PADDING = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], "int32")


def _inputs(seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, SEQ, HIDDEN)).astype("float32")


def _block(seed=1, **kwargs):
    block = TransformerEncoderBlock(HEADS, FFN, name="transformer_layer_0", **kwargs)
    block.build((None, None, HIDDEN))
    rng = np.random.default_rng(seed)
    for variable in block.weights:
        if "adapter" not in variable.path and "lora" not in variable.path:
            variable.assign(0.3 * rng.normal(size=variable.shape).astype("float32"))
    return block


def _layer_norm(x, layer):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + 1e-12) * layer.gamma.numpy() + layer.beta.numpy()


def _dense(x, layer):
    return x @ layer.kernel.numpy() + layer.bias.numpy()


def _reference_bert_layer(block, x, padding):
    """Hugging Face BertLayer written out in numpy (post-LayerNorm, exact GELU)."""
    size = HIDDEN // HEADS
    qkv = _dense(x, block.attention.qkv)
    q, k, v = (
        qkv[..., i * HIDDEN : (i + 1) * HIDDEN].reshape(BATCH, SEQ, HEADS, size) for i in range(3)
    )
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(size)
    logits = np.where(padding[:, None, None, :] > 0, logits, -1e9)
    probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    context = np.einsum("bnts,bsnh->btnh", probabilities, v).reshape(BATCH, SEQ, HIDDEN)
    x = _layer_norm(x + _dense(context, block.attention.output_dense), block.attention_layer_norm)
    hidden = _dense(x, block.intermediate)
    hidden = 0.5 * hidden * (1.0 + np.vectorize(math.erf)(hidden / np.sqrt(2.0)))
    return _layer_norm(x + _dense(hidden, block.output_dense), block.output_layer_norm)


def test_post_layer_norm_block_equals_a_numpy_bert_layer():
    block = _block()
    x = _inputs()
    expected = _reference_bert_layer(block, x.astype("float64"), PADDING)
    np.testing.assert_allclose(block(x, padding_mask=PADDING), expected, atol=1e-4)


def test_pre_layer_norm_differs_and_keeps_the_residual_stream():
    block = _block(pre_layer_norm=True)
    x = _inputs()
    output = block(x).numpy()
    assert np.abs(output - _block()(x).numpy()).max() > 1e-2
    # Pre-LN leaves the residual stream un-normalised.
    assert np.abs(output.std(-1) - 1.0).max() > 0.05


def test_padded_positions_do_not_change_real_outputs():
    block = _block()
    x = _inputs()
    changed = x.copy()
    changed[1, 3:] = 50.0
    before = block(x, padding_mask=PADDING).numpy()
    after = block(changed, padding_mask=PADDING).numpy()
    np.testing.assert_allclose(after[1, :3], before[1, :3], atol=1e-5)


def test_kv_cache_decoding_equals_the_full_causal_pass():
    block = _block()
    x = _inputs()
    full = block(x, padding_mask=PADDING, causal=True).numpy()
    cache = np.zeros((BATCH, 2, SEQ, HEADS, HIDDEN // HEADS), "float32")
    steps = []
    for position in range(SEQ):
        output, cache = block(
            x[:, position : position + 1],
            padding_mask=PADDING,
            causal=True,
            cache=cache,
            cache_index=position,
        )
        steps.append(output.numpy())
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


@pytest.mark.parametrize("pre_layer_norm", [False, True])
def test_zero_initialised_adapters_and_lora_leave_the_output_unchanged(pre_layer_norm):
    plain = _block(pre_layer_norm=pre_layer_norm)
    adapted = _block(
        pre_layer_norm=pre_layer_norm, num_adapters=2, adapter_reduction_factor=4, lora_rank=2
    )
    x = _inputs()
    index = np.array([1, 0], "int32")
    np.testing.assert_allclose(
        adapted(x, padding_mask=PADDING, adapter_index=index),
        plain(x, padding_mask=PADDING),
        atol=1e-6,
    )
    names = sorted(w.path for w in adapted.adapter_weights)
    assert names[0] == "transformer_layer_0/attention_adapter/down_bias" and len(names) == 8
    # A trained adapter for domain 1 changes only the examples routed to it.
    up_kernel = np.zeros((2, 4, HIDDEN), "float32")
    up_kernel[1] = np.random.default_rng(2).normal(size=(4, HIDDEN))
    adapted.output_adapter.up_kernel.assign(up_kernel)
    changed = adapted(x, padding_mask=PADDING, adapter_index=index).numpy()
    reference = plain(x, padding_mask=PADDING).numpy()
    np.testing.assert_allclose(changed[1], reference[1], atol=1e-6)
    assert np.abs(changed[0] - reference[0]).max() > 1e-3


def test_sublayer_names():
    block = _block(num_adapters=1)
    assert sorted({w.path.split("/")[1] for w in block.weights}) == [
        "attention",
        "attention_adapter",
        "attention_layer_norm",
        "intermediate",
        "output",
        "output_adapter",
        "output_layer_norm",
    ]


def test_keras_round_trip():
    block = _block(
        dropout=0.1, attention_dropout=0.1, num_adapters=2, lora_rank=2, activation="gelu_new"
    )
    block.attention_adapter.up_kernel.assign(np.full((2, 1, HIDDEN), 0.2, "float32"))
    run_serialization_test(block)
    reloaded = run_model_saving_test(
        block,
        [_inputs(), PADDING, np.array([0, 1], "int32")],
        call=lambda layer, t: layer(t[0], padding_mask=t[1], adapter_index=t[2], causal=True),
    )
    assert (reloaded.num_adapters, reloaded.lora_rank, reloaded.activation) == (2, 2, "gelu_new")


@pytest.mark.parametrize("pre_layer_norm", [False, True])
def test_export_modes_give_the_same_outputs_and_round_trip(pre_layer_norm):
    block = _block(pre_layer_norm=pre_layer_norm)
    twin = _block(pre_layer_norm=pre_layer_norm, attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    twin.set_weights(block.get_weights())
    assert type(twin.attention_layer_norm).__name__ == "MatmulVarianceLayerNormalization"
    assert twin.attention.mask_mode == "bounded"
    x = 3.0 * _inputs()
    np.testing.assert_allclose(twin(x, padding_mask=PADDING), block(x, padding_mask=PADDING), atol=1e-5)
    assert run_serialization_test(twin).layer_norm_mode == "matmul_variance"
    reloaded = run_model_saving_test(
        twin, [x, PADDING], call=lambda layer, t: layer(t[0], padding_mask=t[1])
    )
    assert (reloaded.attention_mask_mode, reloaded.layer_norm_mode) == ("bounded", "matmul_variance")
    assert type(reloaded.output_layer_norm).__name__ == "MatmulVarianceLayerNormalization"
