"""Debian package descriptions and their translations, labelled by Section."""
import collections
import hashlib

from xdomain_tf.datasets.dataset_build import write_splits
from xdomain_tf.datasets.debian_archive import DEFAULT_MIRROR, DEFAULT_SUITE
from xdomain_tf.datasets.debian_corpus import load_debian_corpus, parse_languages
from xdomain_tf.datasets.splits import DEFAULT_FRACTIONS, DEFAULT_SEED, SPLITS, split_for_key
from xdomain_tf.errors import XDomainError

# Sections that name what a program is about. Left out: sections that describe
# packaging (libs, libdevel, doc, oldlibs, metapackages, debug, tasks, kernel,
# introspection, localization), programming-language ecosystems (python, perl,
# golang, ...: mostly libraries, predictable from the language's name) and
# catch-alls (utils, misc) or desktops (x11, gnome, kde, xfce).
DEFAULT_SECTIONS = (
    "admin", "comm", "database", "devel", "editors", "education", "electronics",
    "embedded", "fonts", "games", "graphics", "hamradio", "httpd", "mail", "math",
    "net", "news", "science", "shells", "sound", "tex", "text", "vcs", "video", "web",
)
PACKAGING_SECTIONS = (
    "libs", "libdevel", "doc", "oldlibs", "metapackages", "debug", "tasks", "kernel",
    "introspection", "localization", "debian-installer",
)


def debian_descriptions(
    languages=("en",),
    sections=None,
    min_examples=100,
    out_dir=None,
    from_file=None,
    domain="debian",
    fractions=DEFAULT_FRACTIONS,
    seed=DEFAULT_SEED,
    dedupe=True,
    cache=None,
    refresh=False,
    mirror=DEFAULT_MIRROR,
    suite=DEFAULT_SUITE,
    verbose=True,
):
    """Builds train/valid/test JSONL files of Debian package descriptions by Section.

    Each record is `{"id", "text", "label", "domain", "lang"}`: text is the summary
    line, a newline, then the long description (see `deb822.description_text`);
    label is the package's Section (without `contrib/` / `non-free/`), shared by
    its translations. Splits are drawn from a hash of the SOURCE package, so
    `foo`, `libfoo1`, `foo-doc` and every translation of them land in one split.

    Sections are kept when they are in `sections` and have at least
    `min_examples` English descriptions, so every language shares one label set.
    With `dedupe`, a text that repeats within a language is kept once (the first
    package by name), and a "translation" identical to its English text is dropped.

    Args:
        languages: language codes (list or "en,de,fr"); English is always read to
            choose the sections, and written only when listed.
        sections: Section names to keep; None for `DEFAULT_SECTIONS`; "all" for
            every section except `PACKAGING_SECTIONS`.
        min_examples: fewest English descriptions a section needs to be kept.
        out_dir: where train/valid/test.jsonl and stats.json go (default: a folder
            under `cache_dir("debian", "splits")` named after the languages).
        from_file: local Packages / Translation-<lang> files or folders instead of
            fetching with apt.
        domain: the records' domain field.
        fractions: (train, valid, test) fractions.
        seed: split hash seed.
        dedupe: drop exact duplicate texts and untranslated copies.
        cache: cache folder for apt's lists (default `cache_dir("debian")`).
        refresh: re-run apt-get update.
        mirror: Debian mirror URL.
        suite: Debian release.
        verbose: print the statistics.

    Returns:
        DatasetBuild: paths (split -> file) and stats (split -> counts).

    Raises:
        XDomainError: the archive cannot be reached (use `from_file`), a language
            has no translations, or no section is left.

    Example (needs network; `from_file=` takes local files):

    >>> build = debian_descriptions(["en", "de"])  # doctest: +SKIP
    >>> sorted(build.paths)  # doctest: +SKIP
    ['test', 'train', 'valid']
    """
    languages = parse_languages(languages)
    corpus = load_debian_corpus(
        languages, from_file=from_file, cache=cache, refresh=refresh, mirror=mirror, suite=suite
    )
    wanted_sections = _wanted_sections(sections, corpus.packages)
    english = corpus.descriptions["en"]
    english_by_md5 = {entry["md5"]: entry["text"] for entry in english.values()}
    notes = {"origin": corpus.origin, "loaded": corpus.counts}

    by_lang = {}
    for lang in tuple(dict.fromkeys(("en",) + languages)):
        kept, dropped = _records_for_language(
            corpus, lang, wanted_sections, english_by_md5, domain, dedupe
        )
        by_lang[lang] = kept
        notes.setdefault("dropped", {})[lang] = dropped

    english_counts = collections.Counter(r["label"] for r in by_lang["en"])
    kept_sections = sorted(s for s in wanted_sections if english_counts[s] >= min_examples)
    notes["sections_below_min_examples"] = {
        s: english_counts[s] for s in sorted(wanted_sections) if english_counts[s] < min_examples
    }
    if not kept_sections:
        raise XDomainError(
            f"no section has at least {min_examples} English descriptions "
            f"(counts: {dict(english_counts.most_common(10)) or 'none'})"
        )
    notes["sections"] = kept_sections

    records_by_split = {split: [] for split in SPLITS}
    for lang in languages:
        for record in by_lang[lang]:
            if record["label"] in kept_sections:
                split = split_for_key(record.pop("_source"), fractions, seed)
                records_by_split[split].append(record)

    if out_dir is None:
        from xdomain_tf.utils.cache import cache_dir

        out_dir = cache_dir("debian", "splits", _folder_name(languages, sections, min_examples, seed))
    build = write_splits(records_by_split, out_dir, seed, notes=notes)
    if verbose:
        print(build.summary())
    return build


def _wanted_sections(sections, packages):
    present = collections.Counter(info.section for info in packages.values())
    if sections is None:
        return set(DEFAULT_SECTIONS)
    if isinstance(sections, str):
        sections = [s.strip() for s in sections.split(",") if s.strip()]
    if list(sections) == ["all"]:
        return {s for s in present if s and s not in PACKAGING_SECTIONS}
    unknown = sorted(set(sections) - set(present))
    if unknown:
        raise XDomainError(
            f"unknown Debian section(s) {', '.join(unknown)}; the Packages list has: "
            f"{', '.join(sorted(s for s in present if s))}"
        )
    return set(sections)


def _records_for_language(corpus, lang, wanted_sections, english_by_md5, domain, dedupe):
    dropped = collections.Counter()
    seen_texts = set()
    records = []
    for package in sorted(corpus.descriptions[lang]):
        entry = corpus.descriptions[lang][package]
        info = corpus.packages[package]
        if info.section not in wanted_sections:
            dropped["other_section"] += 1
            continue
        text = entry["text"]
        if not text.strip():
            dropped["empty"] += 1
            continue
        if dedupe and lang != "en" and english_by_md5.get(entry["md5"]) == text:
            dropped["untranslated_copy"] += 1
            continue
        if dedupe and text in seen_texts:
            dropped["duplicate_text"] += 1
            continue
        seen_texts.add(text)
        records.append(
            {
                "id": f"debian/{lang}/{package}",
                "text": text,
                "label": info.section,
                "domain": domain,
                "lang": lang,
                "_source": info.source,
            }
        )
    return records, dict(dropped)


def _folder_name(languages, sections, min_examples, seed):
    name = "-".join(languages)
    extra = repr((sorted(sections) if sections and not isinstance(sections, str) else sections, min_examples, seed))
    if extra != repr((None, 100, DEFAULT_SEED)):
        name += "-" + hashlib.sha256(extra.encode()).hexdigest()[:8]
    return name
