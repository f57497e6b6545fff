import keras
import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import EncoderConfig, TransformerEncoder, build_encoder

TOKENS = np.array([[2, 11, 12, 13, 3, 0, 0], [2, 21, 22, 23, 24, 25, 3]], "int32")
PADDING = (TOKENS > 0).astype("int32")
SEGMENTS = np.array([[0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1, 1]], "int32")
INPUTS = {"token_ids": TOKENS, "segment_ids": SEGMENTS, "padding_mask": PADDING}


def _config(**overrides):
    values = dict(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=12,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    values.update(overrides)
    return EncoderConfig(**values)


def _expected_parameters(config, num_adapters=0, adapter_reduction_factor=16, lora_rank=0):
    """BERT's parameter count written out; LoRA targets query and value."""
    h, f = config.hidden_size, config.intermediate_size
    embeddings = (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * h
    embeddings += 2 * h
    attention = (h * 3 * h + 3 * h) + (h * h + h)
    feed_forward = (h * f + f) + (f * h + h)
    block = attention + feed_forward + 2 * (2 * h)
    if num_adapters:
        r = max(1, h // adapter_reduction_factor)
        block += 2 * num_adapters * (h * r + r + r * h + h)
    block += 2 * (h * lora_rank + lora_rank * h)
    final_layer_norm = 2 * h if config.pre_layer_norm else 0
    pooler = h * h + h
    return embeddings + config.num_hidden_layers * block + final_layer_norm + pooler


def _copy_shared_weights(source, target):
    weights = {w.path: w for w in source.weights}
    for variable in target.weights:
        if variable.path in weights:
            variable.assign(weights[variable.path])


def test_outputs_for_any_length_up_to_the_maximum():
    encoder = build_encoder(_config(), output_hidden_states=True)
    outputs = encoder(INPUTS)
    assert set(outputs) == {"sequence_output", "pooled_output", "hidden_states"}
    sequence = outputs["sequence_output"].numpy()
    assert sequence.shape == (2, 7, 32) and outputs["pooled_output"].shape == (2, 32)
    pooler = encoder.pooler
    np.testing.assert_allclose(
        outputs["pooled_output"],
        np.tanh(sequence[:, 0] @ pooler.kernel.numpy() + pooler.bias.numpy()),
        atol=1e-5,
    )
    hidden_states = outputs["hidden_states"].numpy()
    assert hidden_states.shape == (2, 3, 7, 32)
    np.testing.assert_allclose(
        hidden_states[:, 0], encoder.embeddings(TOKENS, segment_ids=SEGMENTS), atol=1e-6
    )
    np.testing.assert_array_equal(hidden_states[:, -1], sequence)
    short = {name: value[:, :3] for name, value in INPUTS.items()}
    longest = {name: np.tile(value, (1, 2))[:, :12] for name, value in INPUTS.items()}
    assert encoder(short)["sequence_output"].shape == (2, 3, 32)
    assert encoder.predict(longest, verbose=0)["sequence_output"].shape == (2, 12, 32)


def test_a_sequence_longer_than_the_position_table_is_a_clear_error():
    encoder = build_encoder(_config())
    too_long = {name: np.tile(value, (1, 2)) for name, value in INPUTS.items()}
    with pytest.raises(XDomainError, match="length 14.*longer than the 12 positions"):
        encoder.predict(too_long, verbose=0)


def test_parameter_counts_and_bert_base():
    for config, options in [
        (_config(), {}),
        (_config(pre_layer_norm=True, type_vocab_size=3), {}),
        (_config(), {"num_adapters": 3, "adapter_reduction_factor": 8, "lora_rank": 2}),
    ]:
        encoder = build_encoder(config, **options)
        assert encoder.count_params() == _expected_parameters(config, **options)
    # Building BERT-base takes several seconds; the formula, checked above, gives its count.
    assert _expected_parameters(EncoderConfig.preset("bert_base")) == 109_482_240


def test_padded_positions_change_nothing_in_real_outputs():
    encoder = build_encoder(_config())
    changed = dict(INPUTS, token_ids=np.where(PADDING > 0, TOKENS, 7))
    before, after = encoder(INPUTS), encoder(changed)
    np.testing.assert_allclose(
        after["sequence_output"][0, :5], before["sequence_output"][0, :5], atol=1e-5
    )
    np.testing.assert_allclose(after["pooled_output"], before["pooled_output"], atol=1e-5)


def test_causal_encoder_ignores_later_tokens():
    encoder = build_encoder(_config(), causal=True)
    changed = dict(INPUTS, token_ids=np.concatenate([TOKENS[:, :3], 40 + 0 * TOKENS[:, 3:]], 1))
    before = encoder(INPUTS)["sequence_output"].numpy()
    after = encoder(changed)["sequence_output"].numpy()
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-5)
    assert np.abs(after[1, 3:] - before[1, 3:]).max() > 1e-3


@pytest.mark.parametrize("pre_layer_norm", [False, True])
def test_incremental_decoding_with_the_cache_equals_the_full_causal_pass(pre_layer_norm):
    encoder = build_encoder(_config(pre_layer_norm=pre_layer_norm), causal=True)
    full = encoder(INPUTS)["sequence_output"].numpy()
    cache = encoder.empty_cache(batch_size=2, max_length=7)
    assert tuple(cache.shape) == (2, 2, 2, 7, 4, 8)
    chunks = []
    for start, stop in [(0, 3), (3, 4), (4, 5), (5, 6), (6, 7)]:
        output, cache = encoder.call_with_cache(
            TOKENS[:, start:stop],
            cache,
            cache_index=start,
            segment_ids=SEGMENTS[:, start:stop],
            padding_mask=PADDING,
        )
        chunks.append(output.numpy())
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), full, atol=1e-5)


