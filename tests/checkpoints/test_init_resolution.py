import json

import numpy as np
import pytest
from bert_reference import reference_bert_forward
from checkpoint_fixtures import TINY_VOCAB, random_batch, tiny_config

from xdomain_tf.checkpoints.init_resolution import InitializedEncoder, resolve_init
from xdomain_tf.errors import XDomainError
from xdomain_tf.models.transformer_encoder import build_encoder
from xdomain_tf.models.encoder_config import EncoderConfig


def _outputs(encoder, batch):
    token_ids, segment_ids, padding_mask = batch
    outputs = encoder({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
    return {name: np.asarray(outputs[name]) for name in ("sequence_output", "pooled_output")}


def _randomized_encoder(config, seed=0, **options):
    encoder = build_encoder(config, **options)
    rng = np.random.default_rng(seed)
    for weight in encoder.weights:
        weight.assign(rng.normal(scale=0.2, size=weight.shape).astype("float32"))
    return encoder


def _write_run(path, encoder, with_model=False, finished=True):
    path.mkdir(parents=True)
    encoder.save_weights(str(path / "encoder.weights.h5"))
    encoder.encoder_config.to_json(path / "encoder_config.json")
    (path / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n")
    (path / "options.json").write_text("{}")
    if with_model:
        encoder.save(str(path / "model.keras"))
    if finished:
        (path / "run.json").write_text(json.dumps({"kind": "classifier"}))
    return path


def test_preset_gives_only_a_config():
    result = resolve_init("bert_mini", vocab_size=500)
    assert isinstance(result, InitializedEncoder)
    assert result.encoder is None and result.tokenizer is None
    assert result.config == EncoderConfig.architecture("bert_mini", vocab_size=500)


def test_hf_folder(tiny_hf_folder):
    folder, config, tensors = tiny_hf_folder
    result = resolve_init(str(folder))
    assert result.config == config and "Hugging Face" in result.source
    assert list(result.tokenizer.vocabulary) == TINY_VOCAB
    batch = random_batch(config)
    reference = reference_bert_forward(tensors, config, *batch)
    real = batch[2].astype(bool)
    np.testing.assert_allclose(
        _outputs(result.encoder, batch)["sequence_output"][real], reference["sequence_output"][real], atol=1e-5
    )


def test_run_directory(tmp_path):
    config = tiny_config()
    encoder = _randomized_encoder(config)
    run = _write_run(tmp_path / "run", encoder)
    result = resolve_init(run)
    assert result.config == config and result.source == f"run directory {run}"
    assert list(result.tokenizer.vocabulary) == TINY_VOCAB
    batch = random_batch(config)
    np.testing.assert_array_equal(
        _outputs(result.encoder, batch)["sequence_output"], _outputs(encoder, batch)["sequence_output"]
    )


def test_lora_run_falls_back_to_the_full_model_and_merges(tmp_path):
    config = tiny_config()
    encoder = _randomized_encoder(config, lora_rank=2)
    run = _write_run(tmp_path / "run", encoder, with_model=True)
    result = resolve_init(run)
    assert result.encoder.lora_rank == 0
    batch = random_batch(config)
    np.testing.assert_allclose(
        _outputs(result.encoder, batch)["sequence_output"], _outputs(encoder, batch)["sequence_output"], atol=1e-5
    )


def test_adapter_run_keeps_the_base_weights(tmp_path):
    config = tiny_config()
    encoder = _randomized_encoder(config, num_adapters=2)
    result = resolve_init(_write_run(tmp_path / "run", encoder))
    assert result.encoder.num_adapters == 0
    base = {w.path: w.numpy() for w in encoder.weights if "adapter" not in w.path}
    loaded = {w.path: w.numpy() for w in result.encoder.weights}
    assert base.keys() == loaded.keys()
    for path, value in base.items():
        np.testing.assert_array_equal(loaded[path], value, err_msg=path)


def test_keras_file(tmp_path):
    config = tiny_config()
    encoder = _randomized_encoder(config)
    encoder.save(str(tmp_path / "encoder.keras"))
    result = resolve_init(tmp_path / "encoder.keras")
    assert result.tokenizer is None and result.config == config
    batch = random_batch(config)
    np.testing.assert_array_equal(
        _outputs(result.encoder, batch)["sequence_output"], _outputs(encoder, batch)["sequence_output"]
    )


def test_refusals(tmp_path):
    run = _write_run(tmp_path / "unfinished", build_encoder(tiny_config()), finished=False)
    with pytest.raises(XDomainError, match="did not finish"):
        resolve_init(run)
    with pytest.raises(XDomainError, match=r"not a folder or \.keras file.*bert_tiny.*all-minilm-l6-v2.*run directory"):
        resolve_init(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(XDomainError, match="not a checkpoint xdomain_tf can read"):
        resolve_init(tmp_path / "empty")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(XDomainError, match="no model.safetensors"):
        resolve_init(tmp_path / "half")


@pytest.mark.network
def test_all_minilm_l6_v2_by_name():
    try:
        result = resolve_init("all-minilm-l6-v2")
    except XDomainError as error:
        pytest.skip(f"MiniLM weights neither cached nor downloadable: {error}")
    assert result.config.hidden_size == 384 and result.config.num_hidden_layers == 6
    assert len(result.tokenizer.vocabulary) == 30522
    assert result.source.startswith("all-minilm-l6-v2")
