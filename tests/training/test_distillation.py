import sys
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tasks"))
from task_fixtures import DOMAINS, FIXTURES, fixture_records, tiny_classifier  # noqa: E402

from xdomain_tf.errors import DataError, XDomainError  # noqa: E402
from xdomain_tf.tasks import MultiDomainTextClassifier, load_classifier  # noqa: E402
from xdomain_tf.tasks.student_spec import build_student  # noqa: E402
from xdomain_tf.training.distillation import (  # noqa: E402
    PAD_LOGIT, classifier_internals, distill, own_domain_logits, soft_label_loss,
)

MAX_LABELS = max(len(labels) for labels in DOMAINS.values())


def _numpy_soft_loss(teacher, student, temperature):
    def log_softmax(values):
        values = values / temperature
        values = values - values.max(-1, keepdims=True)
        return values - np.log(np.exp(values).sum(-1, keepdims=True))

    p_teacher = np.exp(log_softmax(teacher))
    return temperature**2 * np.sum(
        np.where(p_teacher > 0, p_teacher * (log_softmax(teacher) - log_softmax(student)), 0.0), axis=-1
    )


@pytest.fixture(scope="module")
def teacher():
    keras.utils.set_random_seed(1)
    clf = tiny_classifier()
    clf.fit(fixture_records(), epochs=6, batch_size=16, verbose=0)
    return clf


def _features(clf, records):
    features = clf.features(tf.constant([r["text"] for r in records]), pad_to="longest")
    features["domain_id"] = tf.constant([clf.domain_names.index(r["domain"]) for r in records])
    return features


def _teacher_student_kl(teacher, student, records):
    """Mean KL(teacher || student) of the routed probabilities (T = 1) on `records`."""
    columns = {"text": [r["text"] for r in records], "domain": [r["domain"] for r in records]}
    p, q = teacher.predict(columns, verbose=0)["probabilities"], student.predict(columns, verbose=0)["probabilities"]
    return float(np.mean(np.sum(np.where(p > 0, p * (np.log(p + 1e-30) - np.log(q + 1e-30)), 0.0), axis=-1)))


@pytest.mark.parametrize("temperature", [1.0, 2.5, 8.0])
def test_soft_label_loss_equals_numpy(temperature):
    rng = np.random.default_rng(0)
    teacher, student = 3 * rng.normal(size=(6, 4)), 3 * rng.normal(size=(6, 4))
    teacher[:2, 3] = student[:2, 3] = PAD_LOGIT  # a domain with 3 labels: the 4th slot is padding
    got = soft_label_loss(teacher.astype("float32"), student.astype("float32"), temperature).numpy()
    np.testing.assert_allclose(got, _numpy_soft_loss(teacher, student, temperature), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_numpy_soft_loss(teacher[:2, :3], student[:2, :3], temperature), got[:2], rtol=1e-4)
    assert np.all(soft_label_loss(teacher, teacher, temperature).numpy() == pytest.approx(0.0, abs=1e-5))


def test_own_domain_logits_route_each_example_to_its_head():
    logits = {"news": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), "software": np.array([[7.0, 8.0], [9.0, 10.0]])}
    routed = own_domain_logits(logits, np.array([1, 0]), list(DOMAINS), MAX_LABELS).numpy()
    np.testing.assert_array_equal(routed, [[7.0, 8.0, PAD_LOGIT], [4.0, 5.0, 6.0]])


def test_classifier_internals_match_the_model(teacher):
    records = fixture_records("valid")[:8]
    features = _features(teacher, records)
    outputs = classifier_internals(teacher, features, hidden_states=True, attentions=True)
    expected = teacher(features, training=False)
    for domain in DOMAINS:
        np.testing.assert_allclose(outputs["logits"][domain], expected[domain], atol=1e-5)
    sequence = teacher.encoder({k: features[k] for k in ("token_ids", "segment_ids", "padding_mask")})["sequence_output"]
    np.testing.assert_allclose(outputs["hidden_states"][-1], sequence, atol=1e-5)
    assert len(outputs["hidden_states"]) == 3 and len(outputs["attentions"]) == 2
    attention = outputs["attentions"][0].numpy()
    mask = features["padding_mask"].numpy()
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    assert np.all(attention[mask[:, None, None, :].repeat(attention.shape[2], 2).repeat(2, 1) == 0] < 1e-6)


