import json
import signal
import subprocess
import sys
import time



def test_train_writes_a_complete_run_directory(trained_run):
    for name in ("run.json", "model.keras", "encoder.weights.h5", "encoder_config.json", "preprocessor.json",
                 "vocab.txt", "label_space.json", "options.json", "history.json"):
        assert (trained_run / name).exists(), name
    assert json.loads((trained_run / "label_space.json").read_text())
    epochs = json.loads((trained_run / "history.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert {"news_accuracy", "val_software_accuracy", "val_mean_accuracy", "examples_per_second"} <= set(epochs[-1])
    assert list((trained_run / "tensorboard").rglob("*tfevents*"))


def test_evaluate_writes_json_and_confusion_matrices(trained_run, tmp_path, cli, multidomain_fixtures):
    result = cli("evaluate", "--model", trained_run, "--data", multidomain_fixtures / "valid.jsonl",
                     "--json", tmp_path / "report.json", "--report-dir", tmp_path / "plots", "--baseline")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["domains"]) == {"news", "software"}
    assert report["domains"]["news"]["n"] == 36 and report["domains"]["software"]["n"] == 12
    assert report["overall"]["n"] == 48
    assert report["domains"]["news"]["accuracy"] > 0.5  # three balanced labels: chance is 1/3
    assert sorted(p.name for p in (tmp_path / "plots").glob("*.png")) == ["confusion_news.png", "confusion_software.png"]
    assert "baseline" in report


def test_bad_flag_value_is_one_clear_line(tmp_path, cli, tiny_train_args):
    result = cli("train", *tiny_train_args, "--out", tmp_path / "r", "--precision", "fp8")
    assert result.returncode == 2
    assert "--precision must be one of fp32, bf16, fp16, got 'fp8'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_data_file_names_file_line_and_field(tmp_path, cli):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine", "label": "a", "domain": "d"}\n{"text": "", "label": "a", "domain": "d"}\n')
    result = cli("train", "--train", bad, "--out", tmp_path / "r", "--verbose", "0")
    assert result.returncode == 2
    assert f"{bad}:2" in result.stderr and "text" in result.stderr
    assert "Traceback" not in result.stderr


def test_incomplete_run_is_refused_by_evaluate(tmp_path, cli, multidomain_fixtures):
    (tmp_path / "half").mkdir()
    result = cli("evaluate", "--model", tmp_path / "half", "--data", multidomain_fixtures / "valid.jsonl")
    assert result.returncode == 2
    assert "did not finish" in result.stderr


def test_sigkill_mid_epoch_then_same_command_resumes(tmp_path, tiny_train_args):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "xdomain_tf", "train", *tiny_train_args, "--epochs", "6",
               "--checkpoint-every", "2", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = out / "checkpoints" / "state.json"
    deadline = time.time() + 300
    killed_at = None
    while time.time() < deadline and process.poll() is None:
        if state.exists():
            step = json.loads(state.read_text())["step"]
            if step >= 4 and step % 9:  # 144 examples / batch 16 = 9 steps per epoch
                process.send_signal(signal.SIGKILL)
                killed_at = step
                break
        time.sleep(0.05)
    process.wait()
    assert killed_at is not None, "training ended before it could be killed"
    assert process.returncode == -signal.SIGKILL
    assert not (out / "run.json").exists()  # the run does not look complete

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from the checkpoint at step" in resumed.stdout
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 54  # 6 epochs of 9 steps, as without the kill
    epochs = json.loads((out / "history.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4, 5, 6]
