"""Records, readers and multi-domain tf.data pipelines.

Readers and writers load without TensorFlow; the pipeline functions import it on first use.
"""
import importlib

_LAZY = {
    "FIELDS": "xdomain_tf.data.record_schema",
    "normalize_record": "xdomain_tf.data.record_schema",
    "ReadReport": "xdomain_tf.data.read_report",
    "data_format": "xdomain_tf.data.readers",
    "read_records": "xdomain_tf.data.readers",
    "write_jsonl": "xdomain_tf.data.writers",
    "write_tfrecord": "xdomain_tf.data.writers",
    "LabelSpace": "xdomain_tf.data.label_space",
    "sampling_probabilities": "xdomain_tf.data.sampling",
    "make_dataset": "xdomain_tf.data.pipeline",
    "distribute": "xdomain_tf.data.distributed_input",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xdomain_tf.data' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
