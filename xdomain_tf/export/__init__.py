"""Deployment: SavedModels for TF Serving and checked TFLite files.

Importing this package does not import TensorFlow; `ServingModule` and `TFLiteModule`
(which do) load on first use.
"""

__all__ = [
    "check_serving_ops", "grpc_request", "read_warmup_requests", "rest_request", "saved_model",
    "ServingModule", "tflite", "TFLiteModule", "tf_serving_ops", "update_models_config",
    "write_warmup_requests",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.export.models_config": ["update_models_config"],
        "xdomain_tf.export.saved_model_export": ["saved_model"],
        "xdomain_tf.export.serving_op_check": ["check_serving_ops", "tf_serving_ops"],
        "xdomain_tf.export.tflite_export": ["tflite"],
        "xdomain_tf.export.warmup_requests": ["read_warmup_requests", "write_warmup_requests"],
        "xdomain_tf.export.serving_requests": ["grpc_request", "rest_request"],
        "xdomain_tf.export.serving_module": ["ServingModule"],
        "xdomain_tf.export.tflite_module": ["TFLiteModule"],
    },
)
