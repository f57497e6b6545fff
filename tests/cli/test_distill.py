import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tasks"))
from task_fixtures import DOMAINS, FIXTURES, fixture_records, tiny_classifier  # noqa: E402

from xdomain_tf.cli.distill import DEFAULT_STUDENT_HELP  # noqa: E402
from xdomain_tf.cli.main import build_parser, command_parser, main  # noqa: E402

TRAIN, VALID = str(FIXTURES / "train.jsonl"), str(FIXTURES / "valid.jsonl")


@pytest.fixture(scope="module")
def teacher_file(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(2)
    teacher = tiny_classifier()
    teacher.fit(fixture_records(), epochs=5, batch_size=16, verbose=0)
    path = tmp_path_factory.mktemp("teacher") / "teacher.keras"
    teacher.save(path)
    return path


def test_distill_writes_a_run_that_evaluate_export_and_predict_take(teacher_file, tmp_path, capsys):
    out = tmp_path / "student"
    assert main(["distill", "--teacher", str(teacher_file), "--student", "layers=1,vocab=trim", "--train", TRAIN,
                 "--unlabelled", VALID, "--valid", VALID, "--out", str(out), "--epochs", "2",
                 "--batch-size", "16"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["examples"] == 144 + 48 and summary["unlabelled_examples"] == 48
    assert summary["student_spec"] == "layers=1,vocab=trim" and summary["steps"] == 2 * 12
    assert summary["parameters"]["student"] < summary["parameters"]["teacher"]
    assert json.loads((out / "run.json").read_text())["kind"] == "classifier"
    assert [row["epoch"] for row in json.loads((out / "history.json").read_text())["epochs"]] == [1, 2]

    assert main(["evaluate", "--model", str(out), "--data", VALID]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["overall"]["n"] == 48
    assert main(["export", "--model", str(out), "--tflite", str(tmp_path / "student.tflite")]) == 0
    assert "agreement 100.00%" in capsys.readouterr().out
    for model in (str(out), str(tmp_path / "student.tflite")):
        assert main(["predict", "--model", model, "--text", "the striker scored a goal", "--domain", "news"]) == 0
        assert json.loads(capsys.readouterr().out)["label"] in DOMAINS["news"]


@pytest.mark.parametrize("flags, message", [
    (["--temperature", "0"], "distill: error: --temperature must be a number > 0, got 0.0"),
    (["--alpha", "2"], "distill: error: --alpha must be a number in [0, 1]"),
    (["--student", "layers=9"], "layers=9: the teacher has 2 layers; K must be between 1 and 2"),
    (["--student", "bert_giant"], "unknown architecture"),
])
def test_bad_flags_are_one_line_errors(teacher_file, tmp_path, capsys, flags, message):
    status = main(["distill", "--teacher", str(teacher_file), "--train", TRAIN, "--valid", VALID,
                   "--out", str(tmp_path / "r"), *flags])
    error = capsys.readouterr().err
    assert status == 2 and message in error and len(error.strip().splitlines()) == 1


def test_data_of_other_domains_than_the_teacher_is_one_line(teacher_file, tmp_path, capsys):
    data = tmp_path / "cooking.jsonl"
    data.write_text('{"text": "bake the bread", "domain": "cooking", "label": "baking"}\n')
    assert main(["distill", "--teacher", str(teacher_file), "--train", str(data), "--valid", VALID,
                 "--out", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f'xdomain-tf distill: error: {data}:1: field "domain": the teacher has no domain '
                     "'cooking' (its domains: news, software)")


def test_help_names_the_default_student():
    from xdomain_tf.tasks.student_spec import DEFAULT_STUDENT

    assert DEFAULT_STUDENT_HELP == DEFAULT_STUDENT
    text = " ".join(command_parser(build_parser(), "distill").format_help().split())
    assert f"default: {DEFAULT_STUDENT}" in text and "--unlabelled FILE" in text
