import base64
import json

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.serving import rest_request


def test_body_equals_tf_serving_row_format():
    body = rest_request(["A late goal", "Matrix solver"], ["news", "software"])
    assert body == {
        "signature_name": "serving_default",
        "instances": [
            {"text": "A late goal", "domain": "news"},
            {"text": "Matrix solver", "domain": "software"},
        ],
    }
    assert json.loads(json.dumps(body)) == body


def test_one_domain_for_all_pairs_and_other_signatures():
    assert rest_request(["a", "b"], "news", signature_name="serving_pair", text_pairs=["c", "d"]) == {
        "signature_name": "serving_pair",
        "instances": [
            {"text": "a", "domain": "news", "text_pair": "c"},
            {"text": "b", "domain": "news", "text_pair": "d"},
        ],
    }
    assert rest_request("Ünïcode ✓", signature_name="classify_news") == {
        "signature_name": "classify_news",
        "instances": [{"text": "Ünïcode ✓"}],
    }


def test_invalid_utf8_bytes_go_as_b64():
    body = rest_request([b"\xff\xfeabc", "ok".encode()], "news")
    assert body["instances"][0]["text"] == {"b64": base64.b64encode(b"\xff\xfeabc").decode()}
    assert body["instances"][1]["text"] == "ok"


def test_mismatched_lengths_and_types_are_errors():
    with pytest.raises(XDomainError, match="2 texts but 1 values for 'domain'"):
        rest_request(["a", "b"], ["news"])
    with pytest.raises(XDomainError, match="at least one text"):
        rest_request([], "news")
    with pytest.raises(XDomainError, match="must be strings or bytes"):
        rest_request([1], "news")
