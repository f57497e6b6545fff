"""Padding in the exported SavedModel: text signatures pad each batch to its longest text
(the same answers as fixed-length padding), and `predict_ids` answers do not depend on how
a server pads a merged batch (TF Serving pads with each tensor's first element)."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401
from export_fixtures import SEQUENCE_LENGTH

from xdomain_tf.tasks import load_classifier

IDS = ("token_ids", "segment_ids", "padding_mask")
MIXED = [
    "goal",
    "market shares profit bank economy investors trade company stocks growth " * 6,
    "the vote",
    "algebra matrix equation numeric solver integral calculus vector theorem plot puzzle",
]


@pytest.fixture(scope="module")
def loaded(exported_model):
    return tf.saved_model.load(str(exported_model[1]))


@pytest.fixture(scope="module")
def fixed_preprocessor(classifier_run):
    model, _ = load_classifier(classifier_run)
    return model.preprocessor.with_options(pad_to="fixed")


def padded_like_tf_serving(tensor, width):
    """`tensor` `[batch, length]` padded to `width` columns with its first element, as
    TF Serving 2.20's batcher does with `pad_variable_length_inputs`
    (batching_util.cc, `PadTensor`)."""
    tensor = np.asarray(tensor)
    fill = np.full((tensor.shape[0], width - tensor.shape[1]), tensor.flat[0], tensor.dtype)
    return np.concatenate([tensor, fill], axis=1)


def merged_like_tf_serving(requests):
    """One batch of several `predict_ids` requests, each padded to the widest."""
    width = max(request["token_ids"].shape[1] for request in requests)
    return {name: np.concatenate([padded_like_tf_serving(r[name], width) for r in requests]) for name in IDS}


def test_predict_ids_answers_do_not_depend_on_who_shares_the_batch(loaded, fixed_preprocessor):
    short_texts, long_texts = ["goal", "the vote"], [MIXED[1], MIXED[3]]
    short = {name: value.numpy() for name, value in fixed_preprocessor.with_options(pad_to="longest")(
        tf.constant(short_texts)).items()}
    long = {name: value.numpy() for name, value in fixed_preprocessor(tf.constant(long_texts)).items()}
    assert short["token_ids"].shape[1] < long["token_ids"].shape[1] == SEQUENCE_LENGTH
    predict_ids = loaded.signatures["predict_ids"]
    alone = predict_ids(**{name: tf.constant(short[name]) for name in IDS})
    merged = predict_ids(**{name: tf.constant(value) for name, value in merged_like_tf_serving([short, long]).items()})
    for domain, logits in alone.items():
        np.testing.assert_allclose(merged[domain][:2], logits, atol=1e-5)


def test_text_signatures_pad_to_the_longest_text_and_answer_as_fixed_length(loaded, fixed_preprocessor, classifier_run):
    model, _ = load_classifier(classifier_run)
    texts = tf.constant(MIXED)
    features = fixed_preprocessor(texts)
    domain_id = tf.constant([0, 0, 1, 1])
    expected = model.route(model({**features, "domain_id": domain_id}), domain_id)["probabilities"].numpy()
    served = loaded.signatures["serving_default"](text=texts, domain=tf.constant(["news", "news", "software", "software"]))
    np.testing.assert_allclose(served["probabilities"], expected, atol=1e-5)
    news = loaded.signatures["classify_news"](text=texts)["probabilities"].numpy()
    logits = model({**features, "domain_id": tf.zeros([4], tf.int32)})["news"]
    np.testing.assert_allclose(news, tf.nn.softmax(logits).numpy(), atol=1e-5)
    # A batch of short texts runs at a width of its own (a multiple of 8), never past the
    # sequence length; a text longer than it truncates exactly as before.
    module_width = model.features(tf.constant(["goal", "the vote"]), pad_to="longest")["token_ids"].shape[1]
    assert module_width == 8
    assert model.features(texts, pad_to="longest")["token_ids"].shape[1] == SEQUENCE_LENGTH
    np.testing.assert_array_equal(model.features(texts, pad_to="longest")["token_ids"], features["token_ids"])


def test_metadata_says_longest_padding(exported_model):
    import json

    metadata = json.loads((exported_model[1] / "assets" / "metadata.json").read_text())
    assert metadata["preprocessor"]["pad_to"] == "longest"
    assert metadata["preprocessor"]["pad_to_multiple_of"] == 8


# Longer than CHUNK_ROWS, lengths mixed (8 to 32 tokens) and not sorted, both domains.
MANY = [MIXED[1], "goal", MIXED[3], "the vote", MIXED[0] + " " + MIXED[3], "market", MIXED[2], MIXED[1][:80], "cup"]
MANY_DOMAINS = ["news", "software", "software", "news", "news", "news", "software", "news", "software"]


def network_widths(module):
    """Records the `[batch, width]` of every encoder call of `module`'s signatures."""
    seen = []
    forward = module._forward

    def spy(token_ids, segment_ids, padding_mask, domain_id):
        record = tf.numpy_function(lambda shape: seen.append(tuple(shape)) or shape, [tf.shape(token_ids)], tf.int32)
        with tf.control_dependencies([record]):
            return forward(tf.identity(token_ids), segment_ids, padding_mask, domain_id)

    module._forward = tf.function(spy, input_signature=forward.input_signature, autograph=False)
    return seen


