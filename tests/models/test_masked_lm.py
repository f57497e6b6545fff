import keras
import numpy as np
import pytest
import tensorflow as tf
from layer_test_case import run_fit_step_test, run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import EncoderConfig, MaskedLM, TransformerEncoder, build_masked_lm

CONFIG = EncoderConfig(
    vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
    max_position_embeddings=16, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)


def _inputs(batch=2, length=6, predictions=3):
    rng = np.random.default_rng(0)
    ids = rng.integers(5, CONFIG.vocab_size, size=(batch, length)).astype("int32")
    return {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": np.ones_like(ids),
        "mask_positions": rng.integers(0, length, size=(batch, predictions)).astype("int32"),
    }


def test_logits_are_the_tied_projection_of_the_masked_positions():
    encoder = TransformerEncoder(CONFIG)
    model = MaskedLM(encoder)
    inputs = _inputs()
    logits = model(inputs)["mlm_logits"].numpy()
    assert logits.shape == (2, 3, CONFIG.vocab_size)

    sequence = encoder({k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")})["sequence_output"]
    gathered = np.take_along_axis(sequence.numpy(), inputs["mask_positions"][:, :, None], axis=1)
    head = model.mlm_head
    transformed = head.transform_layer_norm(head.transform_dense(gathered)).numpy()
    embedding = encoder.embeddings.token_embedding_matrix.numpy()
    expected = transformed @ embedding.T + head.output_bias.numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-5)


def test_the_output_projection_is_the_embedding_variable_itself():
    encoder = TransformerEncoder(CONFIG)
    model = MaskedLM(encoder)
    model(_inputs())
    embedding = encoder.embeddings.token_embedding_matrix
    assert model.mlm_head._embedding_matrix() is embedding
    vocab_sized = [w for w in model.weights if tuple(w.shape) == (CONFIG.vocab_size, CONFIG.hidden_size)]
    assert len({id(w) for w in vocab_sized}) == 1
    head_only = {id(w) for w in model.mlm_head.weights} - {id(w) for w in encoder.weights}
    # transform kernel + bias, LayerNorm gamma + beta, output bias: no matrix of its own.
    assert len(head_only) == 5

    # A loss on the head alone moves the shared embedding.
    inputs = _inputs()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(inputs)["mlm_logits"] ** 2)
    gradient = tape.gradient(loss, embedding)
    assert float(tf.reduce_sum(tf.abs(tf.convert_to_tensor(gradient)))) > 0


def test_sentence_head_and_save_load_round_trip():
    model = MaskedLM(TransformerEncoder(CONFIG), sentence_objective="sop")
    assert tuple(model(_inputs())["sentence_logits"].shape) == (2, 2)
    assert run_serialization_test(model).sentence_objective == "sop"
    reloaded = run_model_saving_test(model, _inputs())
    assert reloaded.sentence_objective == "sop"
    assert reloaded.mlm_head._embedding_matrix() is reloaded.encoder.embeddings.token_embedding_matrix


def test_pretrained_head_weights_are_assigned():
    rng = np.random.default_rng(1)
    h, v = CONFIG.hidden_size, CONFIG.vocab_size
    weights = {
        "transform_kernel": rng.normal(size=(h, h)).astype("float32"),
        "transform_bias": rng.normal(size=(h,)).astype("float32"),
        "layer_norm_gamma": rng.normal(size=(h,)).astype("float32"),
        "layer_norm_beta": rng.normal(size=(h,)).astype("float32"),
        "output_bias": rng.normal(size=(v,)).astype("float32"),
    }
    model = MaskedLM(TransformerEncoder(CONFIG), mlm_head_weights=weights)
    np.testing.assert_array_equal(model.mlm_head.transform_dense.kernel.numpy(), weights["transform_kernel"])
    np.testing.assert_array_equal(model.mlm_head.output_bias.numpy(), weights["output_bias"])
    assert "mlm_head_weights" not in model.get_config()  # the weights are saved as weights
    # The older name builds the same model.
    alias = build_masked_lm(TransformerEncoder(CONFIG), "nsp", mlm_head_weights=weights)
    assert type(alias) is MaskedLM and alias.name == "masked_lm" and alias.sentence_objective == "nsp"
    np.testing.assert_array_equal(alias.mlm_head.output_bias.numpy(), weights["output_bias"])


def test_refuses_a_causal_encoder_and_unknown_sentence_objective():
    with pytest.raises(XDomainError, match="bidirectional"):
        MaskedLM(TransformerEncoder(CONFIG, causal=True))
    with pytest.raises(XDomainError, match="sentence_objective"):
        MaskedLM(TransformerEncoder(CONFIG), sentence_objective="next")


def test_trains_with_plain_keras_compile_and_fit():
    keras.utils.set_random_seed(0)
    model = MaskedLM(TransformerEncoder(CONFIG))
    inputs = _inputs(batch=8, length=6, predictions=3)
    targets = np.take_along_axis(inputs["token_ids"], inputs["mask_positions"], axis=1)
    weights = np.ones_like(targets, dtype="float32")
    weights[:, -1] = 0.0
    _, unchanged = run_fit_step_test(
        model,
        inputs,
        {"mlm_logits": targets},
        sample_weight={"mlm_logits": weights},
        loss={"mlm_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
        weighted_metrics={"mlm_logits": ["sparse_categorical_accuracy"]},
    )
    # Only the unused pooler gets no gradient (the masked LM reads the sequence output).
    assert unchanged == ["pooler/bias", "pooler/kernel"]
    history = model.fit(
        inputs, {"mlm_logits": targets}, sample_weight={"mlm_logits": weights}, epochs=15, batch_size=8, verbose=0
    ).history
    assert history["loss"][-1] < history["loss"][0] / 2
