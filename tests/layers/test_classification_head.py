import keras
import numpy as np
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.layers import ClassificationHead


def _features():
    return np.random.default_rng(0).normal(size=(3, 8)).astype("float32")


def _randomized(head):
    head.build((None, 8))
    rng = np.random.default_rng(1)
    for variable in head.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    return head


def test_logits_without_and_with_a_hidden_layer():
    x = _features()
    plain = _randomized(ClassificationHead(4, dropout=0.5))
    expected = x @ plain.logits_dense.kernel.numpy() + plain.logits_dense.bias.numpy()
    np.testing.assert_allclose(plain(x), expected, atol=1e-5)
    assert [w.path for w in plain.weights] == [
        "classification_head/logits/kernel",
        "classification_head/logits/bias",
    ]
    hidden = _randomized(ClassificationHead(4, hidden_size=6, activation="tanh", name="head"))
    inner = np.tanh(x @ hidden.dense.kernel.numpy() + hidden.dense.bias.numpy())
    expected = inner @ hidden.logits_dense.kernel.numpy() + hidden.logits_dense.bias.numpy()
    np.testing.assert_allclose(hidden(x), expected, atol=1e-5)


def test_dropout_only_in_training():
    head = _randomized(ClassificationHead(4, dropout=0.5))
    x = _features()
    assert np.abs(head(x, training=True).numpy() - head(x).numpy()).max() > 1e-3


def test_float32_logits_under_mixed_precision(mixed_precision):
    for policy in ("mixed_bfloat16", "mixed_float16"):
        mixed_precision(policy)
        head = ClassificationHead(3, hidden_size=4)
        logits = head(keras.ops.cast(_features(), policy.split("_")[1]))
        assert head.dense.compute_dtype == policy.split("_")[1]
        assert logits.dtype == "float32" and tuple(logits.shape) == (3, 3)


def test_keras_round_trip():
    head = _randomized(ClassificationHead(5, hidden_size=6, activation="gelu", dropout=0.2))
    run_serialization_test(head)
    reloaded = run_model_saving_test(head, [_features()])
    assert (reloaded.num_classes, reloaded.hidden_size, reloaded.activation) == (5, 6, "gelu")
