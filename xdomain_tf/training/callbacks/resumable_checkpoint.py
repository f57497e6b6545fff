"""Checkpoints model, optimizer, random state, step and callback state so a killed run
can resume exactly where it was."""
import json
import os
import pathlib
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from xdomain_tf.utils.atomic import write_json_atomic
from xdomain_tf.utils.storage import storage_path

STATE_FILE = "state.json"


class ResumableCheckpoint(keras.callbacks.Callback):
    """Saves a resumable training state every `every_n_steps` steps and every epoch.

    The state is a TensorFlow checkpoint of the model, the optimizer (whose `iterations`
    is the global step) and the model's random state (the `SeedGenerator` variables of
    its dropout layers, so a resumed run draws the same dropout masks), plus
    `state.json`, written atomically after the checkpoint files, holding the step, the
    state of every callback that has `get_state()`/`set_state()` and, for a save within
    an epoch, the values of the model's metrics so far in that epoch (put back when the
    epoch resumes, so its logged metrics cover the whole epoch). A kill at any moment
    leaves the previous state intact. Nothing is saved once the loss has become
    non-finite.

    Args:
        directory: where checkpoints and `state.json` live.
        every_n_steps: save interval in steps (None: only at epoch ends).
        stateful_callbacks: callbacks whose `get_state()` is saved and restored.
        guard: a `TerminateOnNonFinite`; no save happens after it trips.
        chief: False on non-chief workers of a multi-worker run: they restore from
            `directory` like the chief but write to a private scratch folder.
        max_to_keep: checkpoints kept on disk.
        steps_per_epoch: the epoch length, if known: a step save that falls on the last
            step of an epoch is then left to the epoch-end save, so that a kill during
            that epoch's validation resumes before the epoch's end, not after it with
            the epoch's history and best-model check skipped.

    Example:

    >>> import tempfile
    >>> callback = ResumableCheckpoint(tempfile.mkdtemp(), every_n_steps=100)
    >>> callback.every_n_steps
    100
    """

    def __init__(
        self, directory, every_n_steps=None, stateful_callbacks=(), guard=None, chief=True, max_to_keep=2,
        steps_per_epoch=None,
    ):
        super().__init__()
        self.directory = storage_path(directory)
        # Every worker restores from `directory`; only the chief writes there.
        self.write_directory = self.directory
        if not chief:
            self.write_directory = pathlib.Path(tempfile.mkdtemp(prefix="xdomain-tf-worker-checkpoints-"))
        self.every_n_steps = every_n_steps
        self.stateful_callbacks = list(stateful_callbacks)
        self.guard = guard
        self.max_to_keep = max_to_keep
        self.steps_per_epoch = steps_per_epoch
        self._checkpoint = None
        self._manager = None
        self.last_saved_step = None
        self._saved_checkpoint = None
        # The metric values of an epoch interrupted midway, put back when it resumes.
        self.resumed_metrics = None

    def _ensure_manager(self, model):
        if self._manager is None:
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            self._checkpoint = tf.train.Checkpoint(
                model=model, optimizer=model.optimizer, random=random_state_variables(model)
            )
            self._manager = tf.train.CheckpointManager(
                self._checkpoint, str(self.write_directory), max_to_keep=self.max_to_keep
            )

    def restore(self, model):
        """Restores the saved state into `model` and the callbacks; returns the step (0 if none)."""
        self._ensure_manager(model)
        state_path = self.directory / STATE_FILE
        if not state_path.exists():
            return 0
        state = json.loads(state_path.read_text(encoding="utf-8"))
        self._checkpoint.read(str(self.directory / state["checkpoint"])).expect_partial()
        for callback in self.stateful_callbacks:
            saved = state["callbacks"].get(type(callback).__name__)
            if saved is not None:
                callback.set_state(saved)
        self.resumed_metrics = state.get("metrics")
        self.last_saved_step, self._saved_checkpoint = state["step"], state["checkpoint"]
        return state["step"]

    def save(self, within_epoch=False):
        """Saves the current state now (unless the loss has become non-finite).

        With `within_epoch`, the metrics accumulated so far in the epoch are saved too.

        At a step that already has a checkpoint (without `steps_per_epoch`, a step save can
        fall on the last step of an epoch) only `state.json` is written again: the weights have not changed, but the
        callbacks' state has (the epoch's history entry, the best epoch, the patience count).
        """
        if self.guard is not None and self.guard.tripped:
            return
        self._ensure_manager(self.model)
        step = int(self.model.optimizer.iterations.numpy())
        if step == self.last_saved_step:
            checkpoint = self._saved_checkpoint
        else:
            checkpoint = os.path.basename(self._manager.save(checkpoint_number=step))
        state = {
            "step": step,
            "checkpoint": checkpoint,
            "callbacks": {type(c).__name__: c.get_state() for c in self.stateful_callbacks},
        }
        if within_epoch:
            # Floats of any width survive JSON exactly (repr round-trips).
            state["metrics"] = [np.asarray(v.numpy()).tolist() for v in self.model.metrics_variables]
        write_json_atomic(self.write_directory / STATE_FILE, state)
        self.last_saved_step, self._saved_checkpoint = step, checkpoint

    def on_epoch_begin(self, epoch, logs=None):
        # `fit` has just reset the metrics; an epoch resumed midway continues the saved ones
        # (if the metrics are built by now: see `resumable_fit`).
        saved, self.resumed_metrics = self.resumed_metrics, None
        if saved is None:
            return
        variables = self.model.metrics_variables
        if len(saved) != len(variables) or any(np.shape(s) != tuple(v.shape) for s, v in zip(saved, variables)):
            return  # not the metrics that were saved: the epoch's metrics start afresh
        for value, variable in zip(saved, variables):
            variable.assign(np.asarray(value, dtype=variable.dtype))

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        if not self.every_n_steps or step % self.every_n_steps:
            return
        if self.steps_per_epoch and step % self.steps_per_epoch == 0:
            return  # the epoch-end save follows, after the validation and the epoch's callbacks
        self.save(within_epoch=True)

    def on_epoch_end(self, epoch, logs=None):
        self.save()

    def on_train_end(self, logs=None):
        if self.write_directory != self.directory:
            shutil.rmtree(self.write_directory, ignore_errors=True)


def random_state_variables(model):
    """The variables of `model` that hold random-number state, not weights: those of its
    layers' `keras.random.SeedGenerator`s (dropout masks are drawn from them).

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    >>> [v.name for v in random_state_variables(model)]
    ['seed_generator_state']
    """
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]
