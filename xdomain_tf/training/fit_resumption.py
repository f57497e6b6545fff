"""`model.fit` that resumes a killed run at the exact step it had reached."""

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.callbacks.best_model_keeper import BestModelKeeper
from xdomain_tf.training.callbacks.resumable_checkpoint import ResumableCheckpoint
from xdomain_tf.training.callbacks.terminate_on_non_finite import TerminateOnNonFinite


def resumable_fit(
    model,
    train_dataset,
    *,
    epochs,
    steps_per_epoch,
    checkpoint_dir,
    validation_data=None,
    checkpoint_every=None,
    callbacks=(),
    verbose="auto",
    chief=True,
    before_epoch=None,
    log=None,
):
    """Trains a compiled model for `epochs * steps_per_epoch` steps, resumably.

    The training data must be deterministic (seeded shuffles): batch `k` of
    `train_dataset().repeat()` is the batch of step `k`. Pass a function that builds the
    dataset anew: a seeded shuffle draws a different order on each new iterator of the
    same dataset object, but the same order on a freshly built one. Run the same call again after a
    kill (even SIGKILL mid-epoch) and it restores the model, the optimizer (whose
    `iterations` is the step), the dropout layers' random state, the metrics of the
    interrupted epoch so far and the callbacks' state from `checkpoint_dir`, skips the
    batches already trained on, finishes the interrupted epoch and goes on: with the same
    model built from the same seed, it ends with weights and history equal to those of an
    uninterrupted run (bit for bit, on the same machine). A NaN or infinite loss stops
    training with an `XDomainError` naming the step and the last good checkpoint, which
    is kept. Callbacks with `get_state`/`set_state` (e.g. `MetricsHistory`,
    `BestModelKeeper`) resume their state too.

    Args:
        model: a compiled Keras model (created in the strategy scope, if any).
        train_dataset: a function returning a `tf.data.Dataset` of training batches
            (finite or repeated); a dataset is accepted when it has no seeded randomness.
        epochs: number of epochs.
        steps_per_epoch: steps in each epoch.
        checkpoint_dir: where the resumable state is kept.
        validation_data: a dataset evaluated at each epoch end.
        checkpoint_every: also checkpoint every this many steps.
        callbacks: more Keras callbacks.
        verbose: Keras progress-bar setting.
        chief: False on non-chief multi-worker processes (they checkpoint privately).
        before_epoch: optional `f(epoch)` called before each epoch (e.g. to change which
            layers train); training then runs one `fit` call per epoch and retraces.
        log: optional `f(message)` told when training resumes.

    Returns:
        The global step reached.

    Example:

    >>> import tempfile, numpy as np, keras, tensorflow as tf
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> data = tf.data.Dataset.from_tensor_slices((np.ones((8, 2)), np.ones((8, 1)))).batch(4)
    >>> resumable_fit(model, data, epochs=2, steps_per_epoch=2, checkpoint_dir=tempfile.mkdtemp(), verbose=0)
    4
    """
    callbacks = list(callbacks)
    guard = TerminateOnNonFinite()
    stateful = [c for c in callbacks if hasattr(c, "get_state") and hasattr(c, "set_state")]
    checkpointer = ResumableCheckpoint(
        checkpoint_dir, every_n_steps=checkpoint_every, stateful_callbacks=stateful, guard=guard, chief=chief,
        steps_per_epoch=steps_per_epoch,
    )
    make_dataset = train_dataset if callable(train_dataset) else (lambda: train_dataset)
    step = checkpointer.restore(model)
    if step and log is not None:
        log(f"resuming from the checkpoint at step {step} in {checkpointer.directory}")
    if checkpointer.resumed_metrics is not None:
        # Without a strategy Keras builds the compiled metrics when it first traces a step,
        # too late to put back the interrupted epoch's values: build them from the data's shapes.
        with model.distribute_strategy.scope():
            model._symbolic_build(data_batch=make_dataset().element_spec)
    total_steps = epochs * steps_per_epoch
    keepers = [c for c in callbacks if isinstance(c, BestModelKeeper)]
    all_callbacks = [guard, *callbacks, checkpointer]
    while step < total_steps and not any(k.stopped for k in keepers):
        epoch = step // steps_per_epoch
        partial = step % steps_per_epoch
        if before_epoch is not None:
            before_epoch(epoch)
            model.train_function = None
        model.fit(
            make_dataset().repeat().skip(step),
            initial_epoch=epoch,
            epochs=epoch + 1 if (partial or before_epoch is not None) else epochs,
            steps_per_epoch=steps_per_epoch - partial if partial else steps_per_epoch,
            validation_data=validation_data,
            callbacks=all_callbacks,
            verbose=verbose,
            shuffle=False,  # the datasets shuffle themselves, deterministically
        )
        if guard.tripped:
            last = checkpointer.last_saved_step
            kept = f"the last good checkpoint (step {last}) is kept in {checkpointer.directory}" if last else (
                "no checkpoint had been written yet"
            )
            raise XDomainError(
                f"training stopped: the loss became {guard.value} at step {guard.step}; {kept}. "
                "Lower the learning rate or check the data."
            )
        new_step = int(model.optimizer.iterations.numpy())
        if new_step == step:
            break
        step = new_step
    return step
