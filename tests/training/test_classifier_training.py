"""Every fine-tuning mode of `train_classifier`, a few epochs on the fixture."""
import json
import pathlib

import h5py
import numpy as np
import pytest

from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.training.classifier_training import train_classifier
from xdomain_tf.training.train_options import TrainOptions

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"


def _options(out, **overrides):
    values = dict(
        train=[str(FIXTURES / "train.jsonl")], valid=[str(FIXTURES / "valid.jsonl")], out=str(out),
        init="bert_tiny", vocab_size=300, seq_len=32, batch_size=16, learning_rate=3e-3, epochs=3, verbose=0,
    )
    values.update(overrides)
    return TrainOptions(**values)


def _history(out):
    return json.loads(RunDirectory(out).history_path.read_text())["epochs"]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("base") / "run"
    train_classifier(_options(out, epochs=3), log=lambda _: None)
    return out


def _encoder_weights(path):
    """{weight path: array} from an encoder .weights.h5 file."""
    values = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: values.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return values


@pytest.mark.parametrize(
    "mode",
    [
        dict(loss_weighting="uncertainty"),
        dict(loss_weighting="static", domain_weights={"news": 2.0}),
        dict(adversarial=True, adversarial_weight=0.3),
        dict(unfreeze="gradual", epochs=4),
        dict(layerwise_decay=0.8, pooling="mean"),
    ],
    ids=["uncertainty", "static", "adversarial", "gradual", "layerwise-mean"],
)
def test_training_modes_lower_the_loss(tmp_path, mode):
    summary = train_classifier(_options(tmp_path / "run", **mode), log=lambda _: None)
    epochs = _history(tmp_path / "run")
    # The task losses; the total also holds the adversary's loss, which the encoder pushes up on purpose.
    task_loss = [e["news_loss"] + e["software_loss"] for e in epochs]
    assert task_loss[-1] < task_loss[0]
    assert RunDirectory(tmp_path / "run").is_complete
    if mode.get("loss_weighting") == "uncertainty":
        assert summary["loss_weights"]["news"] != pytest.approx(1.0, abs=1e-4)
    if mode.get("adversarial"):
        assert "adversary_loss" in epochs[-1]


@pytest.mark.parametrize("mode", [dict(adapters=True, adapter_reduction=4), dict(lora_rank=4)], ids=["adapters", "lora"])
def test_parameter_efficient_training_keeps_the_encoder_bit_identical(tmp_path, base_run, mode):
    log = []
    summary = train_classifier(_options(tmp_path / "run", init=str(base_run), learning_rate=3e-3, **mode), log=log.append)
    assert summary["trainable_parameters"] < 0.2 * summary["parameters"]
    assert any("trainable" in line for line in log)
    epochs = _history(tmp_path / "run")
    assert epochs[-1]["loss"] < epochs[0]["loss"]

    before = _encoder_weights(RunDirectory(base_run).encoder_weights_path)
    after = _encoder_weights(RunDirectory(tmp_path / "run").encoder_weights_path)
    shared = [name for name in before if name in after]
    assert len(shared) >= len(before) - 2  # every base weight is still there
    for name in shared:
        np.testing.assert_array_equal(before[name], after[name], err_msg=name)


def test_feature_extraction_trains_only_the_heads(tmp_path, base_run):
    summary = train_classifier(_options(tmp_path / "run", init=str(base_run), freeze_encoder=True), log=lambda _: None)
    heads = summary["trainable_parameters"]
    assert heads == (128 + 1) * 3 + (128 + 1) * 2  # the two heads: news has 3 labels, software 2


def test_the_run_holds_one_classifier_object_and_user_callbacks_run(tmp_path):
    import keras

    from xdomain_tf.tasks import MultiDomainTextClassifier

    class Epochs(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append((epoch, sorted(logs)))

    seen = Epochs()
    out = tmp_path / "run"
    train_classifier(_options(out, epochs=2), callbacks=[seen], log=lambda _: None)
    assert [epoch for epoch, _ in seen.ends] == [0, 1]
    assert {"news_accuracy", "val_software_accuracy"} <= set(seen.ends[-1][1])
    clf = MultiDomainTextClassifier.from_preset(str(out))
    assert isinstance(clf, MultiDomainTextClassifier) and clf.domain_names == ["news", "software"]
    row = clf.classify(["Robot startup builds a laptop"], "news")[0]
    assert row["domain"] == "news" and row["label"] in clf.domains["news"]
    # The same file loads with plain Keras, tokenizer and labels included.
    reloaded = keras.saving.load_model(RunDirectory(out).model_path)
    assert reloaded.classify(["Robot startup builds a laptop"], "news") == [row]
