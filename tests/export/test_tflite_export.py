import importlib
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.export.tflite_export import litert_interpreter, tflite
from xdomain_tf.runs.run_directory import RunDirectory

# The module (the package attribute of the same name is the function).
tflite_module = importlib.import_module("xdomain_tf.export.tflite_export")
TOKENIZER_OPS = ["FastBertNormalize", "FastWordpieceTokenizeWithOffsets"]


def keras_probabilities(classifier_run, records):
    run = RunDirectory(classifier_run)
    model, preprocessor = run.load_model(), run.load_preprocessor()
    features = dict(preprocessor(tf.constant([record["text"] for record in records])))
    names = list(model.domains)
    features["domain_id"] = tf.constant([names.index(record["domain"]) for record in records], tf.int32)
    logits = model(features)
    probabilities = np.zeros([len(records), 3], np.float32)
    for row, record in enumerate(records):
        values = tf.nn.softmax(logits[record["domain"]][row]).numpy()
        probabilities[row, : len(values)] = values
    return features, probabilities


def run_file(path, records, features=None):
    content = pathlib.Path(path).read_bytes()
    sidecar = json.loads(pathlib.Path(str(path) + ".labels.json").read_text())
    runner = litert_interpreter(content, sidecar["with_tokenizer"]).get_signature_runner("serving_default")
    names = [domain["name"] for domain in sidecar["domains"]]
    domain_id = np.array([names.index(record["domain"]) for record in records], np.int32)
    if sidecar["with_tokenizer"]:
        return runner(text=np.array([record["text"].encode() for record in records], dtype=object), domain_id=domain_id)
    ids = {name: features[name].numpy() for name in ("token_ids", "segment_ids", "padding_mask")}
    return runner(**ids, domain_id=domain_id)


@pytest.mark.parametrize("with_tokenizer", [False, True])
def test_float32_matches_keras(tflite_models, classifier_run, valid_records, with_tokenizer):
    path = tflite_models["text" if with_tokenizer else "ids"]
    records = valid_records[:40]
    features, expected = keras_probabilities(classifier_run, records)
    outputs = run_file(path, records, features)
    np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-5)
    assert outputs["label_id"].tolist() == expected.argmax(-1).tolist()
    np.testing.assert_allclose(outputs["score"], expected.max(-1), atol=1e-5)


def test_sidecar_files(tflite_models, classifier_run):
    ids, text = pathlib.Path(tflite_models["ids"]), pathlib.Path(tflite_models["text"])
    sidecar = json.loads(pathlib.Path(str(ids) + ".labels.json").read_text())
    assert sidecar["domains"] == [
        {"name": "news", "id": 0, "labels": ["business", "politics", "sport"]},
        {"name": "software", "id": 1, "labels": ["games", "math"]},
    ]
    assert sidecar["sequence_length"] == 32 and sidecar["with_tokenizer"] is False
    assert sidecar["tokenizer"]["vocabulary"] == "ids.tflite.vocab.txt"
    assert sidecar["check"]["agreement"] == 1.0 and sidecar["check"]["check_examples"] == 100
    assert pathlib.Path(str(ids) + ".vocab.txt").read_text() == (classifier_run / "vocab.txt").read_text()
    assert sidecar["custom_ops"] == []

    text_sidecar = json.loads(pathlib.Path(str(text) + ".labels.json").read_text())
    assert text_sidecar["with_tokenizer"] is True and text_sidecar["tokenizer"]["vocabulary"] is None
    assert text_sidecar["custom_ops"] == TOKENIZER_OPS
    assert not pathlib.Path(str(text) + ".vocab.txt").exists()

    # Static sequence length, resizable batch.
    runner = litert_interpreter(ids.read_bytes(), False).get_signature_runner("serving_default")
    details = runner.get_input_details()
    assert details["token_ids"]["shape_signature"].tolist() == [-1, 32]
    assert details["domain_id"]["shape_signature"].tolist() == [-1]


def test_length_buckets_share_the_weights_and_answer_as_the_full_length(
    tflite_models, classifier_run, valid_records, tmp_path
):
    ids = pathlib.Path(tflite_models["ids"])
    sidecar = json.loads(pathlib.Path(str(ids) + ".labels.json").read_text())
    assert sidecar["signatures"] == {"serving_default": 32, "length_16": 16}
    interpreter = litert_interpreter(ids.read_bytes(), False)
    assert sorted(interpreter.get_signature_list()) == ["length_16", "serving_default"]
    all_features, _ = keras_probabilities(classifier_run, valid_records)
    widths = all_features["padding_mask"].numpy().sum(axis=1)
    short = [record for record, width in zip(valid_records, widths) if width <= 16][:20]
    assert len(short) == 20
    features, expected = keras_probabilities(classifier_run, short)
    names = [domain["name"] for domain in sidecar["domains"]]
    domain_id = np.array([names.index(record["domain"]) for record in short], np.int32)
    cut = {name: features[name].numpy()[:, :16] for name in ("token_ids", "segment_ids", "padding_mask")}
    outputs = interpreter.get_signature_runner("length_16")(**cut, domain_id=domain_id)
    np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-5)
    # One signature more costs graph, not weights.
    single = tflite(classifier_run, tmp_path / "single.tflite", length_buckets=())
    assert json.loads((tmp_path / "single.tflite.labels.json").read_text())["signatures"] == {"serving_default": 32}
    assert ids.stat().st_size < 1.5 * single["size_bytes"]


