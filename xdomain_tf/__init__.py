"""xdomain_tf: cross-domain and cross-lingual BERT-style encoders on Keras 3 / TensorFlow.

Heavy modules (TensorFlow, Keras) load on first use, so `import xdomain_tf` and the CLI
start fast.
"""
import importlib

__version__ = "0.1.0"

_LAZY = {
    "EncoderConfig": "xdomain_tf.models.encoder_config",
    "build_encoder": "xdomain_tf.models.build_encoder",
    "build_multi_domain_classifier": "xdomain_tf.models.build_multi_domain_classifier",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xdomain_tf' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
