"""What `train_classifier` and `train_pretraining` share: strategy and chief handling,
the optimizer, the standard callbacks and parameter counts."""
import shutil
import tempfile

import keras
import numpy as np

from xdomain_tf.optimizers.layerwise_adamw import LayerwiseAdamW
from xdomain_tf.optimizers.warmup_linear_decay import WarmupLinearDecay
from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.training.callbacks.best_model_keeper import BestModelKeeper
from xdomain_tf.training.callbacks.metrics_history import MetricsHistory
from xdomain_tf.training.distribution.precision import set_precision
from xdomain_tf.training.distribution.strategies import is_chief, strategy


def run_training(options, body, log=print):
    """Sets precision and strategy, then calls `body(options, run, distribution, chief, log)`.

    Non-chief workers of a multi-worker run write into a scratch folder, deleted
    afterwards, never into the run directory.

    Example:

    >>> from types import SimpleNamespace
    >>> options = SimpleNamespace(precision="fp32", strategy="default", out="runs/x")
    >>> run_training(options, lambda o, run, d, chief, log: (run.path.name, chief))
    ('x', True)
    """
    set_precision(options.precision)
    distribution = strategy(options.strategy)
    chief = is_chief(distribution)
    run = RunDirectory(options.out if chief else tempfile.mkdtemp(prefix="xdomain-tf-worker-"))
    try:
        return body(options, run, distribution, chief, log)
    finally:
        if not chief:
            shutil.rmtree(run.path, ignore_errors=True)


def training_optimizer(options, total_steps, num_layers, pretrained):
    """AdamW with warmup + linear decay and layer-wise decay, from the run's options.

    The peak learning rate is `options.learning_rate`, else 5e-5 for pretrained weights
    and 1e-3 from scratch.

    Example:

    >>> from xdomain_tf.training.train_options import TrainOptions
    >>> optimizer = training_optimizer(TrainOptions(train=["a"], out="r"), 100, num_layers=2, pretrained=True)
    >>> type(optimizer).__name__, optimizer.layerwise_decay
    ('LayerwiseAdamW', 1.0)
    """
    learning_rate = options.learning_rate or (5e-5 if pretrained else 1e-3)
    return LayerwiseAdamW(
        WarmupLinearDecay(learning_rate, total_steps, int(options.warmup_ratio * total_steps)),
        layerwise_decay=options.layerwise_decay,
        num_layers=num_layers,
        weight_decay=options.weight_decay,
    )


def standard_callbacks(run, options, monitor, chief):
    """`[MetricsHistory, BestModelKeeper, TensorBoard (chief only)]` for a run; returns
    `(callbacks, keeper)`.

    Example:

    >>> from types import SimpleNamespace
    >>> callbacks, keeper = standard_callbacks(RunDirectory("runs/x"), SimpleNamespace(batch_size=8, patience=None), "val_loss", chief=False)
    >>> [type(c).__name__ for c in callbacks]
    ['MetricsHistory', 'BestModelKeeper']
    """
    keeper = BestModelKeeper(monitor, patience=options.patience, weights_path=run.best_weights_path)
    callbacks = [MetricsHistory(run.history_path, options.batch_size), keeper]
    if chief:
        callbacks.append(keras.callbacks.TensorBoard(str(run.tensorboard_dir), update_freq="epoch"))
    return callbacks, keeper


def parameter_count(weights):
    """Total number of values in `weights`.

    Example:

    >>> parameter_count([np.zeros((2, 3)), np.zeros(4)])
    10
    """
    return int(sum(np.prod(w.shape) for w in weights))


def with_known_cardinality(dataset):
    """The dataset with its batch count asserted (counted once), so Keras evaluates it
    to the end without warning that the input "ran out of data".

    Example:

    >>> import tensorflow as tf
    >>> dataset = tf.data.Dataset.range(5).batch(2).unbatch().batch(2)
    >>> int(dataset.cardinality()), int(with_known_cardinality(dataset).cardinality())
    (-2, 3)
    """
    import tensorflow as tf

    count = int(dataset.reduce(0, lambda total, _: total + 1))
    return dataset.apply(tf.data.experimental.assert_cardinality(count))