def test_text_signatures_run_the_network_in_length_sorted_chunks(classifier_run):
    from xdomain_tf.export.serving_module import ServingModule

    model, _ = load_classifier(classifier_run)
    module = ServingModule(model, chunk_rows=4)
    seen = network_widths(module)
    served = module.signatures()["serving_default"](text=tf.constant(MANY), domain=tf.constant(MANY_DOMAINS))
    lengths = model.features(tf.constant(MANY))["padding_mask"].numpy().sum(axis=1)
    # Sorted by length, 4 texts a call, each call as wide as its longest text (a multiple of 8).
    expected = [(len(chunk), min(SEQUENCE_LENGTH, -(-int(chunk.max()) // 8) * 8))
                for chunk in np.array_split(np.sort(lengths), [4, 8])]
    # The first chunk runs outside the loop over the others: calls may come in any order.
    assert sorted((int(rows), int(width)) for rows, width in seen) == sorted(expected)
    assert expected[0][1] < SEQUENCE_LENGTH
    domain_id = tf.constant([list(model.domains).index(domain) for domain in MANY_DOMAINS])
    fixed = model.features(tf.constant(MANY), pad_to=None)
    keras = model.route(model({**fixed, "domain_id": domain_id}), domain_id)["probabilities"].numpy()
    np.testing.assert_allclose(served["probabilities"], keras, atol=1e-5)


def test_every_signature_answers_a_mixed_batch_in_input_order(loaded, fixed_preprocessor, classifier_run):
    model, _ = load_classifier(classifier_run)
    texts = tf.constant(MANY)
    features = fixed_preprocessor(texts)
    ids = {name: features[name] for name in IDS}
    domain_id = tf.constant([list(model.domains).index(domain) for domain in MANY_DOMAINS])
    logits = model({**ids, "domain_id": domain_id})
    expected = model.route(logits, domain_id)
    served = loaded.signatures["serving_default"](text=texts, domain=tf.constant(MANY_DOMAINS))
    np.testing.assert_allclose(served["probabilities"], expected["probabilities"], atol=1e-5)
    assert served["label"].numpy().tolist() == model.label_names(domain_id, expected["label_id"]).numpy().tolist()
    for domain in model.domains:
        np.testing.assert_allclose(loaded.signatures["predict_ids"](**ids)[domain], logits[domain], atol=1e-5)
        classify = loaded.signatures[f"classify_{domain}"](text=texts)["probabilities"]
        np.testing.assert_allclose(classify, tf.nn.softmax(logits[domain]), atol=1e-5)
    encoded = model.encoder(ids)["sequence_output"]
    mask = tf.cast(ids["padding_mask"], tf.float32)[:, :, None]
    mean = tf.reduce_sum(encoded * mask, axis=1) / tf.reduce_sum(mask, axis=1)  # the fixture pools by mean
    np.testing.assert_allclose(loaded.signatures["encode"](text=texts)["embedding"], mean, atol=1e-5)


def test_a_batch_of_at_most_chunk_rows_runs_once_at_its_own_width(classifier_run, fixed_preprocessor):
    from xdomain_tf.export.serving_module import ServingModule

    model, _ = load_classifier(classifier_run)
    module = ServingModule(model, chunk_rows=4)
    seen = network_widths(module)
    texts = tf.constant(["goal", MIXED[1]])
    served = module.signatures()["serving_default"](text=texts, domain=tf.constant(["news", "software"]))
    longest = int(model.features(texts)["padding_mask"].numpy().sum(axis=1).max())
    assert seen == [(2, min(SEQUENCE_LENGTH, -(-longest // 8) * 8))]
    # Fixed-length ids (as a predict_ids client sends them) are cut to the same width.
    seen.clear()
    ids = {name: fixed_preprocessor(texts)[name] for name in IDS}
    logits = module.signatures()["predict_ids"](**ids)
    assert seen == [(2, min(SEQUENCE_LENGTH, -(-longest // 8) * 8))]
    domain_id = tf.constant([list(model.domains).index("news"), list(model.domains).index("software")])
    expected = model({**ids, "domain_id": domain_id})
    np.testing.assert_allclose(served["probabilities"][0, : len(model.domains["news"])],
                               tf.nn.softmax(expected["news"][0]), atol=1e-5)
    np.testing.assert_allclose(logits["software"], expected["software"], atol=1e-5)
