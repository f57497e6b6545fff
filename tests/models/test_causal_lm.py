import keras
import numpy as np
import pytest
from layer_test_case import run_fit_step_test, run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import CausalLM, EncoderConfig, TransformerEncoder, build_causal_lm

CONFIG = EncoderConfig(
    vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
    max_position_embeddings=16, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)


def _features(ids):
    ids = np.asarray(ids, "int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}


def test_position_t_sees_only_tokens_up_to_t():
    lm = CausalLM(TransformerEncoder(CONFIG, causal=True))
    a = lm(_features([[2, 7, 8, 9, 10, 11]])).numpy()
    b = lm(_features([[2, 7, 8, 20, 21, 22]])).numpy()
    assert a.shape == (1, 6, CONFIG.vocab_size)
    np.testing.assert_allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert np.abs(a[:, 3:] - b[:, 3:]).max() > 1e-3


def test_a_bidirectional_encoder_is_converted_with_its_weights():
    encoder = TransformerEncoder(CONFIG, lora_rank=2, name="bert")
    lm = CausalLM(encoder)
    assert lm.encoder.causal and lm.encoder is not encoder
    assert (lm.encoder.name, lm.encoder.lora_rank) == ("bert", 2)
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


def test_save_load_round_trip():
    lm = CausalLM(TransformerEncoder(CONFIG, causal=True))
    run_serialization_test(lm)
    reloaded = run_model_saving_test(lm, _features([[2, 5, 6, 7]]))
    assert reloaded.encoder.causal


def test_one_training_step_on_shifted_labels():
    keras.utils.set_random_seed(0)
    ids = np.array([[2, 5, 6, 7, 3], [2, 8, 9, 3, 0]], "int32")
    features = dict(_features(ids[:, :-1]), padding_mask=(ids[:, :-1] > 0).astype("int32"))
    labels = ids[:, 1:]
    _, unchanged = run_fit_step_test(
        CausalLM(TransformerEncoder(CONFIG)),
        features,
        labels,
        sample_weight=(labels > 0).astype("float32"),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    assert unchanged == ["pooler/bias", "pooler/kernel"]


def test_older_name_and_adapters():
    lm = build_causal_lm(TransformerEncoder(CONFIG))
    assert type(lm) is CausalLM and lm.name == "causal_lm" and lm.encoder.causal
    with pytest.raises(XDomainError, match="adapters"):
        CausalLM(TransformerEncoder(CONFIG, num_adapters=2))
