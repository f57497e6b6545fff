"""`check_serving_ops`: can TF Serving 2.20 run every op of a SavedModel?

The answer comes from the op set of TF Serving 2.20 frozen in this package
(`tf_serving_2_20_ops.json`), not from the TensorFlow installed here (2.21 registers ops
that 2.20 lacks, e.g. `DecodeJxl`): the core ops that the tensorflow 2.20.0 wheel
registers (TF Serving 2.20.0 builds TensorFlow's 2.20 branch) and the ops of
tensorflow-text 2.20.0, which the model server links. Both lists were read from the
wheels' op registries; the file says where from.
"""
import functools
import json
import pathlib

from xdomain_tf.utils.graph_ops import saved_model_op_types

OP_SET_FILE = pathlib.Path(__file__).with_name("tf_serving_2_20_ops.json")

# Registered by TensorFlow but run Python code, which a model server does not have.
PYTHON_ONLY_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


@functools.lru_cache(maxsize=None)
def tf_serving_ops():
    """`(tensorflow ops, tensorflow-text ops)` that TF Serving 2.20 runs, as frozensets.

    Example:

    >>> core, text = tf_serving_ops()
    >>> "MatMul" in core, "DecodeJxl" in core, "FastBertNormalize" in text
    (True, False, True)
    """
    document = json.loads(OP_SET_FILE.read_text(encoding="utf-8"))
    return frozenset(document["tensorflow"]) - PYTHON_ONLY_OPS, frozenset(document["tensorflow_text"])


def check_serving_ops(saved_model_dir):
    """Sorts a SavedModel's ops into core TF, tensorflow-text 2.20 and unsupported.

    Args:
        saved_model_dir: a SavedModel version folder, local or a URL (only its
            `saved_model.pb` is read).

    Returns:
        `{"ops": [...], "core": [...], "tensorflow_text": [...], "unsupported": [...]}`,
        each sorted (`ops` lists every op of the graphs and their function libraries); the
        model serves on TF Serving 2.20 when `unsupported` is empty.

    Example:

    >>> report = check_serving_ops("export/xdomain/1")  # doctest: +SKIP
    >>> report["unsupported"], "FastBertNormalize" in report["tensorflow_text"]  # doctest: +SKIP
    ([], True)
    """
    ops = saved_model_op_types(saved_model_dir, signature_key=None)
    core, text = tf_serving_ops()
    report = {"ops": ops, "core": [], "tensorflow_text": [], "unsupported": []}
    for op in ops:
        if op in core:
            report["core"].append(op)
        elif op in text:
            report["tensorflow_text"].append(op)
        else:
            report["unsupported"].append(op)
    return report

