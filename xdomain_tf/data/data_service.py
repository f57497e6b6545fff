"""tf.data service: input pipelines that run on remote workers (`DataService`), and the
dispatcher and worker servers that make up the service (`start_dispatcher`,
`start_worker`).

The service runs the whole pipeline (reading, temperature sampling, bucketing,
tokenization) on its workers, each worker the batches of its shard, and streams the
batches to the trainer. The batches are those of the local pipeline with the same seed;
only the order in which batches of different workers arrive is not fixed.
"""
import re
import threading

from xdomain_tf.errors import OperationError, XDomainError

_ADDRESS = re.compile(r"grpc://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):(?P<port>[0-9]{1,5})")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):(?P<port>[0-9]{1,5})")
# Ops that tf.data service workers in another process cannot run: Python callbacks
# (`from_generator`, `tf.py_function`) and variables (a Keras model in a map function).
_PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc", "GeneratorDataset"})
_VARIABLE_OPS = frozenset({"VarHandleOp", "VariableV2", "ReadVariableOp"})


def is_service_address(value):
    """True when `value` is a `grpc://HOST:PORT` address.

    Example:

    >>> is_service_address("grpc://dispatcher:5050"), is_service_address("dispatcher:5050")
    (True, False)
    """
    return isinstance(value, str) and _parse(_ADDRESS, value) is not None


def _parse(pattern, value):
    match = pattern.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or not 0 < int(match["port"]) < 65536:
        return None
    return match["host"], int(match["port"])


def parse_host_port(value, name):
    """`"HOST:PORT"` as `(host, port)`; anything else is a one-line `XDomainError`.

    Example:

    >>> parse_host_port("worker-1:5051", "dispatcher")
    ('worker-1', 5051)
    """
    parsed = _parse(_HOST_PORT, value)
    if parsed is None:
        raise XDomainError(f"{name} {value!r} is not HOST:PORT (e.g. localhost:5050)")
    return parsed


