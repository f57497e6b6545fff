"""The TransformerEncoder's export-friendly layer options (`attention_mask_mode`, `layer_norm_mode`)."""
import keras
import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers import MatmulVarianceLayerNormalization
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.models.transformer_encoder import TransformerEncoder

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


def test_options_round_trip_through_get_config_and_keras_files(tmp_path):
    encoder = _encoder(True, attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    config = encoder.get_config()
    assert (config["attention_mask_mode"], config["layer_norm_mode"]) == ("bounded", "matmul_variance")
    assert TransformerEncoder.from_config(config).get_config() == config
    expected = encoder.predict(INPUTS, verbose=0)
    keras.saving.save_model(encoder, tmp_path / "encoder.keras")
    reloaded = keras.saving.load_model(tmp_path / "encoder.keras", safe_mode=True)
    assert (reloaded.attention_mask_mode, reloaded.layer_norm_mode) == ("bounded", "matmul_variance")
    assert all(type(layer) is MatmulVarianceLayerNormalization for layer in _layer_norms(reloaded))
    actual = reloaded.predict(INPUTS, verbose=0)
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name])


def test_defaults_and_bad_modes():
    config = _encoder().get_config()
    assert (config["attention_mask_mode"], config["layer_norm_mode"]) == ("large_negative", "standard")
    with pytest.raises(XDomainError, match="mask_mode must be one of"):
        _encoder(attention_mask_mode="bounded_mask")
    with pytest.raises(XDomainError, match="layer_norm_mode must be one of"):
        _encoder(layer_norm_mode="matmul")
