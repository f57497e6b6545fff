"""A training killed at any moment, then run again with the same options, ends as the
uninterrupted run would have: the same history, bit-identical weights (dropout on), the
same files.

A kill here is the exception `Killed`, raised at the chosen moment: at a step, at an
epoch boundary, in the TensorFlow checkpoint write (after tearing its files) or in any
atomic file write of the run, just before the rename that would publish the file. The
training is then called again in the same process, as a rerun would. Every step of
every attempt is checked against the uninterrupted run, so a failure names the first
step that went astray and the kills before it. (tests/training/test_fit_resumption.py
kills `resumable_fit` with a real SIGKILL.)
"""
import dataclasses
import hashlib
import json
import os
import pathlib
import zipfile
from types import SimpleNamespace

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.training.classifier_training import train_classifier
from xdomain_tf.training.train_options import TrainOptions
from xdomain_tf.utils import storage

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"
STEPS_PER_EPOCH, EPOCHS = 9, 3  # 144 training examples, batches of 16
TOTAL_STEPS = STEPS_PER_EPOCH * EPOCHS
TIMING = ("seconds", "examples_per_second")


def _options(out):
    return TrainOptions(
        train=[str(FIXTURES / "train.jsonl")], valid=[str(FIXTURES / "valid.jsonl")], out=str(out),
        init="bert_tiny", vocab_size=200, seq_len=8, batch_size=16, learning_rate=3e-3, epochs=EPOCHS,
        checkpoint_every=3, dropout=0.3, patience=2, jit_compile="off", verbose=0,
    )


class Killed(BaseException):
    """Stands for SIGKILL: a BaseException, so that no `except Exception` stops it."""


@dataclasses.dataclass
class Kill:
    """A moment to kill the training at: `what` is "step" (the end of step `step`, before
    its checkpoint), "epoch start" (the start of the epoch after step `step`, after the
    epoch-end save), "checkpoint" (tears the TF checkpoint of step `step`) or "write" (the
    write of run file `name` in `phase`, and at `step` for checkpoints/state.json)."""

    what: str
    step: int = None
    name: str = None
    phase: str = None
    fired: bool = False

    def matches(self, what, step=None, name=None, phase=None):
        return (self.what, self.name, self.phase) == (what, name, phase) and self.step in (None, step)

    def covers(self, name, phase):
        return (self.what, self.name, self.phase) == ("write", name, phase)

    def __str__(self):
        where = f" {self.name} ({self.phase})" if self.name else ""
        return f"{self.what}{where}" + (f" at step {self.step}" if self.step is not None else "")


class Harness(keras.callbacks.Callback):
    """Checks (or, without a reference, records) every step's model and optimizer state,
    records which run files are written in which phase, and kills at the armed moments."""

    def __init__(self, out, kills=(), reference=None):
        super().__init__()
        self.out = pathlib.Path(out)
        self.kills = list(kills)
        self.reference = reference
        self.digests = {}
        self.writes = []
        self.training = False

    def _kill(self, what, **where):
        for kill in self.kills:
            if not kill.fired and kill.matches(what, **where):
                kill.fired = True
                raise Killed(str(kill))

    def phase(self):
        """"saving" once the last step is checkpointed, "training" once fit began, else "setup"."""
        state = RunDirectory(self.out).checkpoint_dir / "state.json"
        if state.exists() and json.loads(state.read_text())["step"] == TOTAL_STEPS:
            return "saving"
        return "training" if self.training else "setup"

    def on_write(self, source, target):
        target = pathlib.Path(target)
        if self.out not in target.parents or any(p.startswith(".") for p in target.relative_to(self.out).parts):
            return  # not a run file, or a temporary one
        name, phase = target.relative_to(self.out).as_posix(), self.phase()
        self.writes.append((name, phase))
        step = json.loads(pathlib.Path(source).read_text())["step"] if target.name == "state.json" else None
        self._kill("write", step=step, name=name, phase=phase)

    def on_checkpoint(self, prefix, step):
        if any(k.matches("checkpoint", step=step) and not k.fired for k in self.kills):
            for part in tf.io.gfile.glob(prefix + ".*"):
                with open(part, "r+b") as handle:  # a write cut short
                    handle.truncate(os.path.getsize(part) // 2)
            self._kill("checkpoint", step=step)

    def on_train_begin(self, logs=None):
        self.training = True

    def on_epoch_begin(self, epoch, logs=None):
        if epoch:
            self._kill("epoch start", step=int(self.model.optimizer.iterations.numpy()))

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        digest = hashlib.sha256()
        for variable in self.model.variables + self.model.optimizer.variables:  # the dropout seeds included
            digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(variable)).tobytes())
        self.digests[step] = digest.hexdigest()
        if self.reference is not None:
            fired = [str(k) for k in self.kills if k.fired]
            assert self.digests[step] == self.reference[step], f"step {step} differs, after the kills {fired}"
        self._kill("step", step=step)


