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
