"""`xdomain-tf data-service dispatcher|worker`, and `train --data-service`, in-process."""
import json

import pytest

from network_ports import free_port

from xdomain_tf.cli.main import main


@pytest.fixture
def interrupted_join(monkeypatch):
    """The commands' wait ends as Ctrl-C would end it."""
    import time

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupt)


def test_dispatcher_and_worker_print_their_address_and_stop_on_ctrl_c(interrupted_join, capsys):
    dispatcher_port, worker_port = free_port(), free_port()
    assert main(["data-service", "dispatcher", "--port", str(dispatcher_port),
                 "--workers", f"localhost:{worker_port}"]) == 130
    out, err = capsys.readouterr()
    assert out == f"tf.data service dispatcher serving grpc://localhost:{dispatcher_port} for workers localhost:{worker_port}\n"
    assert err == "xdomain-tf data-service dispatcher: interrupted\n"


def test_bad_worker_flags_are_one_line(capsys):
    assert main(["data-service", "worker", "--port", "5051", "--dispatcher", "nowhere"]) == 2
    assert capsys.readouterr().err == (
        "xdomain-tf data-service worker: error: --dispatcher 'nowhere' is not HOST:PORT (e.g. localhost:5050)\n"
    )
    assert main(["data-service", "dispatcher", "--port", "70000", "--workers", "a:1"]) == 2
    assert capsys.readouterr().err == "xdomain-tf data-service dispatcher: error: --port must be in 1-65535, got 70000\n"


def test_train_fed_by_the_service(tmp_path, tiny_train_args, capsys):
    from xdomain_tf.data.data_service import start_dispatcher, start_worker

    ports = [free_port(), free_port()]
    addresses = [f"localhost:{port}" for port in ports]
    dispatcher = start_dispatcher(free_port(), workers=addresses)
    workers = [start_worker(dispatcher.target, port=port, address=address) for port, address in zip(ports, addresses)]
    try:
        out = tmp_path / "run"
        assert main(["train", *tiny_train_args, "--epochs", "1", "--out", str(out),
                     "--data-service", dispatcher.target]) == 0
    finally:
        for server in (*workers, dispatcher):
            server.stop()
    captured = capsys.readouterr()
    assert f"training input pipeline on the tf.data service {dispatcher.target}" in captured.out
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["steps"] == 9  # 144 training examples, batch 16, one epoch
    assert (out / "model.keras").exists()


@pytest.mark.parametrize("command", ["train", "pretrain"])
def test_a_bad_or_unreachable_service_is_one_line(tmp_path, tiny_train_args, capsys, command):
    args = [command, *tiny_train_args, "--out", str(tmp_path / "run")]
    assert main([*args, "--data-service", "dispatcher:5050"]) == 2
    assert capsys.readouterr().err == (
        f"xdomain-tf {command}: error: --data-service must be a grpc://HOST:PORT address, got 'dispatcher:5050'\n"
    )
    if command == "train":
        port = free_port()
        assert main([*args, "--data-service", f"grpc://localhost:{port}"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"xdomain-tf train: error: data service grpc://localhost:{port}: no dispatcher answers")
        assert err.count("\n") == 1
