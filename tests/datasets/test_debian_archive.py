import os
import shutil
import subprocess

import pytest

from xdomain_tf.datasets import debian_archive
from xdomain_tf.datasets.debian_archive import (
    fetch_debian_lists,
    local_debian_lists,
    write_apt_config,
)
from xdomain_tf.errors import XDomainError

PREFIX = "deb.debian.org_debian_dists_bookworm_main_"


def test_local_debian_lists_classifies_files(debian_fixture_dir, tmp_path):
    lists = local_debian_lists([debian_fixture_dir])
    assert [p.name for p in lists.packages] == ["Packages"]
    assert {lang: [p.name for p in paths] for lang, paths in lists.translations.items()} == {
        "de": ["Translation-de"],
        "en": ["Translation-en"],
    }
    assert lists.require(["en", "de"]) is lists
    with pytest.raises(XDomainError, match=r"language\(s\) fr \(found: de, en\)"):
        lists.require(["en", "fr"])
    with pytest.raises(FileNotFoundError):
        local_debian_lists([tmp_path / "missing"])


def test_private_apt_config_keeps_everything_under_the_cache(tmp_path):
    config = write_apt_config(tmp_path, ["en", "de"], "http://deb.debian.org/debian", "bookworm", ["main"], "amd64")
    text = config.read_text()
    assert f'Dir::State::Lists "{tmp_path}/lists";' in text
    assert f'Dir::State::status "{tmp_path}/status";' in text
    assert f'Dir::Cache "{tmp_path}/cache";' in text
    assert f'Dir::Etc::Parts "{tmp_path}/parts";' in text
    assert (tmp_path / "status").read_text() == ""
    ours = (tmp_path / "parts" / "zzzz-xdomain-tf").read_text()
    assert 'Acquire::Languages { "en"; "de"; };' in ours
    for part in (tmp_path / "parts").iterdir():
        if part.name != "zzzz-xdomain-tf":
            assert "Acquire::Languages" not in part.read_text(errors="replace")
    sources = (tmp_path / "sources.list.d" / "debian.sources").read_text()
    assert "URIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n" in sources


@pytest.mark.skipif(not shutil.which("apt-config"), reason="needs apt")
def test_apt_reads_the_private_config(tmp_path):
    config = write_apt_config(tmp_path, ["en", "de"], "http://deb.debian.org/debian", "bookworm", ["main"], "amd64")
    env = dict(os.environ, APT_CONFIG=str(config))
    shell = subprocess.run(
        ["apt-config", "shell", "LISTS", "Dir::State::Lists/d", "STATUS", "Dir::State::status/f"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert f"LISTS='{tmp_path}/lists/'" in shell
    assert f"STATUS='{tmp_path}/status'" in shell
    dump = subprocess.run(["apt-config", "dump"], env=env, capture_output=True, text=True, check=True).stdout
    languages = [line.split('"')[1] for line in dump.splitlines() if line.startswith("Acquire::Languages:: ")]
    # apt-config appends "none" to the computed list; without our part it would be ["none"].
    assert [lang for lang in languages if lang != "none"] == ["en", "de"]
    assert not any(line.startswith("APT::Update::Post-Invoke-Success:: ") for line in dump.splitlines())


def _write_lists(lists_dir, languages):
    lists_dir.mkdir(parents=True, exist_ok=True)
    (lists_dir / f"{PREFIX}binary-amd64_Packages").write_text("Package: a\nSection: games\n")
    for lang in languages:
        (lists_dir / f"{PREFIX}i18n_Translation-{lang}").write_text(f"Package: a\nDescription-{lang}: x\n")


def test_cached_lists_are_reused_without_apt(tmp_path, monkeypatch):
    _write_lists(tmp_path / "apt" / "lists", ["en", "de"])

    def no_apt(*args, **kwargs):
        raise AssertionError("apt-get must not run when the lists are cached")

    monkeypatch.setattr(debian_archive.subprocess, "run", no_apt)
    lists = fetch_debian_lists(["en", "de"], tmp_path)
    assert [p.name for p in lists.packages] == [f"{PREFIX}binary-amd64_Packages"]
    assert sorted(lists.translations) == ["de", "en"]


def test_missing_apt_get_says_how_to_use_local_files(tmp_path, monkeypatch):
    monkeypatch.setattr(debian_archive.shutil, "which", lambda name: None)
    with pytest.raises(XDomainError, match="apt-get not found.*from_file"):
        fetch_debian_lists(["en"], tmp_path)


def test_unreachable_archive_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(debian_archive.shutil, "which", lambda name: "/usr/bin/apt-get")

    def failing_update(command, env, **kwargs):
        assert env["APT_CONFIG"] == str(tmp_path / "apt" / "apt.conf")
        return subprocess.CompletedProcess(
            command, 100,
            stdout="Err:1 http://deb.debian.org/debian bookworm InRelease\n  Temporary failure resolving\n",
            stderr="E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease\n",
        )

    monkeypatch.setattr(debian_archive.subprocess, "run", failing_update)
    with pytest.raises(XDomainError) as info:
        fetch_debian_lists(["en"], tmp_path)
    message = str(info.value)
    assert "could not fetch the Debian archive" in message
    assert "E: Failed to fetch" in message and "from_file" in message



def test_missing_debian_keyring_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(debian_archive.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(debian_archive, "DEFAULT_KEYRING", str(tmp_path / "debian-archive-keyring.gpg"))

    def unverifiable(command, env, **kwargs):
        sources = (tmp_path / "apt" / "sources.list.d" / "debian.sources").read_text()
        assert "Signed-By" not in sources  # no keyring file to name
        return subprocess.CompletedProcess(
            command, 100, stdout="",
            stderr="W: GPG error: http://deb.debian.org/debian bookworm InRelease: NO_PUBKEY 6ED0E7B82643E131\n",
        )

    monkeypatch.setattr(debian_archive.subprocess, "run", unverifiable)
    with pytest.raises(XDomainError) as info:
        fetch_debian_lists(["en"], tmp_path)
    message = str(info.value)
    assert "NO_PUBKEY" in message and "apt-get install debian-archive-keyring" in message
    assert "\n" not in message

def test_language_without_translations_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(debian_archive.shutil, "which", lambda name: "/usr/bin/apt-get")

    def update(command, env, **kwargs):
        _write_lists(tmp_path / "apt" / "lists", ["en"])
        return subprocess.CompletedProcess(command, 0, stdout="", stderr="")

    monkeypatch.setattr(debian_archive.subprocess, "run", update)
    with pytest.raises(XDomainError, match=r"no Translation file for language\(s\) xx.*from_file"):
        fetch_debian_lists(["en", "xx"], tmp_path)
