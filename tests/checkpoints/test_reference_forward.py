import numpy as np
import pytest
from bert_reference import reference_bert_forward
from checkpoint_fixtures import random_batch, random_hf_tensors, tiny_config, write_hf_folder



def test_padded_positions_do_not_change_real_tokens():
    config = tiny_config()
    tensors = random_hf_tensors(config)
    token_ids, segment_ids, padding_mask = random_batch(config)
    first = reference_bert_forward(tensors, config, token_ids, segment_ids, padding_mask)
    changed = np.where(padding_mask == 0, 7, token_ids)
    second = reference_bert_forward(tensors, config, changed, segment_ids, padding_mask)
    real = padding_mask.astype(bool)
    np.testing.assert_allclose(first["sequence_output"][real], second["sequence_output"][real], atol=1e-12)
    np.testing.assert_allclose(first["pooled_output"], second["pooled_output"], atol=1e-12)
    assert not np.allclose(first["sequence_output"][~real], second["sequence_output"][~real])


def test_bert_prefix_and_layer_norm_gamma_beta_names_are_accepted():
    config = tiny_config(num_hidden_layers=1)
    tensors = random_hf_tensors(config)
    renamed = {
        "bert." + name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): value
        for name, value in tensors.items()
    }
    token_ids, segment_ids, padding_mask = random_batch(config)
    a = reference_bert_forward(tensors, config, token_ids, segment_ids, padding_mask)
    b = reference_bert_forward(renamed, config, token_ids, segment_ids, padding_mask)
    np.testing.assert_array_equal(a["sequence_output"], b["sequence_output"])


def test_embedding_layer_norm_alone():
    config = tiny_config(num_hidden_layers=1)
    tensors = random_hf_tensors(config, pooler=False)
    token_ids = np.array([[5, 9, 12]])
    out = reference_bert_forward(tensors, config, token_ids)
    assert out["pooled_output"] is None
    # Zeroing attention output and FFN output leaves LayerNorm(LayerNorm(embeddings)).
    for name in list(tensors):
        if "attention.output.dense" in name or name.startswith("encoder.layer.0.output.dense"):
            tensors[name] = np.zeros_like(tensors[name])
    out = reference_bert_forward(tensors, config, token_ids)

    def layer_norm(x, prefix):
        x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + config.layer_norm_eps)
        return x * tensors[prefix + ".weight"] + tensors[prefix + ".bias"]

    embeddings = (
        tensors["embeddings.word_embeddings.weight"][token_ids[0]]
        + tensors["embeddings.position_embeddings.weight"][:3]
        + tensors["embeddings.token_type_embeddings.weight"][0]
    )
    expected = embeddings.astype(np.float64)
    for prefix in (
        "embeddings.LayerNorm",
        "encoder.layer.0.attention.output.LayerNorm",
        "encoder.layer.0.output.LayerNorm",
    ):
        expected = layer_norm(expected, prefix)
    np.testing.assert_allclose(out["sequence_output"][0], expected, atol=1e-5)


def test_matches_keras_hub_loading_the_same_hf_folder(tmp_path):
    """keras-hub's own Hugging Face converter is an independent implementation of BERT.

    Its BertBackbone always uses the tanh-approximate GELU, so the reference runs with
    `gelu_new` here.
    """
    keras_hub = pytest.importorskip("keras_hub")
    config = tiny_config(hidden_act="gelu_new")
    tensors = random_hf_tensors(config)
    folder = write_hf_folder(tmp_path / "bert", config, tensors)
    backbone = keras_hub.models.BertBackbone.from_preset(str(folder))
    token_ids, segment_ids, padding_mask = random_batch(config)
    ours = reference_bert_forward(tensors, config, token_ids, segment_ids, padding_mask)
    theirs = backbone({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
    real = padding_mask.astype(bool)
    np.testing.assert_allclose(
        np.asarray(theirs["sequence_output"])[real], ours["sequence_output"][real], atol=1e-5
    )
    np.testing.assert_allclose(np.asarray(theirs["pooled_output"]), ours["pooled_output"], atol=1e-5)
