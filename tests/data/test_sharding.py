"""Sharded corpora: `write_shards` / `xdomain-tf data shard`, globs, and the per-worker
shards of `make_dataset` (file and data policies)."""
import collections
import json
import os
import subprocess
import sys
import textwrap
import types
import uuid

import pytest

from network_ports import free_ports

from xdomain_tf.cli.main import main
from xdomain_tf.data import LabelSpace, make_dataset, read_records, write_jsonl, write_shards
from xdomain_tf.data.pipeline import _Source
from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.utils.storage import storage_path


def _records(count, domains=("news", "web")):
    return [
        {"text": f"text {i}", "label": f"l{i % 3}", "domain": domains[i % len(domains)], "id": f"r{i}"}
        for i in range(count)
    ]


def _key(record):
    return tuple(sorted(record.items()))


def _ram(name):
    return f"ram://sharding-{uuid.uuid4().hex[:8]}/{name}"


def _context(pipelines, index):
    return types.SimpleNamespace(
        num_input_pipelines=pipelines, input_pipeline_id=index, num_replicas_in_sync=pipelines,
        get_per_replica_batch_size=lambda batch_size: batch_size // pipelines,
    )


# --- write_shards and data shard ---------------------------------------------------

@pytest.mark.parametrize("where", ["local", "ram"])
@pytest.mark.parametrize("fmt,compressed", [("tfrecord", False), ("jsonl", True)])
def test_write_shards_round_trip(tmp_path, where, fmt, compressed):
    records = _records(11)
    source = str(tmp_path / "in.jsonl") if where == "local" else _ram("in.jsonl")
    write_jsonl(records, source)
    prefix = str(tmp_path / "out" / "train") if where == "local" else _ram("out/train")
    counts = write_shards(source, prefix, 3, format=fmt, compressed=compressed)
    suffix = (".tfrecord" if fmt == "tfrecord" else ".jsonl") + (".gz" if compressed else "")
    assert list(counts) == [f"{prefix}-{i:05d}-of-00003{suffix}" for i in range(3)]
    assert list(counts.values()) == [4, 4, 3]
    for index, path in enumerate(counts):
        assert [r["id"] for r in read_records(path)] == [f"r{i}" for i in range(index, 11, 3)]
    back = list(read_records(f"{prefix}-*-of-*{suffix}"))
    assert collections.Counter(map(_key, back)) == collections.Counter(map(_key, records))
    # Only the shards are left, no temporaries.
    folder = storage_path(prefix).parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(storage_path(p).name for p in counts)


def test_write_shards_keeps_a_similar_mix_and_takes_records_in_memory(tmp_path):
    counts = write_shards(_records(12, domains=("a", "b", "c")), tmp_path / "mix3", 2)
    for path in counts:
        assert collections.Counter(r["domain"] for r in read_records(path)) == {"a": 2, "b": 2, "c": 2}


def test_a_bad_record_publishes_nothing(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "a", "domain": "x"}\n{"text": "b", "domain": "x"}\n{"text": 3, "domain": [1]}\n')
    with pytest.raises(DataError, match=r"in.jsonl:3"):
        write_shards(source, tmp_path / "out" / "train", 2)
    assert list((tmp_path / "out").iterdir()) == []


def test_another_shard_set_under_the_same_prefix_is_refused(tmp_path):
    write_shards(_records(4), tmp_path / "train", 2)
    write_shards(_records(6), tmp_path / "train", 2)  # the same set again: replaced
    assert sum(1 for _ in read_records(str(tmp_path / "train-*-of-*.tfrecord"))) == 6
    with pytest.raises(XDomainError, match=r"train-\*-of-\*\.tfrecord: 2 shard\(s\) of another set exist"):
        write_shards(_records(6), tmp_path / "train", 3)