def _train(out, monkeypatch, harness, log=None):
    """`train_classifier` with the harness watching writes, checkpoints and steps."""
    replace, save = os.replace, tf.train.CheckpointManager.save

    def watched_replace(source, target, *args, **kwargs):
        harness.on_write(source, target)
        return replace(source, target, *args, **kwargs)

    def watched_save(manager, checkpoint_number=None, **kwargs):
        prefix = save(manager, checkpoint_number=checkpoint_number, **kwargs)
        harness.on_checkpoint(prefix, checkpoint_number)
        return prefix

    keras.backend.clear_session()  # layer names from 1 again, as in a new process
    with monkeypatch.context() as patch:
        patch.setattr(storage.os, "replace", watched_replace)
        patch.setattr(tf.train.CheckpointManager, "save", watched_save)
        return train_classifier(_options(out), callbacks=[harness], log=(lambda _: None) if log is None else log.append)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    harness = Harness(out)
    with pytest.MonkeyPatch.context() as monkeypatch:
        summary = _train(out, monkeypatch, harness)
    assert summary["steps"] == TOTAL_STEPS and sorted(harness.digests) == list(range(1, TOTAL_STEPS + 1))
    return SimpleNamespace(out=out, digests=harness.digests, writes=list(dict.fromkeys(harness.writes)))


def _arrays(path):
    """{name: array} of a TF checkpoint prefix, a .weights.h5 file or a .keras file."""
    path = str(path)
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as handle:
            return _h5_arrays(h5py.File(handle, "r"))
    if path.endswith(".h5"):
        return _h5_arrays(h5py.File(path, "r"))
    reader = tf.train.load_checkpoint(path)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in name}


def _h5_arrays(handle):
    values = {}

    def keep(name, item):
        if isinstance(item, h5py.Dataset):
            values[name] = item[()]

    with handle:
        handle.visititems(keep)
    return values


def _assert_same_run(out, reference):
    run, expected = RunDirectory(out), RunDirectory(reference)
    assert run.is_complete

    def history(r):
        epochs = json.loads(r.history_path.read_text())["epochs"]
        return [{k: v for k, v in e.items() if k not in TIMING} for e in epochs]

    assert [e["epoch"] for e in history(run)] == list(range(1, EPOCHS + 1))
    assert history(run) == history(expected)

    def state(r):
        return json.loads((r.checkpoint_dir / "state.json").read_text())

    assert state(run)["step"] == TOTAL_STEPS
    assert state(run)["callbacks"]["BestModelKeeper"] == state(expected)["callbacks"]["BestModelKeeper"]
    for name in (state(expected)["checkpoint"], "best.weights.h5", "model.keras", "encoder.weights.h5"):
        got = _arrays((run.checkpoint_dir if name.startswith("ckpt") else run.path) / name)
        want = _arrays((expected.checkpoint_dir if name.startswith("ckpt") else expected.path) / name)
        assert sorted(got) == sorted(want), name
        different = [key for key in want if not np.array_equal(got[key], want[key])]
        assert not different, f"{name}: {different[:5]}"
    for name in ("label_space.json", "vocab.txt", "encoder_config.json", "preprocessor.json"):
        assert (run.path / name).read_bytes() == (expected.path / name).read_bytes(), name
    options = {k: v for k, v in json.loads(run.options_path.read_text()).items() if k != "out"}
    assert options == {k: v for k, v in json.loads(expected.options_path.read_text()).items() if k != "out"}


def test_a_run_killed_at_every_kind_of_moment_resumes_to_the_uninterrupted_run(tmp_path, monkeypatch, uninterrupted):
    kills = [
        Kill("step", step=5),  # mid-epoch, two steps after the checkpoint of step 3
        Kill("checkpoint", step=6),  # its files half written
        Kill("write", name="history.json", phase="training"),  # at the end of epoch 1
        Kill("write", name="best.weights.h5", phase="training"),
        Kill("write", name="checkpoints/state.json", phase="training", step=9),  # the epoch-end save
        Kill("epoch start", step=9),  # at the epoch boundary, after the epoch-end save
        Kill("write", name="checkpoints/state.json", phase="training", step=TOTAL_STEPS),
    ]
    # Every other file the uninterrupted run wrote, in each phase it wrote it: killed in its write.
    for name, phase in uninterrupted.writes:
        if not any(k.covers(name, phase) for k in kills):
            kills.append(Kill("write", name=name, phase=phase))
    assert {"options.json", "label_space.json", "vocab.txt", "model.keras", "run.json"} <= {k.name for k in kills}

    out, resumed_from = tmp_path / "run", []
    for _ in range(len(kills) + 1):
        log = []
        try:
            _train(out, monkeypatch, Harness(out, kills, reference=uninterrupted.digests), log)
            break
        except Killed:
            pass
        finally:
            resumed_from += [int(line.split("step ")[1].split()[0]) for line in log if line.startswith("resuming")]
    assert [str(k) for k in kills if not k.fired] == []
    # The kill at step 5 resumed from step 3; those in epoch 1's end, from step 6 (not 9:
    # that epoch's validation, history and best-model check were not saved yet); the one
    # at the boundary from step 9; the one in the last save from step 24.
    assert resumed_from[:7] == [3, 3, 6, 6, 6, 9, 24]
    assert set(resumed_from[7:]) == {TOTAL_STEPS}  # the kills while saving the finished run
    _assert_same_run(out, uninterrupted.out)

