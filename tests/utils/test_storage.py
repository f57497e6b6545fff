"""Paths on TensorFlow file systems: `StoragePath` over `ram://`, publishing without atomic
renames, one-line errors for URLs TensorFlow cannot reach."""
import pathlib

import pytest

from object_store import ObjectStore, object_store
from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import atomic_path, write_json_atomic
from xdomain_tf.utils.storage import (
    StoragePath, copy_tree, file_system, is_url, local_copy, publish_folder, remove_tree, storage_path,
)


def test_local_paths_stay_pathlib_and_urls_become_storage_paths(tmp_path):
    assert storage_path(tmp_path) is tmp_path
    assert storage_path(str(tmp_path)) == tmp_path
    assert storage_path("file://" + str(tmp_path)) == tmp_path
    url = storage_path("ram://a/b/c.tar.gz")
    assert isinstance(url, StoragePath) and url.name == "c.tar.gz" and url.suffixes == [".tar", ".gz"]
    assert str(url.parent) == "ram://a/b" and str(url.with_name("d")) == "ram://a/b/d"
    assert not is_url("C:/data") and is_url("hdfs://namenode:8020/x")


def test_read_write_list_and_remove_on_ram():
    root = storage_path("ram://storage-test/run")
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "a.json").write_text("{}")
    (root / "sub" / "b.txt").write_bytes(b"\xffbytes")
    (root / "a.json").write_text("[1]")  # shorter than before: nothing of the old content is left
    assert (root / "a.json").read_text() == "[1]"
    assert [path.name for path in root.iterdir()] == ["a.json", "sub"]
    assert [str(path) for path in root.glob("*.json")] == ["ram://storage-test/run/a.json"]
    assert (root / "sub" / "b.txt").stat().st_size == 6
    with (root / "sub" / "b.txt").open("rb") as handle:
        assert handle.read(1) == b"\xff" and handle.read() == b"bytes"
    with pytest.raises(FileNotFoundError, match="no such file"):
        (root / "missing.txt").read_text()
    with pytest.raises(IsADirectoryError):
        (root / "sub").read_bytes()
    remove_tree(root)
    assert not root.exists()


def test_atomic_writes_on_ram_leave_no_temporaries():
    target = storage_path("ram://storage-atomic/run.json")
    write_json_atomic(target, {"step": 1})
    write_json_atomic(target, {"step": 2})
    assert target.read_text() == '{\n  "step": 2\n}\n'
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == '{\n  "step": 2\n}\n'
    assert [path.name for path in target.parent.iterdir()] == ["run.json"]


def test_object_store_publishes_the_marker_file_last():
    landed = []
    with object_store(observe=lambda path: landed.append(path.name)) as (root, store):
        staging = storage_path(f"{root}/base/.7.tmp")
        (staging / "variables").mkdir(parents=True, exist_ok=True)
        for name in ("saved_model.pb", "fingerprint.pb", "variables/variables.index"):
            (staging / name).write_text(name)
        publish_folder(staging, f"{root}/base/7", last=("saved_model.pb",))
        assert landed == ["fingerprint.pb", "variables.index", "saved_model.pb"]
        assert not staging.exists()
        assert storage_path(f"{root}/base/7/variables/variables.index").read_text() == "variables/variables.index"
        assert file_system(f"{root}/base").atomic_rename is False


def test_a_crash_while_publishing_never_shows_the_marker():
    with object_store(crash_at=2) as (root, store):
        staging = storage_path(f"{root}/.1.tmp")
        for name in ("a", "b", "saved_model.pb"):
            (staging / name).write_text(name)
        with pytest.raises(ObjectStore.Crash):
            publish_folder(staging, f"{root}/1", last=("saved_model.pb",))
        final = storage_path(f"{root}/1")
        assert [path.name for path in final.iterdir()] == ["a"]
        assert not (final / "saved_model.pb").exists()


def test_local_folders_publish_by_one_rename(tmp_path):
    staging = tmp_path / ".v.tmp"
    staging.mkdir()
    (staging / "x").write_text("new")
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "x").write_text("old")
    publish_folder(staging, tmp_path / "v")
    assert (tmp_path / "v" / "x").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["v"]


def test_copies_between_local_and_ram_round_trip(tmp_path):
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "deep" / "w.bin").write_bytes(bytes(range(256)))
    copy_tree(tmp_path / "src", "ram://storage-copy/dst")
    with local_copy("ram://storage-copy/dst") as local:
        assert (local / "deep" / "w.bin").read_bytes() == bytes(range(256))
    with local_copy("ram://storage-copy/dst/deep/w.bin") as local:
        assert isinstance(local, pathlib.Path) and local.stat().st_size == 256
    assert not local.exists()


@pytest.mark.parametrize(
    "url, message",
    [
        ("s3://bucket/run", r"^s3://bucket: TensorFlow has no file system for s3:// \(it comes with tensorflow-io"),
        ("nosuch://x/run", r"^nosuch://x: TensorFlow has no file system for nosuch://"),
    ],
)
def test_unreachable_urls_are_one_line(url, message):
    with pytest.raises(XDomainError, match=message) as caught:
        storage_path(url).parent.exists()
    assert "\n" not in str(caught.value)


def test_bad_url_is_one_line_through_the_cli(tmp_path, capsys):
    from xdomain_tf.cli.main import main

    assert main(["train", "--train", str(tmp_path / "t.jsonl"), "--out", "s3://bucket/run"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "s3://bucket/run: TensorFlow has no file system for s3://" in error
