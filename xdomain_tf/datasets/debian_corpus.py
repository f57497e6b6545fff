"""Loads the Debian descriptions of several languages, each linked to its package."""
import dataclasses
import re

from xdomain_tf.datasets.debian_archive import (
    DEFAULT_MIRROR,
    DEFAULT_SUITE,
    fetch_debian_lists,
    local_debian_lists,
)
from xdomain_tf.datasets.debian_index import read_packages, read_translations
from xdomain_tf.errors import XDomainError

_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


@dataclasses.dataclass
class DebianCorpus:
    """Packages and one description per (language, package).

    Args:
        packages: dict package -> `PackageInfo` (Section, Source, Tag).
        descriptions: dict language -> dict package -> entry (package, md5,
            summary, text, path, line), from `read_translations`.
        origin: where the files came from (for the build notes).
        counts: dict of what was skipped while loading (per language).

    Example:

    >>> corpus = load_debian_corpus("en,de", from_file="path/to/lists")  # doctest: +SKIP
    >>> corpus.packages["gnuplot"].section, sorted(corpus.descriptions)  # doctest: +SKIP
    ('math', ['de', 'en'])
    """

    packages: dict
    descriptions: dict
    origin: str
    counts: dict


def parse_languages(languages):
    """Checks language codes ("en", "pt_BR"); accepts a list or a comma-separated string.

    >>> parse_languages("en, de")
    ('en', 'de')
    """
    if isinstance(languages, str):
        languages = languages.split(",")
    result = tuple(dict.fromkeys(lang.strip() for lang in languages if lang.strip()))
    if not result:
        raise XDomainError("no language given (e.g. en,de,fr)")
    for lang in result:
        if not _LANGUAGE.match(lang):
            raise XDomainError(f"bad language code {lang!r} (expected e.g. en, de, pt_BR)")
    return result


def load_debian_corpus(
    languages,
    from_file=None,
    cache=None,
    refresh=False,
    mirror=DEFAULT_MIRROR,
    suite=DEFAULT_SUITE,
):
    """Reads the Packages list and the Translation files of `languages` (English always).

    Each package keeps one description per language: the one whose md5 matches
    the Packages list when there is a choice. Descriptions of packages missing
    from the Packages list (no Section) are skipped and counted.

    Args:
        languages: language codes; "en" is always loaded as well.
        from_file: None to fetch with apt, else local files / folders
            (`local_debian_lists`).
        cache: cache folder for the apt lists (default `cache_dir("debian")`).
        refresh: re-run apt-get update even when cached lists exist.
        mirror: Debian mirror URL.
        suite: Debian release.

    Returns:
        DebianCorpus.

    Example:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "Packages").write_text("Package: gnuplot\\nSection: math\\nDescription-md5: 0a\\n")
    >>> _ = (folder / "Translation-en").write_text(
    ...     "Package: gnuplot\\nDescription-md5: 0a\\nDescription-en: plotting tool\\n Draws graphs.\\n")
    >>> corpus = load_debian_corpus("en", from_file=folder)
    >>> corpus.packages["gnuplot"].section, corpus.descriptions["en"]["gnuplot"]["text"]
    ('math', 'plotting tool\\nDraws graphs.')
    """
    languages = parse_languages(languages)
    wanted = tuple(dict.fromkeys(("en",) + languages))
    if from_file:
        if isinstance(from_file, (str, bytes)) or hasattr(from_file, "__fspath__"):
            from_file = [from_file]
        lists = local_debian_lists(from_file).require(wanted)
        origin = "local files: " + ", ".join(str(p) for p in lists.packages + sum(lists.translations.values(), []))
    else:
        if cache is None:
            from xdomain_tf.utils.cache import cache_dir

            cache = cache_dir("debian")
        lists = fetch_debian_lists(wanted, cache, mirror=mirror, suite=suite, refresh=refresh)
        origin = f"apt-get update from {mirror} {suite} main (cached under {cache})"
    packages = read_packages(lists.packages)
    descriptions, counts = {}, {}
    for lang in wanted:
        chosen, unknown = {}, 0
        for entry in read_translations(lists.translations[lang], lang):
            info = packages.get(entry["package"])
            if info is None:
                unknown += 1
                continue
            previous = chosen.get(entry["package"])
            if previous is None or (
                previous["md5"] not in info.description_md5 and entry["md5"] in info.description_md5
            ):
                chosen[entry["package"]] = entry
        descriptions[lang] = chosen
        counts[lang] = {"read": len(chosen), "not_in_packages_list": unknown}
    return DebianCorpus(packages=packages, descriptions=descriptions, origin=origin, counts=counts)
