import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.graph_ops import op_types, saved_model_op_types


@tf.function
def inner(x):
    return tf.strings.length(x) * 2


class Module(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def lengths(self, x):
        return {"n": inner(x) + 1}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def roots(self, x):
        return {"r": tf.sqrt(x)}


def test_op_types_include_nested_functions():
    types = op_types(Module().lengths.get_concrete_function())
    assert {"StringLength", "Mul", "AddV2", "Placeholder"} <= set(types)
    assert types == sorted(types) and "Sqrt" not in types
    assert not [t for t in types if t.startswith("__inference")]


def test_saved_model_op_types_per_signature(tmp_path):
    module = Module()
    tf.saved_model.save(
        module,
        str(tmp_path),
        signatures={"serving_default": module.lengths, "roots": module.roots},
    )
    serving = saved_model_op_types(tmp_path)
    assert {"StringLength", "Mul", "AddV2"} <= set(serving) and "Sqrt" not in serving
    assert "Sqrt" in saved_model_op_types(tmp_path, "roots")
    assert "StringLength" not in saved_model_op_types(tmp_path, "roots")
    everything = saved_model_op_types(tmp_path, signature_key=None)
    assert {"Sqrt", "StringLength"} <= set(everything)
    with pytest.raises(XDomainError, match="no signature"):
        saved_model_op_types(tmp_path, "missing")
