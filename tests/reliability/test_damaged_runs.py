"""A damaged run file is one line naming it and saying what to do, whichever command reads
it; state derived from the data is rebuilt after the data changes, never reused stale."""
import json
import pathlib
import shutil
import zipfile

import pytest

from xdomain_tf.cli.main import main
from xdomain_tf.errors import DamagedFileError
from xdomain_tf.runs import RunDirectory

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"
RERUN = "re-run the training command or restore it"


def _train_args(out, train=FIXTURES / "train.jsonl", valid=FIXTURES / "valid.jsonl"):
    return ["train", "--train", str(train), "--valid", str(valid), "--out", str(out), "--init", "bert_tiny",
            "--vocab-size", "200", "--seq-len", "16", "--batch-size", "16", "--epochs", "1", "--steps", "2",
            "--verbose", "0"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run of `xdomain-tf train` (with its checkpoint), built once."""
    out = tmp_path_factory.mktemp("damaged") / "run"
    assert main(_train_args(out)) == 0
    assert (out / "checkpoints" / "state.json").exists()
    return out


@pytest.fixture
def run(trained, tmp_path):
    """A copy of the trained run to damage (its options name the copy as out)."""
    copy = pathlib.Path(shutil.copytree(trained, tmp_path / "run"))
    options = json.loads((copy / "options.json").read_text())
    (copy / "options.json").write_text(json.dumps({**options, "out": str(copy)}))
    return copy


def _one_line_error(capsys, command):
    """Runs the CLI; asserts exit 2 and one stderr line without a traceback; returns it."""
    code = main(command)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


def _checkpoint_prefix(run):
    return run / "checkpoints" / json.loads((run / "checkpoints" / "state.json").read_text())["checkpoint"]


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_truncated_model_keras_is_named_by_from_preset_and_evaluate(run, capsys):
    from xdomain_tf.tasks import MultiDomainTextClassifier

    _truncate(run / "model.keras")
    message = f"{run}/model.keras is damaged (not a zip file); {RERUN}"
    with pytest.raises(DamagedFileError) as info:
        MultiDomainTextClassifier.from_preset(run)
    assert str(info.value) == message
    err = _one_line_error(capsys, ["evaluate", "--model", str(run), "--data", str(FIXTURES / "valid.jsonl")])
    assert err == f"xdomain-tf evaluate: error: {message}"


def test_tampered_member_of_model_keras_fails_its_checksum_in_predict(run, capsys):
    path = run / "model.keras"
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("model.weights.h5")
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(path.read_bytes())
    data[offset + info.compress_size // 2] ^= 0xFF  # one byte of the weights, inside the zip
    path.write_bytes(bytes(data))
    err = _one_line_error(capsys, ["predict", "--model", str(run), "--text", "a goal", "--domain", "news"])
    assert err == f"xdomain-tf predict: error: {path} is damaged (model.weights.h5 inside fails its checksum); {RERUN}"


def test_corrupt_keras_file_is_not_reported_as_file_not_found(run, tmp_path):
    from xdomain_tf.tasks import MultiDomainTextClassifier

    saved = tmp_path / "classifier.keras"
    saved.write_bytes((run / "model.keras").read_bytes()[:1000])
    with pytest.raises(DamagedFileError, match=r"classifier.keras is damaged \(not a zip file\); save or download"):
        MultiDomainTextClassifier.from_preset(saved)


def test_truncated_run_json_is_named_by_export(run, tmp_path, capsys):
    _truncate(run / "run.json")
    err = _one_line_error(capsys, ["export", "--model", str(run), "--saved-model", str(tmp_path / "export")])
    assert f"error: {run}/run.json is damaged (not valid JSON: " in err and err.endswith(RERUN)


def test_damaged_preprocessor_json_is_named_by_from_preset(run):
    from xdomain_tf.tasks import MultiDomainTextClassifier

    (run / "preprocessor.json").write_text('{"class_name": "Preprocessor", "config": ')
    with pytest.raises(DamagedFileError) as info:
        MultiDomainTextClassifier.from_preset(run)
    assert str(info.value) == (
        f"{run}/preprocessor.json is damaged (not valid JSON: Expecting value at line 1 column 42); {RERUN}"
    )


def test_damaged_preprocessor_json_of_an_init_run_is_refused_not_worked_around(run, tmp_path, capsys):
    (run / "preprocessor.json").write_text('{"class_name": "Preprocessor", "config": ')
    args = _train_args(tmp_path / "next")
    args[args.index("--init") + 1] = str(run)
    err = _one_line_error(capsys, args)
    assert err.endswith(f"{run}/preprocessor.json is damaged (not valid JSON: Expecting value at line 1 column 42); {RERUN}")


def test_damaged_options_json_is_named_by_a_resumed_train(run, capsys):
    (run / "options.json").write_bytes(b"\x00" * 64)
    err = _one_line_error(capsys, _train_args(run))
    assert err == (
        f"xdomain-tf train: error: {run}/options.json is damaged (not valid JSON: Expecting value at line 1 "
        "column 1); restore it, or train into a new --out folder"
    )


def test_tampered_label_space_json_is_named_by_a_resumed_train(run, capsys):
    (run / "label_space.json").write_text('{"domains": [{"name": "news"}]}')
    err = _one_line_error(capsys, _train_args(run))
    assert err.startswith(f"xdomain-tf train: error: {run}/label_space.json is damaged (not a LabelSpace dict")
    assert err.endswith("delete it to rebuild it from the training data, or restore it")


@pytest.mark.parametrize("damage", ["state.json", "index", "data"])
def test_damaged_checkpoint_is_named_by_a_resumed_train(run, capsys, damage):
    prefix = _checkpoint_prefix(run)
    path = {
        "state.json": run / "checkpoints" / "state.json",
        "index": prefix.with_name(prefix.name + ".index"),
        "data": prefix.with_name(prefix.name + ".data-00000-of-00001"),
    }[damage]
    _truncate(path)
    err = _one_line_error(capsys, _train_args(run))
    assert err.startswith(f"xdomain-tf train: error: {path} is damaged (")
    assert err.endswith(f"; delete {run}/checkpoints to train again from step 0, or restore it")


def test_data_fixed_after_a_failed_attempt_rebuilds_the_label_space(tmp_path, capsys):
    train = tmp_path / "train.jsonl"
    lines = (FIXTURES / "train.jsonl").read_text().splitlines(keepends=True)
    train.write_text("".join(line for line in lines if json.loads(line)["label"] != "tech"))
    out = tmp_path / "run"
    err = _one_line_error(capsys, _train_args(out, train=train))
    assert "unknown label for domain 'news'; known labels: politics, sport" in err
    assert (out / "label_space.json").exists() and not (out / "checkpoints" / "state.json").exists()

    train.write_text("".join(lines))  # the data fixed: the training split has every label now
    assert main(_train_args(out, train=train)) == 0, capsys.readouterr().err
    assert RunDirectory(out).load_label_space().labels("news") == ("politics", "sport", "tech")


def test_data_changed_after_a_checkpoint_is_refused(run, tmp_path, capsys):
    train = tmp_path / "train.jsonl"
    train.write_text((FIXTURES / "train.jsonl").read_text())
    options = json.loads((run / "options.json").read_text())
    options["train"] = [str(train)]
    (run / "options.json").write_text(json.dumps(options))
    inputs = run / "inputs.json"  # the run's data fingerprint, moved along with the data
    if inputs.exists():
        files = json.loads(inputs.read_text())["files"]
        inputs.write_text(json.dumps({"files": [{**f, "path": str(train)} if f["path"].endswith("train.jsonl") else f
                                                for f in files]}))
    with open(train, "a") as handle:
        handle.write('{"text": "one more", "label": "sport", "domain": "news"}\n')
    before = (run / "label_space.json").read_bytes()
    err = _one_line_error(capsys, _train_args(run, train=train))
    assert "the training data changed since this run was checkpointed (train.jsonl: " in err
    assert "use a new --out folder, or put the data back as it was" in err
    assert (run / "label_space.json").read_bytes() == before
