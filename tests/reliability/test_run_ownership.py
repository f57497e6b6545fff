"""A run directory belongs to one training: same options to resume, one writer at a time,
and a folder that is not a run is never adopted."""
import pathlib
import subprocess
import sys

import pytest

from xdomain_tf.cli.main import main
from xdomain_tf.errors import XDomainError
from xdomain_tf.runs import RunDirectory

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"


def _train(out, *extra):
    return main(["train", "--train", str(FIXTURES / "train.jsonl"), "--out", str(out), "--init", "bert_tiny",
                 "--vocab-size", "200", "--seq-len", "16", "--batch-size", "16", "--epochs", "1", "--verbose", "0",
                 *extra])


def test_a_rerun_with_other_options_is_refused_listing_them(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out) == 0
    before = (out / "options.json").read_text()
    assert _train(out, "--epochs", "2", "--batch-size", "8") == 2
    error = capsys.readouterr().err
    assert "was trained with other options (--batch-size: 16 there, 8 now; --epochs: 1 there, 2 now)" in error
    assert (out / "options.json").read_text() == before
    assert _train(out, "--verbose", "1") == 0  # same options: the finished run is left as it is


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    assert _train(tmp_path) == 2
    assert "holds files (vocab.txt) but no run" in capsys.readouterr().err


def test_a_second_writer_gets_the_holders_process_id(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from xdomain_tf.runs import RunDirectory\n"
         f"lock = RunDirectory({str(tmp_path)!r}).claim({{'epochs': 1}})\n"
         "print('locked', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(XDomainError, match=f"another training \\(process {holder.pid}\\) is writing this run"):
            RunDirectory(tmp_path).claim({"epochs": 1})
    finally:
        holder.kill()
        holder.wait()
    RunDirectory(tmp_path).claim({"epochs": 1}).release()  # free again once the holder is gone
