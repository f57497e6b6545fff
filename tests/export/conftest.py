from export_fixtures import classifier_run, exported_model, tflite_models, valid_records  # noqa: F401
