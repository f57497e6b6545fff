"""The result of building a corpus, and the writer of its JSONL split files."""
import dataclasses
import pathlib

from xdomain_tf.datasets.corpus_statistics import corpus_stats, format_stats
from xdomain_tf.datasets.splits import hash_fraction
from xdomain_tf.utils.atomic import write_json_atomic


@dataclasses.dataclass
class DatasetBuild:
    """Files written by a corpus builder and their statistics.

    Args:
        paths: dict split name ("train", "valid", "test", or "pairs") -> JSONL file.
        stats: dict split name -> `corpus_stats` dict, plus "notes" (what was dropped
            and why, where the raw data came from).

    Example:

    >>> build = DatasetBuild(paths={}, stats={})
    >>> build.paths
    {}
    """

    paths: dict
    stats: dict

    def summary(self):
        """The statistics as readable text, one block per split."""
        lines = []
        for name, path in self.paths.items():
            lines.append(f"{name}: {path}")
        split_stats = {k: v for k, v in self.stats.items() if k != "notes"}
        lines.append(format_stats(split_stats))
        for key, value in (self.stats.get("notes") or {}).items():
            lines.append(f"  note: {key}: {value}")
        return "\n".join(lines)

    def to_json(self):
        """A JSON-serialisable dict of paths and stats."""
        return {"paths": {k: str(v) for k, v in self.paths.items()}, "stats": self.stats}


def shuffled(records, seed):
    """Records in a fixed pseudo-random order (by hash of their id), not grouped by label.

    Example:

    >>> [record["id"] for record in shuffled([{"id": "a"}, {"id": "b"}, {"id": "c"}], seed=0)]
    ['c', 'a', 'b']
    """
    return sorted(records, key=lambda r: (hash_fraction(r["id"], seed), r["id"]))


def write_records(records, path):
    """Writes records to a JSONL file atomically, validated by the record schema.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
    >>> write_records([{"text": "Rain", "label": "weather", "domain": "news"}], path).read_text()
    '{"text": "Rain", "label": "weather", "domain": "news"}\\n'
    """
    from xdomain_tf.data.writers import write_jsonl

    write_jsonl(records, path)
    return pathlib.Path(path)


def write_splits(records_by_split, out_dir, seed, notes=None):
    """Writes train/valid/test JSONL files and returns a DatasetBuild with their stats.

    Example:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> build = write_splits({"train": [{"id": "1", "text": "a b", "label": "x", "domain": "d"}],
    ...                       "valid": [{"id": "2", "text": "c", "label": "x", "domain": "d"}]}, folder, seed=0)
    >>> build.stats["train"]["examples"], sorted(path.name for path in folder.iterdir())
    (1, ['stats.json', 'train.jsonl', 'valid.jsonl'])
    """
    out_dir = pathlib.Path(out_dir)
    paths, stats = {}, {}
    for split, records in records_by_split.items():
        records = shuffled(records, seed)
        paths[split] = write_records(records, out_dir / f"{split}.jsonl")
        stats[split] = corpus_stats(records)
    stats["notes"] = dict(notes or {})
    build = DatasetBuild(paths=paths, stats=stats)
    write_json_atomic(out_dir / "stats.json", build.to_json())
    return build
