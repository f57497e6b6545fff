"""`xdomain-tf data-service dispatcher|worker`: the servers of a tf.data service that runs
the input pipelines of `train --data-service` and `pretrain --data-service`."""
import time

from xdomain_tf.cli.flag_types import positive_int

EXAMPLES = """\
examples:
  # a dispatcher and two workers (on three machines, or one), then a run fed by them
  xdomain-tf data-service dispatcher --port 5050 --workers cpu-1:5051,cpu-2:5051
  xdomain-tf data-service worker --port 5051 --dispatcher dispatcher-host:5050 --address cpu-1:5051
  xdomain-tf data-service worker --port 5051 --dispatcher dispatcher-host:5050 --address cpu-2:5051
  xdomain-tf train --train 'data/train-*-of-*.tfrecord' --out runs/clf \\
      --data-service grpc://dispatcher-host:5050

Each worker produces its own share of every epoch's batches (static sharding):
the dispatcher needs the workers' addresses (--workers), each worker the one it is
listed under (--address).
Data files are read by the trainer and sent with the job: the workers need
TensorFlow, tensorflow-text and xdomain-tf, not the data. Stop with Ctrl-C."""


def add_parser(subparsers):
    import argparse

    parser = subparsers.add_parser(
        "data-service",
        help="start a tf.data service dispatcher or worker for train/pretrain --data-service",
        description="""\
Start one part of a tf.data service: the dispatcher, which train/pretrain
--data-service grpc://HOST:PORT connect to, or a worker, which runs the input
pipelines (reading, temperature sampling, length bucketing, in-graph
tokenization) so that the training hosts only train. Prints the address it
serves and runs until interrupted.""",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parts = parser.add_subparsers(dest="service_part", metavar="PART")
    parts.required = True
    dispatcher = parts.add_parser(
        "dispatcher", help="start the dispatcher", description="Start a tf.data service dispatcher.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dispatcher.add_argument("--port", required=True, type=positive_int, metavar="P", help="the port to serve on")
    dispatcher.add_argument(
        "--workers", required=True, metavar="HOST:PORT,...",
        help="every worker's address, as each worker gives it with --address (each worker makes its own share "
             "of the batches: static sharding)",
    )
    dispatcher.add_argument("--work-dir", metavar="PATH",
                            help="a folder (or gs:// URL) for the dispatcher's journal, so a restart keeps its jobs")
    worker = parts.add_parser(
        "worker", help="start a worker", description="Start a tf.data service worker.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    worker.add_argument("--port", required=True, type=positive_int, metavar="P", help="the port to serve on")
    worker.add_argument("--dispatcher", required=True, metavar="HOST:PORT", help="the dispatcher's address")
    worker.add_argument("--address", metavar="HOST:PORT",
                        help="the address the dispatcher and the trainers reach this worker at, as listed in the "
                             "dispatcher's --workers (default: localhost:P)")
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.data.data_service import parse_host_port, start_dispatcher, start_worker
    from xdomain_tf.errors import XDomainError

    if args.port > 65535:
        raise XDomainError(f"--port must be in 1-65535, got {args.port}")
    if args.service_part == "dispatcher":
        workers = [w.strip() for w in args.workers.split(",") if w.strip()]
        if not workers:
            raise XDomainError("--workers lists no worker (HOST:PORT,...)")
        for value in workers:
            parse_host_port(value, "--workers entry")  # before TensorFlow loads
        server = start_dispatcher(args.port, workers=workers, work_dir=args.work_dir)
        print(f"tf.data service dispatcher serving {server.target} for workers {','.join(workers)}", flush=True)
    else:
        parse_host_port(args.dispatcher[len("grpc://"):] if args.dispatcher.startswith("grpc://") else args.dispatcher,
                        "--dispatcher")
        if args.address is not None:
            parse_host_port(args.address, "--address")
        server = start_worker(args.dispatcher, port=args.port, address=args.address)
        address = args.address or f"localhost:{args.port}"
        print(f"tf.data service worker serving {address} for dispatcher {args.dispatcher}", flush=True)
    try:
        while True:  # not server.join(): a Python sleep lets Ctrl-C through
            time.sleep(3600)
    finally:
        server.stop()
