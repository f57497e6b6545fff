import argparse

import pytest

from xdomain_tf.cli.training_flags import add_training_flags, options_from_args
from xdomain_tf.errors import XDomainError
from xdomain_tf.training.train_options import TrainOptions


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_training_flags(parser, TrainOptions)
    return options_from_args(TrainOptions, parser.parse_args(argv))


def test_flags_override_yaml(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("batch-size: 16\nlearning_rate: 0.002\ntrain: a.jsonl\nadapters: true\ndomain_weights: {news: 2}\n")
    options = _parse(["--config", str(config), "--batch-size", "8", "--out", "run"])
    assert options.batch_size == 8
    assert options.learning_rate == 0.002
    assert options.train == ["a.jsonl"]
    assert options.adapters is True
    assert options.domain_weights == {"news": 2}


def test_unknown_yaml_key_is_an_error(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("batch_sise: 16\n")
    with pytest.raises(XDomainError, match="unknown option.*batch_sise"):
        _parse(["--config", str(config), "--train", "a", "--out", "r"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--precision", "fp8"], "^precision must be one of fp32, bf16, fp16, got 'fp8'"),
        (["--batch-size", "0"], "^batch_size must be a positive integer, got 0"),
        (["--alpha", "1.5"], "^alpha must be in \\[0, 1\\], got 1.5"),
        (["--adapters", "--lora-rank", "4"], "either adapters or lora_rank"),
        (["--loss-weighting", "static"], "needs domain_weights"),
    ],
)
def test_bad_values_name_the_argument(argv, message):
    with pytest.raises(XDomainError, match=message):
        _parse(["--train", "a.jsonl", "--out", "run", *argv])


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("steps: true\n", "^steps must be a positive integer, got True"),
        ("patience: false\n", "^patience must be a positive integer, got False"),
        ("lora_rank: true\n", "^lora_rank must be an integer >= 0, got True"),
        ("train: 5\n", "^train must be a list of data file paths, got 5"),
        ("out: 5\n", "^out must be a folder path, got 5"),
    ],
)
def test_wrong_yaml_types_are_one_line_errors(tmp_path, yaml_text, message):
    config = tmp_path / "config.yaml"
    base = {"train": "train: a.jsonl\n", "out": "out: run\n"}
    config.write_text("".join(line for key, line in base.items() if f"{key}:" not in yaml_text) + yaml_text)
    from xdomain_tf.training.train_options import TrainOptions

    with pytest.raises(XDomainError, match=message):
        TrainOptions.from_sources(config_path=str(config))


def test_the_cli_names_the_flags(capsys):
    from xdomain_tf.cli.main import main

    assert main(["train", "--train", "a.jsonl", "--out", "run", "--batch-size", "0"]) == 2
    assert "xdomain-tf train: error: --batch-size must be a positive integer, got 0" in capsys.readouterr().err
    assert main(["train", "--train", "a.jsonl", "--out", "run", "--adapters", "--lora-rank", "4"]) == 2
    assert "choose either --adapters or --lora-rank, not both" in capsys.readouterr().err


def test_class_weights_and_label_sampling_flags(tmp_path):
    weights = tmp_path / "weights.json"
    weights.write_text('{"debian": {"math": 3}}')
    options = _parse(["--train", "a.jsonl", "--out", "run", "--class-weights", str(weights),
                      "--label-sampling", "balanced"])
    assert (options.class_weights, options.label_sampling) == (str(weights), "balanced")
    defaults = _parse(["--train", "a.jsonl", "--out", "run"])
    assert (defaults.class_weights, defaults.label_sampling) == ("none", "natural")
    with pytest.raises(XDomainError, match=r"^class_weights must be balanced, none or a JSON file .*: no such file$"):
        _parse(["--train", "a.jsonl", "--out", "run", "--class-weights", str(tmp_path / "missing.json")])
    with pytest.raises(XDomainError, match="^label_sampling must be one of natural, balanced, got 'uniform'"):
        _parse(["--train", "a.jsonl", "--out", "run", "--label-sampling", "uniform"])