class DataService:
    """A tf.data service dispatcher that input pipelines run on.

    `make_dataset(..., data_service=...)` builds its pipeline for the service and sends it
    there. The work is split by static sharding (`ShardingPolicy.HINT`): worker `k` of
    `n` makes batches `k, k + n, ...` of every epoch, no batch twice, which needs a
    dispatcher started with the list of its workers (`start_dispatcher(workers=...)`).
    Before the first job the dispatcher is probed (a gRPC connection, then a tiny job,
    each within `timeout` seconds): no dispatcher, no worker list or workers that do not
    answer are one-line errors, not a hang.

    Args:
        address: the dispatcher, `"grpc://HOST:PORT"`.
        job_name: None (default): every dataset iteration is its own job, so a run gets
            exactly the batches of the local pipeline, also after a restart. A name: the
            consumers that build the same pipeline (same role, seed and input pipeline)
            share one job and split its batches between them (each batch goes to one
            of them, whichever asks first), e.g. several trainers fed from one stream.
            A named job outlives its consumers by the dispatcher's job GC timeout: a
            consumer that reconnects earlier continues it.
        timeout: seconds the probe waits for the dispatcher and its workers.

    Example:

    >>> service = DataService("grpc://localhost:5050")
    >>> service.target, service.job_name
    ('grpc://localhost:5050', None)
    >>> DataService("http://localhost:5050")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: data_service 'http://localhost:5050' is not grpc://HOST:PORT
    """

    _checked = set()  # the targets whose probe passed in this process

    def __init__(self, address, job_name=None, timeout=10.0):
        parsed = _parse(_ADDRESS, address)
        if parsed is None:
            raise XDomainError(f"data_service {address!r} is not grpc://HOST:PORT")
        self.host, self.port = parsed
        self.job_name = job_name
        self.timeout = float(timeout)

    @classmethod
    def resolve(cls, value):
        """`value` as a `DataService`: None, an address or a `DataService`."""
        if value is None or isinstance(value, DataService):
            return value
        return cls(value)

    @property
    def target(self):
        return f"grpc://{self.host}:{self.port}"

    def __repr__(self):
        return f"DataService({self.target!r})"

    def check(self):
        """Probes the dispatcher, the first time in this process: it must answer and run a
        job with static sharding over its fixed worker list."""
        if self.target not in DataService._checked:
            self._check_reachable()
            self._check_sharding()
            DataService._checked.add(self.target)

    def distribute(self, dataset, name="input"):
        """`dataset` read from a job of the service, statically sharded: build `dataset`
        with `shard_batches` where the work splits between the workers.

        Args:
            dataset: the pipeline to run on the workers; nothing in it may call Python.
            name: the pipeline's role, seed and input pipeline in words, e.g.
                `"train-seed0-0of1"`; with `job_name`, part of the shared job's name.
        """
        import tensorflow as tf

        service = tf.data.experimental.service
        self.check()
        self._check_serializable(dataset)
        job_name = None if self.job_name is None else f"{self.job_name}-{name}"
        return dataset.apply(
            service.distribute(processing_mode=service.ShardingPolicy.HINT, service=self.target, job_name=job_name)
        )

    def _check_reachable(self):
        import socket

        import grpc

        try:  # a refused connection fails at once, where gRPC would retry until the timeout
            socket.create_connection((self.host.strip("[]"), self.port), timeout=min(self.timeout, 5.0)).close()
        except OSError as error:
            raise OperationError(
                f"data service {self.target}: no dispatcher answers there ({error.strerror or error})"
            ) from None
        channel = grpc.insecure_channel(f"{self.host}:{self.port}")
        try:
            grpc.channel_ready_future(channel).result(timeout=min(self.timeout, 5.0))
        except grpc.FutureTimeoutError:
            raise OperationError(
                f"data service {self.target}: no dispatcher answers there (no gRPC connection within "
                f"{min(self.timeout, 5.0):g} s)"
            ) from None
        finally:
            channel.close()

    def _check_sharding(self):
        import tensorflow as tf

        # (A one-element source fails under static sharding: "not enough files".)
        probe = shard_batches(tf.data.Dataset.range(1).repeat(2))
        try:
            self._within_timeout(probe, tf.data.experimental.service.ShardingPolicy.HINT)
        except tf.errors.NotFoundError as error:
            if "workers list" not in str(error):
                raise OperationError(f"data service {self.target}: {_first_line(error)}") from None
            # Without the list, each worker would make every batch (ShardingPolicy.OFF), and
            # the job of this probe stays on the dispatcher, refusing workers that join.
            raise XDomainError(
                f"data service {self.target}: the dispatcher has no fixed list of its workers, which splitting "
                "the batches between them needs; restart it with the workers' addresses (xdomain-tf data-service "
                "dispatcher --workers HOST:PORT,...) and start each worker with its address from that list"
            ) from None

    def _within_timeout(self, dataset, policy):
        """The elements of a small `dataset` read through the service, within `timeout`."""
        import tensorflow as tf

        result = {}

        def read():
            try:
                distributed = dataset.apply(
                    tf.data.experimental.service.distribute(processing_mode=policy, service=self.target)
                )
                result["elements"] = [int(value) for value in distributed.as_numpy_iterator()]
            except Exception as error:  # noqa: BLE001 - handed to the caller's thread
                result["error"] = error

        thread = threading.Thread(target=read, daemon=True, name="xdomain-tf-data-service-probe")
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise OperationError(
                f"data service {self.target}: the dispatcher answers but no job ran within {self.timeout:g} s; "
                "are its workers started (all of those in its worker list)?"
            )
        if "error" in result:
            raise result["error"]
        return result["elements"]

    def _check_serializable(self, dataset):
        from tensorflow.core.framework import graph_pb2

        import tensorflow as tf

        graph = graph_pb2.GraphDef()
        graph.ParseFromString(
            dataset._as_serialized_graph(external_state_policy=tf.data.experimental.ExternalStatePolicy.WARN).numpy()
        )
        ops = {node.op for node in graph.node}
        ops.update(node.op for function in graph.library.function for node in function.node_def)
        if ops & _PYTHON_OPS:
            raise XDomainError(
                f"data service {self.target}: the input pipeline calls Python ({', '.join(sorted(ops & _PYTHON_OPS))}: "
                "data read by a generator, e.g. evaluation data from files, or a tf.py_function), which tf.data "
                "service workers cannot run"
            )
        if ops & _VARIABLE_OPS:
            raise XDomainError(
                f"data service {self.target}: the input pipeline runs a Keras model (e.g. the mlm_replace "
                "augmentation), which tf.data service workers do not have; train without the data service"
            )