def test_data_shard_cli(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    write_jsonl(_records(7), source)
    out = tmp_path / "shards" / "train"
    assert main(["data", "shard", "--input", str(source), "--out", str(out), "--shards", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"records": 7, "shards": {f"{out}-00000-of-00002.tfrecord": 4,
                                               f"{out}-00001-of-00002.tfrecord": 3}}
    ram = _ram("train")
    assert main(["data", "shard", "--input", str(tmp_path / "shards" / "*.tfrecord"), "--out", ram,
                 "--shards", "3", "--format", "jsonl", "--gzip"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"{ram}-00000-of-00003.jsonl.gz: 3 records", f"{ram}-00001-of-00003.jsonl.gz: 2 records",
                       f"{ram}-00002-of-00003.jsonl.gz: 2 records", "7 records in 3 shards"]
    back = list(read_records(f"{ram}-*.jsonl.gz"))
    assert collections.Counter(map(_key, back)) == collections.Counter(map(_key, _records(7)))


def test_data_shard_cli_bad_inputs_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "domain": "x"}\n{"text": \n')
    assert main(["data", "shard", "--input", str(bad), "--out", str(tmp_path / "o"), "--shards", "2"]) != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "bad.jsonl:2" in error[0] and "invalid JSON" in error[0]
    assert main(["data", "shard", "--input", str(tmp_path / "none-*.jsonl"), "--out", str(tmp_path / "o"),
                 "--shards", "2"]) != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "none-*.jsonl: no data file matches this pattern" in error[0]
    assert not any(tmp_path.glob("o-*"))


# --- per-worker shards ---------------------------------------------------------------

def _shard_files(tmp_path, records, files, sharded_names=True):
    for index in range(files):
        name = f"part-{index:05d}-of-{files:05d}.jsonl" if sharded_names else f"part-{index}.jsonl"
        write_jsonl(records[index::files], tmp_path / name)
    return str(tmp_path / "part-*.jsonl")


@pytest.mark.parametrize("pipelines", [2, 3])
@pytest.mark.parametrize("files,policy,sharded_names,expected", [
    (5, "auto", True, "file"), (5, "file", False, "file"), (5, "data", True, "data"), (1, "auto", True, "data"),
    (5, "auto", False, "data"),  # whole files that are not shards (per-domain files, say): data
])
def test_each_pipeline_reads_disjoint_shards_covering_every_record(tmp_path, pipelines, files, policy,
                                                                    sharded_names, expected):
    records = _records(23)
    pattern = _shard_files(tmp_path, records, files, sharded_names)
    space = LabelSpace.from_records(records)
    seen = []
    for index in range(pipelines):
        source = _Source(pattern, space, None, True, "raise", (pipelines, index), True, memory_limit=0,
                         shard_policy=policy)
        assert (source.record_shard == (1, 0)) == (expected == "file")
        seen.append([record["id"] for _, _, record, _ in source._iterate()])
    ids = [i for worker in seen for i in worker]
    assert sorted(ids) == sorted(r["id"] for r in records)  # every record exactly once
    assert all(seen)
    if expected == "file":  # whole files per worker
        for index, worker in enumerate(seen):
            owned = {i for part in range(index, files, pipelines) for i in
                     (r["id"] for r in records[part::files])}
            assert set(worker) == owned


def test_file_policy_needs_enough_files_and_policies_are_checked(tmp_path, preprocessor):
    records = _records(6)
    pattern = _shard_files(tmp_path, records, 2)
    space = LabelSpace.from_records(records)
    with pytest.raises(XDomainError, match=r"shard_policy file needs at least as many data files as input "
                                           r"pipelines \(3\), got 2 data file\(s\)"):
        make_dataset(pattern, preprocessor, space, 6, input_context=_context(3, 0), shard_policy="file")
    with pytest.raises(XDomainError, match="shard_policy must be one of auto, file, data, got 'rows'"):
        make_dataset(pattern, preprocessor, space, 6, shard_policy="rows")


def test_make_dataset_evaluation_over_pipelines_covers_every_record_once(tmp_path, preprocessor):
    records = _records(17)
    pattern = _shard_files(tmp_path, records, 3)
    space = LabelSpace.from_records(records)
    for policy in ("file", "data"):
        ids = []
        for index in range(2):
            dataset = make_dataset(pattern, preprocessor, space, 4, training=False, keep_ids=True,
                                   input_context=_context(2, index), shard_policy=policy)
            ids += [i.decode() for features, _ in dataset for i in features["id"].numpy()]
        assert sorted(ids) == sorted(r["id"] for r in records), policy


_WORKER = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    from xdomain_tf.data import LabelSpace, PerWorkerDataset, input_workers, make_dataset, read_records
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    pattern = sys.argv[1]
    space = LabelSpace.from_records(read_records(pattern))
    preprocessor = Preprocessor(WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "text"]), 8)
    def dataset_fn(input_context):
        return make_dataset(pattern, preprocessor, space, 4, training=False, keep_ids=True,
                            input_context=input_context)
    ids = []
    for features, _ in PerWorkerDataset(dataset_fn, strategy).skip(0):
        for replica in strategy.experimental_local_results(features["id"]):
            ids += [i.decode() for i in replica.numpy()]
    print(json.dumps({"workers": input_workers(strategy), "ids": ids}))
    """
)


def test_two_loopback_workers_read_their_own_shards(tmp_path):
    records = _records(16)
    counts = write_shards(records, tmp_path / "train", 4)
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                                     "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen([sys.executable, str(script), str(tmp_path / "train-*.tfrecord")],
                                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr[-3000:]
    seen = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in results]
    assert [s["workers"] for s in seen] == [2, 2]
    shards = list(counts)
    for index, worker in enumerate(seen):  # worker k reads shards k and k + 2, nothing else
        owned = [r["id"] for path in shards[index::2] for r in read_records(path)]
        assert sorted(worker["ids"]) == sorted(owned)
    assert sorted(seen[0]["ids"] + seen[1]["ids"]) == sorted(r["id"] for r in records)
