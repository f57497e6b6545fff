"""What `train_classifier` and `train_pretraining` share: strategy and chief handling,
the step counts, the optimizer, compiling, the standard callbacks, the resumable fit that
keeps the best epoch, and parameter counts."""
import math
import shutil
import tempfile

import keras
import numpy as np

from xdomain_tf.optimizers.layerwise_adamw import LayerwiseAdamW
from xdomain_tf.optimizers.warmup_linear_decay import WarmupLinearDecay
from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.training.callbacks.best_model_keeper import BestModelKeeper
from xdomain_tf.training.callbacks.metrics_history import MetricsHistory
from xdomain_tf.training.distribution.precision import jit_compile_setting, set_precision
from xdomain_tf.training.distribution.strategies import is_chief, strategy
from xdomain_tf.training.fit_resumption import resumable_fit


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
    # The chief owns the run directory while it trains: same options to resume, one writer.
    lock = run.claim(options.to_dict()) if chief and hasattr(options, "to_dict") else None
    try:
        return body(options, run, distribution, chief, log)
    finally:
        if lock is not None:
            lock.release()
        if not chief:
            shutil.rmtree(run.path, ignore_errors=True)


def epoch_steps(count, options):
    """Steps per epoch and total steps of a run over `count` examples.

    An epoch is one pass over the examples (`options.batch_size` a step), for
    `options.epochs` epochs; `options.steps`, when set, is the total instead, spread over
    at most `options.epochs` epochs.

    Example:

    >>> from types import SimpleNamespace
    >>> epoch_steps(100, SimpleNamespace(batch_size=32, epochs=3, steps=None))
    (4, 12)
    >>> epoch_steps(100, SimpleNamespace(batch_size=32, epochs=3, steps=10))
    (4, 12)
    """
    per_epoch = max(1, math.ceil(count / options.batch_size))
    if options.steps:
        epochs = max(1, min(options.epochs, options.steps))
        per_epoch = max(1, math.ceil(options.steps / epochs))
        return per_epoch, per_epoch * epochs
    return per_epoch, per_epoch * options.epochs


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


def compile_and_build(trainer, optimizer, options, dummy_batch, metrics=None):
    """Compiles `trainer`, builds it on `dummy_batch` and builds the optimizer over every
    variable that may ever train; call it in the strategy scope.

    Example:

    >>> from types import SimpleNamespace
    >>> model = keras.Sequential([keras.layers.Dense(1)])
    >>> compile_and_build(model, keras.optimizers.SGD(), SimpleNamespace(jit_compile="off"), np.zeros((1, 2)))
    >>> model.built, model.optimizer.built
    (True, True)
    """
    trainer.compile(optimizer=optimizer, metrics=metrics, jit_compile=jit_compile_setting(options.jit_compile))
    trainer(dummy_batch, training=False)
    optimizer.build(trainer.trainable_variables)


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


def fit_and_keep_best(
    trainer,
    train_data,
    run,
    options,
    keeper,
    *,
    chief,
    steps_per_epoch,
    total_steps,
    validation_data=None,
    callbacks=(),
    before_epoch=None,
    keep_best=True,
    log=print,
):
    """`resumable_fit` with the run's checkpoints, then the best epoch's weights back.

    The checkpoints live in `options.out` (for every worker); the best epoch's weights are
    those `keeper` (the run's `BestModelKeeper`) saved, restored when it saw one and
    `keep_best` is True (False keeps the last epoch's).

    Returns:
        The global step reached.

    Example:

    >>> step = fit_and_keep_best(trainer, train_data, run, options, keeper, chief=True,
    ...                          steps_per_epoch=10, total_steps=30)  # doctest: +SKIP
    """
    step = resumable_fit(
        trainer,
        train_data,
        epochs=total_steps // steps_per_epoch,
        steps_per_epoch=steps_per_epoch,
        checkpoint_dir=RunDirectory(options.out).checkpoint_dir,
        validation_data=validation_data,
        chief=chief,
        checkpoint_every=options.checkpoint_every,
        callbacks=callbacks,
        verbose=options.verbose,
        before_epoch=before_epoch,
        log=log,
    )
    if keep_best and keeper.best_epoch is not None and run.best_weights_path.exists():
        trainer.load_weights(str(run.best_weights_path))
        log(f"kept the best epoch ({keeper.best_epoch}, {keeper.monitor} {keeper.best:.4f})")
    return step


def log_parameter_count(model, log):
    """Logs and returns `(trainable, total)`: the model's trainable and total parameters.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    >>> log_parameter_count(model, print)
    parameters: 9 total, 9 trainable (100.00%)
    (9, 9)
    """
    trainable, total = parameter_count(model.trainable_weights), parameter_count(model.weights)
    log(f"parameters: {total:,} total, {trainable:,} trainable ({100 * trainable / total:.2f}%)")
    return trainable, total


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
