"""Counts and text-length percentiles of a set of records."""
import collections
import math

PERCENTILES = (5, 25, 50, 75, 95, 99)


def word_percentiles(lengths, percentiles=PERCENTILES):
    """Nearest-rank percentiles of a list of numbers, plus min, mean and max.

    Args:
        lengths: numbers (e.g. words per text).
        percentiles: which percentiles (0-100).

    Example:

    >>> word_percentiles([1, 2, 3, 4], percentiles=(50,))
    {'min': 1, 'p50': 2, 'max': 4, 'mean': 2.5}
    """
    if not lengths:
        return {}
    ordered = sorted(lengths)
    result = {"min": ordered[0]}
    for p in percentiles:
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        result[f"p{p}"] = ordered[rank - 1]
    result["max"] = ordered[-1]
    result["mean"] = round(sum(ordered) / len(ordered), 2)
    return result


def stats_row(record):
    """The few facts `corpus_stats` needs from a record: (domain, label, lang, words, pair words).

    Keeping these rows instead of records lets callers combine files cheaply.

    >>> stats_row({"text": "a b c", "label": "x", "domain": "d"})
    ('d', 'x', None, 3, None)
    """
    pair = record.get("text_pair")
    return (
        record.get("domain"),
        record.get("label"),
        record.get("lang"),
        len(str(record.get("text", "")).split()),
        None if pair is None else len(str(pair).split()),
    )


def corpus_stats(records):
    """Examples per domain / label / language and text lengths in words.

    Args:
        records: iterable of record dicts (text, label, domain, optional lang,
            text_pair).

    Returns:
        dict with examples, domains, labels, langs, labels_by_lang (counts, most
        common first), words (length percentiles of text) and, when any record has a
        text_pair, pair_words.

    Example:

    >>> s = corpus_stats([{"text": "a b", "label": "x", "domain": "d", "lang": "en"}])
    >>> s["examples"], s["labels"], s["words"]["p50"]
    (1, {'x': 1}, 2)
    """
    return stats_from_rows(stats_row(record) for record in records)


def stats_from_rows(rows):
    """`corpus_stats` from `stats_row` tuples.

    Example:

    >>> stats = stats_from_rows([("d", "x", "en", 3, None), ("d", "y", "de", 5, None)])
    >>> stats["examples"], stats["labels_by_lang"], stats["words"]["max"]
    (2, {'de': {'y': 1}, 'en': {'x': 1}}, 5)
    """
    domains, labels, langs = collections.Counter(), collections.Counter(), collections.Counter()
    by_lang = collections.defaultdict(collections.Counter)
    words, pair_words = [], []
    for domain, label, lang, n_words, n_pair_words in rows:
        domains[str(domain)] += 1
        if label is not None:
            labels[str(label)] += 1
            by_lang[str(lang)][str(label)] += 1
        langs[str(lang)] += 1
        words.append(n_words)
        if n_pair_words is not None:
            pair_words.append(n_pair_words)
    stats = {
        "examples": len(words),
        "domains": dict(domains.most_common()),
        "labels": dict(labels.most_common()),
        "langs": dict(langs.most_common()),
        "labels_by_lang": {lang: dict(c.most_common()) for lang, c in sorted(by_lang.items())},
        "words": word_percentiles(words),
    }
    if pair_words:
        stats["pair_words"] = word_percentiles(pair_words)
    return stats


def format_stats(stats, title=None):
    """Renders `corpus_stats` output (or a dict split -> stats) as readable text.

    Example:

    >>> stats = corpus_stats([{"text": "a b", "label": "x", "domain": "d", "lang": "en"}])
    >>> print(format_stats({"train": stats}))
    == train: 1 examples
      domains (1): d 1
      langs (1): en 1
      labels (1): x 1
      words: min=2 p5=2 p25=2 p50=2 p75=2 p95=2 p99=2 max=2 mean=2.0
    """
    if "examples" not in stats:
        blocks = [format_stats(value, title=f"{name}") for name, value in stats.items()]
        return "\n".join(blocks)
    lines = []
    if title:
        lines.append(f"== {title}: {stats['examples']} examples")
    else:
        lines.append(f"{stats['examples']} examples")
    for key in ("domains", "langs", "labels"):
        counts = stats.get(key) or {}
        if counts:
            shown = ", ".join(f"{name} {count}" for name, count in counts.items())
            lines.append(f"  {key} ({len(counts)}): {shown}")
    for key, name in (("words", "words"), ("pair_words", "text_pair words")):
        if stats.get(key):
            shown = " ".join(f"{k}={v}" for k, v in stats[key].items())
            lines.append(f"  {name}: {shown}")
    return "\n".join(lines)
