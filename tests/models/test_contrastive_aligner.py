import numpy as np
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.models import ContrastiveAligner, EncoderConfig, TransformerEncoder, build_contrastive

CONFIG = EncoderConfig(
    vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
    max_position_embeddings=16, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)


def _inputs():
    source = np.array([[2, 5, 6, 3, 0], [2, 7, 3, 0, 0], [2, 8, 9, 10, 3]], "int32")
    target = np.array([[2, 11, 3], [2, 12, 3], [2, 13, 3]], "int32")
    inputs = {}
    for side, ids in (("source", source), ("target", target)):
        inputs[f"{side}_token_ids"] = ids
        inputs[f"{side}_segment_ids"] = np.zeros_like(ids)
        inputs[f"{side}_padding_mask"] = (ids != 0).astype("int32")
    return inputs


def test_embeddings_are_normalized_mean_pools_and_logits_their_scaled_cosines():
    encoder = TransformerEncoder(CONFIG)
    model = ContrastiveAligner(encoder, temperature=0.1, learn_temperature=False)
    inputs = _inputs()
    outputs = model(inputs)
    sequence = encoder(
        {k: inputs[f"source_{k}"] for k in ("token_ids", "segment_ids", "padding_mask")}
    )["sequence_output"].numpy()
    mask = inputs["source_padding_mask"][:, :, None]
    pooled = (sequence * mask).sum(1) / mask.sum(1)
    expected = pooled / np.linalg.norm(pooled, axis=-1, keepdims=True)
    np.testing.assert_allclose(outputs["source_embedding"].numpy(), expected, atol=1e-5)
    cosine = outputs["source_embedding"].numpy() @ outputs["target_embedding"].numpy().T
    np.testing.assert_allclose(outputs["logits"].numpy(), cosine / 0.1, atol=1e-4)
    assert not model.similarity.log_scale.trainable


def test_learned_temperature_is_a_trainable_weight_and_survives_saving():
    model = ContrastiveAligner(TransformerEncoder(CONFIG), temperature=0.05)
    assert model.similarity.log_scale.trainable
    assert id(model.similarity.log_scale) in {id(w) for w in model.trainable_weights}
    model.similarity.log_scale.assign(np.log(7.0))
    assert run_serialization_test(model).temperature == 0.05
    reloaded = run_model_saving_test(model, _inputs())
    np.testing.assert_allclose(float(reloaded.similarity.scale), 7.0, rtol=1e-6)


def test_older_name():
    model = build_contrastive(TransformerEncoder(CONFIG), temperature=0.2, learn_temperature=False)
    assert type(model) is ContrastiveAligner and model.name == "contrastive_aligner"
    assert (model.temperature, model.learn_temperature) == (0.2, False)
