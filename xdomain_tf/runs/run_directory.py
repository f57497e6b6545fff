"""The run directory: what `train` and `pretrain` write and `evaluate`, `export`,
`predict` and `--init` read.

Layout (`run.json` is written last, atomically: a folder without it is a run that did not
finish, and every loader refuses it):

    RUN_DIR/
      run.json             kind ("classifier" or "pretrain"), versions, what the run saved
      model.keras          the trained Keras model (loads with safe_mode=True)
      encoder.weights.h5   the encoder's weights alone (for --init of a later run)
      encoder_config.json  the EncoderConfig
      preprocessor.json    the serialized Preprocessor (tokenizer and vocabulary included)
      vocab.txt            the WordPiece vocabulary, one token a line
      label_space.json     domains and their labels (classifiers)
      options.json         every training option
      inputs.json          path, size, time and sha256 of each data file the run started from
      history.json         metrics per epoch
      checkpoints/         resumable training state (state.json names the TF checkpoint)
      tensorboard/         TensorBoard logs

Every file is written atomically (a temporary name, then a rename). Readers check what
they read: a truncated or edited file is one `DamagedFileError` line naming it and saying
what to do (`xdomain_tf.runs.run_files`).
"""
import json
import os
import pathlib
import time

from xdomain_tf.errors import DamagedFileError, DataError, XDomainError
from xdomain_tf.runs.data_fingerprint import data_fingerprint, fingerprint_changes
from xdomain_tf.runs.run_files import RERUN, check_tf_checkpoint, confine_vocabulary, first_line, load_keras_file
from xdomain_tf.runs.run_files import read_json_file
from xdomain_tf.utils.atomic import atomic_path, write_json_atomic
from xdomain_tf.utils.processes import process_alive
from xdomain_tf.utils.storage import StoragePath, storage_path

# Files derived from the data at the start of a training; rebuilt while nothing has been
# trained from them yet, so a rerun after fixing the data never reuses a stale one.
DERIVED_FILES = ("label_space.json", "vocab.txt", "before.json")


