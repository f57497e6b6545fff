import pytest

from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.serving import KerasPredictor, SavedModelPredictor, TFLitePredictor, load_predictor


@pytest.fixture(scope="module")
def predictors(classifier_run, exported_model, tflite_models):
    return {
        "keras": load_predictor(classifier_run),
        "saved_model": load_predictor(exported_model[1]),
        "export_base": load_predictor(exported_model[0]),
        "tflite_ids": load_predictor(tflite_models["ids"]),
        "tflite_text": load_predictor(tflite_models["text"]),
    }


def test_kinds(predictors, exported_model):
    assert isinstance(predictors["keras"], KerasPredictor)
    assert isinstance(predictors["saved_model"], SavedModelPredictor)
    assert predictors["export_base"].path == exported_model[1]  # the highest version
    assert isinstance(predictors["tflite_ids"], TFLitePredictor) and not predictors["tflite_ids"].with_tokenizer
    assert predictors["tflite_text"].with_tokenizer


def test_every_kind_gives_the_same_labels(predictors, valid_records):
    texts = [record["text"] for record in valid_records] + ["", "Ünïcode ✓"]
    domains = [record["domain"] for record in valid_records] + ["news", "software"]
    results = {name: predictor.predict(texts, domains) for name, predictor in predictors.items()}
    reference = results["keras"]
    assert sum(r["label"] == record["label"] for r, record in zip(reference, valid_records)) >= 95
    for name, result in results.items():
        assert [r["label"] for r in result] == [r["label"] for r in reference], name
        assert [r["domain"] for r in result] == domains
        for mine, expected in zip(result, reference):
            assert mine["score"] == pytest.approx(expected["score"], abs=1e-4)


def test_unknown_domain_and_bad_paths(predictors, tmp_path):
    with pytest.raises(DataError, match="unknown domain; known domains: news, software"):
        predictors["tflite_ids"].predict(["a"], "weather")
    with pytest.raises(XDomainError, match="no such model"):
        load_predictor(tmp_path / "missing")
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(XDomainError, match="must be a .tflite or .keras file"):
        load_predictor(tmp_path / "model.bin")
    with pytest.raises(XDomainError, match="neither a run directory"):
        load_predictor(tmp_path)
