import json
import os
import subprocess
import sys

from network_ports import free_ports


def test_two_workers_train_through_the_cli_and_only_the_chief_writes(tmp_path, tiny_train_args):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    out = tmp_path / "runs" / "mw"
    command = [sys.executable, "-m", "xdomain_tf", "train", *tiny_train_args, "--epochs", "2",
               "--strategy", "multi_worker", "--out", str(out)]
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        env["TMPDIR"] = str(tmp_path / f"tmp{index}")
        os.makedirs(env["TMPDIR"])
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [p.communicate(timeout=600) for p in processes]
    for process, (stdout, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr[-3000:]
    summaries = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in results]
    assert summaries[0]["steps"] == summaries[1]["steps"] == 2 * 9
    assert (out / "run.json").exists()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["mw"]
    assert list((tmp_path / "tmp1").iterdir()) == []  # the worker's scratch folders are gone
