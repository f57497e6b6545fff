"""Translation-pair alignment as an auxiliary loss of classifier fine-tuning (`align_pairs`)."""
import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import xdomain_tf
from xdomain_tf.cli.main import main
from xdomain_tf.models import MaskedSparseCategoricalAccuracy
from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.training.classifier_training import train_classifier
from xdomain_tf.training.multi_domain_trainer import ALIGN_INPUT, MultiDomainTrainer
from xdomain_tf.training.train_options import TrainOptions

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"
DOMAINS = {"a": ["x", "y"], "b": ["u", "v", "w"]}
SIDES = ("source", "target")
FEATURES = ("token_ids", "segment_ids", "padding_mask")


def write_pairs(path, count=12, **extra):
    """Pairs of the first training texts and a made-up "translation" (the words reversed)."""
    texts = [json.loads(line)["text"] for line in (FIXTURES / "train.jsonl").read_text().splitlines()[:count]]
    path.write_text("".join(
        json.dumps({"text": text, "text_pair": " ".join(reversed(text.split())), "lang": "de", **extra}) + "\n"
        for text in texts
    ))
    return path


def _options(out, **overrides):
    values = dict(
        train=[str(FIXTURES / "train.jsonl")], valid=[str(FIXTURES / "valid.jsonl")], out=str(out),
        init="bert_tiny", vocab_size=300, seq_len=32, batch_size=32, learning_rate=3e-3, epochs=3, verbose=0,
    )
    values.update(overrides)
    return TrainOptions(**values)


def _history(out):
    return json.loads(RunDirectory(out).history_path.read_text())["epochs"]


def _trainer(**kwargs):
    keras.utils.set_random_seed(0)
    config = xdomain_tf.EncoderConfig.architecture(
        "bert_tiny", vocab_size=60, hidden_size=32, intermediate_size=64, max_position_embeddings=16
    )
    classifier = xdomain_tf.build_multi_domain_classifier(xdomain_tf.build_encoder(config), DOMAINS, pooling="mean")
    trainer = MultiDomainTrainer(classifier, list(DOMAINS), **kwargs)
    trainer.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        metrics={d: [MaskedSparseCategoricalAccuracy(name="accuracy")] for d in DOMAINS},
    )
    return trainer


def _data(with_pairs=False):
    """16 examples of two domains in batches of 8, with one batch of 8 pairs in every batch."""
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 60, size=(16, 8)).astype("int32")
    domain_ids = np.array([0, 1] * 8, "int32")
    labels = np.array([i % 2 if d == 0 else i % 3 for i, d in enumerate(domain_ids)], "int32")
    x = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": np.ones_like(ids), "domain_id": domain_ids}
    y = {d: np.where(domain_ids == index, labels, -1) for index, d in enumerate(DOMAINS)}
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    if not with_pairs:
        return data
    source = rng.integers(5, 60, size=(8, 6)).astype("int32")
    target = source[:, ::-1].copy()  # a "translation" with the same words
    pairs = {f"{side}_{key}": value for side, ids in zip(SIDES, (source, target))
             for key, value in zip(FEATURES, (ids, 0 * ids, np.ones_like(ids)))}
    return tf.data.Dataset.zip(data, tf.data.Dataset.from_tensors(pairs).repeat()).map(
        lambda batch, pair: ({**batch[0], ALIGN_INPUT: pair}, batch[1])
    )


def test_the_alignment_loss_trains_beside_the_classifier():
    trainer = _trainer(align_weight=1.0, align_temperature=0.1)
    history = trainer.fit(_data(with_pairs=True), epochs=10, verbose=0, shuffle=False).history
    assert history["align_loss"][-1] < 0.5 * history["align_loss"][0]
    assert history["a_loss"][-1] < history["a_loss"][0] and history["b_loss"][-1] < history["b_loss"][0]
    evaluated = trainer.evaluate(_data(), verbose=0, return_dict=True)  # no pairs: no align_loss
    assert "align_loss" not in evaluated and "a_loss" in evaluated


def test_weight_zero_ignores_the_pairs():
    plain = _trainer().fit(_data(), epochs=2, verbose=0, shuffle=False).history
    ignored = _trainer(align_weight=0.0).fit(_data(with_pairs=True), epochs=2, verbose=0, shuffle=False).history
    assert ignored == plain


def test_align_weight_below_zero_is_refused():
    with pytest.raises(xdomain_tf.errors.XDomainError, match="align_weight must be a number >= 0, got -1"):
        _trainer(align_weight=-1)


