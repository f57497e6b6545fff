import numpy as np

from xdomain_tf.training.pretraining.losses import info_nce_loss, retrieval_accuracy, token_cross_entropy


def _log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def test_info_nce_equals_a_numpy_reference():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(6, 8))
    target = source + 0.5 * rng.normal(size=(6, 8))
    source /= np.linalg.norm(source, axis=1, keepdims=True)
    target /= np.linalg.norm(target, axis=1, keepdims=True)
    logits = source @ target.T / 0.07
    rows = -np.mean(np.diag(_log_softmax(logits)))
    columns = -np.mean(np.diag(_log_softmax(logits.T)))
    np.testing.assert_allclose(float(info_nce_loss(logits.astype("float32"))), (rows + columns) / 2, rtol=1e-5)
    expected_accuracy = np.mean(np.argmax(logits, axis=1) == np.arange(6))
    np.testing.assert_allclose(float(retrieval_accuracy(logits)), expected_accuracy)


def test_token_cross_entropy_sums_weighted_tokens():
    logits = np.log(np.array([[[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]], "float32"))
    loss, weight, correct = token_cross_entropy([[0, 1]], logits, [[1.0, 0.0]])
    np.testing.assert_allclose(loss.numpy(), [-np.log(0.7)], rtol=1e-5)
    assert weight.numpy().tolist() == [1.0] and correct.numpy().tolist() == [1.0]
