import pathlib
import subprocess
import sys

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.distribution.strategies import is_chief, strategy


def test_mirrored_over_two_cpus_matches_default_strategy():
    script = pathlib.Path(__file__).with_name("strategy_script.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    replicas_default, replicas_mirrored, difference = result.stdout.split()[-3:]
    assert (replicas_default, replicas_mirrored) == ("1", "2")
    assert float(difference) < 1e-5


def test_auto_on_cpu_is_the_default_strategy(monkeypatch):
    for name in ("TPU_NAME", "COLAB_TPU_ADDR", "TF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert strategy("auto").num_replicas_in_sync == 1
    assert is_chief()


def test_bad_kinds_are_clear_errors(monkeypatch):
    with pytest.raises(XDomainError, match="unknown strategy 'gpu'"):
        strategy("gpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(XDomainError, match="multi_worker needs TF_CONFIG"):
        strategy("multi_worker")


def test_tpu_without_a_tpu_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TPU_NAME", "no-such-tpu")
    with pytest.raises(XDomainError, match="no TPU could be reached"):
        strategy("tpu")
