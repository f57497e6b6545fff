"""Records, readers and multi-domain tf.data pipelines.

Readers and writers load without TensorFlow; the pipeline functions import it on first use.
"""

__all__ = [
    "augmentation", "ContextualReplacement", "data_format", "DataService", "distribute", "expand_data_files",
    "FIELDS", "input_workers", "LabelSpace", "make_dataset", "normalize_record", "PerWorkerDataset", "read_records",
    "ReadReport", "sampling_probabilities", "TokenDeletion", "TokenMasking", "TranslateTrain", "write_jsonl",
    "write_shards", "write_tfrecord",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.data.record_schema": ["FIELDS", "normalize_record"],
        "xdomain_tf.data.read_report": ["ReadReport"],
        "xdomain_tf.data.readers": ["data_format", "expand_data_files", "read_records"],
        "xdomain_tf.data.writers": ["write_jsonl", "write_shards", "write_tfrecord"],
        "xdomain_tf.data.label_space": ["LabelSpace"],
        "xdomain_tf.data.sampling": ["sampling_probabilities"],
        "xdomain_tf.data.pipeline": ["make_dataset"],
        "xdomain_tf.data.data_service": ["DataService"],
        "xdomain_tf.data.distributed_input": ["distribute", "input_workers", "PerWorkerDataset"],
        "xdomain_tf.data.augmentation": [
            "augmentation", "ContextualReplacement", "TokenDeletion", "TokenMasking", "TranslateTrain",
        ],
    },
)
