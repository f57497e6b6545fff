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
      history.json         metrics per epoch
      checkpoints/         resumable training state
      tensorboard/         TensorBoard logs
"""
import json
import os
import pathlib
import time

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import atomic_path, write_json_atomic, write_text_atomic


class RunDirectory:
    """Paths of a run directory, and saving and loading what it holds.

    Args:
        path: the folder.

    Example:

    >>> RunDirectory("runs/demo").model_path.name
    'model.keras'
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)

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
            "history_path": "history.json",
            "checkpoint_dir": "checkpoints",
            "tensorboard_dir": "tensorboard",
            "best_weights_path": "best.weights.h5",
        }
        if name in files:
            return self.path / files[name]
        raise AttributeError(name)

    def claim(self, options, ignore=("verbose",)):
        """Makes this folder the run directory of one training with `options`; returns a
        lock to `release()` when the training ends.

        A new or empty folder becomes a run (its `options.json` written now). A folder that
        holds a run resumes only with the same options (those in `ignore` may differ);
        otherwise, or when the folder holds files but no run, or while another process
        trains into it (an exclusive `flock` on `.lock`), an XDomainError says why.

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
        import fcntl

        options = json.loads(json.dumps(options))  # as options.json holds them (lists, not tuples)
        markers = ("options.json", "run.json", "checkpoints", "label_space.json")
        if self.path.is_dir() and any(self.path.iterdir()) and not any((self.path / m).exists() for m in markers):
            found = ", ".join(sorted(child.name for child in self.path.iterdir())[:5])
            raise XDomainError(f"{self.path}: holds files ({found}) but no run; use a new or empty out folder")
        self.path.mkdir(parents=True, exist_ok=True)
        lock = _RunLock(self.path / ".lock")
        try:
            fcntl.flock(lock.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = (self.path / ".lock").read_text(encoding="utf-8").strip() or "unknown"
            lock.handle.close()
            raise XDomainError(f"{self.path}: another training (process {holder}) is writing this run") from None
        lock.handle.seek(0)
        lock.handle.truncate()
        lock.handle.write(str(os.getpid()))
        lock.handle.flush()
        try:
            if self.options_path.exists():
                saved = json.loads(self.options_path.read_text(encoding="utf-8"))
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
        except BaseException:
            lock.release()
            raise
        return lock

    @property
    def is_complete(self):
        return self.run_info_path.exists()

    def run_info(self):
        """The contents of run.json; an XDomainError when the run is missing or unfinished."""
        if not self.path.is_dir():
            raise XDomainError(f"{self.path}: no such run directory")
        if not self.is_complete:
            raise XDomainError(
                f"{self.path}: the run did not finish (no run.json); run the same training command again to resume it"
            )
        return json.loads(self.run_info_path.read_text(encoding="utf-8"))

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
            model.save(keras_file)
            keras_file.rename(tmp)
        with atomic_path(self.encoder_weights_path) as tmp:
            weights_file = tmp.with_name(tmp.name + ".weights.h5")
            encoder.save_weights(weights_file)
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
        """The trained Keras model, loaded with `safe_mode=True`.

        The classes of lower packages are registered here; a classifier run's
        `MultiDomainTextClassifier` is registered by importing `xdomain_tf.tasks` (what
        `MultiDomainTextClassifier.from_preset(run_dir)` does).
        """
        import keras

        from xdomain_tf.runs.serializables import register_serializables

        self.run_info()
        register_serializables()
        return keras.saving.load_model(self.model_path, safe_mode=True)

    def load_preprocessor(self):
        """The Preprocessor (with its tokenizer) the run trained with."""
        import keras

        from xdomain_tf.runs.serializables import register_serializables

        self.run_info()
        register_serializables()
        config = json.loads(self.preprocessor_path.read_text(encoding="utf-8"))
        preprocessor = keras.saving.deserialize_keras_object(config, safe_mode=True)
        if not preprocessor.tokenizer.has_vocabulary:  # the vocabulary is vocab.txt, not config
            preprocessor.tokenizer.set_vocabulary(str(self.vocab_path))
        return preprocessor

    def load_label_space(self):
        from xdomain_tf.data.label_space import LabelSpace

        self.run_info()
        if not self.label_space_path.exists():
            raise XDomainError(f"{self.path}: this run has no label_space.json (is it a classifier run?)")
        return LabelSpace.from_json(self.label_space_path)

    def load_options(self):
        self.run_info()
        return json.loads(self.options_path.read_text(encoding="utf-8"))


class _RunLock:
    """An open `.lock` file of a run directory; `release()` closes it (and frees the lock)."""

    def __init__(self, path):
        self.handle = open(path, "a+", encoding="utf-8")

    def release(self):
        self.handle.close()
