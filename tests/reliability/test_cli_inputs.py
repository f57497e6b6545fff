"""Bad command-line input ends in one line on stderr and exit status 2, never a traceback.

Each case runs `xdomain-tf` in-process; the options are checked before TensorFlow loads.
"""
import dataclasses

import pytest
import yaml

from xdomain_tf.cli.main import main
from xdomain_tf.training.option_fields import value_kind
from xdomain_tf.training.pretraining.options import FINE_TUNING_ONLY, PretrainOptions
from xdomain_tf.training.train_options import TrainOptions

# What each option accepts, as its error message says it.
ACCEPTED = {
    "train": "a list of data file paths", "valid": "a list of data file paths", "out": "a folder path",
    "init": "a string", "epochs": "a positive integer", "steps": "a positive integer",
    "batch_size": "a positive integer", "seq_len": "an integer >= 8", "learning_rate": "in (0, 1)",
    "warmup_ratio": "in [0, 1)", "weight_decay": "a number >= 0", "layerwise_decay": "in (0, 1]",
    "alpha": "in [0, 1]", "domain_weights": "a mapping of name: number",
    "loss_weighting": "one of equal, static, uncertainty", "precision": "one of fp32, bf16, fp16",
    "strategy": "one of auto, default, one_device, mirrored, multi_worker, tpu", "jit_compile": "one of on, off, auto",
    "vocab_size": "a positive integer", "adapters": "true or false", "adapter_reduction": "a positive integer",
    "lora_rank": "an integer >= 0", "adversarial": "true or false", "adversarial_weight": "a number >= 0",
    "freeze_encoder": "true or false", "unfreeze": "one of none, gradual", "pooling": "one of cls, mean, last",
    "dropout": "in [0, 1)", "patience": "a positive integer", "checkpoint_every": "a positive integer",
    "seed": "an integer", "on_error": "one of raise, skip", "default_domain": "a string",
    "verbose": "one of 0, 1, 2",
    "objective": "a string", "mask_rate": "in (0, 1)", "max_predictions": "a positive integer",
    "whole_word": "true or false", "mask_seed": "an integer", "temperature": "in [0.001, 10]",
    "learn_temperature": "true or false", "objective_weights": "a mapping of name: number",
    "group_by": "one of domain, lang, domain_lang", "languages": "a string", "pair_source_lang": "a string",
    "report_before": "true or false", "unconditioned_rate": "in [0, 1]",
    "class_weights": "a string", "label_sampling": "one of natural, balanced",
    "augment": "a string", "augment_mlm": "a string", "augment_pairs": "a string", "augment_seed": "an integer",
    "align_pairs": "a string", "align_weight": "a number >= 0", "align_temperature": "in [0.001, 10]",
    "data_service": "a grpc://HOST:PORT address",
}
# Two values of the wrong type per kind of option: YAML `true` is never a count, nor 1 a boolean.
WRONG = {
    "int": [True, "3"], "float": [True, "x"], "str": [5, ["a"]], "bool": [1, "yes"], "list": [5, [5]],
    "dict": [[1], {"news": "x"}], "choice": [True, "nonsense"],
}


def _command_and_field(name):
    if name in TrainOptions.__dataclass_fields__:
        return "train", TrainOptions.__dataclass_fields__[name]
    return "pretrain", PretrainOptions.__dataclass_fields__[name]


def _wrong_type_cases():
    for name in ACCEPTED:
        command, field = _command_and_field(name)
        kind = "choice" if field.metadata.get("choices") else value_kind(field)
        for value in WRONG[kind]:
            yield pytest.param(command, name, value, id=f"{name}={value!r}")


def test_every_option_is_covered():
    assert set(ACCEPTED) == {field.name for field in dataclasses.fields(PretrainOptions)}


