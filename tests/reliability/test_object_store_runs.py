"""Run directories on a file system without atomic renames (a simulated object store over
`ram://`): a resuming trainer never reads half a checkpoint, a crash while publishing
resumes to the uninterrupted result, and the `.lock` file stands in for `flock`."""
import json
import pathlib
import socket
import time

import keras
import numpy as np
import pytest

from object_store import ObjectStore, object_store
from xdomain_tf.errors import XDomainError
from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.training.classifier_training import train_classifier
from xdomain_tf.training.train_options import TrainOptions
from xdomain_tf.utils.storage import storage_path

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"


def _options(out):
    return TrainOptions(
        train=[str(FIXTURES / "train.jsonl")], valid=[str(FIXTURES / "valid.jsonl")], out=str(out),
        init="bert_tiny", vocab_size=200, seq_len=8, batch_size=16, learning_rate=3e-3, epochs=2,
        checkpoint_every=4, dropout=0.3, jit_compile="off", verbose=0,
    )


def _train(out):
    keras.backend.clear_session()  # layer names from 1 again, as in a new process
    return train_classifier(_options(out), log=lambda _: None)


def _weights(out):
    model = RunDirectory(out).load_model()
    return [np.asarray(weight.numpy()) for weight in model.weights]


class ResumeReader:
    """What a resuming trainer and a loader read, checked after every object that lands."""

    def __init__(self, out):
        self.run = RunDirectory(out)
        self.checkpoints = set()
        self.looks = 0

    def __call__(self, landed):
        self.looks += 1
        state = self.run.checkpoint_state()  # reads every tensor of the checkpoint it names
        if state is not None:
            self.checkpoints.add(state["checkpoint"])
        if self.run.is_complete:
            self.run.check_files()


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    with object_store() as (root, store):
        out = f"{root}/runs/a"
        reader = ResumeReader(out)
        store.observe = reader
        summary = _train(out)
        yield summary, reader, len(store.copies), _weights(out)


def test_a_resuming_trainer_never_reads_half_a_checkpoint(observed):
    summary, reader, copies, _ = observed
    assert summary["steps"] == 18 and copies == reader.looks
    # Every step and epoch-end save was seen through state.json, each one whole.
    assert reader.checkpoints == {"ckpt-4", "ckpt-8", "ckpt-9", "ckpt-12", "ckpt-16", "ckpt-18"}


def test_a_crash_while_publishing_resumes_to_the_same_weights(observed):
    _, _, copies, expected = observed
    with object_store(crash_at=copies // 2) as (root, store):
        out = f"{root}/runs/a"
        with pytest.raises(ObjectStore.Crash):
            _train(out)
        assert not RunDirectory(out).is_complete and RunDirectory(out).checkpoint_state() is not None
        store.crash_at = None
        summary = _train(out)
        assert summary["steps"] == 18
        for value, reference in zip(_weights(out), expected, strict=True):
            np.testing.assert_array_equal(value, reference)


def test_the_lock_file_names_the_owner_and_is_taken_over_when_stale():
    with object_store() as (root, _):
        run = RunDirectory(f"{root}/run")
        lock = storage_path(f"{root}/run/.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text(json.dumps({"host": "tpu-vm-7", "pid": 4242, "time": time.time()}))
        with pytest.raises(XDomainError, match=r"another training \(process 4242 on tpu-vm-7\) is writing this run"):
            run.claim({"epochs": 1})
        lock.write_text(json.dumps({"host": "tpu-vm-7", "pid": 4242, "time": time.time() - 7200}))
        held = run.claim({"epochs": 1})
        assert json.loads(lock.read_text())["host"] == socket.gethostname()
        held.release()
        assert not lock.exists()
