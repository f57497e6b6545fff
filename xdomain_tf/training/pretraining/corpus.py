"""Unlabeled pretraining text, grouped by domain or language, and sentence-pair examples."""
import collections
import re

import numpy as np

from xdomain_tf.errors import XDomainError

GROUP_BY = ("domain", "lang", "domain_lang")
UNKNOWN_LANGUAGE = "und"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")


class PretrainingCorpus:
    """The texts and translation pairs of a pretraining run, grouped for temperature sampling.

    Records are read with `read_records(require_label=False)`: a record with a
    `text_pair` is a translation pair (`text` in `pair_source_lang`, `text_pair` in the
    record's `lang`, as `debian_parallel_pairs` writes them); both of its sides also count
    as monolingual text (masked or causal LM on both languages). Groups are what the
    temperature sampler mixes and what per-group metrics report: the `domain`, the
    language, or both (`debian-en`).

    Args:
        texts: `{group: [text, ...]}` of monolingual texts.
        pairs: `{group: [(source, target), ...]}` of translation pairs (a pair's group is
            its domain, its `source-target` languages, or both).

    Example:

    >>> corpus = PretrainingCorpus.from_records(
    ...     [{"text": "hello there", "domain": "a", "lang": "en"},
    ...      {"text": "good day", "text_pair": "guten Tag", "domain": "a", "lang": "de"}],
    ...     group_by="lang")
    >>> corpus.text_groups, corpus.pair_groups
    (['de', 'en'], ['en-de'])
    """

    def __init__(self, texts, pairs=None):
        self.texts = {group: list(values) for group, values in sorted(texts.items()) if values}
        self.pairs = {group: list(values) for group, values in sorted((pairs or {}).items()) if values}
        # The record domain of each text (`from_records`; the group itself otherwise).
        self.text_domains = {group: [group] * len(values) for group, values in self.texts.items()}

    @classmethod
    def from_files(cls, paths, default_domain=None, on_error="raise", **kwargs):
        """Reads record files (labels optional); `kwargs` as for `from_records`."""
        from xdomain_tf.data.readers import read_records

        if isinstance(paths, str):
            paths = [paths]
        if not paths:
            raise XDomainError("no pretraining data files given")
        records = read_records(list(paths), default_domain=default_domain, require_label=False, on_error=on_error)
        return cls.from_records(records, **kwargs)

    @classmethod
    def from_records(cls, records, group_by="domain", languages=None, pair_source_lang="en"):
        """Groups record dicts.

        Args:
            records: an iterable of normalized records (`text`, `domain`, optional
                `text_pair`, `lang`).
            group_by: `domain`, `lang` or `domain_lang`.
            languages: keep only texts in these languages (a pair is kept when both
                sides are); None keeps all.
            pair_source_lang: the language of `text` in pair records.
        """
        if group_by not in GROUP_BY:
            raise XDomainError(f"group_by must be one of {', '.join(GROUP_BY)}, got {group_by!r}")
        keep = None if not languages else set(languages)
        texts, pairs = collections.defaultdict(list), collections.defaultdict(list)
        origins = collections.defaultdict(list)
        for record in records:
            domain = record.get("domain", "default")
            lang = record.get("lang", UNKNOWN_LANGUAGE)
            if "text_pair" in record:
                sides = [(record["text"], pair_source_lang), (record["text_pair"], lang)]
                if keep is None or (pair_source_lang in keep and lang in keep):
                    pairs[_group(group_by, domain, f"{pair_source_lang}-{lang}")].append(
                        (record["text"], record["text_pair"])
                    )
            else:
                sides = [(record["text"], lang)]
            for text, side_lang in sides:
                if keep is None or side_lang in keep:
                    texts[_group(group_by, domain, side_lang)].append(text)
                    origins[_group(group_by, domain, side_lang)].append(domain)
        corpus = cls(texts, pairs)
        corpus.text_domains = {group: origins[group] for group in corpus.texts}
        return corpus

    @property
    def text_groups(self):
        return list(self.texts)

    @property
    def pair_groups(self):
        return list(self.pairs)

    def num_texts(self):
        return sum(len(values) for values in self.texts.values())

    def num_pairs(self):
        return sum(len(values) for values in self.pairs.values())

    def sizes(self):
        """`{group: number of texts}`."""
        return {group: len(values) for group, values in self.texts.items()}

    def text_records(self, groups=None):
        """`{"text", "domain": group}` records of the texts (the group as the domain)."""
        return [
            {"text": text, "domain": group}
            for group, values in self.texts.items()
            if groups is None or group in groups
            for text in values
        ]

    def sentence_pair_records(self, objective, seed=0, max_words=None):
        """Two-segment examples for next-sentence (`nsp`) or sentence-order (`sop`)
        prediction, as records with `text`, `text_pair`, `domain` (the group) and `label`.

        Each text (cut to its first `max_words` words, so that both segments fit the
        sequence) is split at a random sentence boundary (at a random word when it has
        one sentence); texts of fewer than two words are left out. SOP: label `"1"` (the
        segments swapped) with probability 0.5, else `"0"`. NSP: with probability 0.5 the
        second segment is replaced by the second segment of a random other text of the
        same group (label `"1"`), else label `"0"`. The draws are fixed by `seed`.
        """
        if objective not in ("nsp", "sop"):
            raise XDomainError(f"sentence objective must be nsp or sop, got {objective!r}")
        rng = np.random.default_rng(seed)
        records = []
        for group, values in self.texts.items():
            halves = [split for split in (_split(text, rng, max_words) for text in values) if split]
            for index, (first, second) in enumerate(halves):
                label = "0"
                if rng.random() < 0.5:
                    if objective == "sop":
                        first, second, label = second, first, "1"
                    elif len(halves) > 1:
                        other = int(rng.integers(len(halves) - 1))
                        other += other >= index
                        second, label = halves[other][1], "1"
                records.append({"text": first, "text_pair": second, "domain": group, "label": label})
        if not records:
            raise XDomainError(f"no text has two words or more to make {objective} examples from")
        return records

    def pair_rows(self):
        """`(sources, targets, group index)` lists of every translation pair, group by group."""
        sources, targets, group_ids = [], [], []
        for index, (group, values) in enumerate(self.pairs.items()):
            for source, target in values:
                sources.append(source)
                targets.append(target)
                group_ids.append(index)
        return sources, targets, group_ids


def _group(group_by, domain, lang):
    if group_by == "domain":
        return domain
    if group_by == "lang":
        return lang
    return f"{domain}-{lang}"


def _split(text, rng, max_words):
    if max_words:
        words = text.split()
        if len(words) > max_words:
            text = " ".join(words[:max_words])
    sentences = [part for part in _SENTENCE_END.split(text.strip()) if part.strip()]
    if len(sentences) >= 2:
        cut = int(rng.integers(1, len(sentences)))
        return " ".join(sentences[:cut]), " ".join(sentences[cut:])
    words = text.split()
    if len(words) < 2:
        return None
    cut = int(rng.integers(1, len(words)))
    return " ".join(words[:cut]), " ".join(words[cut:])
