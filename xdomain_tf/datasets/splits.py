"""Deterministic train/valid/test splits from hashes of stable keys."""
import hashlib

SPLITS = ("train", "valid", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
DEFAULT_SEED = "xdomain_tf"


def hash_fraction(key, seed=DEFAULT_SEED):
    """Maps a key to a number in [0, 1) that is the same on every machine and run.

    Args:
        key: any string (a source package name, a file name).
        seed: a string mixed into the hash; another seed gives another split.

    Example:

    >>> hash_fraction("hello") == hash_fraction("hello")
    True
    >>> 0.0 <= hash_fraction("hello") < 1.0
    True
    """
    digest = hashlib.sha256(f"{seed}\0{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def check_fractions(fractions):
    """Returns `fractions` as three floats after checking they make a split.

    Example:

    >>> check_fractions([0.8, 0.1, 0.1])
    (0.8, 0.1, 0.1)
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        from xdomain_tf.errors import XDomainError

        raise XDomainError(
            f"split fractions must be three non-negative numbers (train, valid, test) "
            f"summing to 1, got {fractions}"
        )
    return fractions


def split_for_key(key, fractions=DEFAULT_FRACTIONS, seed=DEFAULT_SEED):
    """Names the split ("train", "valid" or "test") a key belongs to.

    Every item sharing a key lands in the same split, so grouping by e.g. the
    source package keeps near-identical texts from straddling splits.

    Args:
        key: the grouping key.
        fractions: (train, valid, test) fractions summing to 1.
        seed: hash seed.

    Example:

    >>> split_for_key("0ad") in ("train", "valid", "test")
    True
    """
    train, valid, _ = check_fractions(fractions)
    value = hash_fraction(key, seed)
    if value < train:
        return "train"
    if value < train + valid:
        return "valid"
    return "test"


def stratified_splits(keys_by_label, fractions=DEFAULT_FRACTIONS, seed=DEFAULT_SEED):
    """Splits each label's keys in hash order, so every split keeps the label mix.

    Args:
        keys_by_label: dict label -> iterable of unique keys.
        fractions: (train, valid, test) fractions summing to 1.
        seed: hash seed.

    Returns:
        dict key -> split name.

    Example:

    >>> parts = stratified_splits({"a": [str(i) for i in range(10)]})
    >>> sorted(parts.values()).count("train")
    8
    """
    train, valid, _ = check_fractions(fractions)
    assignment = {}
    for label in sorted(keys_by_label):
        keys = sorted(keys_by_label[label], key=lambda k: (hash_fraction(k, seed), k))
        n_train = round(len(keys) * train)
        n_valid = round(len(keys) * (train + valid)) - n_train
        for index, key in enumerate(keys):
            if index < n_train:
                assignment[key] = "train"
            elif index < n_train + n_valid:
                assignment[key] = "valid"
            else:
                assignment[key] = "test"
    return assignment
