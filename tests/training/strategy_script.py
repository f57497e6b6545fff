"""Trains a tiny model under the default strategy and MirroredStrategy over two logical CPUs; prints max |dw|."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from xdomain_tf.training.distribution.strategies import strategy  # noqa: E402

rng = np.random.default_rng(0)
x = rng.normal(size=(64, 5)).astype("float32")
y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")


def train(kind):
    distribution = strategy(kind, device="/cpu:0") if kind == "one_device" else strategy(kind)
    keras.utils.set_random_seed(0)
    with distribution.scope():
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
        model.compile(keras.optimizers.Adam(0.01), keras.losses.BinaryCrossentropy(from_logits=True))
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    model.fit(data, epochs=3, verbose=0)
    return distribution.num_replicas_in_sync, model.get_weights()


replicas_default, default = train("default")
replicas_mirrored, mirrored = train("mirrored")
print(replicas_default, replicas_mirrored, max(float(np.abs(a - b).max()) for a, b in zip(default, mirrored)))
