"""Tasks: a model together with its preprocessing, the objects users train, save and ship.

`MultiDomainTextClassifier` takes raw strings in `fit`/`predict`/`classify`, saves as one
`.keras` file and is what the SavedModel and TFLite exports are made from.
"""
import importlib

__all__ = ["EncoderPreset", "MultiDomainTextClassifier", "load_encoder_preset"]

_LAZY = {
    "EncoderPreset": "xdomain_tf.tasks.encoder_preset",
    "load_encoder_preset": "xdomain_tf.tasks.encoder_preset",
    "MultiDomainTextClassifier": "xdomain_tf.tasks.multi_domain_text_classifier",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xdomain_tf.tasks' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
