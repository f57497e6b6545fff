"""benchmarks/inference_benchmark.py: `--small` runs end to end and reports every system it can run."""
import importlib.util
import json
import math
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "inference_benchmark.py"
PEERS = {
    "keras_hub": ("keras_hub",),
    "transformers": ("torch", "transformers"),
    "onnxruntime": ("torch", "transformers", "onnx", "onnxruntime"),
}


def load_script():
    spec = importlib.util.spec_from_file_location("inference_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def installed(modules):
    return all(importlib.util.find_spec(module) is not None for module in modules)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("inference_benchmark") / "report.json"
    command = [sys.executable, str(SCRIPT), "--small", "--threads", "1", "--rounds", "1", "--texts", "16",
               "--json", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(out.read_text()), completed.stdout


@pytest.mark.slow
def test_small_run_has_numbers_for_every_available_system(small_run):
    report, _ = small_run
    module = load_script()
    expected = ["savedmodel", *module.TFLITE, *module.PROFILE]
    expected += [name for name, modules in PEERS.items() if installed(modules)]
    (run,) = report["runs"]
    assert run["threads"] == 1 and run["matmul_peak_gflops"] > 0 and run["onednn"] == "on"
    assert sorted(run["text_sets"]) == ["long", "short"]
    short, long = run["text_sets"]["short"], run["text_sets"]["long"]
    assert short["texts"] == long["texts"] == 16
    assert long["mean_real_tokens"] > short["mean_real_tokens"] + 4
    assert long["flops_per_text_floor"] > short["flops_per_text_floor"]
    for text_set, size in [(text_set, size) for text_set in ("short", "long") for size in (1, 32)]:
        rows = {row["system"]: row for row in run["rows"] if (row["text_set"], row["batch_size"]) == (text_set, size)}
        assert sorted(rows) == sorted(expected)
        for name, row in rows.items():
            assert row["ms_per_batch"] > 0 and math.isfinite(row["ms_per_batch"])
            assert len(row["round_seconds"]) == 1
            if name != "savedmodel/empty":
                assert row["texts_per_s"] > 0 and row["x_flop_floor"] > 0
        assert rows["savedmodel"]["vs_savedmodel"] == 1.0
        # Same weights everywhere: probabilities match ours (keras-hub: tanh GELU; int8: quantized).
        assert rows["savedmodel"]["max_abs_probability_difference"] == 0.0
        assert rows["tflite_fp32"]["max_abs_probability_difference"] < 1e-4
        assert rows["tflite_fp32_buckets"]["max_abs_probability_difference"] < 1e-4
        for name in set(rows) - set(module.PROFILE):
            assert rows[name]["max_abs_probability_difference"] < 0.05, name
            assert rows[name]["label_agreement"] >= 0.9, name
    skipped = {name for name, modules in PEERS.items() if not installed(modules)}
    assert set(run["notes"]) == skipped
    assert all("not installed" in note for note in run["notes"].values())


@pytest.mark.slow
def test_small_run_prints_a_table_row_per_system_and_batch(small_run):
    report, stdout = small_run
    rows = report["runs"][0]["rows"]
    for text_set in ("short", "long"):
        for size in (1, 32):
            assert f"### 1 thread(s), {text_set} texts, batch {size} (oneDNN on, " in stdout
    table_rows = [line for line in stdout.splitlines() if line.startswith("| ") and not line.startswith("| system")]
    assert sorted(line.split(" | ")[0][2:] for line in table_rows) == sorted(row["system"] for row in rows)


def test_padded_widths_round_ours_up_to_the_multiple():
    module = load_script()
    widths = module.padded_widths([5, 9, 30, 3], batch_size=2, sequence_length=28, pad_multiple=8, chunk_rows=2,
                                  buckets=[16])
    # Batches [5, 9] and [30, 3]: ours pads to 16 and min(32, 28); peers to 9 and 30.
    assert widths["savedmodel"] == widths["savedmodel/tokenize"] == (16 * 2 + 28 * 2) / 4
    assert widths["transformers"] == widths["onnxruntime"] == (9 * 2 + 30 * 2) / 4
    assert widths["tflite_fp32"] == widths["keras_hub"] == 28
    # Length buckets: 5, 9 and 3 fit 16; 30 takes the full 28.
    assert widths["tflite_fp32_buckets"] == widths["tflite_int8_buckets"] == (16 * 3 + 28) / 4


def test_padded_widths_of_ours_count_each_sorted_chunk_at_its_own_width():
    module = load_script()
    widths = module.padded_widths([30, 3, 9, 2], batch_size=4, sequence_length=32, pad_multiple=8, chunk_rows=2,
                                  buckets=[16])
    # One batch, sorted [2, 3, 9, 30]: chunks [2, 3] at 8 and [9, 30] at 32; its tokenizer pads all to 32.
    assert widths["savedmodel"] == widths["savedmodel/network"] == (8 * 2 + 32 * 2) / 4
    assert widths["savedmodel/tokenize"] == 32


def test_inference_flops_counts_matmuls_and_attention():
    from xdomain_tf.models import EncoderConfig

    module = load_script()
    config = EncoderConfig(vocab_size=50, hidden_size=4, num_hidden_layers=2, num_attention_heads=1,
                           intermediate_size=8)
    # Per layer: 2 * 3 tokens * (4 * 16 + 2 * 32) + 4 * 9 * 4 = 912; pooler 32, head 2 * 4 * 5 = 40.
    assert module.inference_flops(config, 3, 5) == 2 * 912 + 32 + 40


def test_thread_counts_expand_all_and_drop_repeats(monkeypatch):
    module = load_script()
    monkeypatch.setattr(module, "cpu_count", lambda: 4)
    assert module.thread_counts("1,all,4,2") == [1, 4, 2]


def test_unknown_text_set_is_one_line():
    module = load_script()
    with pytest.raises(SystemExit, match="--text-sets: unknown set.s. tweets; known: short, long"):
        module.resolved(module.build_parser().parse_args(["--text-sets", "short,tweets"]))


def test_workers_get_onednn_on_or_off():
    module = load_script()
    assert module.limit_threads(2)["TF_ENABLE_ONEDNN_OPTS"] == "1"
    assert module.limit_threads(1, "off")["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert module.limit_threads(1)["OMP_NUM_THREADS"] == "1"
