"""Clients of an exported model: TF Serving request bodies and a predictor for every model kind.

None of these modules imports TensorFlow at import time (only when a function runs).
"""
from xdomain_tf.serving.grpc_request import grpc_request
from xdomain_tf.serving.keras_predictor import KerasPredictor
from xdomain_tf.serving.load_predictor import load_predictor
from xdomain_tf.serving.predictor import Predictor
from xdomain_tf.serving.rest_request import rest_request
from xdomain_tf.serving.saved_model_predictor import SavedModelPredictor
from xdomain_tf.serving.tflite_predictor import TFLitePredictor

__all__ = [
    "grpc_request",
    "rest_request",
    "load_predictor",
    "Predictor",
    "KerasPredictor",
    "SavedModelPredictor",
    "TFLitePredictor",
]
