"""`grpc_request`: a TF Serving gRPC `PredictRequest` for an exported text model."""
from xdomain_tf.serving.request_inputs import request_inputs


def grpc_request(model_name, texts, domains=None, signature_name="serving_default", text_pairs=None, version=None):
    """Builds a `tensorflow_serving.apis.predict_pb2.PredictRequest`.

    Each input is a 1-D `DT_STRING` tensor; `str` values are encoded as UTF-8, `bytes` are
    sent unchanged. Send it with
    `prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout)`.

    Args:
        model_name: the model's name in the server's models.config.
        texts: a string or a list of strings (`str` or `bytes`).
        domains: one domain for all texts or one per text (`serving_default`,
            `serving_pair`); None for `classify_<domain>` and `encode`.
        signature_name: the signature to call.
        text_pairs: second segments, one per text (the `serving_pair` signature).
        version: a model version to pin (None: the latest the server has loaded).

    Returns:
        A `PredictRequest`.

    Example:

    >>> request = grpc_request("xdomain", ["great match"], "news")
    >>> request.model_spec.name, list(request.inputs["text"].string_val)
    ('xdomain', [b'great match'])
    """
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow_serving.apis import predict_pb2

    columns = request_inputs(texts, domains, text_pairs)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, values in columns.items():
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(values))]),
            string_val=[value.encode("utf-8") if isinstance(value, str) else value for value in values],
        )
        request.inputs[name].CopyFrom(tensor)
    return request