def test_train_classifier_with_pairs_lowers_align_loss_and_still_learns(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    out = tmp_path / "run"
    lines = []
    train_classifier(_options(out, align_pairs=str(pairs), align_temperature=0.1, epochs=4), log=lines.append)
    epochs = _history(out)
    assert epochs[-1]["align_loss"] < epochs[0]["align_loss"]
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert "val_align_loss" not in epochs[-1] and "val_mean_accuracy" in epochs[-1]
    assert "alignment: 12 translation pairs (en-de 12), weight 1, temperature 0.1" in lines


def test_without_pairs_or_with_weight_zero_training_is_unchanged(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    train_classifier(_options(tmp_path / "plain", steps=4), log=lambda _: None)
    train_classifier(_options(tmp_path / "zero", steps=4, align_pairs=str(pairs), align_weight=0.0),
                     log=lambda _: None)
    keys = ("loss", "news_loss", "software_loss", "val_loss")
    plain, zero = _history(tmp_path / "plain"), _history(tmp_path / "zero")
    assert [[e[k] for k in keys] for e in zero] == [[e[k] for k in keys] for e in plain]
    assert "align_loss" not in zero[-1]


def test_cli_trains_with_align_pairs_end_to_end(tmp_path, capsys):
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    out = tmp_path / "run"
    code = main(["train", "--train", str(FIXTURES / "train.jsonl"), "--init", "bert_tiny", "--vocab-size", "300",
                 "--seq-len", "32", "--batch-size", "16", "--steps", "2", "--verbose", "0",
                 "--align-pairs", str(pairs), "--align-weight", "0.5", "--align-temperature", "0.2",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert "alignment: 12 translation pairs (en-de 12), weight 0.5, temperature 0.2" in captured.out
    assert "align_loss" in _history(out)[-1]
    options = json.loads((out / "options.json").read_text())
    assert (options["align_pairs"], options["align_weight"], options["align_temperature"]) == (str(pairs), 0.5, 0.2)
    assert (out / "model.keras").is_file()


@pytest.mark.parametrize("flags, message", [
    (["--align-pairs", "no/pairs.jsonl"], "--align-pairs no/pairs.jsonl: no such file"),
    (["--align-pairs", "."], "--align-pairs .: a folder, not a file"),
    (["--align-weight", "-1"], "--align-weight must be a number >= 0, got -1.0"),
    (["--align-temperature", "0"], "--align-temperature must be in [0.001, 10], got 0.0"),
    (["--align-pairs", "pairs.jsonl", "--freeze-encoder"],
     "--align-pairs trains the shared encoder: it does not combine with --freeze-encoder"),
])
def test_bad_alignment_options_are_one_line(tmp_path, monkeypatch, capsys, flags, message):
    monkeypatch.chdir(tmp_path)
    write_pairs(tmp_path / "pairs.jsonl")
    assert main(["train", "--train", "a.jsonl", "--out", "run", *flags]) == 2
    assert capsys.readouterr().err == f"xdomain-tf train: error: {message}\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("content, message", [
    ('{"text": "A goal", "lang": "de"}\n',
     'pairs.jsonl:1: field "text_pair": a translation pair needs text_pair (the translation)'),
    ('{"text": "A goal", "text_pair": "Ein Tor", "lang": "de"}\n',
     "--align-pairs pairs.jsonl: 1 pair(s); the in-batch contrastive loss needs at least 2"),
])
def test_bad_pairs_files_are_one_line(tmp_path, monkeypatch, capsys, content, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pairs.jsonl").write_text(content)
    code = main(["train", "--train", str(FIXTURES / "train.jsonl"), "--vocab-size", "300", "--verbose", "0",
                 "--align-pairs", "pairs.jsonl", "--out", "run"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err


def _two_replicas(tmp_path, pairs, out):
    script = pathlib.Path(__file__).with_name("two_cpu_cli_script.py")
    return subprocess.run(
        [sys.executable, str(script), "train", "--train", str(FIXTURES / "train.jsonl"), "--init", "bert_tiny",
         "--vocab-size", "300", "--seq-len", "32", "--batch-size", "16", "--learning-rate", "3e-3", "--epochs", "4",
         "--verbose", "0", "--strategy", "mirrored", "--align-pairs", str(pairs), "--align-temperature", "0.1",
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )


def test_align_pairs_trains_on_two_replicas_through_the_cli(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    result = _two_replicas(tmp_path, pairs, tmp_path / "run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "alignment: 12 translation pairs (en-de 12), weight 1, temperature 0.1" in result.stdout
    epochs = _history(tmp_path / "run")
    assert epochs[-1]["align_loss"] < epochs[0]["align_loss"] and epochs[-1]["loss"] < epochs[0]["loss"]
    # each replica's in-batch negatives are its own 6 pairs: the untrained loss is near log(6), not log(12)
    assert abs(epochs[0]["align_loss"] - np.log(6)) < abs(epochs[0]["align_loss"] - np.log(12))
    assert (tmp_path / "run" / "model.keras").is_file()
    few = write_pairs(tmp_path / "few.jsonl", count=3)
    refused = _two_replicas(tmp_path, few, tmp_path / "few-run")
    errors = [line for line in refused.stderr.splitlines() if line.startswith("xdomain-tf")]  # TF logs aside
    assert refused.returncode == 2 and errors == [
        f"xdomain-tf train: error: --align-pairs {few}: 3 pair(s); the in-batch contrastive loss needs at least 4 "
        "(2 per replica, 2 replicas)"
    ], refused.stderr[-3000:]
    assert not (tmp_path / "few-run" / "model.keras").exists()
