import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "export"))

from export_fixtures import classifier_run, exported_model, tflite_models, valid_records  # noqa: E402,F401
