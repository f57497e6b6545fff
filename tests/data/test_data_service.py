"""Input pipelines on a tf.data service: a dispatcher and two workers on loopback ports,
in this process."""
import collections
import time

import numpy as np
import pytest

from network_ports import free_port

from xdomain_tf.data.data_service import DataService, start_dispatcher, start_worker
from xdomain_tf.errors import OperationError, XDomainError

WORDS = "the cat sat on a mat".split()


@pytest.fixture(scope="module")
def service():
    """A dispatcher that knows its two workers (static sharding), and the workers."""
    ports = [free_port(), free_port()]
    addresses = [f"localhost:{port}" for port in ports]
    dispatcher = start_dispatcher(free_port(), workers=addresses)
    workers = [start_worker(dispatcher.target, port=port, address=address) for port, address in zip(ports, addresses)]
    yield dispatcher.target
    for server in (*workers, dispatcher):
        server.stop()


def _records():
    rng = np.random.default_rng(0)
    records = []
    for index in range(60):
        domain = "news" if index % 3 else "software"
        label = ["a", "b"][index % 2] if domain == "news" else ["x", "y", "z"][index // 3 % 3]
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 12))))
        records.append({"text": text, "label": label, "domain": domain, "id": f"r{index}"})
    return records


def _key(element):
    features, targets = element
    return repr([(key, features[key].tolist()) for key in sorted(features)] + sorted(targets.items() and
                [(key, targets[key].tolist()) for key in targets]))


def _batches(dataset, count=None):
    iterator = dataset.as_numpy_iterator()
    return [_key(next(iterator)) for _ in range(count)] if count is not None else [_key(e) for e in iterator]


def test_one_pass_through_the_service_gives_the_local_batches(service, make_preprocessor):
    from xdomain_tf.data import LabelSpace, make_dataset

    records = _records()
    space = LabelSpace.from_records(records)
    options = dict(training=False, keep_ids=True, bucket_boundaries=[4, 8, 12])
    local = _batches(make_dataset(records, make_preprocessor(), space, 4, **options))
    remote = _batches(make_dataset(records, make_preprocessor(), space, 4, data_service=service, **options))
    assert len(local) > 10
    assert sorted(remote) == sorted(local)


def test_training_epochs_on_the_service_are_the_local_epochs(service, make_preprocessor):
    from xdomain_tf.data import LabelSpace, TokenMasking, make_dataset

    records = _records()
    space = LabelSpace.from_records(records)
    options = dict(training=True, alpha=0.5, seed=3, bucket_boundaries=[4, 8, 12], augment=[TokenMasking(0.3)])
    epoch = _batches(make_dataset(records, make_preprocessor(), space, 4, **options))
    local = collections.Counter(_batches(make_dataset(records, make_preprocessor(), space, 4, **options).repeat(),
                                         8 * len(epoch)))
    # The service repeats on its workers: two epochs' worth of batches, drawn (and masked)
    # as locally, though one worker may run ahead of the other (epochs differ in length by
    # bucketing: the local window is generous); duplicates (each worker making every batch,
    # or every epoch alike) would exceed the local counts.
    remote = collections.Counter(_batches(
        make_dataset(records, make_preprocessor(), space, 4, data_service=service, **options), 2 * len(epoch)
    ))
    assert sum(remote.values()) == 2 * len(epoch)
    assert not remote - local
    # Each worker starts with its half of the first epoch, however far one runs ahead.
    assert len(set(epoch) & set(remote)) >= len(epoch) // 2 - 1


def test_a_pipeline_that_calls_python_is_refused_in_one_line(service, make_preprocessor, tmp_path):
    import keras
    import tensorflow as tf

    from xdomain_tf.data import LabelSpace, make_dataset, write_jsonl

    records = _records()
    write_jsonl(records, tmp_path / "valid.jsonl")
    space = LabelSpace.from_records(records)
    with pytest.raises(XDomainError, match=r"^data service grpc://localhost:\d+: the input pipeline calls Python "
                                           r"\(GeneratorDataset, PyFunc"):
        make_dataset(tmp_path / "valid.jsonl", make_preprocessor(), space, 4, training=False, data_service=service)
    dense = keras.layers.Dense(1)
    model_step = tf.data.Dataset.range(3).map(lambda x: dense(tf.reshape(tf.cast(x, tf.float32), [1, 1])))
    with pytest.raises(XDomainError, match="runs a Keras model .* mlm_replace"):
        DataService(service).distribute(model_step)


@pytest.mark.parametrize("address", ["localhost:5050", "grpc://localhost", "grpc://localhost:0", "http://h:1",
                                     "grpc://host:5050/job"])
def test_a_bad_address_is_one_line(address):
    with pytest.raises(XDomainError, match=f"^data_service '{address}' is not grpc://HOST:PORT$"):
        DataService(address)


def test_no_dispatcher_is_one_line_and_quick(make_preprocessor):
    from xdomain_tf.data import LabelSpace, make_dataset

    records = _records()
    start = time.monotonic()
    with pytest.raises(OperationError, match=r"^data service grpc://localhost:\d+: no dispatcher answers there"):
        make_dataset(records, make_preprocessor(), LabelSpace.from_records(records), 4,
                     data_service=f"grpc://localhost:{free_port()}")
    assert time.monotonic() - start < 8


def test_a_dispatcher_without_its_worker_list_is_one_line():
    dispatcher = start_dispatcher(free_port())
    worker = start_worker(dispatcher.target)
    try:
        with pytest.raises(XDomainError, match="the dispatcher has no fixed list of its workers"):
            DataService(dispatcher.target).check()
    finally:
        worker.stop()
        dispatcher.stop()
