"""`load_predictor`: the right `Predictor` for a run directory, a SavedModel or a TFLite file."""
import os

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.storage import StoragePath, storage_path


def load_predictor(path, batch_size=64):
    """Opens a model for prediction, whatever its kind.

    Args:
        path: a classifier run directory (holds run.json), a `.keras` classifier file, a SavedModel version folder
            (holds saved_model.pb), an export base folder (its highest integer version is
            used) or a `.tflite` file; local or a URL of any TensorFlow file system
            (`gs://bucket/export/xdomain`, `ram://...`).
        batch_size: texts per model call.

    Returns:
        A `KerasPredictor`, `SavedModelPredictor` or `TFLitePredictor`.

    Example:

        predictor = load_predictor("export/xdomain")     # the latest version
        predictor.predict(["A late goal won the cup"], "news")
    """
    if not isinstance(path, (str, os.PathLike, StoragePath)):
        raise XDomainError(f"a model path must be a string or path, got {type(path).__name__}")
    path = storage_path(path)
    if path.is_file() and path.suffix == ".keras":
        from xdomain_tf.serving.keras_predictor import KerasPredictor

        return KerasPredictor(path, batch_size)
    if path.is_file():
        if path.suffix != ".tflite":
            raise XDomainError(f"{path}: a model file must be a .tflite or .keras file")
        from xdomain_tf.serving.tflite_predictor import TFLitePredictor

        return TFLitePredictor(path, batch_size)
    if not path.is_dir():
        raise XDomainError(f"{path}: no such model (a run directory, a SavedModel folder or a .tflite file)")
    if (path / "run.json").exists() or (path / "model.keras").exists():
        from xdomain_tf.serving.keras_predictor import KerasPredictor

        return KerasPredictor(path, batch_size)
    if not (path / "saved_model.pb").exists():
        versions = sorted(
            (int(child.name) for child in path.iterdir() if child.name.isdigit() and (child / "saved_model.pb").exists()),
        )
        if not versions:
            raise XDomainError(
                f"{path}: neither a run directory (run.json), a SavedModel (saved_model.pb) nor an export "
                "folder with integer versions"
            )
        path = path / str(versions[-1])
    from xdomain_tf.serving.saved_model_predictor import SavedModelPredictor

    return SavedModelPredictor(path, batch_size)