def test_weight_names_follow_the_documented_scheme():
    encoder = build_encoder(_config(num_hidden_layers=1))
    assert [w.path for w in encoder.weights] == [
        "embeddings/token_embedding/embeddings",
        "embeddings/segment_embedding/embeddings",
        "embeddings/position_embedding/embeddings",
        "embeddings/layer_norm/gamma",
        "embeddings/layer_norm/beta",
        "transformer_layer_0/attention/qkv/kernel",
        "transformer_layer_0/attention/qkv/bias",
        "transformer_layer_0/attention/output/kernel",
        "transformer_layer_0/attention/output/bias",
        "transformer_layer_0/attention_layer_norm/gamma",
        "transformer_layer_0/attention_layer_norm/beta",
        "transformer_layer_0/intermediate/kernel",
        "transformer_layer_0/intermediate/bias",
        "transformer_layer_0/output/kernel",
        "transformer_layer_0/output/bias",
        "transformer_layer_0/output_layer_norm/gamma",
        "transformer_layer_0/output_layer_norm/beta",
        "pooler/kernel",
        "pooler/bias",
    ]
    assert encoder.get_layer("transformer_layer_0") is encoder.transformer_layers[0]


def test_zero_initialised_adapters_and_lora_change_nothing_then_train_alone():
    plain = build_encoder(_config())
    adapted = build_encoder(_config(), num_adapters=2, adapter_reduction_factor=8, lora_rank=2)
    _copy_shared_weights(plain, adapted)
    adapter_index = np.array([1, 0], "int32")
    np.testing.assert_allclose(
        adapted(dict(INPUTS, adapter_index=adapter_index))["sequence_output"],
        plain(INPUTS)["sequence_output"],
        atol=1e-5,
    )
    adapted.freeze_base_weights()
    trainable = {w.path for w in adapted.trainable_weights}
    assert trainable == {w.path for w in adapted.parameter_efficient_weights}
    assert len(trainable) == 2 * (8 + 4)
    assert all("adapter" in path or "lora" in path for path in trainable)


def test_keras_round_trip_restores_config_options_and_outputs(tmp_path):
    config = _config(pre_layer_norm=True, hidden_act="gelu_new")
    encoder = build_encoder(
        config, output_hidden_states=True, num_adapters=2, lora_rank=2, name="my_encoder"
    )
    for variable in encoder.parameter_efficient_weights:
        variable.assign(np.full(variable.shape, 0.05, "float32"))
    inputs = dict(INPUTS, adapter_index=np.array([0, 1], "int32"))
    expected = encoder.predict(inputs, verbose=0)
    encoder.save(tmp_path / "encoder.keras")
    reloaded = keras.saving.load_model(tmp_path / "encoder.keras", safe_mode=True)
    assert isinstance(reloaded, TransformerEncoder) and reloaded.name == "my_encoder"
    assert reloaded.encoder_config == config
    assert reloaded.num_adapters == 2 and reloaded.lora_rank == 2
    assert reloaded.output_hidden_states
    actual = reloaded.predict(inputs, verbose=0)
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name])


@pytest.mark.parametrize(
    "policy, compute", [("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16")]
)
def test_mixed_precision_build(policy, compute):
    keras.config.set_dtype_policy(policy)
    try:
        encoder = build_encoder(_config())
    finally:
        keras.config.set_dtype_policy("float32")
    outputs = encoder(INPUTS)
    assert outputs["sequence_output"].dtype == compute
    assert all(w.dtype == "float32" for w in encoder.weights)
    assert encoder.dtype_policy.name == policy
    reference = build_encoder(_config())
    _copy_shared_weights(encoder, reference)
    np.testing.assert_allclose(
        np.asarray(keras.ops.cast(outputs["sequence_output"], "float32")),
        reference(INPUTS)["sequence_output"],
        atol=0.1,
    )


def test_bad_arguments():
    with pytest.raises(XDomainError, match="needs an EncoderConfig"):
        build_encoder(42)
    with pytest.raises(XDomainError, match="num_adapters must be an integer >= 0"):
        build_encoder(_config(), num_adapters=-1)
    encoder = build_encoder("bert_tiny", name="tiny")
    assert encoder.encoder_config == EncoderConfig.preset("bert_tiny")
