import tensorflow as tf
import tensorflow_text as tf_text

from xdomain_tf.export.serving_op_check import TFTEXT_2_20_OPS, check_serving_ops, core_tensorflow_ops


def save(tmp_path, function, spec):
    module = tf.Module()
    module.f = tf.function(function, input_signature=[spec])
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.f})
    return tmp_path


def test_core_ops_come_from_plain_tensorflow():
    core = core_tensorflow_ops()
    assert {"MatMul", "StringLower", "StaticRegexReplace", "UnicodeTranscode"} <= core
    # Registered by tensorflow_text (imported in this process), not by TensorFlow.
    assert "FastBertNormalize" not in core and "FastWordpieceTokenizeWithOffsets" not in core
    assert not (TFTEXT_2_20_OPS & core)


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

    # A tensorflow-text op that is not on the 2.20 allow-list (not checked to exist there).
    binarized = save(tmp_path / "binarize", lambda x: tf_text.utf8_binarize(x), strings)
    report = check_serving_ops(binarized)
    assert [op for op in report["unsupported"] if "Utf8Binarize" in op] == ["TFText>Utf8Binarize"]
