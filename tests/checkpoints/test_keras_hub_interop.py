import numpy as np
import pytest
from bert_reference import reference_bert_forward
from checkpoint_fixtures import random_batch

from xdomain_tf.checkpoints.keras_hub_interop import from_keras_hub_backbone, to_keras_hub_backbone
from xdomain_tf.checkpoints.hf_encoder_weights import encoder_to_hf_tensors
from xdomain_tf.errors import XDomainError
from xdomain_tf.models.transformer_encoder import build_encoder
from xdomain_tf.models.encoder_config import EncoderConfig

keras_hub = pytest.importorskip("keras_hub")


def _tiny_backbone(seed=0):
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=60,
        num_layers=2,
        num_heads=4,
        hidden_dim=32,
        intermediate_dim=48,
        dropout=0.1,
        max_sequence_length=20,
        num_segments=3,
    )
    rng = np.random.default_rng(seed)
    for weight in backbone.weights:  # fresh init has zero biases and unit LayerNorms
        weight.assign(weight.numpy() + rng.normal(scale=0.1, size=weight.shape).astype("float32"))
    return backbone


def _outputs(model, batch):
    token_ids, segment_ids, padding_mask = batch
    outputs = model({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
    return {name: np.asarray(outputs[name]) for name in ("sequence_output", "pooled_output")}


def test_backbone_to_encoder_and_back(tmp_path):
    backbone = _tiny_backbone()
    encoder, config = from_keras_hub_backbone(backbone)
    assert config == EncoderConfig(
        vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
        max_position_embeddings=20, type_vocab_size=3, hidden_act="gelu_approximate",
    )
    batch = random_batch(config, seq=12)
    batch[1][2, :6] = 2  # a third segment id
    theirs, ours = _outputs(backbone, batch), _outputs(encoder, batch)
    real = batch[2].astype(bool)
    np.testing.assert_allclose(ours["sequence_output"][real], theirs["sequence_output"][real], atol=1e-5)
    np.testing.assert_allclose(ours["pooled_output"], theirs["pooled_output"], atol=1e-5)
    # An independent check of the weight mapping: the numpy BERT on the converted tensors.
    reference = reference_bert_forward(encoder_to_hf_tensors(encoder), config, *batch)
    np.testing.assert_allclose(theirs["sequence_output"][real], reference["sequence_output"][real], atol=1e-5)

    back = to_keras_hub_backbone(encoder)
    for original, converted in zip(backbone.weights, back.weights):
        assert original.path == converted.path
        np.testing.assert_array_equal(original.numpy(), converted.numpy(), err_msg=original.path)
    np.testing.assert_array_equal(_outputs(back, batch)["sequence_output"], theirs["sequence_output"])


def test_encoder_to_backbone_identical_outputs():
    config = EncoderConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=24,
        max_position_embeddings=16, hidden_act="gelu_approximate",
    )
    encoder = build_encoder(config)
    rng = np.random.default_rng(4)
    for weight in encoder.weights:
        weight.assign(rng.normal(scale=0.2, size=weight.shape).astype("float32"))
    backbone = to_keras_hub_backbone(encoder)
    batch = random_batch(config, seq=9)
    real = batch[2].astype(bool)
    ours, theirs = _outputs(encoder, batch), _outputs(backbone, batch)
    np.testing.assert_allclose(theirs["sequence_output"][real], ours["sequence_output"][real], atol=1e-5)
    np.testing.assert_allclose(theirs["pooled_output"], ours["pooled_output"], atol=1e-5)


def test_exact_gelu_encoder_is_refused_unless_not_strict():
    config = EncoderConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2)
    encoder = build_encoder(config)
    with pytest.raises(XDomainError, match="tanh GELU.*strict=False"):
        to_keras_hub_backbone(encoder)
    backbone = to_keras_hub_backbone(encoder, strict=False)
    assert backbone.num_layers == 1 and backbone.hidden_dim == 16
    with pytest.raises(XDomainError, match="post-LayerNorm"):
        to_keras_hub_backbone(build_encoder(EncoderConfig(
            vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, pre_layer_norm=True,
            hidden_act="gelu_approximate")))
    with pytest.raises(XDomainError, match="BertBackbone"):
        from_keras_hub_backbone(encoder)