def test_a_distilled_student_lowers_its_loss_and_moves_towards_the_teacher(teacher):
    keras.utils.set_random_seed(0)
    records = fixture_records()
    student = build_student(teacher, "bert_tiny,hidden=64,heads=2", texts=None).classifier
    valid = fixture_records("valid")
    before = _teacher_student_kl(teacher, student, valid)
    result = distill(teacher, student, records, temperature=2.0, alpha=0.3, epochs=8, batch_size=16, seed=0)
    after = _teacher_student_kl(teacher, result.student, valid)
    losses = [row["loss"] for row in result.history]
    assert losses[-1] < 0.6 * losses[0]
    assert result.history[-1]["soft_loss"] < result.history[0]["soft_loss"]
    assert after < 0.5 * before
    columns = {"text": [r["text"] for r in valid], "domain": [r["domain"] for r in valid]}
    agreement = np.mean(
        teacher.predict(columns, verbose=0)["label_id"] == result.student.predict(columns, verbose=0)["label_id"]
    )
    assert agreement > 0.7


def test_the_teacher_runs_once_per_example_and_its_cache_is_reused(teacher, monkeypatch):
    embeddings = teacher.encoder.embeddings
    seen = []
    original = type(embeddings).call

    def counting_call(self, token_ids, *args, **kwargs):
        if self is embeddings:
            seen.append(int(token_ids.shape[0]))
        return original(self, token_ids, *args, **kwargs)

    monkeypatch.setattr(type(embeddings), "call", counting_call)
    records = fixture_records()
    unlabelled = [{"text": r["text"], "domain": r["domain"]} for r in fixture_records("valid")]
    result = distill(teacher, "layers=1", records, unlabelled=unlabelled, epochs=3, batch_size=16)
    assert sum(seen) == len(records) + len(unlabelled)  # one forward pass per example, not per epoch
    assert result.summary["teacher_seconds_saved"] == pytest.approx(2 * result.summary["teacher_pass_seconds"], abs=0.02)
    cache = result.teacher_cache
    assert cache.size == len(records) + len(unlabelled) and cache.hidden_states is None
    expected = own_domain_logits(
        teacher(_features(teacher, records[:5])), _features(teacher, records[:5])["domain_id"], list(DOMAINS), MAX_LABELS
    )
    np.testing.assert_allclose(cache.logits[:5], expected, atol=1e-5)
    seen.clear()
    distill(teacher, "bert_tiny", records, unlabelled=unlabelled, epochs=1, batch_size=16, teacher_cache=cache)
    assert seen == []
    with pytest.raises(XDomainError, match="teacher_cache: it was computed on other examples"):
        distill(teacher, "bert_tiny", records, epochs=1, teacher_cache=cache)


def test_records_without_labels_learn_from_the_soft_loss_only(teacher):
    unlabelled = [{"text": r["text"], "domain": r["domain"]} for r in fixture_records()]
    result = distill(teacher, "layers=1", unlabelled, alpha=0.5, epochs=1, batch_size=16)
    assert result.history[0]["hard_loss"] == 0.0 and result.history[0]["soft_loss"] > 0
    assert result.summary["unlabelled_examples"] == len(unlabelled)
    with pytest.raises(XDomainError, match="records without labels need alpha < 1"):
        distill(teacher, "layers=1", unlabelled, alpha=1.0)


def test_hidden_and_attention_transfer(teacher):
    keras.utils.set_random_seed(0)
    records = fixture_records()
    narrow = distill(teacher, "bert_tiny,hidden=64,heads=2", records, hidden_loss=1.0, attention_loss=1.0,
                     epochs=3, batch_size=16)
    history = narrow.history
    assert history[-1]["hidden_loss"] < history[0]["hidden_loss"]
    assert history[-1]["attention_loss"] < history[0]["attention_loss"]
    assert narrow.teacher_cache.hidden_layers == (0, 1, 2)
    cut = distill(teacher, "layers=1,vocab=trim", records, alpha=0.0, hidden_loss=1.0, epochs=1, batch_size=16)
    assert cut.teacher_cache.hidden_layers == (0, 1)  # layers=1 keeps teacher layer 0: its output is state 1
    with pytest.raises(XDomainError, match="student layer 1 has 4 heads, teacher layer 1 has 2 "):
        distill(teacher, "bert_tiny,heads=4", records, attention_loss=1.0)