@pytest.mark.parametrize("command, name, value", _wrong_type_cases())
def test_config_values_of_the_wrong_type(tmp_path, monkeypatch, capsys, command, name, value):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"train": ["a.jsonl"], "out": "run", name: value}), encoding="utf-8")
    assert main([command, "--config", str(config)]) == 2
    flag = "--" + name.replace("_", "-")
    assert capsys.readouterr().err == f"xdomain-tf {command}: error: {flag} must be {ACCEPTED[name]}, got {value!r}\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"epochs: 2\nout: caf\xe9\n", "{path}:2: not UTF-8 text (byte 0xe9 at column 9)"),
        (b"train: [a.jsonl\n", "{path}: not valid YAML (line 2, column 1: expected ',' or ']', but got '<stream end>')"),
        (b"- a.jsonl\n", "{path}: not a mapping of option: value (the file holds a list)"),
        (b"batch_sise: 16\n", "{path}: unknown option(s) batch_sise; known: "),
    ],
)
def test_bad_config_files(tmp_path, capsys, content, message):
    config = tmp_path / "config.yaml"
    config.write_bytes(content)
    assert main(["train", "--config", str(config), "--train", "a.jsonl", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"xdomain-tf train: error: {message.format(path=config)}")
    assert err.count("\n") == 1


def test_a_config_that_is_not_a_file(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err == f"xdomain-tf train: error: {tmp_path / 'none.yaml'}: no such file\n"
    assert main(["pretrain", "--config", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"xdomain-tf pretrain: error: {tmp_path}: a folder, not a YAML file\n"


@pytest.mark.parametrize("command", ["train", "pretrain", "transfer"])
def test_out_naming_a_file(tmp_path, capsys, command):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    for out in (taken, taken / "run"):
        assert main([command, "--train", "a.jsonl", "--valid", "b.jsonl", "--out", str(out)]) == 2
        assert capsys.readouterr().err == f"xdomain-tf {command}: error: --out must be a folder, but {taken} is a file\n"


@pytest.mark.parametrize(
    "flags, line",
    [
        (["--default-domain", "caf\udce9"], "--default-domain must be UTF-8 text, got b'caf\\xe9'"),
        (["--train", "a.jsonl", "\udcff.jsonl"], "--train must be UTF-8 text, got b'\\xff.jsonl'"),
    ],
)
def test_option_text_that_is_not_utf8(tmp_path, capsys, flags, line):
    """The options are saved as JSON in the run directory: their text must be UTF-8."""
    assert main(["train", "--train", "a.jsonl", "--out", str(tmp_path / "run"), *flags]) == 2
    assert capsys.readouterr().err == f"xdomain-tf train: error: {line}\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "flags, line",
    [
        (["--text", "caf\udce9", "--domain", "news"],
         "--text:1: field \"text\": is not valid UTF-8 text (bad character at offset 3) (value b'caf\\xe9')"),
        (["--text", "ok", "--text", "ok", "--text-pair", "ok", "--text-pair", "\udcff", "--domain", "news"],
         "--text-pair:2: field \"text_pair\": is not valid UTF-8 text (bad character at offset 0) (value b'\\xff')"),
        (["--text", "ok", "--domain", "n\udcffews"],
         "--text:1: field \"domain\": is not valid UTF-8 text (bad character at offset 1) (value b'n\\xffews')"),
    ],
)
def test_predict_text_that_is_not_utf8(tmp_path, capsys, flags, line):
    """Bytes that are not UTF-8 reach Python's argv as surrogate escapes ("\\udce9" for 0xe9)."""
    assert main(["predict", "--model", str(tmp_path / "model"), *flags]) == 2
    assert capsys.readouterr().err == f"xdomain-tf predict: error: {line}\n"


@pytest.mark.parametrize(
    "argv, line",
    [
        (["evaluate", "--model", "r", "--data", "a.jsonl", "--batch-size", "0"],
         "xdomain-tf evaluate: error: argument --batch-size: must be a positive integer, got '0'"),
        (["predict", "--model", "r", "--text", "x", "--batch-size", "-3"],
         "xdomain-tf predict: error: argument --batch-size: must be a positive integer, got '-3'"),
        (["export", "--model", "r", "--tflite", "m.tflite", "--threads", "0"],
         "xdomain-tf export: error: argument --threads: must be a positive integer, got '0'"),
        (["pretrain-eval", "--model", "r", "--data", "a.jsonl", "--seq-len", "4"],
         "xdomain-tf pretrain-eval: error: argument --seq-len: must be an integer >= 8, got '4'"),
        (["pretrain-eval", "--model", "r", "--data", "a.jsonl", "--mask-rate", "1.5"],
         "xdomain-tf pretrain-eval: error: argument --mask-rate: must be a number in (0, 1), got '1.5'"),
        (["quickstart", "--epochs", "0"],
         "xdomain-tf quickstart: error: argument --epochs: must be a positive integer, got '0'"),
        (["data", "build", "debian", "--min-examples", "zero"],
         "xdomain-tf data build debian: error: argument --min-examples: must be a positive integer, got 'zero'"),
    ],
)
def test_counts_and_rates_out_of_range_are_refused_by_the_parser(capsys, argv, line):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == line


@pytest.mark.parametrize(
    "argv, line",
    [
        (["evaluate", "--model", "r", "--data", "a.jsonl", "--json", "{file}/report.json"],
         "xdomain-tf evaluate: error: argument --json: {file} is a file, not a folder"),
        (["evaluate", "--model", "r", "--data", "a.jsonl", "--report-dir", "{file}"],
         "xdomain-tf evaluate: error: argument --report-dir: {file} is a file, not a folder"),
        (["export", "--model", "r", "--tflite", "{file}/m.tflite"],
         "xdomain-tf export: error: argument --tflite: {file} is a file, not a folder"),
        (["export", "--model", "r", "--saved-model", "{file}"],
         "xdomain-tf export: error: argument --saved-model: {file} is a file, not a folder"),
        (["pretrain-eval", "--model", "r", "--data", "a.jsonl", "--json", "{folder}"],
         "xdomain-tf pretrain-eval: error: argument --json: {folder} is a folder, not a file"),
        (["data", "build", "bbc", "--out", "{file}/bbc"],
         "xdomain-tf data build bbc: error: argument --out: {file} is a file, not a folder"),
        (["data", "pairs", "debian", "--language", "de", "--out", "{folder}"],
         "xdomain-tf data pairs debian: error: argument --out: {folder} is a folder, not a file"),
        (["quickstart", "--out", "{file}"], "xdomain-tf quickstart: error: argument --out: {file} is a file, not a folder"),
    ],
)
def test_output_paths_are_checked_before_any_work(tmp_path, capsys, argv, line):
    """An export used to convert for half a minute before finding its --tflite under a file."""
    (tmp_path / "taken").write_text("a file")
    paths = {"file": str(tmp_path / "taken"), "folder": str(tmp_path)}
    with pytest.raises(SystemExit) as info:
        main([arg.format(**paths) for arg in argv])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == line.format(**paths)
