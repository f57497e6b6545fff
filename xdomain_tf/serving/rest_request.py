"""`rest_request`: the JSON body of a TF Serving REST predict call."""
import base64

from xdomain_tf.serving.request_inputs import request_inputs


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
