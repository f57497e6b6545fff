"""Works around Keras averaging the first batch across replicas before training."""
import tensorflow as tf
from keras import tree


class LocalSymbolicBuild:
    """A `keras.Model` mixin for training under `MultiWorkerMirroredStrategy`.

    Before the first step, Keras' TensorFlow trainer averages the first distributed batch
    over replicas with `strategy.reduce("MEAN", batch)` only to learn its shapes (to build
    metrics and the optimizer). `MultiWorkerMirroredStrategy.reduce` cannot take a nested
    dict of inputs, so `fit` fails. The shapes of this replica's own slice are as good:
    this mixin builds from it instead.

    Example (list it before `keras.Model`):

    >>> import keras
    >>> class Trainer(LocalSymbolicBuild, keras.Model):
    ...     pass
    >>> from xdomain_tf.training.multi_domain_trainer import MultiDomainTrainer
    >>> issubclass(MultiDomainTrainer, LocalSymbolicBuild)
    True
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, it in iterator:
                batch = next(it)
                data_batch = tree.map_structure(
                    lambda value: self.distribute_strategy.experimental_local_results(value)[0]
                    if isinstance(value, tf.distribute.DistributedValues)
                    else value,
                    batch,
                )
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)
