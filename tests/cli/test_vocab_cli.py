import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "checkpoints"))
from checkpoint_fixtures import random_hf_tensors, tiny_config, write_hf_folder  # noqa: E402

from xdomain_tf.cli.main import main  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def tiny_mlm_folder(tmp_path_factory):
    config = tiny_config()
    return write_hf_folder(tmp_path_factory.mktemp("hf") / "tiny", config, random_hf_tensors(config, mlm_head=True))


def test_extend_writes_a_run_that_train_takes_as_init(tiny_mlm_folder, tmp_path, capsys):
    out = tmp_path / "extended"
    texts = FIXTURES / "multilingual" / "train.jsonl"
    status = main(["vocab", "extend", "--init", str(tiny_mlm_folder), "--texts", str(texts), "--add", "40",
                   "--out", str(out), "--json", str(tmp_path / "report.json")])
    printed = capsys.readouterr().out
    assert status == 0
    assert "added 40 WordPieces: vocabulary" in printed
    report = json.loads((out / "vocabulary_extension.json").read_text())
    assert report == json.loads((tmp_path / "report.json").read_text())
    assert sorted(report["pieces_per_word"]) == ["de", "en", "fr"]
    for language, scores in report["pieces_per_word"].items():
        assert scores["after"] < scores["before"], language
        assert f"{language:<10}{scores['words']:>10}{scores['before']:>9.3f}{scores['after']:>9.3f}" in printed
    assert (out / "mlm_head.npz").is_file() and (out / "run.json").is_file()

    trained = tmp_path / "classifier"
    status = main(["train", "--init", str(out), "--train", str(FIXTURES / "multidomain" / "train.jsonl"),
                   "--seq-len", "16", "--batch-size", "8", "--steps", "2", "--verbose", "0", "--out", str(trained)])
    assert status == 0
    assert (trained / "vocab.txt").read_text() == (out / "vocab.txt").read_text()


def _extend_argv(folder, tmp_path, **changes):
    flags = {"--init": str(folder), "--texts": str(FIXTURES / "multilingual" / "train.jsonl"), "--add": "5",
             "--out": str(tmp_path / "out"), **changes}
    return ["vocab", "extend"] + [item for pair in flags.items() for item in pair]


def test_add_must_be_positive(tiny_mlm_folder, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(_extend_argv(tiny_mlm_folder, tmp_path, **{"--add": "0"}))
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "xdomain-tf vocab extend: error: argument --add: must be a positive integer, got '0'"
    )


def test_a_missing_texts_file_is_one_line_and_exit_2(tiny_mlm_folder, tmp_path, capsys):
    assert main(_extend_argv(tiny_mlm_folder, tmp_path, **{"--texts": str(tmp_path / "missing.txt")})) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "missing.txt: no such file" in error and "Traceback" not in error
    assert not (tmp_path / "out").exists()
