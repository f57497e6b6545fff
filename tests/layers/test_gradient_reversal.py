import numpy as np
import tensorflow as tf
from layer_test_case import run_model_saving_test, run_serialization_test

from xdomain_tf.layers import GradientReversal


def _gradient(layer, x, weights):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x) * weights)
    return tape.gradient(loss, x).numpy()


def test_identity_forward_and_reversed_scaled_gradient():
    layer = GradientReversal(lambda_value=0.7)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    weights = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(layer(x), x)
    # d(sum(w * x))/dx = w without the layer; the layer turns it into -0.7 * w.
    np.testing.assert_allclose(_gradient(layer, x, weights), -0.7 * weights, rtol=1e-6)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1


def test_lambda_changes_at_run_time_without_retracing():
    layer = GradientReversal(lambda_value=0.0)
    traces = []

    @tf.function
    def gradient(x):
        traces.append(1)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(2.0 * layer(x))
        return tape.gradient(loss, x)

    x = tf.ones((2,))
    np.testing.assert_allclose(gradient(x), [0.0, 0.0])
    layer.set_lambda(0.25)
    np.testing.assert_allclose(gradient(x), [-0.5, -0.5])
    assert len(traces) == 1


def test_numerical_gradient_sign_of_a_composed_function():
    layer = GradientReversal(lambda_value=1.0)
    x = tf.constant([0.3, -1.2])
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.square(layer(x)))
    analytic = tape.gradient(loss, x).numpy()
    epsilon = 1e-3
    numeric = [
        (np.sum(np.square(x.numpy() + epsilon * e)) - np.sum(np.square(x.numpy() - epsilon * e)))
        / (2 * epsilon)
        for e in np.eye(2, dtype="float32")
    ]
    np.testing.assert_allclose(analytic, -np.array(numeric), rtol=1e-2)


def test_keras_round_trip_keeps_the_current_lambda():
    layer = GradientReversal(lambda_value=1.0, name="reversal")
    layer.set_lambda(0.4)
    assert float(run_serialization_test(layer).lambda_variable.numpy()) == np.float32(0.4)
    reloaded = run_model_saving_test(layer, [np.ones((2, 3), "float32")])
    assert float(reloaded.lambda_variable.numpy()) == np.float32(0.4)
    assert reloaded.get_config()["lambda_value"] == np.float32(0.4)
