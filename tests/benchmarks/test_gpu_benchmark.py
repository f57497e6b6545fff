"""benchmarks/gpu_benchmark.py: `--small` trains and serves on the CPU and reports every row."""
import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_benchmark.py"
HUB = importlib.util.find_spec("keras_hub") is not None


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_benchmark") / "report.json"
    command = [sys.executable, str(SCRIPT), "--small", "--peak-tflops", "0.5", "--json", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(out.read_text()), completed.stdout


@pytest.mark.slow
def test_small_run_reports_training_and_inference_for_each_system(small_run):
    report, stdout = small_run
    assert report["device"] == "CPU" and report["small"] and report["measured_peak_tflops"] > 0
    systems = ["ours", "keras_hub"] if HUB else ["ours"]
    assert sorted((row["system"], row["jit_compile"]) for row in report["train"]) == sorted(
        (system, jit) for system in systems for jit in (False, True))
    for row in report["train"]:
        assert row["examples_per_s"] > 0 and row["step_ms"] > 0
        assert 0 < row["mfu_measured_peak"] and 0 < row["mfu_given_peak"]
        # Both MFU columns divide the same achieved FLOP/s by their peak.
        assert row["mfu_given_peak"] * 0.5 == pytest.approx(row["mfu_measured_peak"] * report["measured_peak_tflops"])
        if row["system"] == "ours" and HUB:
            assert row["speedup_vs_keras_hub"] > 0
    inference = {row["system"]: row for row in report["inference"]}
    expected = ["ours predict_ids", "ours serving_default"] + (["keras_hub serve"] if HUB else [])
    assert sorted(inference) == sorted(expected)
    assert all(row["examples_per_s"] > 0 and row["mfu_measured_peak"] > 0 for row in inference.values())
    for name in expected:
        assert f"| {name} |" in stdout
    assert "### Training: bert_tiny, seq 32, batch 8, mixed_bfloat16" in stdout
