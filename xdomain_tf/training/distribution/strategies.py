"""Picks a `tf.distribute` strategy: TPU, several GPUs, one GPU, multi-worker or CPU."""
import json
import os

import tensorflow as tf

from xdomain_tf.errors import XDomainError

KINDS = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")


def strategy(kind="auto", tpu=None, device=None):
    """Returns a `tf.distribute.Strategy` for `kind`.

    `auto` picks a TPU when one is configured (`tpu` argument, `TPU_NAME`, or Colab's
    `COLAB_TPU_ADDR`), `MultiWorkerMirroredStrategy` when `TF_CONFIG` names several
    workers, `MirroredStrategy` for several GPUs, `OneDeviceStrategy` for one GPU, and
    the default strategy on CPU. Create models, optimizers and metrics inside
    `strategy.scope()`; the batch size you give the data pipeline is the global batch.

    Args:
        kind: one of `auto`, `default`, `one_device`, `mirrored`, `multi_worker`, `tpu`.
        tpu: TPU name or address for `TPUClusterResolver` (`""` for a Colab/VM-local TPU).
        device: the device of `one_device` (default: first GPU, else the CPU).

    Example:

    >>> strategy("default").num_replicas_in_sync
    1
    """
    if kind not in KINDS:
        raise XDomainError(f"unknown strategy {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "auto":
        kind = _auto_kind(tpu)
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(device or (gpus[0].name if gpus else "/cpu:0"))
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    if kind == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise XDomainError("strategy multi_worker needs TF_CONFIG describing the cluster and this task")
        from xdomain_tf.training.distribution.keras_multi_worker_patch import patch_keras_multi_worker_reduce

        patch_keras_multi_worker_reduce()
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tpu_strategy(tpu)


def tpu_strategy(tpu=None):
    """Connects to a TPU and returns a `tf.distribute.TPUStrategy`.

    Args:
        tpu: TPU name, `grpc://` address, or None to use `TPU_NAME` / the local TPU.

    Example (needs a TPU):

    >>> distribution = tpu_strategy("my-tpu")  # doctest: +SKIP
    >>> distribution.num_replicas_in_sync  # doctest: +SKIP
    8
    """
    name = tpu if tpu is not None else os.environ.get("TPU_NAME", "")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=name)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, OSError, tf.errors.OpError) as error:
        raise XDomainError(f"no TPU could be reached (tpu={name!r}): {error}") from error
    return tf.distribute.TPUStrategy(resolver)


def _auto_kind(tpu):
    if tpu is not None or os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR"):
        return "tpu"
    if len(json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {}).get("worker", [])) > 1:
        return "multi_worker"
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return "mirrored"
    return "one_device" if gpus else "default"


def is_chief(distribution=None):
    """True on the process that writes run directories (always true without multi-worker).

    Example:

    >>> is_chief(tf.distribute.get_strategy())
    True
    """
    distribution = distribution or tf.distribute.get_strategy()
    resolver = getattr(distribution, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    cluster = resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in cluster
