import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "export"))

from export_fixtures import classifier_run  # noqa: E402,F401

from xdomain_tf.cli.main import main  # noqa: E402


def test_prune_writes_a_run_that_evaluates_and_exports(classifier_run, tmp_path, capsys):
    out = tmp_path / "pruned"
    assert main(["prune", "--model", str(classifier_run), "--heads", "0.5", "--ffn", "0.5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads([line for line in printed.splitlines() if line.startswith('{"pruning"')][0])["pruning"]
    # The fixture: 2 layers x 2 heads, 2 x 64 feed-forward units; importance on the run's training files.
    assert summary["heads"] == {"before": 4, "after": 2} and summary["units"] == {"before": 128, "after": 64}
    assert summary["heads_per_layer"] == [1, 1] and summary["importance_examples"] == 300
    assert "macro_f1_pruned" in summary and "recovery" not in summary  # the run's valid files, no --train
    info = json.loads((out / "run.json").read_text())
    assert info["kind"] == "classifier" and info["pruning"]["parameters"] == summary["parameters"]
    config = json.loads((out / "encoder_config.json").read_text())
    assert config["layer_attention_heads"] == [1, 1] and sum(config["layer_intermediate_sizes"]) == 64

    assert main(["evaluate", "--model", str(out), "--data", str(classifier_run.parent / "data" / "valid.jsonl")]) == 0
    assert '"overall"' in capsys.readouterr().out
    assert main(["export", "--model", str(out), "--tflite", str(tmp_path / "pruned.tflite"), "--quantize", "dynamic"]) == 0
    report = json.loads([line for line in capsys.readouterr().out.splitlines() if line.startswith('{"tflite"')][0])
    assert report["tflite"]["agreement"] >= 0.98


def test_prune_with_train_recovers_by_distillation(classifier_run, tmp_path, capsys):
    out = tmp_path / "recovered"
    train = classifier_run.parent / "data" / "train.jsonl"
    code = main(["prune", "--model", str(classifier_run), "--ffn", "0.75", "--train", str(train), "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])["pruning"]
    assert summary["recovery"] == {"kind": "distill", "epochs": 1, "seconds": summary["recovery"]["seconds"]}
    assert summary["heads"] == {"before": 4, "after": 4} and summary["units"]["after"] == 32
    assert json.loads((out / "options.json").read_text())["train"] == [str(train)]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--heads", "1"], "--heads must be a fraction in [0, 1) of what to remove (1 would remove all), got 1.0"),
        (["--ffn", "-0.2"], "--ffn must be a fraction in [0, 1) of what to remove (1 would remove all), got -0.2"),
        ([], "nothing to prune: give --heads and/or --ffn above 0"),
        (["--heads", "0.5", "--epochs", "-1"], "--epochs must be an integer >= 0, got -1"),
    ],
)
def test_bad_flags_are_one_line_errors(classifier_run, tmp_path, capsys, flags, message):
    assert main(["prune", "--model", str(classifier_run), *flags, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == f"xdomain-tf prune: error: {message}\n"
    assert not (tmp_path / "out").exists()


def test_a_model_that_is_not_a_classifier_is_refused(tmp_path, capsys):
    assert main(["prune", "--model", str(tmp_path / "missing"), "--heads", "0.5", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"xdomain-tf prune: error: {tmp_path / 'missing'}: no such classifier (a classifier run directory or a "
        ".keras file)\n"
    )