class RunDirectory:
    """Paths of a run directory, and saving and loading what it holds.

    Args:
        path: the folder: local, or a URL on any file system TensorFlow reads (`gs://`,
            `s3://`, `hdfs://`, `ram://`).

    Example:

    >>> RunDirectory("runs/demo").model_path.name
    'model.keras'
    """

    def __init__(self, path):
        self.path = storage_path(path)

    def __getattr__(self, name):
        files = {
            "run_info_path": "run.json",
            "model_path": "model.keras",
            "encoder_weights_path": "encoder.weights.h5",
            "encoder_config_path": "encoder_config.json",
            "preprocessor_path": "preprocessor.json",
            "vocab_path": "vocab.txt",
            "label_space_path": "label_space.json",
            "options_path": "options.json",
            "inputs_path": "inputs.json",
            "history_path": "history.json",
            "checkpoint_dir": "checkpoints",
            "checkpoint_state_path": "checkpoints/state.json",
            "tensorboard_dir": "tensorboard",
            "best_weights_path": "best.weights.h5",
        }
        if name in files:
            return self.path / files[name]
        raise AttributeError(name)

    def claim(self, options, ignore=("verbose",), data_options=("train", "valid")):
        """Makes this folder the run directory of one training with `options`; returns a
        lock to `release()` when the training ends.

        A new or empty folder becomes a run (its `options.json` written now). A folder that
        holds a run resumes only with the same options (those in `ignore` may differ);
        otherwise, or when the folder holds files but no run, or while another process
        trains into it (an exclusive `flock` on `.lock`; on a URL, where there are no
        locks, a `.lock` file naming the owner's host and process, taken over only when
        that process is gone or the file is older than `REMOTE_LOCK_STALE_S`), an
        XDomainError says why.

        The data files named by `data_options` are fingerprinted (`inputs.json`). While no
        training step has been checkpointed, the files derived from the data
        (`DERIVED_FILES`: label space, vocabulary) are removed so the training rebuilds them
        from the data as it is now. Once a checkpoint exists, resuming needs the same data
        (an XDomainError says which file changed) and sound files: `options.json`,
        `label_space.json`, `checkpoints/state.json` and the checkpoint it names (a
        `DamagedFileError` names the damaged one).

        Example:

        >>> import tempfile
        >>> run = RunDirectory(tempfile.mkdtemp())
        >>> lock = run.claim({"epochs": 3, "verbose": 1})
        >>> lock.release()
        >>> RunDirectory(run.path).claim({"epochs": 4, "verbose": 2})
        Traceback (most recent call last):
        ...
        xdomain_tf.errors.XDomainError: ... was trained with other options (epochs: 3 there, 4 now); use a new out folder, or the same options to resume
        """
        options = json.loads(json.dumps(options))  # as options.json holds them (lists, not tuples)
        markers = ("options.json", "run.json", "checkpoints", "label_space.json")
        # `.lock` and the temporaries of atomic writes are what a claim killed before its
        # options.json landed leaves behind: such a folder is still empty of anything else.
        others = []
        if self.path.is_dir():
            others = sorted(child.name for child in self.path.iterdir() if not _is_own_leftover(child.name))
        if others and not any((self.path / m).exists() for m in markers):
            found = ", ".join(others[:5])
            raise XDomainError(f"{self.path}: holds files ({found}) but no run; use a new or empty out folder")
        self.path.mkdir(parents=True, exist_ok=True)
        lock = _RemoteRunLock(self.path / ".lock") if isinstance(self.path, StoragePath) else _RunLock(self.path / ".lock")
        try:
            if self.options_path.exists():
                saved = read_json_file(self.options_path, advice="restore it, or train into a new out folder")
                changed = [
                    f"{key}: {saved.get(key)!r} there, {options.get(key)!r} now"
                    for key in sorted(set(saved) | set(options))
                    if key not in ignore and saved.get(key) != options.get(key)
                ]
                if changed:
                    raise XDomainError(
                        f"{self.path}: was trained with other options ({'; '.join(changed)}); use a new out "
                        "folder, or the same options to resume"
                    )
            else:
                write_json_atomic(self.options_path, options)
            self._check_resumable_state(_data_files(options, data_options))
        except BaseException:
            lock.release()
            raise
        return lock

    def _check_resumable_state(self, data_files):
        state = self.checkpoint_state()
        if state is None and not self.is_complete:
            # Nothing trained yet: what an earlier attempt derived from the data is rebuilt.
            for name in DERIVED_FILES:
                (self.path / name).unlink(missing_ok=True)
            if data_files:
                write_json_atomic(self.inputs_path, data_fingerprint(data_files))
            return
        if self.inputs_path.exists():
            recorded = read_json_file(self.inputs_path, fields={"files": list}, advice=self._checkpoint_advice)
            changes = fingerprint_changes(recorded, data_files)
            if changes:
                raise XDomainError(
                    f"{self.path}: the training data changed since this run was checkpointed "
                    f"({'; '.join(changes[:3])}); resuming would mix data: use a new out folder, or put the "
                    "data back as it was"
                )
        elif data_files:  # a run from before fingerprints: take the data as it is now
            write_json_atomic(self.inputs_path, data_fingerprint(data_files))
        self.read_label_space(advice="delete it to rebuild it from the training data, or restore it")

    @property
    def _checkpoint_advice(self):
        return f"delete {self.checkpoint_dir} to train again from step 0, or restore it"

    def checkpoint_state(self):
        """The contents of `checkpoints/state.json` after reading every tensor of the
        checkpoint it names, or None when the run has no checkpoint yet; a
        `DamagedFileError` names a damaged state.json, checkpoint index or data file.

        Example:

        >>> RunDirectory("runs/none").checkpoint_state() is None
        True
        """
        if not self.checkpoint_state_path.exists():
            return None
        advice = self._checkpoint_advice
        state = read_json_file(
            self.checkpoint_state_path, fields={"step": int, "checkpoint": str, "callbacks": dict}, advice=advice
        )
        name = state["checkpoint"]
        if pathlib.PurePath(name).name != name or name in (".", ".."):
            raise DamagedFileError(self.checkpoint_state_path, "its checkpoint is not a file of checkpoints/", advice)
        check_tf_checkpoint(self.checkpoint_dir / name, advice)
        return state

    @property
    def is_complete(self):
        return self.run_info_path.exists()

    def run_info(self):
        """The contents of run.json; an XDomainError when the run is missing, unfinished
        or its run.json damaged."""
        if not self.path.is_dir():
            raise XDomainError(f"{self.path}: no such run directory")
        if not self.is_complete:
            raise XDomainError(
                f"{self.path}: the run did not finish (no run.json); run the same training command again to resume it"
            )
        return read_json_file(self.run_info_path, fields={"kind": str})

    def check_files(self):
        """Reads run.json and each of options.json, encoder_config.json, preprocessor.json
        and label_space.json the run holds; returns run.json's contents. A damaged file is
        a one-line `DamagedFileError` naming it.

        Example:

        >>> RunDirectory("runs/missing").check_files()
        Traceback (most recent call last):
        ...
        xdomain_tf.errors.XDomainError: runs/missing: no such run directory
        """
        info = self.run_info()
        for path in (self.options_path, self.encoder_config_path):
            if path.exists():
                read_json_file(path)
        if self.preprocessor_path.exists():
            self._preprocessor_config()
        self.read_label_space()
        return info

    def save(self, *, kind, model, encoder, encoder_config, preprocessor, options, label_space=None, extra=None):
        """Writes every artifact, each atomically, and run.json last.

        `model.keras` is the whole model; for a classifier that is the
        `MultiDomainTextClassifier` with its preprocessor and vocabulary inside.
        `preprocessor.json` (its config) and `vocab.txt` are also written for readers that
        need only the tokenizer (`--init`, pretraining runs).
        """
        import keras
        import tensorflow as tf

        from xdomain_tf.version import __version__

        self.path.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.model_path) as tmp:
            keras_file = tmp.with_name(tmp.name + ".keras")
            model.save(str(keras_file))
            keras_file.rename(tmp)
        with atomic_path(self.encoder_weights_path) as tmp:
            weights_file = tmp.with_name(tmp.name + ".weights.h5")
            encoder.save_weights(str(weights_file))
            weights_file.rename(tmp)
        write_json_atomic(self.encoder_config_path, encoder_config.to_dict())
        write_json_atomic(self.preprocessor_path, keras.saving.serialize_keras_object(preprocessor))
        preprocessor.tokenizer.save_vocabulary(str(self.vocab_path))
        if label_space is not None:
            label_space.to_json(self.label_space_path)
        write_json_atomic(self.options_path, options)
        write_json_atomic(
            self.run_info_path,
            {
                "kind": kind,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "versions": {
                    "xdomain_tf": __version__,
                    "tensorflow": tf.__version__,
                    "keras": keras.__version__,
                },
                **(extra or {}),
            },
        )

    def load_model(self):
        """The trained Keras model, loaded with `safe_mode=True` once `check_files` passed.

        The classes of lower packages are registered here; a classifier run's
        `MultiDomainTextClassifier` is registered by importing `xdomain_tf.tasks` (what
        `MultiDomainTextClassifier.from_preset(run_dir)` does). A damaged `model.keras`
        (not a zip, a member failing its checksum, a config Keras cannot load) is one
        `DamagedFileError` line.
        """
        self.check_files()
        return load_keras_file(self.model_path)

    def load_preprocessor(self):
        """The Preprocessor (with its tokenizer) the run trained with.

        A vocabulary file named in preprocessor.json must lie in the run directory.
        """
        import keras

        from xdomain_tf.runs.serializables import register_serializables

        self.run_info()
        register_serializables()
        config = self._preprocessor_config()
        try:
            preprocessor = keras.saving.deserialize_keras_object(config, safe_mode=True)
        except Exception as error:  # Keras wraps what the classes raise
            raise DamagedFileError(self.preprocessor_path, _reason(error)) from None
        if not preprocessor.tokenizer.has_vocabulary:  # the vocabulary is vocab.txt, not config
            try:
                preprocessor.tokenizer.set_vocabulary(str(self.vocab_path))
            except FileNotFoundError:
                raise XDomainError(f"{self.vocab_path} is missing; {RERUN}") from None
            except XDomainError as error:
                raise DamagedFileError(self.vocab_path, _reason(error)) from None
        return preprocessor

    def _preprocessor_config(self):
        return confine_vocabulary(read_json_file(self.preprocessor_path), self.path, self.preprocessor_path)

    def load_label_space(self):
        """The run's LabelSpace (a classifier run's domains and labels).

        Example:

        >>> RunDirectory("runs/missing").load_label_space()
        Traceback (most recent call last):
        ...
        xdomain_tf.errors.XDomainError: runs/missing: no such run directory
        """
        self.run_info()
        label_space = self.read_label_space()
        if label_space is None:
            raise XDomainError(f"{self.path}: this run has no label_space.json (is it a classifier run?)")
        return label_space

    def read_label_space(self, advice=RERUN):
        """label_space.json as a LabelSpace (the run need not have finished), or None when
        there is none; a `DamagedFileError` when it no longer reads as one.

        Example:

        >>> RunDirectory("runs/new").read_label_space() is None
        True
        """
        from xdomain_tf.data.label_space import LabelSpace

        if not self.label_space_path.exists():
            return None
        values = read_json_file(self.label_space_path, fields={"domains": list}, advice=advice)
        try:
            return LabelSpace.from_dict(values)
        except XDomainError as error:
            raise DamagedFileError(self.label_space_path, _reason(error), advice) from None

    def load_options(self):
        """The options the run trained with (options.json)."""
        self.run_info()
        return read_json_file(self.options_path)


