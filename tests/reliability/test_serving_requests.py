"""A request with a wrongly shaped input fails that request, naming the input; the process
serving it survives (TF Serving feeds inputs without checking their shapes)."""
import json
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).with_name("serving_requests_script.py")


def test_scalar_and_matrix_inputs_fail_the_request_naming_the_input(exported_model):
    version_dir = exported_model[1]
    result = subprocess.run([sys.executable, str(SCRIPT), str(version_dir)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines[-1] == {"done": True}
    requests = lines[:-1]
    signatures = {line["signature"] for line in requests}
    assert {"serving_default", "serving_pair", "classify_news", "encode", "predict_ids"} <= signatures
    for line in requests:
        assert line["outcome"].startswith("InvalidArgumentError: "), line
        assert line["input"] in line["outcome"] and "is not compatible with expected shape" in line["outcome"], line


def test_export_metadata_holds_no_absolute_path(exported_model):
    text = (exported_model[1] / "assets" / "metadata.json").read_text(encoding="utf-8")
    assert "/tmp" not in text and "/root" not in text and "/home" not in text
    assert '"name": "run"' in text


def test_an_unknown_domain_is_named_but_cut_to_80_characters(exported_model):
    import pytest
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    serving = tf.saved_model.load(str(exported_model[1])).signatures["serving_default"]
    domain = "é" * 79 + "xyz" * 100_000
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        serving(text=tf.constant(["a goal"]), domain=tf.constant([domain]))
    message = str(info.value)
    assert "é" * 79 + "x" in message and "xy" not in message and len(message) < 2000
