import json

import numpy as np
import pytest
from checkpoint_fixtures import random_hf_tensors, tiny_config, write_hf_folder

from xdomain_tf.checkpoints.hf_bert_folder import read_hf_bert_config, read_hf_bert_folder
from xdomain_tf.errors import XDomainError


def test_reads_config_tensors_and_vocab(tiny_hf_folder):
    folder, config, tensors = tiny_hf_folder
    result = read_hf_bert_folder(folder)
    assert result.config == config
    assert set(result.tensors) == set(tensors)  # the position_ids buffer is dropped
    np.testing.assert_array_equal(result.tensors["pooler.dense.weight"], tensors["pooler.dense.weight"])
    assert result.vocab_path == folder / "vocab.txt"
    assert result.mlm_head_tensors is None and result.has_pooler and result.lowercase


def test_bert_prefix_mlm_head_and_other_heads(tmp_path):
    config = tiny_config()
    tensors = random_hf_tensors(config, pooler=False, mlm_head=True)
    prefixed = {(k if k.startswith("cls.") else "bert." + k): v for k, v in tensors.items()}
    prefixed["cls.seq_relationship.weight"] = np.zeros((2, config.hidden_size), np.float32)
    prefixed["bert.encoder.layer.0.output.LayerNorm.gamma"] = prefixed.pop(
        "bert.encoder.layer.0.output.LayerNorm.weight"
    )
    folder = write_hf_folder(tmp_path / "m", config, prefixed, config_extra={"architectures": ["BertForPreTraining"]})
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    result = read_hf_bert_folder(folder)
    assert not result.has_pooler and not result.lowercase
    assert result.ignored_tensors == ["cls.seq_relationship.weight"]
    assert sorted(result.mlm_head_tensors) == sorted(k for k in tensors if k.startswith("cls."))
    assert "encoder.layer.0.output.LayerNorm.weight" in result.tensors


@pytest.mark.parametrize(
    "config_extra, message",
    [
        ({"model_type": "roberta", "architectures": ["RobertaModel"]}, "'roberta' is not BERT"),
        ({"architectures": ["GPT2LMHeadModel"]}, "'GPT2LMHeadModel' is not BERT"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ({"hidden_act": "mish"}, "hidden_act 'mish'"),
        ({"num_attention_heads": 5}, "not divisible"),
    ],
)
def test_refuses_non_bert_configs(tmp_path, config_extra, message):
    config = tiny_config()
    folder = write_hf_folder(tmp_path / "m", config, random_hf_tensors(config), config_extra=config_extra)
    with pytest.raises(XDomainError, match=message):
        read_hf_bert_folder(folder)


@pytest.mark.parametrize(
    "hf_name, ours", [("gelu", "gelu"), ("gelu_pytorch_tanh", "gelu_approximate"), ("relu", "relu")]
)
def test_maps_hf_activation_names(tmp_path, hf_name, ours):
    values = dict(tiny_config().to_dict(), hidden_act=hf_name, model_type="bert")
    values.pop("pre_layer_norm")
    (tmp_path / "config.json").write_text(json.dumps(values))
    assert read_hf_bert_config(tmp_path / "config.json").hidden_act == ours
    assert read_hf_bert_config(tmp_path).hidden_act == ours


def test_missing_extra_and_misshaped_tensors_are_named(tmp_path):
    config = tiny_config()
    tensors = random_hf_tensors(config)
    missing = {k: v for k, v in tensors.items() if k != "encoder.layer.1.attention.self.key.bias"}
    with pytest.raises(XDomainError, match=r"missing tensor\(s\): encoder\.layer\.1\.attention\.self\.key\.bias"):
        read_hf_bert_folder(write_hf_folder(tmp_path / "a", config, missing))
    extra = dict(tensors, **{"encoder.layer.2.output.dense.bias": np.zeros(32, np.float32)})
    with pytest.raises(XDomainError, match=r"unexpected tensor\(s\) for a 2-layer BERT: encoder\.layer\.2"):
        read_hf_bert_folder(write_hf_folder(tmp_path / "b", config, extra))
    wrong = dict(tensors, **{"encoder.layer.0.intermediate.dense.weight": np.zeros((32, 64), np.float32)})
    with pytest.raises(XDomainError, match=r"intermediate\.dense\.weight has shape \[32, 64\].*\[64, 32\]"):
        read_hf_bert_folder(write_hf_folder(tmp_path / "c", config, wrong))


def test_missing_files_and_oversized_vocab(tmp_path):
    with pytest.raises(XDomainError, match="not a folder"):
        read_hf_bert_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(XDomainError, match="no config.json"):
        read_hf_bert_folder(tmp_path / "empty")
    config = tiny_config()
    folder = write_hf_folder(tmp_path / "big_vocab", config, random_hf_tensors(config),
                             vocab=[f"tok{i}" for i in range(config.vocab_size + 1)])
    with pytest.raises(XDomainError, match="more than the model's vocab_size"):
        read_hf_bert_folder(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(XDomainError, match="no model.safetensors"):
        read_hf_bert_folder(folder)
