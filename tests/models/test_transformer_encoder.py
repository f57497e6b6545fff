"""The TransformerEncoder: outputs, weights, options (adapters, LoRA, causal, the export-friendly
`attention_mask_mode` / `layer_norm_mode`), serialization and argument checks."""
import keras
import numpy as np
import pytest
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers import MatmulVarianceLayerNormalization
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.models.transformer_encoder import TransformerEncoder, build_encoder

TOKENS = np.array([[2, 5, 7, 9, 3, 0, 0], [2, 6, 3, 0, 0, 0, 0]], "int32")
INPUTS = {"token_ids": TOKENS, "segment_ids": 0 * TOKENS, "padding_mask": (TOKENS > 0).astype("int32")}


def _encoder(pre_layer_norm=False, **options):
    config = EncoderConfig(
        vocab_size=12,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=8,
        pre_layer_norm=pre_layer_norm,
    )
    return TransformerEncoder(config, **options)


def _layer_norms(encoder):
    layers = [encoder.embeddings.layer_norm, encoder.final_layer_norm]
    for block in encoder.transformer_layers:
        layers += [block.attention_layer_norm, block.output_layer_norm]
    return [layer for layer in layers if layer is not None]


@pytest.mark.parametrize("pre_layer_norm", [False, True])
def test_export_modes_give_the_same_float_outputs(pre_layer_norm):
    encoder = _encoder(pre_layer_norm)
    rng = np.random.default_rng(0)
    encoder.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in encoder.weights])
    twin = _encoder(pre_layer_norm, attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    twin.set_weights(encoder.get_weights())
    assert all(type(layer) is MatmulVarianceLayerNormalization for layer in _layer_norms(twin))
    assert len(_layer_norms(twin)) == (6 if pre_layer_norm else 5)
    assert all(type(layer) is keras.layers.LayerNormalization for layer in _layer_norms(encoder))
    assert {block.attention.mask_mode for block in twin.transformer_layers} == {"bounded"}
    expected, actual = encoder(INPUTS), twin(INPUTS)
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], atol=1e-5)


def test_options_round_trip_through_get_config_and_keras_files():
    encoder = _encoder(True, attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    config = encoder.get_config()
    assert (config["attention_mask_mode"], config["layer_norm_mode"]) == ("bounded", "matmul_variance")
    run_serialization_test(encoder)
    reloaded = run_model_saving_test(encoder, INPUTS)
    assert (reloaded.attention_mask_mode, reloaded.layer_norm_mode) == ("bounded", "matmul_variance")
    assert all(type(layer) is MatmulVarianceLayerNormalization for layer in _layer_norms(reloaded))


def test_defaults_and_bad_modes():
    config = _encoder().get_config()
    assert (config["attention_mask_mode"], config["layer_norm_mode"]) == ("large_negative", "standard")
    with pytest.raises(XDomainError, match="mask_mode must be one of"):
        _encoder(attention_mask_mode="bounded_mask")
    with pytest.raises(XDomainError, match="layer_norm_mode must be one of"):
        _encoder(layer_norm_mode="matmul")


FULL_TOKENS = np.array([[2, 11, 12, 13, 3, 0, 0], [2, 21, 22, 23, 24, 25, 3]], "int32")
FULL_PADDING = (FULL_TOKENS > 0).astype("int32")
FULL_SEGMENTS = np.array([[0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1, 1]], "int32")
FULL_INPUTS = {"token_ids": FULL_TOKENS, "segment_ids": FULL_SEGMENTS, "padding_mask": FULL_PADDING}


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
    encoder = TransformerEncoder(_config(), output_hidden_states=True)
    outputs = encoder(FULL_INPUTS)
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
        hidden_states[:, 0], encoder.embeddings(FULL_TOKENS, segment_ids=FULL_SEGMENTS), atol=1e-6
    )
    np.testing.assert_array_equal(hidden_states[:, -1], sequence)
    short = {name: value[:, :3] for name, value in FULL_INPUTS.items()}
    longest = {name: np.tile(value, (1, 2))[:, :12] for name, value in FULL_INPUTS.items()}
    assert encoder(short)["sequence_output"].shape == (2, 3, 32)
    assert encoder.predict(longest, verbose=0)["sequence_output"].shape == (2, 12, 32)


def test_a_sequence_longer_than_the_position_table_is_a_clear_error():
    encoder = TransformerEncoder(_config())
    too_long = {name: np.tile(value, (1, 2)) for name, value in FULL_INPUTS.items()}
    with pytest.raises(XDomainError, match="length 14.*longer than the 12 positions"):
        encoder.predict(too_long, verbose=0)


def test_parameter_counts_and_bert_base():
    for config, options in [
        (_config(), {}),
        (_config(pre_layer_norm=True, type_vocab_size=3), {}),
        (_config(), {"num_adapters": 3, "adapter_reduction_factor": 8, "lora_rank": 2}),
    ]:
        encoder = TransformerEncoder(config, **options)
        assert encoder.count_params() == _expected_parameters(config, **options)
    # Building BERT-base takes several seconds; the formula, checked above, gives its count.
    assert _expected_parameters(EncoderConfig.architecture("bert_base")) == 109_482_240


