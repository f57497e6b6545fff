"""The whole cycle on `ram://` paths, in one process, through the command line: data files
(a sharded set), `train`, `evaluate` (JSON report and plots), `export` (SavedModel and
TFLite), `predict` from every artifact, and a resumed `train` into the same run."""
import json
import pathlib

import pytest

from xdomain_tf.cli.main import main
from xdomain_tf.utils.storage import remove_tree, storage_path

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"
ROOT = "ram://cycle"


@pytest.fixture(scope="module")
def cycle():
    storage_path(f"{ROOT}/data/valid.jsonl").write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    storage_path(f"{ROOT}/raw/train.jsonl").write_bytes((FIXTURES / "train.jsonl").read_bytes())
    yield ROOT
    remove_tree(ROOT)


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_train_evaluate_export_predict_on_ram(cycle, capsys):
    _run(["data", "shard", "--input", f"{cycle}/raw/train.jsonl", "--out", f"{cycle}/data/train", "--shards", "3"],
         capsys)
    shards = sorted(path.name for path in storage_path(f"{cycle}/data").iterdir())
    assert shards == [f"train-0000{i}-of-00003.tfrecord" for i in range(3)] + ["valid.jsonl"]
    train = ["--train", f"{cycle}/data/train-*-of-00003.tfrecord", "--valid", f"{cycle}/data/valid.jsonl",
             "--out", f"{cycle}/runs/a", "--init", "bert_tiny", "--vocab-size", "300", "--seq-len", "32",
             "--batch-size", "16", "--learning-rate", "3e-3", "--epochs", "2", "--verbose", "0"]
    _run(["train", *train], capsys)
    run = storage_path(f"{cycle}/runs/a")
    assert {"run.json", "model.keras", "encoder.weights.h5", "checkpoints", "tensorboard"} <= {
        path.name for path in run.iterdir()}
    assert json.loads((run / "checkpoints" / "state.json").read_text())["step"] == 18

    # The same command again: the run is complete, so it is only resumed to its end.
    _run(["train", *train], capsys)

    _run(["evaluate", "--model", str(run), "--data", f"{cycle}/data/valid.jsonl", "--json",
          f"{cycle}/reports/eval.json", "--report-dir", f"{cycle}/reports"], capsys)
    report = json.loads(storage_path(f"{cycle}/reports/eval.json").read_text())
    assert set(report["domains"]) == {"news", "software"}
    assert storage_path(f"{cycle}/reports/confusion_news.png").read_bytes().startswith(b"\x89PNG")

    _run(["export", "--model", str(run), "--saved-model", f"{cycle}/serving/xdomain", "--tflite",
          f"{cycle}/serving/xdomain.tflite", "--with-tokenizer"], capsys)
    assert (storage_path(f"{cycle}/serving/xdomain/1/saved_model.pb")).is_file()

    text = "The striker scored twice in the final"
    labels = []
    for model in (str(run), f"{cycle}/serving/xdomain/1", f"{cycle}/serving/xdomain.tflite"):
        out = _run(["predict", "--model", model, "--text", text, "--domain", "news"], capsys)
        labels.append(json.loads(out.strip().splitlines()[-1])["label"])
    assert len(set(labels)) == 1, labels
