import json

import pytest


@pytest.fixture(scope="module")
def pretrain_run(tmp_path_factory, cli, multidomain_fixtures):
    out = tmp_path_factory.mktemp("runs") / "pretrain"
    result = cli(
        "pretrain", "--objective", "mlm,sop", "--train", multidomain_fixtures / "train.jsonl",
        "--valid", multidomain_fixtures / "valid.jsonl", "--init", "bert_tiny", "--vocab-size", "300",
        "--seq-len", "32", "--batch-size", "16", "--steps", "16", "--epochs", "2", "--learning-rate", "0.003",
        "--report-before", "--verbose", "0", "--out", out,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stdout


def test_pretrain_prints_before_after_per_domain_and_writes_the_run(pretrain_run):
    out, stdout = pretrain_run
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["objectives"] == ["mlm", "sop"] and summary["steps"] == 16
    assert summary["after"]["mlm_loss"] < summary["before"]["mlm_loss"]
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("group"))
    assert lines[header].split() == ["group", "loss", "before", "acc", "before", "loss", "after", "acc", "after"]
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in lines[header + 1 : header + 4]}
    assert set(rows) == {"news", "software", "overall"}
    assert rows["overall"] == pytest.approx(
        [summary["before"]["mlm_loss"], summary["before"]["mlm_accuracy"], summary["after"]["mlm_loss"], summary["after"]["mlm_accuracy"]],
        abs=1e-4,
    )
    assert json.loads((out / "run.json").read_text())["kind"] == "pretrain"
    assert json.loads((out / "options.json").read_text())["objective"] == "mlm,sop"


def test_pretrain_eval_scores_the_run_per_domain(pretrain_run, cli, multidomain_fixtures, tmp_path):
    out, stdout = pretrain_run
    summary = json.loads(stdout.strip().splitlines()[-1])
    result = cli("pretrain-eval", "--model", out, "--data", multidomain_fixtures / "valid.jsonl",
                 "--seq-len", "32", "--batch-size", "16", "--json", tmp_path / "scores.json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "scores.json").read_text())
    assert set(report["groups"]) == {"news", "software"}
    # Validation during pretraining used the SOP pair inputs; pretrain-eval scores single texts.
    assert 0 < report["overall"]["loss"] < summary["before"]["mlm_loss"]


def test_train_accepts_the_pretrain_run_as_init(pretrain_run, cli, tiny_train_args, tmp_path):
    out, _ = pretrain_run
    args = list(tiny_train_args)
    args[args.index("--init") + 1] = str(out)
    result = cli("train", *args, "--steps", "4", "--epochs", "1", "--out", tmp_path / "classifier")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"initialised from run directory {out}" in result.stdout
    assert json.loads((tmp_path / "classifier" / "run.json").read_text())["kind"] == "classifier"


def test_pretrain_errors_are_one_line(cli, multidomain_fixtures, tmp_path):
    result = cli("pretrain", "--objective", "mlm,xyz", "--train", multidomain_fixtures / "train.jsonl", "--out", tmp_path / "r")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--objective: unknown ['xyz']" in result.stderr
    result = cli("pretrain", "--objective", "contrastive", "--train", multidomain_fixtures / "train.jsonl", "--out", tmp_path / "r")
    assert result.returncode == 2 and "translation pairs" in result.stderr