def test_padded_positions_change_nothing_in_real_outputs():
    encoder = TransformerEncoder(_config())
    changed = dict(FULL_INPUTS, token_ids=np.where(FULL_PADDING > 0, FULL_TOKENS, 7))
    before, after = encoder(FULL_INPUTS), encoder(changed)
    np.testing.assert_allclose(
        after["sequence_output"][0, :5], before["sequence_output"][0, :5], atol=1e-5
    )
    np.testing.assert_allclose(after["pooled_output"], before["pooled_output"], atol=1e-5)


def test_causal_encoder_ignores_later_tokens():
    encoder = TransformerEncoder(_config(), causal=True)
    changed = dict(FULL_INPUTS, token_ids=np.concatenate([FULL_TOKENS[:, :3], 40 + 0 * FULL_TOKENS[:, 3:]], 1))
    before = encoder(FULL_INPUTS)["sequence_output"].numpy()
    after = encoder(changed)["sequence_output"].numpy()
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-5)
    assert np.abs(after[1, 3:] - before[1, 3:]).max() > 1e-3


def test_weight_names_follow_the_documented_scheme():
    encoder = TransformerEncoder(_config(num_hidden_layers=1))
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
    plain = TransformerEncoder(_config())
    adapted = TransformerEncoder(_config(), num_adapters=2, adapter_reduction_factor=8, lora_rank=2)
    _copy_shared_weights(plain, adapted)
    adapter_index = np.array([1, 0], "int32")
    np.testing.assert_allclose(
        adapted(dict(FULL_INPUTS, adapter_index=adapter_index))["sequence_output"],
        plain(FULL_INPUTS)["sequence_output"],
        atol=1e-5,
    )
    adapted.freeze_base_weights()
    trainable = {w.path for w in adapted.trainable_weights}
    assert trainable == {w.path for w in adapted.parameter_efficient_weights}
    assert len(trainable) == 2 * (8 + 4)
    assert all("adapter" in path or "lora" in path for path in trainable)


def test_keras_round_trip_restores_config_options_and_outputs():
    config = _config(pre_layer_norm=True, hidden_act="gelu_new")
    encoder = TransformerEncoder(
        config, output_hidden_states=True, num_adapters=2, lora_rank=2, name="my_encoder"
    )
    for variable in encoder.parameter_efficient_weights:
        variable.assign(np.full(variable.shape, 0.05, "float32"))
    assert run_serialization_test(encoder).encoder_config == config
    reloaded = run_model_saving_test(encoder, dict(FULL_INPUTS, adapter_index=np.array([0, 1], "int32")))
    assert reloaded.name == "my_encoder" and reloaded.encoder_config == config
    assert reloaded.num_adapters == 2 and reloaded.lora_rank == 2
    assert reloaded.output_hidden_states


@pytest.mark.parametrize(
    "policy, compute", [("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16")]
)
def test_mixed_precision_build(policy, compute):
    keras.config.set_dtype_policy(policy)
    try:
        encoder = TransformerEncoder(_config())
    finally:
        keras.config.set_dtype_policy("float32")
    outputs = encoder(FULL_INPUTS)
    assert outputs["sequence_output"].dtype == compute
    assert all(w.dtype == "float32" for w in encoder.weights)
    assert encoder.dtype_policy.name == policy
    reference = TransformerEncoder(_config())
    _copy_shared_weights(encoder, reference)
    np.testing.assert_allclose(
        np.asarray(keras.ops.cast(outputs["sequence_output"], "float32")),
        reference(FULL_INPUTS)["sequence_output"],
        atol=0.1,
    )


def test_config_forms_and_bad_arguments():
    assert TransformerEncoder("bert_tiny").encoder_config == EncoderConfig.architecture("bert_tiny")
    assert TransformerEncoder(_config().to_dict()).encoder_config == _config()
    with pytest.raises(XDomainError, match="encoder_config must be an EncoderConfig, a dict or an architecture name"):
        TransformerEncoder(42)
    with pytest.raises(XDomainError, match="Unknown encoder architecture 'bert_huge'"):
        TransformerEncoder("bert_huge")
    with pytest.raises(XDomainError, match="num_adapters must be an integer >= 0"):
        TransformerEncoder(_config(), num_adapters=-1)
    with pytest.raises(XDomainError, match="lora_rank must be an integer >= 0"):
        TransformerEncoder(_config(), lora_rank=1.5)
    with pytest.raises(XDomainError, match="adapter_reduction_factor must be a positive integer"):
        TransformerEncoder(_config(), num_adapters=2, adapter_reduction_factor=0)


def test_build_encoder_is_the_constructor_named_encoder():
    encoder = build_encoder("bert_tiny", causal=True)
    assert type(encoder) is TransformerEncoder and encoder.name == "encoder" and encoder.causal
    assert build_encoder(_config(), name="tiny").name == "tiny"
