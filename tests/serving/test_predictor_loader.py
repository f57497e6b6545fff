import numpy as np
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
    # Odd characters, and a text longer than the 16-token TFLite length bucket.
    texts = [record["text"] for record in valid_records] + ["\x00 goal\u200b\x1b", "Ünïcode ✓", "the market " * 20]
    domains = [record["domain"] for record in valid_records] + ["news", "software", "news"]
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


BAD_REQUESTS = [
    ((["a goal"], [["news"]]), r'<inputs>:1: field "domain": expected a string \(value \[\'news\'\]\)'),
    ((["a goal", 3], "news"), r'<inputs>:2: field "text": expected a string \(value 3\)'),
    ((["a", " "], "news"), r'<inputs>:2: field "text": is empty'),
    ((["a\udcff"], "news"), r'<inputs>:1: field "text": is not valid UTF-8 text \(a lone surrogate at offset 1\)'),
    ((None, "news"), r"texts must be a string or a list of strings, got NoneType"),
    ((np.array([["a", "b"]]), "news"), r"texts must be one-dimensional \(one value per example\), got 2 dimensions"),
    ((["a", "b"], ["news"]), r"domains needs one value per text: got 1 for 2 texts"),
    ((["a"], ["weather"]), r'<inputs>:1: field "domain": unknown domain; known domains: news, software'),
    ((["a"], "news", ["b", "c"]), r"text_pairs needs one value per text: got 2 for 1 texts"),
]


@pytest.mark.parametrize("kind", ["keras", "saved_model", "tflite_ids", "tflite_text"])
def test_every_kind_refuses_a_bad_input_before_the_model_naming_it(predictors, kind):
    predictor = predictors[kind]
    for arguments, message in BAD_REQUESTS:
        if len(arguments) == 3 and not predictor.takes_pairs:
            message = "tflite models take single texts"
        with pytest.raises(XDomainError, match=message):
            predictor.predict(*arguments)
    assert predictor.predict([], "news") == []
    with pytest.raises(XDomainError, match="batch_size must be a positive integer, got '8'"):
        type(predictor)(getattr(predictor, "path", None), batch_size="8")


def test_tflite_run_checks_each_input_against_the_signature(predictors):
    ids, text = predictors["tflite_ids"], predictors["tflite_text"]
    row = np.full([1, 32], 2)
    good = {"token_ids": row, "segment_ids": 0 * row, "padding_mask": 1 + 0 * row, "domain_id": [0]}
    assert ids.run(**good)["label_id"].shape == (1,)
    for change, message in [
        ({"token_ids": np.full([32], 2)}, r"token_ids must have shape \[batch, 32\], got \[32\]"),
        ({"token_ids": np.full([1, 31], 2)}, r"token_ids must have shape \[batch, 32\], got \[1, 31\]"),
        ({"token_ids": row + 198}, r"token_ids values must be in \[0, 200\), got 200"),
        ({"segment_ids": row}, r"segment_ids values must be in \[0, 2\), got 2"),
        ({"padding_mask": 1.0 * row}, r"padding_mask must hold integers, got float64"),
        ({"domain_id": [2]}, r"domain_id values must be in \[0, 2\), got 2"),
        ({"domain_id": [0, 1]}, r"the inputs need one batch size, got domain_id 2, padding_mask 1"),
        ({"extra": [1]}, r"ids.tflite \(serving_default\) takes inputs domain_id, padding_mask, segment_ids, "
                         r"token_ids; unknown: extra"),
    ]:
        with pytest.raises(XDomainError, match=message):
            ids.run(**{**good, **change})
    short = {**good, **{name: good[name][:, :16] for name in ("token_ids", "segment_ids", "padding_mask")}}
    assert ids.run("length_16", **short)["label_id"].shape == (1,)
    with pytest.raises(XDomainError, match=r"padding_mask must have shape \[batch, 16\], got \[1, 32\]"):
        ids.run("length_16", **good)
    with pytest.raises(XDomainError, match=r"ids.tflite has no signature 'length_8'; it has "):
        ids.run("length_8", **good)
    assert text.run(text=["a goal", b"\xff\x00"], domain_id=np.array([0, 1], np.int64))["label_id"].shape == (2,)
    with pytest.raises(XDomainError, match=r"text must have shape \[batch\], got \[\]"):
        text.run(text="a goal", domain_id=[0])
    with pytest.raises(XDomainError, match=r"text\[1\] must be a string, got NoneType"):
        text.run(text=["a", None], domain_id=[0, 0])
