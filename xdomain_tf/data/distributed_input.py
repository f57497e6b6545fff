"""Distributed input: one `make_dataset` pipeline per worker under a tf.distribute strategy."""


def distribute(dataset_fn, strategy):
    """Builds a distributed dataset with one input pipeline per worker.

    `dataset_fn` is called as `dataset_fn(input_context=context)` on each worker and
    should pass the context on to `make_dataset`, which then shards the records over the
    input pipelines and batches per replica (`context.get_per_replica_batch_size` of the
    global batch size); the replicas of one step get slices of one padded batch, so they
    share its width. Works with Keras `fit` under `strategy.scope()` and with
    `strategy.run` loops. (For `fit` on one machine, passing the undistributed
    `make_dataset(...)` with the global batch size works too: Keras splits each batch.)

    Args:
        dataset_fn: builds the dataset, e.g.
            `functools.partial(make_dataset, paths, preprocessor, label_space, 64)`.
        strategy: a `tf.distribute.Strategy`.

    Returns:
        A distributed dataset for `strategy.run` loops or Keras `fit` under the strategy.

    Example:

    >>> import tensorflow as tf
    >>> def dataset_fn(input_context):
    ...     return tf.data.Dataset.range(4).batch(input_context.get_per_replica_batch_size(2))
    >>> [batch.numpy().tolist() for batch in distribute(dataset_fn, tf.distribute.get_strategy())]
    [[0, 1], [2, 3]]
    """

    def per_worker(input_context):
        return dataset_fn(input_context=input_context)

    return strategy.distribute_datasets_from_function(per_worker)


def input_workers(strategy):
    """How many workers (hosts with their own input pipeline) `strategy` spans: 1 unless
    it is a multi-worker or multi-host strategy with a cluster of several tasks.

    Example:

    >>> import tensorflow as tf
    >>> input_workers(tf.distribute.get_strategy())
    1
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    cluster = resolver.cluster_spec().as_dict()
    return max(1, len(cluster.get("worker", [])) + len(cluster.get("chief", [])))


class PerWorkerDataset:
    """Training input where every worker builds its own pipeline from its
    `tf.distribute.InputContext` (so `make_dataset` gives each worker its own shards, see
    its `shard_policy`), in the form `resumable_fit` takes: `repeat()` then `skip(steps)`
    give the distributed dataset (`distribute_datasets_from_function`) that resumes at
    global step `steps`, which Keras `fit` takes as it is.

    Args:
        dataset_fn: `dataset_fn(input_context=context)` builds one worker's dataset.
        strategy: the `tf.distribute.Strategy`.

    Example:

    >>> import tensorflow as tf
    >>> def dataset_fn(input_context):
    ...     return tf.data.Dataset.range(6).batch(input_context.get_per_replica_batch_size(2))
    >>> data = PerWorkerDataset(dataset_fn, tf.distribute.get_strategy())
    >>> [batch.numpy().tolist() for batch in data.repeat().skip(1).take(2)]
    [[2, 3], [4, 5]]
    """

    def __init__(self, dataset_fn, strategy, repeated=False):
        self._dataset_fn = dataset_fn
        self._strategy = strategy
        self._repeated = repeated

    def repeat(self):
        return PerWorkerDataset(self._dataset_fn, self._strategy, repeated=True)

    def skip(self, steps):
        """The distributed dataset from global step `steps` on."""

        def per_worker(input_context):
            dataset = self._dataset_fn(input_context=input_context)
            if self._repeated:
                dataset = dataset.repeat()
            # Each step takes one element per replica of this worker.
            replicas = max(1, input_context.num_replicas_in_sync // input_context.num_input_pipelines)
            return dataset.skip(steps * replicas)

        return self._strategy.distribute_datasets_from_function(per_worker)

    @property
    def element_spec(self):
        """The element spec of one replica's batches (built on this worker)."""
        return self.skip(0).element_spec
