"""The exported signatures, loaded in this process, against the Keras model."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401
from hypothesis import given, settings
from hypothesis import strategies as st

from xdomain_tf.export.serving_module import classify_signature_name
from xdomain_tf.models.multi_domain_classifier import masked_mean
from xdomain_tf.tasks import load_classifier

LABELS = {"news": ["business", "politics", "sport"], "software": ["games", "math"]}


@pytest.fixture(scope="module")
def loaded(exported_model):
    return tf.saved_model.load(str(exported_model[1]))


@pytest.fixture(scope="module")
def keras_run(classifier_run):
    model, _ = load_classifier(classifier_run)
    return model, model.preprocessor


def test_classify_signature_name():
    assert classify_signature_name("news") == "classify_news"
    assert classify_signature_name("debian de/x") == "classify_debian_de_x"


def test_route_pads_and_picks_own_head(keras_run):
    model, _ = keras_run  # domains news (3 labels), software (2 labels)
    logits = {"news": tf.constant([[0.0, 1.0, 2.0], [5.0, 0.0, 0.0]]), "software": tf.constant([[3.0, 3.0], [0.0, 2.0]])}
    routed = model.route(logits, tf.constant([1, 0]))
    probabilities, label_id, score = routed["probabilities"], routed["label_id"], routed["score"]
    np.testing.assert_allclose(probabilities[0], [0.5, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(probabilities[1], tf.nn.softmax([5.0, 0.0, 0.0]).numpy(), atol=1e-7)
    assert label_id.numpy().tolist() == [0, 0]
    np.testing.assert_allclose(score, [0.5, tf.nn.softmax([5.0, 0.0, 0.0]).numpy()[0]], atol=1e-7)


def test_classify_domain_and_pair_signatures(loaded, keras_run, valid_records):
    model, preprocessor = keras_run
    records = [record for record in valid_records if record["domain"] == "software"][:6]
    texts = tf.constant([record["text"] for record in records])
    by_domain = loaded.signatures["classify_software"](text=texts)
    default = loaded.signatures["serving_default"](text=texts, domain=tf.constant(["software"] * len(records)))
    assert by_domain["probabilities"].shape == (len(records), 2)
    np.testing.assert_allclose(by_domain["probabilities"], default["probabilities"][:, :2], atol=1e-6)
    assert by_domain["label"].numpy().tolist() == default["label"].numpy().tolist()
    assert [label.decode() for label in by_domain["label"].numpy()] == [record["label"] for record in records]

    pair = loaded.signatures["serving_pair"](
        text=texts, text_pair=tf.constant(["algebra"] * len(records)), domain=tf.constant(["software"] * len(records))
    )
    features = dict(preprocessor({"text": texts, "text_pair": tf.constant(["algebra"] * len(records))}))
    assert features["segment_ids"].numpy().max() == 1
    features["domain_id"] = tf.ones([len(records)], tf.int32)
    expected = tf.nn.softmax(model(features)["software"]).numpy()
    np.testing.assert_allclose(pair["probabilities"][:, :2], expected, atol=1e-5)


def test_encode_and_predict_ids_match_keras(loaded, keras_run, valid_records):
    model, preprocessor = keras_run
    texts = tf.constant([record["text"] for record in valid_records[:5]])
    features = preprocessor(texts)
    encoded = model.encoder({name: features[name] for name in ("token_ids", "segment_ids", "padding_mask")})
    expected = masked_mean(encoded["sequence_output"], features["padding_mask"])  # the fixture pools by mean
    embedding = loaded.signatures["encode"](text=texts)["embedding"]
    assert embedding.shape == (5, 32)
    np.testing.assert_allclose(embedding, expected, atol=1e-5)

    logits = loaded.signatures["predict_ids"](**{name: features[name] for name in ("token_ids", "segment_ids", "padding_mask")})
    keras_logits = model({**features, "domain_id": tf.zeros([5], tf.int32)})
    assert sorted(logits) == ["news", "software"]
    for domain in LABELS:
        np.testing.assert_allclose(logits[domain], keras_logits[domain], atol=1e-5)


def test_unknown_domain_fails_the_request_naming_it(loaded):
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        loaded.signatures["serving_default"](text=tf.constant(["a", "b"]), domain=tf.constant(["news", "sports"]))
    message = error.value.message
    assert "unknown domain(s):" in message and "[sports]" in message
    assert "known domains: news, software" in message
    # The next request is served normally.
    outputs = loaded.signatures["serving_default"](text=tf.constant(["goal"]), domain=tf.constant(["news"]))
    assert outputs["label"].shape == (1,)


def test_mismatched_batch_and_empty_batch(loaded):
    with pytest.raises(tf.errors.InvalidArgumentError, match="one value per example"):
        loaded.signatures["serving_default"](text=tf.constant(["a", "b"]), domain=tf.constant(["news"]))
    empty = loaded.signatures["serving_default"](text=tf.constant([], tf.string), domain=tf.constant([], tf.string))
    assert empty["probabilities"].shape == (0, 3) and empty["label"].shape == (0,)


def check_outputs(outputs, domains):
    probabilities = outputs["probabilities"].numpy()
    assert probabilities.shape == (len(domains), 3)
    assert np.all(np.isfinite(probabilities))
    for row, domain in enumerate(domains):
        n = len(LABELS[domain])
        assert probabilities[row, :n].sum() == pytest.approx(1.0, abs=1e-5)
        assert np.all(probabilities[row, n:] == 0)
        label = outputs["label"].numpy()[row].decode()
        assert label == LABELS[domain][int(probabilities[row].argmax())]
        assert outputs["score"].numpy()[row] == pytest.approx(probabilities[row].max())


text_values = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    st.builds(lambda piece, count: piece * count, st.text(min_size=1, max_size=4), st.integers(20_000, 100_000)),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(text_values, st.sampled_from(sorted(LABELS))), min_size=1, max_size=4))
def test_any_text_gives_valid_outputs(loaded, examples):
    texts = [text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text for text, _ in examples]
    domains = [domain for _, domain in examples]
    outputs = loaded.signatures["serving_default"](text=tf.constant(texts, tf.string), domain=tf.constant(domains))
    check_outputs(outputs, domains)


def test_adapter_models_encode_and_score_per_domain(keras_run):
    """With per-domain adapters the encoder depends on the domain: `encode` takes one, and
    `predict_ids` runs each domain's logits with that domain's adapters."""
    from xdomain_tf.export.serving_module import ServingModule
    from xdomain_tf.models import EncoderConfig, build_encoder
    from xdomain_tf.tasks import MultiDomainTextClassifier

    _, preprocessor = keras_run
    config = EncoderConfig.architecture(
        "bert_tiny", vocab_size=preprocessor.tokenizer.vocabulary_size, hidden_size=16,
        num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
    )
    encoder = build_encoder(config, num_adapters=2, adapter_reduction_factor=4)
    for weight in encoder.parameter_efficient_weights:  # adapters start as identity: make them matter
        weight.assign(tf.random.normal(weight.shape, stddev=0.5, seed=1))
    model = MultiDomainTextClassifier(encoder, LABELS, preprocessor=preprocessor)
    signatures = ServingModule(model).signatures()
    texts = tf.constant(["algebra matrix", "goal match"])
    features = preprocessor(texts)
    ids = {name: features[name] for name in ("token_ids", "segment_ids", "padding_mask")}

    with_news = encoder({**ids, "adapter_index": tf.constant([0, 0])})["pooled_output"]
    with_software = encoder({**ids, "adapter_index": tf.constant([1, 1])})["pooled_output"]
    assert np.abs(with_news - with_software).max() > 1e-3
    embedding = signatures["encode"](text=texts, domain=tf.constant(["software", "news"]))["embedding"]
    np.testing.assert_allclose(embedding, [with_software[0], with_news[1]], atol=1e-5)

    logits = signatures["predict_ids"](**ids)
    for index, domain in enumerate(LABELS):
        expected = model({**ids, "domain_id": tf.fill([2], index)})[domain]
        np.testing.assert_allclose(logits[domain], expected, atol=1e-5)
