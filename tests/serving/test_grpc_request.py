from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import predict_pb2

from xdomain_tf.serving import grpc_request


def test_inputs_decode_back_to_the_texts():
    texts = ["A late goal", "Ünïcode ✓ 中文", ""]
    request = grpc_request("xdomain", texts, ["news", "software", "news"])
    assert isinstance(request, predict_pb2.PredictRequest)
    assert request.model_spec.name == "xdomain"
    assert request.model_spec.signature_name == "serving_default"
    assert not request.model_spec.HasField("version")
    assert set(request.inputs) == {"text", "domain"}
    text = request.inputs["text"]
    assert text.dtype == types_pb2.DT_STRING
    assert [dim.size for dim in text.tensor_shape.dim] == [3]
    assert [value.decode("utf-8") for value in text.string_val] == texts
    assert [value.decode() for value in request.inputs["domain"].string_val] == ["news", "software", "news"]


def test_version_pairs_and_raw_bytes():
    request = grpc_request("m", [b"\xff\xfe"], "news", signature_name="serving_pair", text_pairs=["x"], version=3)
    assert request.model_spec.version.value == 3
    assert request.model_spec.signature_name == "serving_pair"
    assert list(request.inputs["text"].string_val) == [b"\xff\xfe"]
    assert list(request.inputs["text_pair"].string_val) == [b"x"]
    # It survives the wire format.
    assert predict_pb2.PredictRequest.FromString(request.SerializeToString()) == request


def test_signature_without_domain():
    request = grpc_request("m", "one text", signature_name="encode")
    assert set(request.inputs) == {"text"}
    assert list(request.inputs["text"].string_val) == [b"one text"]
