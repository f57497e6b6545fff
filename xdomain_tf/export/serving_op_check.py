"""`check_serving_ops`: can TF Serving 2.20 run every op of a SavedModel?

TF Serving 2.20 links the core TensorFlow ops and the ops of tensorflow-text 2.20.0. "Core"
here means registered by plain `import tensorflow`, checked in a subprocess that never
imports tensorflow_text (this process may have it imported). tf-text ops pass only if they
are on `TFTEXT_2_20_OPS`, an explicit list of ops that tensorflow-text 2.20.0 registers:
an op that a newer tensorflow-text adds is refused until someone checks it was in 2.20.
"""
import json
import subprocess
import sys

from xdomain_tf.utils.graph_ops import saved_model_op_types

# tensorflow-text ops known to be registered by tensorflow-text 2.20.0 (all of them
# existed since 2.12 or earlier). The tokenizers of xdomain_tf use FastBertNormalize and
# FastWordpieceTokenizeWithOffsets (FastBertTokenizer) or CaseFoldUTF8/NormalizeUTF8
# plus RegexSplitWithOffsets and WordpieceTokenizeWithOffsets (BertTokenizer).
TFTEXT_2_20_OPS = frozenset(
    {
        "CaseFoldUTF8",
        "NormalizeUTF8",
        "NormalizeUTF8WithOffsetsMap",
        "FindSourceOffsets",
        "FastBertNormalize",
        "FastWordpieceTokenizeWithOffsets",
        "TFText>FastWordpieceDetokenize",
        "WordpieceTokenizeWithOffsets",
        "RegexSplitWithOffsets",
        "WhitespaceTokenizeWithOffsets",
        "TFText>WhitespaceTokenizeWithOffsetsV2",
        "UnicodeScriptTokenizeWithOffsets",
        "SplitMergeTokenizeWithOffsets",
        "TFText>RoundRobinTrim",
        "TFText>RoundRobinGenerateMasks",
    }
)

# Registered by TensorFlow but run Python code, which a model server does not have.
PYTHON_ONLY_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

_LIST_CORE_OPS = """
import json
from tensorflow.core.framework import op_def_pb2
from tensorflow.python.client import pywrap_tf_session as c_api
import sys
assert "tensorflow_text" not in sys.modules
buffer = c_api.TF_GetAllOpList()
ops = op_def_pb2.OpList()
ops.ParseFromString(bytes(c_api.TF_GetBuffer(buffer)))
print(json.dumps(sorted(op.name for op in ops.op)))
"""

_core_ops_cache = []


def core_tensorflow_ops():
    """The op names plain TensorFlow registers (no tensorflow_text), from a subprocess.

    Example (starts a TensorFlow subprocess once, a few seconds):

    >>> ops = core_tensorflow_ops()  # doctest: +SKIP
    >>> "MatMul" in ops, "FastBertNormalize" in ops  # doctest: +SKIP
    (True, False)
    """
    if not _core_ops_cache:
        result = subprocess.run(
            [sys.executable, "-c", _LIST_CORE_OPS],
            capture_output=True,
            text=True,
            check=True,
            env=_quiet_env(),
        )
        _core_ops_cache.append(frozenset(json.loads(result.stdout.strip().splitlines()[-1])))
    return _core_ops_cache[0]


def check_serving_ops(saved_model_dir):
    """Sorts a SavedModel's ops into core TF, tensorflow-text 2.20 and unsupported.

    Args:
        saved_model_dir: a SavedModel version folder.

    Returns:
        `{"ops": [...], "core": [...], "tensorflow_text": [...], "unsupported": [...]}`,
        each sorted (`ops` lists every op of the graphs and their function libraries); the
        model serves on TF Serving 2.20 when `unsupported` is empty.

    Example (starts a TensorFlow subprocess, a few seconds):

    >>> report = check_serving_ops("export/xdomain/1")  # doctest: +SKIP
    >>> report["unsupported"], "FastBertNormalize" in report["tensorflow_text"]  # doctest: +SKIP
    ([], True)
    """
    ops = saved_model_op_types(saved_model_dir, signature_key=None)
    core = core_tensorflow_ops()
    report = {"ops": ops, "core": [], "tensorflow_text": [], "unsupported": []}
    for op in ops:
        if op in PYTHON_ONLY_OPS:
            report["unsupported"].append(op)
        elif op in core:
            report["core"].append(op)
        elif op in TFTEXT_2_20_OPS:
            report["tensorflow_text"].append(op)
        else:
            report["unsupported"].append(op)
    return report


def _quiet_env():
    import os

    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env
