"""Exports into one base claim distinct versions, and never replace one silently."""
import multiprocessing
import os
import subprocess
import sys

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.export.saved_model_export import reserve_version, saved_model


def _claim(base):
    version, _ = reserve_version(base, None, overwrite=False)
    return version


def test_processes_reserving_at_once_get_distinct_versions(tmp_path):
    (tmp_path / "1").mkdir()
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        versions = pool.map(_claim, [tmp_path] * 12)
    assert sorted(versions) == list(range(2, 14))


def test_a_live_reservation_is_respected_and_a_stale_one_taken_over(classifier_run, tmp_path):
    base = tmp_path / "xdomain"
    base.mkdir()
    (base / ".1.reserved").write_text(str(os.getpid()))  # another export is writing version 1
    with pytest.raises(XDomainError, match="is being exported by another process"):
        saved_model(classifier_run, base, version=1, models_config=None)
    assert saved_model(classifier_run, base, models_config=None).name == "2"
    assert not (base / ".2.reserved").exists() and (base / ".1.reserved").exists()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (base / ".1.reserved").write_text(finished.stdout.strip())  # its process is gone
    assert saved_model(classifier_run, base, version=1, models_config=None).name == "1"
    assert sorted(path.name for path in base.iterdir()) == ["1", "2"]
