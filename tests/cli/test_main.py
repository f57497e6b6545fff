"""`xdomain-tf` itself: --version, exit statuses, one-line errors and flag names in them."""
import errno
import signal
import subprocess
import sys

import pytest

from xdomain_tf.cli.main import build_parser, flag_names, main
from xdomain_tf.errors import DataError, IntegrityError, OperationError, XDomainError
from xdomain_tf.version import __version__


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"xdomain-tf {__version__}\n"


def _stats_raising(monkeypatch, error):
    def read_records(*args, **kwargs):
        raise error

    monkeypatch.setattr("xdomain_tf.data.readers.read_records", read_records)
    return main(["data", "stats", "a.jsonl"])


@pytest.mark.parametrize(
    "error, status, line",
    [
        (XDomainError("a bad value"), 2, "xdomain-tf data stats: error: a bad value"),
        (DataError("missing required field", path="a.jsonl", line=3, field="text"), 2,
         'xdomain-tf data stats: error: a.jsonl:3: field "text": missing required field'),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "a.jsonl"), 2,
         "xdomain-tf data stats: error: a.jsonl: no such file or directory"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "f/a.jsonl"), 2,
         "xdomain-tf data stats: error: f/a.jsonl: not a directory"),
        (OperationError("could not download it (timed out)"), 1,
         "xdomain-tf data stats: error: could not download it (timed out)"),
        (IntegrityError("x.whl", "ab", "cd"), 1,
         "xdomain-tf data stats: error: x.whl: sha256 cd does not match the pinned ab; delete it and download it again"),
        (OSError(errno.ENOSPC, "No space left on device", "out.jsonl"), 1,
         "xdomain-tf data stats: error: out.jsonl: no space left on device"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), 1,
         "xdomain-tf data stats: error: [Errno 104] Connection reset by peer"),
        (XDomainError("first line\n  second line"), 2, "xdomain-tf data stats: error: first line second line"),
        (KeyboardInterrupt(), 130, "xdomain-tf data stats: interrupted"),
    ],
)
def test_exit_status_and_one_line(monkeypatch, capsys, error, status, line):
    assert _stats_raising(monkeypatch, error) == status
    captured = capsys.readouterr()
    assert captured.err == line + "\n"
    assert captured.out == ""


def test_a_bug_still_shows_its_traceback(monkeypatch):
    with pytest.raises(ZeroDivisionError):
        _stats_raising(monkeypatch, ZeroDivisionError("a bug"))


def test_bad_invocation_exits_2_from_argparse(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--batch-size", "many"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "xdomain-tf train: error: argument --batch-size: invalid int value: 'many'"
    )


@pytest.mark.parametrize(
    "command, message, expected",
    [
        # A Python keyword argument becomes the flag that sets it ...
        ("data stats", DataError("missing required field (unlabeled data needs require_label=False)", "a.jsonl", 1,
                                 "label"),
         'a.jsonl:1: field "label": missing required field (unlabeled data needs --unlabelled)'),
        ("pretrain", XDomainError("whole_word=True needs the tokenizer (to find the ## pieces)"),
         "--whole-word needs the tokenizer (to find the ## pieces)"),
        ("pretrain-eval", XDomainError("whole_word=True needs the tokenizer (to find the ## pieces)"),
         "--whole-word needs the tokenizer (to find the ## pieces)"),
        ("pretrain-eval", XDomainError("a causal model needs whole_word=False"), "a causal model needs no --whole-word"),
        ("train", XDomainError("a frozen encoder needs adapters=False"), "a frozen encoder needs --adapters false"),
        ("export", XDomainError("export/news/1 exists; pass overwrite=True to replace it"),
         "export/news/1 exists; pass --overwrite to replace it"),
        ("train", XDomainError("fp16 here needs jit_compile='off'"), "fp16 here needs --jit-compile off"),
        # ... and advice no flag of the command can follow is dropped with its parentheses.
        ("evaluate", DataError("missing required field (unlabeled data needs require_label=False)", "a.jsonl", 1,
                               "label"),
         'a.jsonl:1: field "label": missing required field'),
        ("train", DataError("missing required field (a single-domain file can be read with default_domain=...)",
                            "a.jsonl", 1, "domain"),
         'a.jsonl:1: field "domain": missing required field (a single-domain file can be read with '
         "--default-domain DOMAIN)"),
        ("evaluate", DataError("missing required field (a single-domain file can be read with default_domain=...)",
                               "a.jsonl", 1, "domain"),
         'a.jsonl:1: field "domain": missing required field'),
        ("train", XDomainError("no TPU could be reached (tpu='local'): timeout"),
         "no TPU could be reached (tpu='local'): timeout"),
        # Option names become flags; plain words only where they name the option.
        ("train", XDomainError("choose either adapters or lora_rank, not both"),
         "choose either --adapters or --lora-rank, not both"),
        ("train", XDomainError("c.yaml: not valid YAML (line 1, column 4: expected a node)"),
         "c.yaml: not valid YAML (line 1, column 4: expected a node)"),
        ("pretrain-eval", XDomainError("init 'x' is not a folder or .keras file"),
         "--model 'x' is not a folder or .keras file"),
        ("evaluate", XDomainError("--baseline needs a run directory (its training files train the baseline)"),
         "--baseline needs a run directory (its training files train the baseline)"),
        ("train", XDomainError("x: not a Hugging Face BERT folder (config.json + model.safetensors)"),
         "x: not a Hugging Face BERT folder (config.json + model.safetensors)"),
        ("train", XDomainError("valid must be a list of data file paths, got 5"),
         "--valid must be a list of data file paths, got 5"),
        ("train", XDomainError("r: was trained with other options (epochs: 3 there, 4 now); use a new out folder"),
         "r: was trained with other options (--epochs: 3 there, 4 now); use a new --out folder"),
        ("predict", XDomainError("x: no such model (a run directory or a .tflite file); unknown domain 'sport'"),
         "x: no such model (a run directory or a .tflite file); unknown domain 'sport'"),
        ("predict", DataError("unknown domain", field="domain", value="x"),
         "field \"domain\": unknown domain (value 'x')"),
    ],
)
def test_messages_speak_in_flags(command, message, expected):
    assert flag_names(message, build_parser(), command) == expected


def test_data_stats_suggests_unlabelled(tmp_path, capsys):
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"text": "one two", "domain": "web"}\n')
    assert main(["data", "stats", str(plain)]) == 2
    assert capsys.readouterr().err == (
        f'xdomain-tf data stats: error: {plain}:1: field "label": missing required field '
        "(unlabeled data needs --unlabelled)\n"
    )


SLOW_STATS = """
import signal, sys, time
import xdomain_tf.data.readers

# A terminal delivers Ctrl-C; a test runner's worker may start children with SIGINT ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)

def slow_read(*args, **kwargs):
    print("reading", flush=True)
    time.sleep(120)

xdomain_tf.data.readers.read_records = slow_read
from xdomain_tf.cli.main import main
sys.exit(main(["data", "stats", "a.jsonl"]))
"""


def test_ctrl_c_is_one_line_and_130():
    """A real SIGINT while `data stats` reads: "interrupted" on stderr, no traceback."""
    process = subprocess.Popen([sys.executable, "-c", SLOW_STATS], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout.readline() == "reading\n"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert (process.returncode, err, out) == (130, "xdomain-tf data stats: interrupted\n", "")