@pytest.mark.parametrize("change, message", [
    (dict(temperature=0), "temperature must be a number > 0, got 0"),
    (dict(temperature=float("nan")), "temperature must be a number > 0"),
    (dict(alpha=1.5), r"alpha must be a number in \[0, 1\]"),
    (dict(hidden_loss=-1), "hidden_loss must be a weight >= 0"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(student="layers=3"), "layers=3: the teacher has 2 layers; K must be between 1 and 2"),
    (dict(student="layers=0"), "layers must be a positive integer"),
    (dict(student="bert_gigantic"), "unknown architecture"),
])
def test_bad_arguments_are_one_line_errors(teacher, change, message):
    arguments = dict(student="bert_tiny", temperature=2.0, alpha=0.5, epochs=1)
    arguments.update(change)
    with pytest.raises(XDomainError, match=message) as error:
        distill(teacher, arguments.pop("student"), fixture_records(), **arguments)
    assert "\n" not in str(error.value)


def test_data_or_student_with_other_domains_or_labels_than_the_teacher(teacher, tmp_path):
    path = tmp_path / "other.jsonl"
    path.write_text('{"text": "a goal", "domain": "news", "label": "sport"}\n'
                    '{"text": "a recipe", "domain": "cooking", "label": "baking"}\n')
    with pytest.raises(DataError, match=r"other.jsonl:2: field \"domain\": the teacher has no domain 'cooking' "
                                        r"\(its domains: news, software\)"):
        distill(teacher, "bert_tiny", [str(path)])
    with pytest.raises(DataError, match="the teacher's domain 'news' has no label 'weather'"):
        distill(teacher, "bert_tiny", [{"text": "rain", "domain": "news", "label": "weather"}])
    other = MultiDomainTextClassifier.from_preset(
        "bert_tiny", domains={"news": ["politics", "sport", "tech"], "games": ["a", "b"]}, sequence_length=16,
        vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "goal"],
    )
    with pytest.raises(XDomainError, match=r"the student's domains \(news, games\) differ from the teacher's "
                                           r"\(news, software\)"):
        distill(teacher, other, fixture_records())
    relabelled = MultiDomainTextClassifier.from_preset(
        "bert_tiny", domains={"news": ["politics", "sport", "weather"], "software": ["games", "science"]},
        sequence_length=16, vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "goal"],
    )
    with pytest.raises(XDomainError, match=r"domain 'news': the student's labels \(politics, sport, weather\)"):
        distill(teacher, relabelled, fixture_records())


def test_out_writes_a_classifier_run_directory(teacher, tmp_path):
    keras.utils.set_random_seed(0)
    result = distill(teacher, "layers=1,vocab=trim", [str(FIXTURES / "train.jsonl")],
                     valid=[str(FIXTURES / "valid.jsonl")], epochs=2, batch_size=16, out=tmp_path / "run")
    for name in ("run.json", "model.keras", "vocab.txt", "label_space.json", "options.json", "history.json"):
        assert (tmp_path / "run" / name).exists(), name
    loaded, run = load_classifier(tmp_path / "run")
    assert run.load_options()["valid"] == [str(FIXTURES / "valid.jsonl")]
    assert {"val_news_macro_f1", "val_software_macro_f1", "val_mean_macro_f1"} <= set(result.history[-1])
    texts = [r["text"] for r in fixture_records("valid")]
    domains = [r["domain"] for r in fixture_records("valid")]
    assert [row["label"] for row in loaded.classify(texts, domains)] == [
        row["label"] for row in result.student.classify(texts, domains)
    ]
    assert loaded.preprocessor.tokenizer.vocabulary_size < teacher.preprocessor.tokenizer.vocabulary_size
