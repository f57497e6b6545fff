import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "export"))

from export_fixtures import classifier_run  # noqa: E402,F401

from xdomain_tf.cli.main import main  # noqa: E402


def test_saved_model_and_tflite_in_one_call(classifier_run, tmp_path, capsys):
    export = tmp_path / "export"
    valid = classifier_run.parent / "data" / "valid.jsonl"
    code = main([
        "export", "--model", str(classifier_run),
        "--saved-model", str(export / "news"), "--warmup-data", str(valid), "--check",
        "--tflite", str(tmp_path / "news.tflite"), "--quantize", "dynamic",
    ])
    out = capsys.readouterr().out
    assert code == 0
    assert (export / "news" / "1" / "saved_model.pb").exists()
    assert (export / "news" / "1" / "assets.extra" / "tf_serving_warmup_requests").exists()
    assert 'name: "news"' in (export / "models.config").read_text()
    assert "tensorflow_text (2): FastBertNormalize, FastWordpieceTokenizeWithOffsets" in out
    assert "unsupported (0): -" in out and "ok: TF Serving 2.20" in out
    report = json.loads([line for line in out.splitlines() if line.startswith('{"tflite"')][0])["tflite"]
    assert report["quantize"] == "dynamic" and report["agreement"] >= 0.98
    assert (tmp_path / "news.tflite").stat().st_size == report["size_bytes"]
    assert (tmp_path / "news.tflite.vocab.txt").exists() and (tmp_path / "news.tflite.labels.json").exists()

    # The next export is version 2; an existing version needs --overwrite.
    assert main(["export", "--model", str(classifier_run), "--saved-model", str(export / "news")]) == 0
    assert sorted(path.name for path in (export / "news").iterdir()) == ["1", "2"]
    assert main(["export", "--model", str(classifier_run), "--saved-model", str(export / "news"), "--version", "1"]) == 2
    assert "news/1 exists; pass --overwrite to replace it" in capsys.readouterr().err

    # --check alone on an existing SavedModel.
    assert main(["export", "--model", str(export / "news" / "2"), "--check"]) == 0
    assert "ok: TF Serving 2.20" in capsys.readouterr().out


def test_check_fails_naming_the_op(tmp_path, capsys):
    import tensorflow as tf

    module = tf.Module()
    module.f = tf.function(lambda x: tf.py_function(lambda v: v, [x], tf.string),
                           input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path / "1"), signatures={"serving_default": module.f})
    assert main(["export", "--model", str(tmp_path / "1"), "--check"]) == 1  # a refused export: exit 1
    captured = capsys.readouterr()
    assert "unsupported (1): EagerPyFunc" in captured.out
    assert "op(s) EagerPyFunc are neither core TensorFlow nor tensorflow-text 2.20 ops" in captured.err


def test_user_errors_exit_2(classifier_run, tmp_path, capsys, monkeypatch):
    assert main(["export", "--model", str(classifier_run)]) == 2
    assert "nothing to do" in capsys.readouterr().err
    assert main(["export", "--model", str(tmp_path / "missing"), "--tflite", str(tmp_path / "m.tflite")]) == 2
    assert "missing: no such classifier" in capsys.readouterr().err
    with pytest.raises(SystemExit) as error:
        main(["export", "--model", str(classifier_run), "--tflite", "m.tflite", "--quantize", "int4"])
    assert error.value.code == 2

    import importlib

    monkeypatch.setitem(importlib.import_module("xdomain_tf.export.tflite_export").MIN_AGREEMENT, "none", 1.5)
    assert main(["export", "--model", str(classifier_run), "--tflite", str(tmp_path / "m.tflite")]) == 1  # refused
    assert "below the 150.0% required; nothing written" in capsys.readouterr().err
    assert not (tmp_path / "m.tflite").exists()


def test_int16x8_and_its_limits_from_the_command_line(classifier_run, tmp_path, capsys):
    path = tmp_path / "int16x8.tflite"
    assert main(["export", "--model", str(classifier_run), "--tflite", str(path), "--quantize", "int16x8"]) == 0
    report = json.loads([line for line in capsys.readouterr().out.splitlines() if line.startswith('{"tflite"')][0])
    assert report["tflite"]["quantize"] == "int16x8" and report["tflite"]["agreement"] >= 0.98
    code = main(["export", "--model", str(classifier_run), "--tflite", str(tmp_path / "text.tflite"),
                 "--quantize", "int16x8", "--with-tokenizer"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("xdomain-tf export: error: --quantize int16x8 needs packed ids") and err.count("\n") == 1
