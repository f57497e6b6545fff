"""English <-> language X pairs of Debian descriptions, aligned by Description-md5."""
from xdomain_tf.datasets.dataset_build import shuffled, write_records
from xdomain_tf.datasets.debian_archive import DEFAULT_MIRROR, DEFAULT_SUITE
from xdomain_tf.datasets.debian_corpus import load_debian_corpus, parse_languages
from xdomain_tf.datasets.splits import DEFAULT_FRACTIONS, DEFAULT_SEED, SPLITS, split_for_key
from xdomain_tf.errors import XDomainError


def debian_parallel_pairs(
    language,
    splits=("train",),
    out=None,
    from_file=None,
    domain="debian",
    fractions=DEFAULT_FRACTIONS,
    seed=DEFAULT_SEED,
    cache=None,
    refresh=False,
    mirror=DEFAULT_MIRROR,
    suite=DEFAULT_SUITE,
):
    """Pairs each translated description with the English text it translates.

    A translation and an English description are paired when their
    `Description-md5` is the same, so the two texts say the same thing. Each
    md5 gives one pair (the first package by name). Records are
    `{"id", "text" (English), "text_pair" (language X), "lang" (X), "label"
    (the package's Section), "domain"}`, meant for translation-pair
    contrastive pretraining.

    By default only pairs whose source package falls in the "train" split of
    `debian_descriptions` (same `fractions` and `seed`) are returned, so
    pretraining never sees the valid/test descriptions.

    Args:
        language: the language paired with English, e.g. "de".
        splits: which splits' packages to keep; None for all.
        out: if given, also write the pairs to this JSONL file (atomically).
        from_file: local Packages / Translation files or folders instead of apt.
        domain: the records' domain field.
        fractions: (train, valid, test) fractions of the source-package split.
        seed: split hash seed.
        cache: cache folder for apt's lists.
        refresh: re-run apt-get update.
        mirror: Debian mirror URL.
        suite: Debian release.

    Returns:
        list of pair records, in a fixed shuffled order.

    Example (needs network):

    >>> pairs = debian_parallel_pairs("de")  # doctest: +SKIP
    >>> sorted(pairs[0])  # doctest: +SKIP
    ['domain', 'id', 'label', 'lang', 'text', 'text_pair']
    """
    (language,) = parse_languages([language])
    if language == "en":
        raise XDomainError("pairs need a language other than en (English is the other side)")
    if splits is not None:
        unknown = sorted(set(splits) - set(SPLITS))
        if unknown:
            raise XDomainError(f"unknown split(s) {unknown}; choose from {list(SPLITS)}")
    corpus = load_debian_corpus(
        [language], from_file=from_file, cache=cache, refresh=refresh, mirror=mirror, suite=suite
    )
    english_by_md5 = {}
    for package in sorted(corpus.descriptions["en"]):
        entry = corpus.descriptions["en"][package]
        english_by_md5.setdefault(entry["md5"], entry["text"])
    pairs, seen = [], set()
    for package in sorted(corpus.descriptions[language]):
        entry = corpus.descriptions[language][package]
        english = english_by_md5.get(entry["md5"])
        if english is None or entry["md5"] in seen or english == entry["text"]:
            continue
        info = corpus.packages[package]
        if splits is not None and split_for_key(info.source, fractions, seed) not in splits:
            continue
        seen.add(entry["md5"])
        pairs.append(
            {
                "id": f"debian-pair/{language}/{package}",
                "text": english,
                "text_pair": entry["text"],
                "lang": language,
                "label": info.section,
                "domain": domain,
            }
        )
    pairs = shuffled(pairs, seed)
    if out is not None:
        write_records(pairs, out)
    return pairs
