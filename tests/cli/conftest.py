import pathlib
import subprocess
import sys

import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multidomain"
TINY_TRAIN = [
    "--train", str(FIXTURES / "train.jsonl"),
    "--valid", str(FIXTURES / "valid.jsonl"),
    "--init", "bert_tiny",
    "--vocab-size", "300",
    "--seq-len", "32",
    "--batch-size", "16",
    "--learning-rate", "0.003",
    "--verbose", "0",
]


def run_cli(*args, env=None, timeout=600):
    """Runs `python -m xdomain_tf ARGS` and returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "xdomain_tf", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=timeout,
    )


@pytest.fixture(scope="session")
def cli():
    return run_cli


@pytest.fixture(scope="session")
def tiny_train_args():
    return list(TINY_TRAIN)


@pytest.fixture(scope="session")
def multidomain_fixtures():
    return FIXTURES


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A tiny two-domain classifier run directory trained through the CLI."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = run_cli("train", *TINY_TRAIN, "--epochs", "4", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out
