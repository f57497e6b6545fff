import importlib
import json

import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.export import selective_quantization
from xdomain_tf.export.tflite_export import litert_interpreter, tflite

tflite_module = importlib.import_module("xdomain_tf.export.tflite_export")
TOKENIZER_OPS = ["FastBertNormalize", "FastWordpieceTokenizeWithOffsets"]


def test_typical_error_sees_what_an_outlier_scale_rounds_away():
    generator = np.random.default_rng(0)
    ordinary = generator.normal(size=384)
    with_outliers = ordinary.copy()
    with_outliers[[7, 300]] = [225.0, -180.0]

    def int8(values):
        scale = np.abs(values).max() / 127
        return np.round(values / scale), scale

    quantized, scale = int8(with_outliers)
    # Next to the outliers the error is tiny; next to the ordinary values it is not.
    relative = np.linalg.norm(quantized * scale - with_outliers) / np.linalg.norm(with_outliers)
    assert relative < 0.05
    assert selective_quantization.typical_error(with_outliers, quantized, scale, 0) > 0.5
    quantized, scale = int8(ordinary)
    assert selective_quantization.typical_error(ordinary, quantized, scale, 0) < 0.05


@pytest.mark.parametrize("with_tokenizer", [False, True])
def test_selective_int8_passes_the_gate_and_reports_its_choice(classifier_run, tmp_path, with_tokenizer):
    path = tmp_path / "selective.tflite"
    report = tflite(classifier_run, path, quantize="selective", with_tokenizer=with_tokenizer)
    assert report["agreement"] >= tflite_module.MIN_AGREEMENT["selective"] == 0.98
    # The tiny fixture quantizes well: no op needs to stay in float.
    assert report["float_ops"] == [] and [step[0] for step in report["selection"]["tried"]] == [0]
    assert report["selection"]["debug_examples"] == 16 and report["selection"]["search_examples"] == 100
    assert report["custom_ops"] == (TOKENIZER_OPS if with_tokenizer else [])
    interpreter = litert_interpreter(path.read_bytes(), with_tokenizer)
    interpreter.allocate_tensors()
    dtypes = [detail["dtype"] for detail in interpreter.get_tensor_details()]
    assert dtypes.count(np.int8) > dtypes.count(np.float32)
    assert json.loads((tmp_path / "selective.tflite.labels.json").read_text())["float_ops"] == []


def test_the_chosen_ops_and_their_readers_stay_float_in_the_one_signature(classifier_run, tmp_path, monkeypatch):
    monkeypatch.setattr(selective_quantization, "DENYLIST_STEPS", (3,))
    path = tmp_path / "selective.tflite"
    report = tflite(classifier_run, path, quantize="selective")
    assert len(report["float_ops"]) > 3 and report["selection"]["tried"][0][0] == 3
    assert json.loads((tmp_path / "selective.tflite.labels.json").read_text())["signatures"] == {"serving_default": 32}
    interpreter = litert_interpreter(path.read_bytes(), False)
    interpreter.allocate_tensors()
    dtypes = {detail["name"]: detail["dtype"] for detail in interpreter.get_tensor_details()}
    found = {name: dtypes.get(name) for name in report["float_ops"]}
    assert all(dtype == np.float32 for dtype in found.values()), found
    with pytest.raises(XDomainError, match="^quantize selective makes a file with one sequence length"):
        tflite(classifier_run, tmp_path / "buckets.tflite", quantize="selective", length_buckets=[16])


def test_ops_chosen_on_the_ids_graph_stay_float_in_the_text_graph(classifier_run, tmp_path, monkeypatch):
    monkeypatch.setattr(selective_quantization, "DENYLIST_STEPS", (3,))
    path = tmp_path / "selective.tflite"
    report = tflite(classifier_run, path, quantize="selective", with_tokenizer=True)
    interpreter = litert_interpreter(path.read_bytes(), True)
    interpreter.allocate_tensors()
    dtypes = {detail["name"]: detail["dtype"] for detail in interpreter.get_tensor_details()}
    found = {name: dtypes.get(name) for name in report["float_ops"]}
    assert len(found) > 3 and all(dtype == np.float32 for dtype in found.values()), found


def test_choose_denylist_adds_readers_and_falls_back_to_the_best_step(monkeypatch):
    monkeypatch.setattr(selective_quantization, "DENYLIST_STEPS", (0, 1, 2, 4))
    rows = [{"tensor_name": name} for name in ("add", "mul", "mean")]
    readers = {"add": ["fc", "mul"], "mean": ["sub"]}
    agreements = {(): 0.90, ("add", "fc", "mul"): 0.95, ("add", "mul", "fc"): 0.93}
    chosen, agreement, tried = selective_quantization.choose_denylist(
        b"", rows, lambda names: agreements[tuple(names)], 0.99, readers=readers, quantize=lambda _, names: names
    )
    # Step 1: "add" and its readers; step 2: "add", "mul" and their readers; 4 > 3 tensors stops.
    assert tried == [(0, 0.90), (1, 0.95), (2, 0.93)]
    assert (chosen, agreement) == (["add", "fc", "mul"], 0.95)


def test_choose_denylist_narrows_an_overshooting_step_by_bisection():
    rows = [{"tensor_name": f"t{i}"} for i in range(200)]
    # The labels agree once 75 or more tensors stay float; doubling first passes at 128.
    chosen, agreement, tried = selective_quantization.choose_denylist(
        b"", rows, lambda names: 0.99 if len(names) >= 75 else 0.9, 0.98, quantize=lambda _, names: names
    )
    assert [count for count, _ in tried] == [0, 1, 2, 4, 8, 16, 32, 64, 128, 96, 80, 72]
    assert (len(chosen), agreement) == (80, 0.99)