def _is_own_leftover(name):
    return name == ".lock" or (name.startswith(".") and ".tmp-" in name)


def _data_files(options, keys):
    files = []
    for key in keys:
        value = options.get(key) or []
        files.extend([value] if isinstance(value, str) else value)
    return files


def _reason(error):
    """What is wrong, without the offending value (which may be a line of any file)."""
    if isinstance(error, DataError):
        return (f"line {error.line}: " if error.line is not None else "") + error.message
    return first_line(error)


class _RunLock:
    """An open, `flock`ed `.lock` file of a local run directory holding the owner's pid;
    `release()` closes it (and frees the lock)."""

    def __init__(self, path):
        import fcntl

        self.handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text(encoding="utf-8").strip() or "unknown"
            self.handle.close()
            raise XDomainError(f"{path.parent}: another training (process {holder}) is writing this run") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(str(os.getpid()))
        self.handle.flush()

    def release(self):
        self.handle.close()


# A `.lock` on a URL whose run wrote no checkpoint for this long belongs to a training
# that is gone (a preempted VM): a new claim takes it over.
REMOTE_LOCK_STALE_S = 3600


class _RemoteRunLock:
    """The `.lock` file of a run directory on a URL: `{"host", "pid", "time"}`.

    Object stores have no locks: a claim refuses while the file names a live process on
    this host, or another host and was refreshed less than `REMOTE_LOCK_STALE_S` ago.
    """

    def __init__(self, path):
        import socket

        self.path = path
        self.owner = {"host": socket.gethostname(), "pid": os.getpid()}
        if path.exists():
            try:
                held = json.loads(path.read_text(encoding="utf-8"))
                host, pid, stamp = held["host"], int(held["pid"]), float(held["time"])
            except (ValueError, KeyError, TypeError):
                host, pid, stamp = "unknown", 0, 0.0
            state = path.parent / "checkpoints" / "state.json"
            if state.exists():  # every checkpoint shows the owner is alive
                stamp = max(stamp, state.stat().st_mtime)
            same_host = host == self.owner["host"]
            alive = pid > 0 and process_alive(pid) if same_host else time.time() - stamp < REMOTE_LOCK_STALE_S
            if alive and (host, pid) != (self.owner["host"], self.owner["pid"]):
                raise XDomainError(
                    f"{path.parent}: another training (process {pid} on {host}) is writing this run; if it is gone, "
                    f"delete {path} or wait {REMOTE_LOCK_STALE_S // 60} minutes after its last checkpoint"
                )
        self.refresh()

    def refresh(self):
        write_json_atomic(self.path, {**self.owner, "time": time.time()})

    def release(self):
        self.path.unlink(missing_ok=True)

