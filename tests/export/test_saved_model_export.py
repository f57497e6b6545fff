import json
import os
import subprocess
import sys

import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.export.saved_model_export import choose_version, existing_versions, saved_model
from xdomain_tf.export.warmup_requests import WARMUP_FILE, read_warmup_requests


def keras_probabilities(run_dir, texts, domains):
    """Softmax of each example's own head, from the run's Keras model."""
    import tensorflow as tf

    from xdomain_tf.runs.run_directory import RunDirectory

    run = RunDirectory(run_dir)
    model, preprocessor = run.load_model(), run.load_preprocessor()
    features = dict(preprocessor(tf.constant(texts)))
    names = list(model.domains)
    features["domain_id"] = tf.constant([names.index(domain) for domain in domains], tf.int32)
    logits = model(features, training=False)
    rows = []
    for index, domain in enumerate(domains):
        rows.append(tf.nn.softmax(logits[domain][index]).numpy())
    return rows


def test_layout_assets_and_metadata(exported_model, classifier_run):
    base, version_dir = exported_model
    assert version_dir == base / "1"
    assert existing_versions(base) == [1]
    assert not [child for child in base.iterdir() if child.name.startswith(".")]  # no temporary left
    for name in ("saved_model.pb", "variables/variables.index", "assets/vocab.txt", "assets/labels.json"):
        assert (version_dir / name).is_file(), name

    labels = json.loads((version_dir / "assets" / "labels.json").read_text())
    assert labels == json.loads((classifier_run / "label_space.json").read_text())
    assert (version_dir / "assets" / "vocab.txt").read_text() == (classifier_run / "vocab.txt").read_text()

    metadata = json.loads((version_dir / "assets" / "metadata.json").read_text())
    assert [domain["name"] for domain in metadata["domains"]] == ["news", "software"]
    assert metadata["domains"][0]["labels"] == ["business", "politics", "sport"]
    assert metadata["sequence_length"] == 32 and metadata["max_labels"] == 3
    assert metadata["ops"]["tensorflow_text"] == ["FastBertNormalize", "FastWordpieceTokenizeWithOffsets"]
    assert metadata["ops"]["unsupported"] == []
    assert {"tensorflow", "tensorflow_text", "keras", "xdomain_tf"} <= set(metadata["versions"])
    assert set(metadata["signatures"]) == {
        "serving_default", "serving_pair", "classify_news", "classify_software", "encode", "predict_ids"
    }
    assert metadata["signatures"]["serving_default"]["outputs"]["probabilities"] == {
        "dtype": "float32", "shape": [None, 3]
    }


def test_weights_are_stored_once(exported_model, classifier_run):
    from xdomain_tf.runs.run_directory import RunDirectory

    _, version_dir = exported_model
    model = RunDirectory(classifier_run).load_model()
    weight_bytes = sum(np.prod(weight.shape) * 4 for weight in model.weights)
    stored = sum(path.stat().st_size for path in (version_dir / "variables").iterdir())
    # Keras model.export stores every weight twice (keras-team/keras#23553).
    assert weight_bytes <= stored < 1.1 * weight_bytes


def test_warmup_requests_hold_real_validation_examples(exported_model, valid_records):
    _, version_dir = exported_model
    requests = read_warmup_requests(version_dir / WARMUP_FILE)
    signatures = {request.model_spec.signature_name for request in requests}
    assert signatures == {
        "serving_default", "serving_pair", "classify_news", "classify_software", "encode", "predict_ids"
    }
    valid_texts = {record["text"] for record in valid_records}
    default = [request for request in requests if request.model_spec.signature_name == "serving_default"]
    assert sorted(len(request.inputs["text"].string_val) for request in default) == [1, 8, 32]
    for request in default:
        texts = [value.decode() for value in request.inputs["text"].string_val]
        domains = [value.decode() for value in request.inputs["domain"].string_val]
        assert set(texts) <= valid_texts
        assert set(domains) <= {"news", "software"}
    import tensorflow as tf

    ids = [request for request in requests if request.model_spec.signature_name == "predict_ids"][0]
    token_ids = tf.make_ndarray(ids.inputs["token_ids"])
    assert token_ids.dtype == np.int32 and token_ids.shape == (1, 32)
    assert set(ids.inputs) == {"token_ids", "segment_ids", "padding_mask"}
    news = [request for request in requests if request.model_spec.signature_name == "classify_news"][0]
    news_texts = {record["text"] for record in valid_records if record["domain"] == "news"}
    assert {value.decode() for value in news.inputs["text"].string_val} <= news_texts


def test_next_version_refusal_and_overwrite(classifier_run, tmp_path):
    base = tmp_path / "export" / "model"
    (base / "3").mkdir(parents=True)
    (base / "notes").mkdir()
    assert choose_version(base, None, False) == 4
    with pytest.raises(XDomainError, match="exists; pass overwrite"):
        choose_version(base, 3, False)
    assert choose_version(base, 3, True) == 3
    with pytest.raises(XDomainError, match="positive integer"):
        choose_version(base, 0, False)

    path = saved_model(classifier_run, base, version=3, overwrite=True)
    assert path == base / "3" and (path / "saved_model.pb").exists()
    # models.config beside export/<name>/.
    config = (tmp_path / "export" / "models.config").read_text()
    assert 'name: "model"' in config and 'base_path: "/models/model"' in config


def test_failed_export_leaves_nothing(classifier_run, tmp_path, monkeypatch):
    import xdomain_tf.export.warmup_requests as warmup

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(warmup, "write_warmup_requests", broken)
    base = tmp_path / "model"
    with pytest.raises(RuntimeError, match="disk full"):
        saved_model(classifier_run, base, models_config=None)
    assert list(base.iterdir()) == []


FRESH_PROCESS = """
import json, sys
import tensorflow as tf
import tensorflow_text
assert "xdomain_tf" not in sys.modules and "keras_hub" not in sys.modules
request = json.loads(sys.stdin.read())
model = tf.saved_model.load(request["path"])
outputs = model.signatures["serving_default"](
    text=tf.constant(request["texts"]), domain=tf.constant(request["domains"]))
print(json.dumps({
    "label": [value.decode() for value in outputs["label"].numpy()],
    "score": outputs["score"].numpy().tolist(),
    "probabilities": outputs["probabilities"].numpy().tolist(),
    "loaded": sorted(name for name in ("xdomain_tf", "keras_hub") if name in sys.modules),
}))
"""


def test_fresh_process_matches_keras(exported_model, classifier_run, valid_records):
    _, version_dir = exported_model
    records = valid_records[:20]
    texts = [record["text"] for record in records] + ["", "vote " * 5000, "Ünïcode ✓ 中文"]
    domains = [record["domain"] for record in records] + ["news", "news", "software"]
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        input=json.dumps({"path": str(version_dir), "texts": texts, "domains": domains}),
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["loaded"] == []
    expected = keras_probabilities(classifier_run, texts, domains)
    labels = {"news": ["business", "politics", "sport"], "software": ["games", "math"]}
    for row, (domain, probabilities) in enumerate(zip(domains, expected)):
        n = len(probabilities)
        np.testing.assert_allclose(served["probabilities"][row][:n], probabilities, atol=1e-5)
        assert served["probabilities"][row][n:] == [0.0] * (3 - n)
        assert served["label"][row] == labels[domain][int(np.argmax(probabilities))]
        assert served["score"][row] == pytest.approx(float(np.max(probabilities)), abs=1e-5)
    # The model is trained: it labels the validation data correctly.
    assert sum(served["label"][row] == record["label"] for row, record in enumerate(records)) >= 18