def shard_batches(dataset):
    """`dataset.shard(SHARD_HINT, SHARD_HINT)`: under static sharding, worker `k` of `n`
    keeps elements `k, k + n, ...`. Only valid in a dataset sent to the service.

    Example:

    >>> import tensorflow as tf
    >>> shard_batches(tf.data.Dataset.range(4)).element_spec
    TensorSpec(shape=(), dtype=tf.int64, name=None)
    """
    import tensorflow as tf

    return dataset.shard(tf.data.experimental.SHARD_HINT, tf.data.experimental.SHARD_HINT)


def start_dispatcher(port=0, workers=(), work_dir=None):
    """Starts a tf.data service dispatcher in this process and returns its
    `tf.data.experimental.service.DispatchServer` (`.target` is its `grpc://` address,
    `.join()` blocks).

    Args:
        port: the port to serve on (0: a free one).
        workers: the `"HOST:PORT"` addresses of every worker, as each worker registers
            (`start_worker(address=...)`): needed for static sharding (each worker its
            own batches), which `DataService` uses.
        work_dir: a folder (or file-system URL) where the dispatcher keeps its journal,
            so a restarted dispatcher recovers its jobs (fault-tolerant mode).

    Example:

    >>> dispatcher = start_dispatcher()
    >>> dispatcher.target.startswith("grpc://")
    True
    >>> dispatcher.stop()
    """
    import tensorflow as tf

    workers = [f"{host}:{number}" for host, number in (parse_host_port(w, "worker") for w in workers)]
    config = tf.data.experimental.service.DispatcherConfig(
        port=int(port), work_dir=None if work_dir is None else str(work_dir),
        fault_tolerant_mode=work_dir is not None, worker_addresses=workers or None,
    )
    return _started("dispatcher", tf.data.experimental.service.DispatchServer, config, port)


def start_worker(dispatcher, port=0, address=None):
    """Starts a tf.data service worker in this process and returns its
    `tf.data.experimental.service.WorkerServer`; tensorflow-text's ops (the in-graph
    tokenizer) are registered first.

    Args:
        dispatcher: the dispatcher's `"HOST:PORT"` (or `grpc://HOST:PORT`).
        port: the port to serve on (0: a free one).
        address: `"HOST:PORT"` under which the dispatcher and the trainers reach this
            worker, as listed in the dispatcher's `workers` (default `localhost:PORT`).

    Example:

    >>> dispatcher = start_dispatcher()
    >>> worker = start_worker(dispatcher.target)
    >>> worker.stop(); dispatcher.stop()
    """
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops the pipelines run)

    value = dispatcher[len("grpc://"):] if str(dispatcher).startswith("grpc://") else str(dispatcher)
    host, number = parse_host_port(value, "dispatcher")
    if address is not None:
        address = "{}:{}".format(*parse_host_port(address, "address"))
    config = tf.data.experimental.service.WorkerConfig(
        dispatcher_address=f"{host}:{number}", port=int(port),
        worker_address=address or ("localhost:%port%" if not port else f"localhost:{int(port)}"),
    )
    return _started("worker", tf.data.experimental.service.WorkerServer, config, port)


def _started(kind, server, config, port):
    """`server(config)`, or one line saying why the `kind` could not start."""
    import tensorflow as tf

    try:
        return server(config)
    except (tf.errors.OpError, RuntimeError) as error:  # a port in use: RuntimeError
        raise OperationError(
            f"could not start a tf.data service {kind} on port {port}: {_first_line(error)} (is the port in use?)"
        ) from None


def _first_line(error):
    message = getattr(error, "message", None) or str(error)
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message)
    return message.strip().splitlines()[0] if message.strip() else type(error).__name__
