"""`write_warmup_requests`: the `assets.extra/tf_serving_warmup_requests` file of a SavedModel."""
import pathlib

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.storage import storage_path

WARMUP_FILE = pathlib.Path("assets.extra") / "tf_serving_warmup_requests"
# TF Serving replays at most 1000 warm-up records.
MAX_WARMUP_RECORDS = 1000


def warmup_predict_requests(model_name, examples, signatures, batch_sizes=(1, 8, 32), tokenize=None):
    """PredictRequests that warm up every listed signature with real examples.

    TF Serving traces and compiles a signature on its first call; replaying these at load
    time keeps that cost out of the first user requests. Each signature gets one request per
    batch size (batching pads or splits batches to these sizes), cycling through `examples`.

    Args:
        model_name: the model's name (TF Serving ignores it during warm-up).
        examples: record dicts with `text` and `domain` (and `text_pair` for pair signatures).
        signatures: `{signature name: (kind, domain)}`: kind is `"text_domain"`,
            `"text_pair_domain"`, `"text"` or `"ids"` (token ids from `tokenize`); a
            signature with a `domain` (`classify_<domain>`) takes only examples of that
            domain when there are any.
        batch_sizes: the request batch sizes to warm up.
        tokenize: for `"ids"` signatures, a function from a list of texts to
            `{input name: int32 array [batch, seq]}`; without it they are skipped.

    Returns:
        A list of `predict_pb2.PredictRequest`.

    Example:

    >>> requests = warmup_predict_requests("xdomain", [{"text": "great match", "domain": "news"}],
    ...                                    {"serving_default": ("text_domain", None)}, batch_sizes=(1, 2))
    >>> [len(request.inputs["text"].string_val) for request in requests], sorted(requests[0].inputs)
    ([1, 2], ['domain', 'text'])
    """
    from xdomain_tf.export.serving_requests import grpc_request

    if not examples:
        raise XDomainError("warm-up requests need at least one example")
    requests = []
    for signature_name, (kind, domain) in signatures.items():
        pool = [example for example in examples if domain is None or example["domain"] == domain] or examples
        for batch_size in batch_sizes:
            batch = [pool[index % len(pool)] for index in range(batch_size)]
            texts = [example["text"] for example in batch]
            if kind == "ids":
                if tokenize is not None:
                    requests.append(_tensor_request(model_name, signature_name, tokenize(texts)))
                continue
            if kind == "text":
                requests.append(grpc_request(model_name, texts, signature_name=signature_name))
                continue
            domains = [example["domain"] for example in batch]
            pairs = None
            if kind == "text_pair_domain":
                pairs = [example.get("text_pair", "") for example in batch]
            requests.append(grpc_request(model_name, texts, domains, signature_name=signature_name, text_pairs=pairs))
    return requests[:MAX_WARMUP_RECORDS]


def _tensor_request(model_name, signature_name, inputs):
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def write_warmup_requests(saved_model_dir, requests):
    """Writes PredictRequests as `PredictionLog` TFRecords into `assets.extra/`.

    Args:
        saved_model_dir: the SavedModel version folder (local or a URL).
        requests: `predict_pb2.PredictRequest` objects.

    Returns:
        The path of the file written.

    Example:

    >>> import pathlib, tempfile
    >>> requests = warmup_predict_requests("xdomain", [{"text": "great match", "domain": "news"}],
    ...                                    {"serving_default": ("text_domain", None)}, batch_sizes=(1,))
    >>> folder = tempfile.mkdtemp()
    >>> write_warmup_requests(folder, requests).relative_to(folder).as_posix()
    'assets.extra/tf_serving_warmup_requests'
    """
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = storage_path(saved_model_dir).joinpath(*WARMUP_FILE.parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(path):
    """The PredictRequests stored in a warm-up file (what TF Serving replays).

    Example:

    >>> import tempfile
    >>> requests = warmup_predict_requests("xdomain", [{"text": "great match", "domain": "news"}],
    ...                                    {"serving_default": ("text_domain", None)}, batch_sizes=(1, 2))
    >>> path = write_warmup_requests(tempfile.mkdtemp(), requests)
    >>> read_warmup_requests(path) == requests
    True
    """
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    requests = []
    for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        requests.append(log.predict_log.request)
    return requests
