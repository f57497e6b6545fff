from xdomain_tf.export.warmup_requests import read_warmup_requests, warmup_predict_requests, write_warmup_requests

EXAMPLES = [
    {"text": "goal", "domain": "news"},
    {"text": "Ünïcode ✓", "domain": "software", "text_pair": "pair"},
    {"text": "vote", "domain": "news"},
]


def test_requests_cover_signatures_and_batch_sizes():
    signatures = {
        "serving_default": ("text_domain", None),
        "serving_pair": ("text_pair_domain", None),
        "classify_news": ("text", "news"),
    }
    requests = warmup_predict_requests("m", EXAMPLES, signatures, batch_sizes=(1, 4))
    assert [(r.model_spec.signature_name, len(r.inputs["text"].string_val)) for r in requests] == [
        ("serving_default", 1), ("serving_default", 4), ("serving_pair", 1), ("serving_pair", 4),
        ("classify_news", 1), ("classify_news", 4),
    ]
    assert [v.decode() for v in requests[1].inputs["text"].string_val] == ["goal", "Ünïcode ✓", "vote", "goal"]
    assert [v.decode() for v in requests[1].inputs["domain"].string_val] == ["news", "software", "news", "news"]
    assert [v.decode() for v in requests[3].inputs["text_pair"].string_val] == ["", "pair", "", ""]
    assert set(requests[4].inputs) == {"text"}
    assert {v.decode() for v in requests[5].inputs["text"].string_val} == {"goal", "vote"}


def test_ids_requests_use_the_tokenize_function():
    import numpy as np
    import tensorflow as tf

    def tokenize(texts):
        return {"token_ids": np.array([[2, len(text), 3] for text in texts], np.int32)}

    requests = warmup_predict_requests("m", EXAMPLES, {"predict_ids": ("ids", None)}, batch_sizes=(2,), tokenize=tokenize)
    assert len(requests) == 1
    assert tf.make_ndarray(requests[0].inputs["token_ids"]).tolist() == [[2, 4, 3], [2, 9, 3]]
    assert warmup_predict_requests("m", EXAMPLES, {"predict_ids": ("ids", None)}) == []


def test_prediction_log_round_trip(tmp_path):
    requests = warmup_predict_requests("m", EXAMPLES, {"serving_default": ("text_domain", None)})
    path = write_warmup_requests(tmp_path, requests)
    assert path == tmp_path / "assets.extra" / "tf_serving_warmup_requests"
    assert read_warmup_requests(path) == requests
