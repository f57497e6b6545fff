"""Clients of an exported model: TF Serving request bodies and a predictor for every model kind.

None of these modules imports TensorFlow at import time (only when a function runs).
"""

__all__ = [
    "grpc_request", "KerasPredictor", "load_predictor", "Predictor", "rest_request",
    "SavedModelPredictor", "TFLitePredictor",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.export.serving_requests": ["grpc_request", "rest_request"],
        "xdomain_tf.serving.keras_predictor": ["KerasPredictor"],
        "xdomain_tf.serving.predictor_loader": ["load_predictor"],
        "xdomain_tf.serving.predictor": ["Predictor"],
        "xdomain_tf.serving.saved_model_predictor": ["SavedModelPredictor"],
        "xdomain_tf.serving.tflite_predictor": ["TFLitePredictor"],
    },
)