@pytest.mark.parametrize(
    "quantize,with_tokenizer", [("float16", False), ("dynamic", False), ("int8", False), ("int8", True)]
)
def test_quantized_conversions_are_checked(classifier_run, tmp_path, tflite_models, quantize, with_tokenizer):
    path = tmp_path / f"{quantize}.tflite"
    report = tflite(classifier_run, path, quantize=quantize, with_tokenizer=with_tokenizer)
    assert report["agreement"] >= tflite_module.MIN_AGREEMENT[quantize]
    assert report["check_examples"] == 100 and report["latency_ms_batch1"] > 0
    assert 0 < report["max_abs_difference"] < 0.1
    assert path.stat().st_size == report["size_bytes"]
    unquantized = pathlib.Path(tflite_models["text" if with_tokenizer else "ids"]).stat().st_size
    assert report["size_bytes"] < unquantized
    if quantize == "int8":
        # Full integer: the activations are int8 too, not only the weights.
        interpreter = litert_interpreter(path.read_bytes(), with_tokenizer)
        dtypes = [detail["dtype"] for detail in interpreter.get_tensor_details()]
        assert dtypes.count(np.int8) > dtypes.count(np.float32)


def test_the_text_graph_is_calibrated_on_the_whole_texts(classifier_run, tmp_path):
    # The same calibration texts, tokenized in the graph or beforehand, give the same int8
    # ranges (the calibrator once read object string arrays as a few bytes of each text).
    scales = {}
    for with_tokenizer in (False, True):
        path = tmp_path / f"{with_tokenizer}.tflite"
        tflite(classifier_run, path, quantize="int8", with_tokenizer=with_tokenizer, length_buckets=())
        interpreter = litert_interpreter(path.read_bytes(), with_tokenizer)
        scales[with_tokenizer] = {
            detail["name"]: detail["quantization"][0]
            for detail in interpreter.get_tensor_details()
            if detail["dtype"] == np.int8 and "encoder" in detail["name"]
        }
    common = sorted(set(scales[False]) & set(scales[True]))
    assert len(common) > 50
    np.testing.assert_allclose([scales[True][name] for name in common], [scales[False][name] for name in common],
                               rtol=1e-4)


def test_missed_bound_writes_nothing(classifier_run, tmp_path, monkeypatch):
    monkeypatch.setitem(tflite_module.MIN_AGREEMENT, "dynamic", 1.01)
    path = tmp_path / "model.tflite"
    with pytest.raises(XDomainError, match=r"agrees with the SavedModel on 100.00% of 100 labels, below the 101.0%"):
        tflite(classifier_run, path, quantize="dynamic")
    assert list(tmp_path.iterdir()) == []


def test_check_data_option_and_errors(classifier_run, tmp_path):
    check = tmp_path / "check.jsonl"
    check.write_text(
        json.dumps({"text": "algebra matrix solver", "domain": "software"}) + "\n"
        + json.dumps({"text": "some text", "domain": "weather"}) + "\n"
    )
    report = tflite(classifier_run, tmp_path / "m.tflite", check_data=[str(check)])
    assert report["check_examples"] == 1  # the unknown domain's record is skipped
    with pytest.raises(XDomainError, match="^quantize must be one of"):
        tflite(classifier_run, tmp_path / "x.tflite", quantize="int4")


def test_ops_without_tflite_kernels_fail_clearly(tmp_path):
    module = tf.Module()
    module.f = tf.function(
        lambda text: {"length": tf.strings.length(tf.strings.regex_replace(text, "[0-9]+", "#"))},
        input_signature=[tf.TensorSpec([None], tf.string, name="text")],
    )
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.f})
    content = tflite_module._convert(tmp_path, "none", True, None)  # unknown ops become custom ops
    interpreter = litert_interpreter(content, True)
    with pytest.raises(RuntimeError, match="StaticRegexReplace"):
        interpreter.allocate_tensors()


def test_int16x8_passes_the_agreement_gate_with_int16_activations(classifier_run, tmp_path, tflite_models):
    path = tmp_path / "int16x8.tflite"
    report = tflite(classifier_run, path, quantize="int16x8")
    assert report["agreement"] >= tflite_module.MIN_AGREEMENT["int16x8"] == 0.98
    assert report["check_examples"] == 100 and 0 < report["max_abs_difference"] < 0.1
    sidecar = json.loads((tmp_path / "int16x8.tflite.labels.json").read_text())
    assert sidecar["quantize"] == "int16x8" and sidecar["signatures"] == {"serving_default": 32}
    interpreter = litert_interpreter(path.read_bytes(), False)
    interpreter.allocate_tensors()
    dtypes = [detail["dtype"] for detail in interpreter.get_tensor_details()]
    # int16 activations, int8 weights, float32 only at the edges.
    assert dtypes.count(np.int16) > dtypes.count(np.float32) and np.int8 in dtypes
    assert report["size_bytes"] < pathlib.Path(tflite_models["ids"]).stat().st_size


def test_int16x8_refuses_what_tflite_cannot_do(classifier_run, tmp_path):
    with pytest.raises(XDomainError, match="^quantize int16x8 needs packed ids: TFLite's 16x8 quantizer fails"):
        tflite(classifier_run, tmp_path / "text.tflite", quantize="int16x8", with_tokenizer=True)
    with pytest.raises(XDomainError, match="^quantize int16x8 makes a file with one sequence length"):
        tflite(classifier_run, tmp_path / "buckets.tflite", quantize="int16x8", length_buckets=[16])
    assert list(tmp_path.iterdir()) == []
