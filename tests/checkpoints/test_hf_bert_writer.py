import json

import numpy as np
import pytest
from bert_reference import erf, reference_bert_forward
from checkpoint_fixtures import TINY_VOCAB, random_batch, random_hf_tensors, tiny_config, write_hf_folder

from xdomain_tf.checkpoints.hf_bert_folder import read_hf_bert_folder
from xdomain_tf.checkpoints.hf_bert_loader import load_hf_bert
from xdomain_tf.checkpoints.hf_bert_writer import save_hf_bert
from xdomain_tf.checkpoints.mlm_head_weights import assign_mlm_head_weights, mlm_head_weights_of
from xdomain_tf.errors import XDomainError
from xdomain_tf.models.transformer_encoder import build_encoder


def _outputs(encoder, batch):
    token_ids, segment_ids, padding_mask = batch
    outputs = encoder({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
    return {name: np.asarray(value) for name, value in outputs.items()}


def _randomize(encoder, seed=0):
    rng = np.random.default_rng(seed)
    for weight in encoder.weights:
        weight.assign(rng.normal(scale=0.2, size=weight.shape).astype("float32"))


@pytest.mark.parametrize("hidden_act", ["gelu", "gelu_approximate"])
def test_round_trip_gives_identical_outputs(tmp_path, hidden_act):
    config = tiny_config(hidden_act=hidden_act)
    encoder = build_encoder(config)
    _randomize(encoder)
    folder = save_hf_bert(encoder, TINY_VOCAB, tmp_path / "out")
    hf_config = json.loads((folder / "config.json").read_text())
    assert hf_config["architectures"] == ["BertModel"] and hf_config["model_type"] == "bert"
    assert (folder / "vocab.txt").read_text().splitlines() == TINY_VOCAB
    loaded = load_hf_bert(folder, load_tokenizer=False)
    assert loaded.config.hidden_size == 32 and loaded.config.num_hidden_layers == 2
    batch = random_batch(config)
    before, after = _outputs(encoder, batch), _outputs(loaded.encoder, batch)
    np.testing.assert_array_equal(before["sequence_output"], after["sequence_output"])
    np.testing.assert_array_equal(before["pooled_output"], after["pooled_output"])
    # And the file itself is a correct HF BERT: it matches the numpy reference.
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / "model.safetensors"))
    reference = reference_bert_forward(tensors, loaded.config, *batch)
    real = batch[2].astype(bool)
    np.testing.assert_allclose(before["sequence_output"][real], reference["sequence_output"][real], atol=1e-5)


def test_loaded_checkpoint_saves_back_bit_identical(tiny_hf_folder, tmp_path):
    folder, config, tensors = tiny_hf_folder
    loaded = load_hf_bert(folder, load_tokenizer=False)
    again = read_hf_bert_folder(save_hf_bert(loaded.encoder, folder / "vocab.txt", tmp_path / "again"))
    assert again.config == config
    for name, value in tensors.items():
        np.testing.assert_array_equal(again.tensors[name], value, err_msg=name)


def test_lora_is_merged(tmp_path):
    config = tiny_config()
    encoder = build_encoder(config, lora_rank=2, lora_alpha=4)
    _randomize(encoder, seed=1)  # B becomes non-zero: LoRA changes the outputs
    folder = save_hf_bert(encoder, None, tmp_path / "merged")
    assert not (folder / "vocab.txt").exists()
    loaded = load_hf_bert(folder)
    assert loaded.tokenizer is None and loaded.encoder.lora_rank == 0
    batch = random_batch(config)
    np.testing.assert_allclose(
        _outputs(encoder, batch)["sequence_output"], _outputs(loaded.encoder, batch)["sequence_output"], atol=1e-5
    )


def test_masked_lm_head_round_trip(tmp_path):
    from xdomain_tf.layers.masked_lm_head import MaskedLMHead

    config = tiny_config()
    tensors = random_hf_tensors(config, mlm_head=True)
    folder = write_hf_folder(tmp_path / "src", config, tensors)
    loaded = load_hf_bert(folder, load_tokenizer=False)
    head = MaskedLMHead(loaded.encoder.embeddings, activation=config.hidden_act)
    head.build((None, None, config.hidden_size))
    assign_mlm_head_weights(head, loaded.mlm_head_weights)
    saved = save_hf_bert(loaded.encoder, TINY_VOCAB, tmp_path / "dst", mlm_head_weights=head)
    assert json.loads((saved / "config.json").read_text())["architectures"] == ["BertForMaskedLM"]
    again = load_hf_bert(saved, load_tokenizer=False)
    for key, value in mlm_head_weights_of(head).items():
        np.testing.assert_array_equal(again.mlm_head_weights[key], value, err_msg=key)
    np.testing.assert_array_equal(
        again.mlm_head_weights["transform_kernel"], tensors["cls.predictions.transform.dense.weight"].T
    )
    # The head computes BERT's MLM logits: transform, LayerNorm, tied projection, bias.
    hidden = np.random.default_rng(0).normal(size=(1, 3, config.hidden_size)).astype("float32")
    x = hidden @ tensors["cls.predictions.transform.dense.weight"].T + tensors["cls.predictions.transform.dense.bias"]
    x = 0.5 * x * (1 + erf(x / np.sqrt(2)))
    x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-12)
    x = x * tensors["cls.predictions.transform.LayerNorm.weight"] + tensors["cls.predictions.transform.LayerNorm.bias"]
    expected = x @ tensors["embeddings.word_embeddings.weight"].T + tensors["cls.predictions.bias"]
    np.testing.assert_allclose(np.asarray(head(hidden)), expected, atol=1e-4)


def test_refusals(tmp_path):
    config = tiny_config()
    with pytest.raises(XDomainError, match="adapters"):
        save_hf_bert(build_encoder(config, num_adapters=2), None, tmp_path / "a")
    with pytest.raises(XDomainError, match="post-LayerNorm"):
        save_hf_bert(build_encoder(tiny_config(pre_layer_norm=True)), None, tmp_path / "b")
    encoder = build_encoder(config)
    save_hf_bert(encoder, None, tmp_path / "c")
    with pytest.raises(XDomainError, match="exists"):
        save_hf_bert(encoder, None, tmp_path / "c")
    save_hf_bert(encoder, None, tmp_path / "c", overwrite=True)
    with pytest.raises(XDomainError, match="more than the encoder's vocab_size"):
        save_hf_bert(encoder, [f"t{i}" for i in range(config.vocab_size + 1)], tmp_path / "d")
    pruned = tiny_config(layer_intermediate_sizes=[8] * config.num_hidden_layers)
    with pytest.raises(XDomainError, match="structurally pruned"):
        save_hf_bert(build_encoder(pruned), None, tmp_path / "e")
    assert not (tmp_path / "e").exists()


def test_tokenizer_settings_round_trip(tmp_path):
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    cased = [token.upper() if len(token) == 1 and token.isalpha() else token for token in TINY_VOCAB]
    tokenizer = WordPieceTokenizer(cased, lowercase=False)
    folder = save_hf_bert(build_encoder(tiny_config()), tokenizer, tmp_path / "cased")
    assert json.loads((folder / "tokenizer_config.json").read_text())["do_lower_case"] is False
    loaded = load_hf_bert(folder)
    assert loaded.tokenizer.lowercase is False and loaded.tokenizer.vocabulary == cased
