import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "export"))

from export_fixtures import classifier_run, exported_model, tflite_models, valid_records  # noqa: E402,F401

from xdomain_tf.cli.main import main  # noqa: E402


def predict(capsys, *args):
    assert main(["predict", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_three_kinds_of_model_give_the_same_labels(classifier_run, exported_model, tflite_models, valid_records, capsys):
    data = str(classifier_run.parent / "data" / "valid.jsonl")
    results = {
        "run": predict(capsys, "--model", str(classifier_run), "--data", data),
        "saved_model": predict(capsys, "--model", str(exported_model[0]), "--data", data),
        "tflite": predict(capsys, "--model", tflite_models["ids"], "--data", data),
        "tflite_text": predict(capsys, "--model", tflite_models["text"], "--data", data),
    }
    reference = results["run"]
    assert len(reference) == len(valid_records)
    assert set(reference[0]) == {"domain", "label", "score"}
    assert [r["domain"] for r in reference] == [record["domain"] for record in valid_records]
    assert sum(r["label"] == record["label"] for r, record in zip(reference, valid_records)) >= 95
    for name, result in results.items():
        assert [r["label"] for r in result] == [r["label"] for r in reference], name
        assert all(abs(a["score"] - b["score"]) < 1e-4 for a, b in zip(result, reference)), name


def test_text_flags(exported_model, capsys):
    lines = predict(
        capsys, "--model", str(exported_model[1]), "--text", "algebra matrix solver", "--text", "arcade puzzle game",
        "--domain", "software",
    )
    assert [(line["domain"], line["label"]) for line in lines] == [("software", "math"), ("software", "games")]
    assert all(0.5 < line["score"] <= 1.0 for line in lines)


def test_errors_exit_2(tflite_models, capsys):
    assert main(["predict", "--model", tflite_models["ids"], "--text", "x", "--domain", "weather"]) == 2
    assert 'field "domain": unknown domain; known domains: news, software' in capsys.readouterr().err
    assert main(["predict", "--model", tflite_models["ids"], "--text", "x"]) == 2
    assert "--text needs --domain" in capsys.readouterr().err
