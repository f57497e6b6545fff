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
