import keras
import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import CausalLM, EncoderConfig, build_causal_lm, build_encoder

CONFIG = EncoderConfig(
    vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
    max_position_embeddings=16, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)


def _features(ids):
    ids = np.asarray(ids, "int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}


def test_position_t_sees_only_tokens_up_to_t():
    lm = build_causal_lm(build_encoder(CONFIG, causal=True))
    a = lm(_features([[2, 7, 8, 9, 10, 11]])).numpy()
    b = lm(_features([[2, 7, 8, 20, 21, 22]])).numpy()
    assert a.shape == (1, 6, CONFIG.vocab_size)
    np.testing.assert_allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert np.abs(a[:, 3:] - b[:, 3:]).max() > 1e-3


def test_a_bidirectional_encoder_is_converted_with_its_weights():
    encoder = build_encoder(CONFIG)
    lm = build_causal_lm(encoder)
    assert lm.encoder.causal and lm.encoder is not encoder
    for source, target in zip(encoder.weights, lm.encoder.weights):
        np.testing.assert_array_equal(source.numpy(), target.numpy())
    # The head projects with the causal encoder's own embedding (one variable).
    assert lm.lm_head._embedding_matrix() is lm.encoder.embeddings.token_embedding_matrix
    # The first position attends to itself only, in both encoders.
    ids = _features([[2, 7, 8]])
    first = encoder(ids)["sequence_output"].numpy()[:, 0]
    alone = encoder(_features([[2]]))["sequence_output"].numpy()[:, 0]
    causal_first = lm.encoder(ids)["sequence_output"].numpy()[:, 0]
    np.testing.assert_allclose(causal_first, alone, atol=1e-5)
    assert np.abs(first - alone).max() > 1e-4


def test_save_load_round_trip(tmp_path):
    lm = build_causal_lm(build_encoder(CONFIG, causal=True))
    features = _features([[2, 5, 6, 7]])
    expected = lm(features).numpy()
    lm.save(tmp_path / "clm.keras")
    reloaded = keras.saving.load_model(tmp_path / "clm.keras", safe_mode=True)
    assert isinstance(reloaded, CausalLM)
    np.testing.assert_allclose(reloaded(features).numpy(), expected, atol=1e-6)


def test_refuses_adapters():
    with pytest.raises(XDomainError, match="adapters"):
        build_causal_lm(build_encoder(CONFIG, num_adapters=2))
