"""Real corpora, fetched at run time into the cache and written as JSONL splits.

- `debian_descriptions`: Debian package descriptions and their translations,
  labelled by Section (many languages; split by source package).
- `debian_parallel_pairs`: English <-> language X description pairs.
- `bbc_news`: BBC News articles in five topics.

Each builder also takes local files (`from_file=`) when the registry cannot be
reached. Nothing here imports TensorFlow.
"""
from xdomain_tf.datasets.bbc_news import bbc_news, read_bbc_wheel
from xdomain_tf.datasets.corpus_stats import corpus_stats, format_stats
from xdomain_tf.datasets.dataset_build import DatasetBuild
from xdomain_tf.datasets.debian_descriptions import (
    DEFAULT_SECTIONS,
    PACKAGING_SECTIONS,
    debian_descriptions,
)
from xdomain_tf.datasets.debian_parallel_pairs import debian_parallel_pairs

__all__ = [
    "DEFAULT_SECTIONS",
    "PACKAGING_SECTIONS",
    "DatasetBuild",
    "bbc_news",
    "corpus_stats",
    "debian_descriptions",
    "debian_parallel_pairs",
    "format_stats",
    "read_bbc_wheel",
]
