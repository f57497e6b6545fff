import pytest

from xdomain_tf.models.encoder_config import ARCHITECTURES, EncoderConfig


def test_architectures_follow_bert_miniatures():
    tiny = EncoderConfig.architecture("bert_tiny")
    assert (tiny.num_hidden_layers, tiny.hidden_size, tiny.num_attention_heads) == (2, 128, 2)
    assert tiny.intermediate_size == 512
    minilm = EncoderConfig.architecture("minilm_l6_h384")
    assert (minilm.num_hidden_layers, minilm.hidden_size, minilm.intermediate_size) == (6, 384, 1536)
    assert EncoderConfig.architecture("bert_base").head_size == 64
    assert EncoderConfig.architecture_names() == sorted(ARCHITECTURES)


def test_preset_is_an_alias_of_architecture():
    assert EncoderConfig.preset_names() == EncoderConfig.architecture_names()
    assert EncoderConfig.preset("bert_mini", vocab_size=99) == EncoderConfig.architecture("bert_mini", vocab_size=99)


def test_overrides_and_round_trip(tmp_path):
    config = EncoderConfig.architecture("bert_mini", vocab_size=1234, pre_layer_norm=True)
    config.to_json(tmp_path / "c.json")
    assert EncoderConfig.from_json(tmp_path / "c.json") == config
    assert [path.name for path in tmp_path.iterdir()] == ["c.json"]  # no temporary left behind


def test_unknown_architecture_and_bad_values():
    with pytest.raises(ValueError, match="Unknown encoder architecture 'bert_huge'.*bert_tiny"):
        EncoderConfig.architecture("bert_huge")
    with pytest.raises(ValueError, match="Unknown encoder architecture 'bert_huge'"):
        EncoderConfig.preset("bert_huge")
    with pytest.raises(ValueError, match="not divisible"):
        EncoderConfig(hidden_size=100, num_attention_heads=3)
    with pytest.raises(ValueError, match="vocab_size"):
        EncoderConfig(vocab_size=0)
    with pytest.raises(ValueError, match="hidden_act 'mish' is not one of gelu, gelu_new"):
        EncoderConfig(hidden_act="mish")
    with pytest.raises(ValueError, match="Unknown EncoderConfig field.*nonsense"):
        EncoderConfig.from_dict({"nonsense": 1})


def test_hugging_face_config_maps_one_to_one():
    hf = {
        "architectures": ["BertModel"],
        "vocab_size": 30522,
        "hidden_size": 384,
        "num_hidden_layers": 6,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "hidden_act": "gelu",
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
    }
    config = EncoderConfig.from_dict(hf, ignore_unknown=True)
    assert config == EncoderConfig.architecture("minilm_l6_h384")
