"""TF Serving request bodies for an exported text model: gRPC `PredictRequest`s and
REST JSON bodies (the warm-up file of `saved_model` is made of the former)."""
import base64

from xdomain_tf.errors import XDomainError


def request_inputs(texts, domains=None, text_pairs=None):
    """The request's columns as equally long lists.

    Args:
        texts: a string (one example) or a list of `str`/`bytes`.
        domains: one domain for every text, or one per text; None for a signature without
            a `domain` input.
        text_pairs: None, or one second segment per text.

    Returns:
        `{"text": [...], "domain": [...], "text_pair": [...]}` holding only the given
        columns.

    Example:

    >>> request_inputs("hello", "news")
    {'text': ['hello'], 'domain': ['news']}
    """
    texts = _as_list(texts, "texts")
    if not texts:
        raise XDomainError("a request needs at least one text")
    columns = {"text": texts}
    if domains is not None:
        if isinstance(domains, (str, bytes)):
            domains = [domains] * len(texts)
        columns["domain"] = _as_list(domains, "domains")
    if text_pairs is not None:
        columns["text_pair"] = _as_list(text_pairs, "text_pairs")
    for name, values in columns.items():
        if len(values) != len(texts):
            raise XDomainError(f"{len(texts)} texts but {len(values)} values for {name!r}")
    return columns


def _as_list(values, what):
    if isinstance(values, (str, bytes)):
        values = [values]
    values = list(values)
    for value in values:
        if not isinstance(value, (str, bytes)):
            raise XDomainError(f"{what} must be strings or bytes, got {type(value).__name__}: {value!r}")
    return values


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


def rest_request(texts, domains=None, signature_name="serving_default", text_pairs=None):
    """Builds the body of `POST /v1/models/<name>[/versions/<v>]:predict`.

    The body uses TF Serving's row format (`"instances"`, one object per example). A text
    given as `bytes` that is not valid UTF-8 is sent as `{"b64": ...}`, the REST API's
    encoding of binary strings; everything else is sent as plain JSON strings.

    Args:
        texts: a string or a list of strings (`str` or `bytes`).
        domains: one domain for all texts or one per text (`serving_default`,
            `serving_pair`); None for `classify_<domain>` and `encode`.
        signature_name: the signature to call.
        text_pairs: second segments, one per text (the `serving_pair` signature).

    Returns:
        A dict; send it with `json.dumps`.

    Example:

    >>> rest_request(["great match", "new kernel"], ["news", "debian"])
    {'signature_name': 'serving_default', 'instances': [{'text': 'great match', 'domain': 'news'}, {'text': 'new kernel', 'domain': 'debian'}]}
    """
    columns = request_inputs(texts, domains, text_pairs)
    instances = [
        {name: _json_string(values[index]) for name, values in columns.items()}
        for index in range(len(columns["text"]))
    ]
    return {"signature_name": signature_name, "instances": instances}


def _json_string(value):
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    return value
