import importlib.util
import json
import pathlib
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "cli_steps.py"


@pytest.fixture()
def cli_steps(monkeypatch):
    spec = importlib.util.spec_from_file_location("cli_steps", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = []

    def fake_xdomain_tf(command):
        calls.append([str(part) for part in command])
        if command[0] == "train":
            out = pathlib.Path(command[command.index("--out") + 1])
            out.mkdir(parents=True)
            (out / "model.keras").write_text("model")
            return "noise\nparameters: 22,744,506 total, 1,234 trainable (0.01%)\nmore\n"
        report = pathlib.Path(command[command.index("--json") + 1])
        report.write_text(json.dumps({"domains": {"d": {"macro_f1": 0.5}}, "baseline": "--baseline" in command}))
        return ""

    monkeypatch.setattr(module, "xdomain_tf", fake_xdomain_tf)
    module.calls = calls
    return module


def test_train_once_parses_counts_and_runs_once(cli_steps, tmp_path):
    run_dir = tmp_path / "run"
    first = cli_steps.train_once(run_dir, ["--epochs", 2])
    second = cli_steps.train_once(run_dir, ["--epochs", 2])
    assert first == second == {"parameters": 22744506, "trainable_parameters": 1234}
    assert cli_steps.calls == [["train", "--out", str(run_dir), "--epochs", "2"]]


def test_evaluate_once_writes_report_once(cli_steps, tmp_path):
    report = cli_steps.evaluate_once(tmp_path, ["test.jsonl"], "test", baseline=True)
    again = cli_steps.evaluate_once(tmp_path, ["test.jsonl"], "test", baseline=True)
    assert report == again == {"domains": {"d": {"macro_f1": 0.5}}, "baseline": True}
    assert len(cli_steps.calls) == 1
    assert cli_steps.calls[0][:4] == ["evaluate", "--model", str(tmp_path), "--data"]


def test_a_failing_command_stops_the_experiment(tmp_path):
    spec = importlib.util.spec_from_file_location("cli_steps_real", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit, match="xdomain-tf evaluate failed"):
        module.xdomain_tf(["evaluate", "--model", tmp_path / "missing", "--data", tmp_path / "none.jsonl"])
