"""Lets Keras 3 `fit` log scalar metrics under `MultiWorkerMirroredStrategy`.

Keras' TensorFlow trainer reduces each step's logs with
`strategy.reduce("MEAN", value, axis=0)` when it runs multi-worker. Every log is a scalar
(loss, metric results), and a reduction over axis 0 of a scalar fails ("Invalid reduction
dimension 0 for input with 0 dimensions"), so `fit` cannot run at all. This wraps the
trainer's `reduce_per_replica` so that multi-worker scalars are averaged with `axis=None`;
everything else goes to the original.
"""
import tensorflow as tf
from keras.src.backend.tensorflow import trainer as tf_trainer

_original = tf_trainer.reduce_per_replica


def _reduce_per_replica(values, strategy, reduction):
    if not tf_trainer._collective_all_reduce_multi_worker(strategy) or reduction not in ("auto", "mean"):
        return _original(values, strategy, reduction)

    def reduce_one(value):
        local = value.values[0] if isinstance(value, tf.distribute.DistributedValues) else value
        if getattr(local, "shape", None) is not None and local.shape.rank == 0:
            return strategy.reduce("MEAN", value, axis=None)
        return _original(value, strategy, reduction)

    return tf.nest.map_structure(reduce_one, values)


def patch_keras_multi_worker_reduce():
    """Installs the wrapper (idempotent).

    Example (`xdomain_tf.training.distribution.strategies.strategy` calls it for `multi_worker`):

    >>> from keras.src.backend.tensorflow import trainer as tf_trainer
    >>> patch_keras_multi_worker_reduce()  # doctest: +SKIP
    >>> tf_trainer.reduce_per_replica.__module__  # doctest: +SKIP
    'xdomain_tf.training.distribution.keras_multi_worker_patch'
    """
    tf_trainer.reduce_per_replica = _reduce_per_replica
