import tensorflow as tf
import tensorflow_text as tf_text

from xdomain_tf.export.serving_op_check import check_serving_ops, tf_serving_ops


def save(tmp_path, function, spec):
    module = tf.Module()
    module.f = tf.function(function, input_signature=[spec])
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.f})
    return tmp_path


def test_the_frozen_op_set_is_tf_serving_2_20s_not_the_installed_tensorflows():
    core, text = tf_serving_ops()
    assert {"MatMul", "StringLower", "StaticRegexReplace", "UnicodeTranscode"} <= core
    assert len(core) == 1906 and len(text) == 38
    # Registered by tensorflow_text (imported in this process), not by TensorFlow.
    assert {"FastBertNormalize", "FastWordpieceTokenizeWithOffsets"} <= text
    assert not (text & core)
    # TensorFlow 2.21 (installed here) registers DecodeJxl; 2.20, which TF Serving 2.20 runs, does not.
    assert hasattr(tf.raw_ops, "DecodeJxl") and "DecodeJxl" not in core


def test_an_op_newer_than_tf_serving_2_20_is_unsupported(tmp_path):
    jxl = save(tmp_path / "jxl", lambda x: tf.raw_ops.DecodeJxl(contents=x[0]), tf.TensorSpec([None], tf.string))
    assert check_serving_ops(jxl)["unsupported"] == ["DecodeJxl"]


def test_exported_model_uses_only_servable_ops(exported_model):
    report = check_serving_ops(exported_model[1])
    assert report["unsupported"] == []
    assert report["tensorflow_text"] == ["FastBertNormalize", "FastWordpieceTokenizeWithOffsets"]
    assert {"MatMul", "Softmax", "Assert", "StatefulPartitionedCall"} <= set(report["core"])
    assert sorted(report["core"] + report["tensorflow_text"]) == report["ops"]


def test_python_ops_and_unlisted_tftext_ops_are_unsupported(tmp_path):
    strings = tf.TensorSpec([None], tf.string)
    python = save(
        tmp_path / "python",
        lambda x: tf.py_function(lambda v: v, [x], tf.string),
        strings,
    )
    assert check_serving_ops(python)["unsupported"] == ["EagerPyFunc"]

    # A tensorflow-text op that tensorflow-text 2.20 registers too.
    binarized = save(tmp_path / "binarize", lambda x: tf_text.utf8_binarize(x), strings)
    report = check_serving_ops(binarized)
    assert "TFText>Utf8Binarize" in report["tensorflow_text"] and report["unsupported"] == []
