"""Deployment: SavedModels for TF Serving and checked TFLite files.

Importing this package does not import TensorFlow; `ServingModule` and `TFLiteModule`
(which do) load on first use.
"""
import importlib

from xdomain_tf.export.models_config import update_models_config
from xdomain_tf.export.saved_model import saved_model
from xdomain_tf.export.serving_op_check import TFTEXT_2_20_OPS, check_serving_ops
from xdomain_tf.export.tflite import tflite
from xdomain_tf.export.warmup_requests import read_warmup_requests, write_warmup_requests

_LAZY = {
    "ServingModule": "xdomain_tf.export.serving_module",
    "TFLiteModule": "xdomain_tf.export.tflite_module",
}
__all__ = [
    "saved_model",
    "tflite",
    "check_serving_ops",
    "TFTEXT_2_20_OPS",
    "update_models_config",
    "write_warmup_requests",
    "read_warmup_requests",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xdomain_tf.export' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
