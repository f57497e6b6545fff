"""Fetch layer for the Debian archive's `Packages` and `Translation-<lang>` lists.

`fetch_debian_lists` runs `apt-get update` under a PRIVATE apt configuration
(`APT_CONFIG`) whose lists, cache, state and config parts all live in the cache
folder, so the system's apt state is never read for packages nor written.
`local_debian_lists` takes files the user downloaded instead.

Integrity: apt verifies the suite's `InRelease` signature (the Debian archive keyring) and
each list it downloads against the SHA256 that `InRelease` lists (a "Hash Sum mismatch"
fails the update); insecure or downgraded repositories are refused on the command line.
Lists reused from the cache are checked again against the cached `InRelease`
(`verify_cached_lists`), so a file changed since apt verified it is refused.
"""
import bz2
import dataclasses
import glob
import gzip
import hashlib
import lzma
import os
import pathlib
import shutil
import subprocess
import urllib.parse

from xdomain_tf.datasets.debian_index import translation_language
from xdomain_tf.errors import IntegrityError, OperationError, XDomainError
from xdomain_tf.utils.download_progress import DownloadProgress

DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SUITE = "bookworm"
DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
_LOCAL_HINT = (
    "to build from local files instead, download dists/{suite}/main/binary-amd64/Packages.xz and "
    "dists/{suite}/main/i18n/Translation-<lang>.bz2 from a Debian mirror and pass them with "
    "from_file=[...]"
)


@dataclasses.dataclass
class DebianLists:
    """Index files to build the Debian corpus from.

    Args:
        packages: `Packages` files (Section, Source, Tag).
        translations: dict language -> `Translation-<language>` files.

    Example:

    >>> lists = DebianLists(packages=["Packages"], translations={"en": ["Translation-en"]})
    >>> lists.require(["en"]).translations
    {'en': ['Translation-en']}
    """

    packages: list
    translations: dict

    def require(self, languages):
        """Raises XDomainError unless there are Packages and a Translation file per language."""
        if not self.packages:
            raise XDomainError("no Packages list found (it gives each package's Section)")
        missing = [lang for lang in languages if not self.translations.get(lang)]
        if missing:
            have = ", ".join(sorted(self.translations)) or "none"
            raise XDomainError(
                f"no Translation file for language(s) {', '.join(missing)} (found: {have})"
            )
        return self


def local_debian_lists(paths):
    """Collects Packages / Translation-<lang> files from files or folders given by the user.

    Args:
        paths: files, or folders searched (not recursively) for files whose name
            contains `Packages` or `Translation-<lang>`; plain or .gz/.xz/.bz2/.lz4.

    Example:

    >>> lists = local_debian_lists([])
    >>> lists.packages, lists.translations
    ([], {})
    """
    files = []
    for path in paths:
        path = pathlib.Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return _classify(files)


def _classify(files):
    packages, translations = [], {}
    for path in files:
        name = path.name
        if name.endswith(("InRelease", "Release", ".gpg", "lock")):
            continue
        language = translation_language(name)
        if language:
            translations.setdefault(language, []).append(path)
        elif "Packages" in name:
            packages.append(path)
    return DebianLists(packages=packages, translations=translations)


def apt_lists_dir(cache):
    """Where `fetch_debian_lists` keeps apt's lists under the cache folder `cache`.

    Example:

    >>> apt_lists_dir("/tmp/cache").as_posix()
    '/tmp/cache/apt/lists'
    """
    return pathlib.Path(cache) / "apt" / "lists"


def fetch_debian_lists(
    languages,
    cache,
    mirror=DEFAULT_MIRROR,
    suite=DEFAULT_SUITE,
    components=("main",),
    architecture="amd64",
    refresh=False,
    timeout=600,
):
    """Downloads (or reuses) the Packages and Translation lists with a private apt setup.

    Args:
        languages: language codes, e.g. ("en", "de").
        cache: folder for apt's private lists, cache, config and state.
        mirror: Debian mirror URL.
        suite: release name, e.g. "bookworm".
        components: archive areas, e.g. ("main", "contrib").
        architecture: architecture of the Packages list.
        refresh: run `apt-get update` even when the cached lists cover `languages`.
        timeout: seconds before giving up on `apt-get update`.

    Returns:
        DebianLists.

    Raises:
        OperationError: apt is missing or the archive cannot be reached.
        XDomainError: a language has no Translation file.

    Example (needs network the first time, about 26 MB):

    >>> from xdomain_tf.utils.cache import cache_dir
    >>> lists = fetch_debian_lists(("en", "de"), cache_dir("debian"))  # doctest: +SKIP
    >>> sorted(lists.translations)  # doctest: +SKIP
    ['de', 'en']
    """
    root = pathlib.Path(cache) / "apt"
    lists_dir = root / "lists"
    prefix = f"{_mirror_stem(mirror)}_dists_{suite}_"
    lists = _classify(sorted(lists_dir.glob(prefix + "*"))) if lists_dir.is_dir() else DebianLists([], {})
    if not refresh and lists.packages and all(lists.translations.get(lang) for lang in languages):
        selected = _select(lists, languages)
        verify_cached_lists(lists_dir, prefix, [*selected.packages, *sum(selected.translations.values(), [])])
        return selected
    apt_get = shutil.which("apt-get")
    hint = _LOCAL_HINT.format(suite=suite)
    if not apt_get:
        raise OperationError(f"apt-get not found, so the Debian archive cannot be fetched; {hint}")
    wanted = sorted(set(languages) | set(lists.translations) | {"en"})
    config = write_apt_config(root, wanted, mirror, suite, components, architecture)
    env = dict(os.environ, APT_CONFIG=str(config), LC_ALL="C")
    command = [
        apt_get, "update", "-o", "Acquire::http::Timeout=30", "-o", "Acquire::Retries=1",
        "-o", "Acquire::AllowInsecureRepositories=false", "-o", "Acquire::AllowDowngradeToInsecureRepositories=false",
    ]
    progress = DownloadProgress(f"the Debian lists of {suite} (Packages, Translation-{','.join(wanted)}) from {mirror}")
    try:
        result = progress.run(command, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OperationError(f"apt-get update did not finish within {timeout} s; {hint}") from None
    problems = [
        line
        for line in ((result.stdout or "") + "\n" + (result.stderr or "")).splitlines()
        if line.startswith(("E:", "W:", "Err:"))
    ]
    lists = _classify(sorted(lists_dir.glob(prefix + "*")))
    if result.returncode != 0 or not lists.packages:
        detail = "; ".join(problems[:3]) or f"exit code {result.returncode}"
        if not os.path.exists(DEFAULT_KEYRING):  # e.g. Ubuntu: apt cannot check Debian's signature
            detail += (f"; the Debian archive keyring {DEFAULT_KEYRING} is missing: install it with "
                       "`apt-get install debian-archive-keyring` (Ubuntu packages it too)")
        raise OperationError(f"could not fetch the Debian archive ({mirror} {suite}): {detail}; {hint}")
    try:
        selected = _select(lists, languages)
    except XDomainError as error:
        raise XDomainError(f"{error} after apt-get update from {mirror} {suite}; {hint}") from None
    files = [*selected.packages, *sum(selected.translations.values(), [])]
    progress.finish(f"{len(files)} list file(s)", sum(path.stat().st_size for path in files),
                    note="apt verified each against the signed InRelease")
    return selected


def verify_cached_lists(lists_dir, prefix, files):
    """Checks list files apt keeps against the SHA256 section of the suite's cached
    `InRelease` (or `Release`) beside them; a file whose digest differs is refused.

    A file stored compressed with another compressor than the archive's (apt recompresses
    to `.lz4` when `Acquire::GzipIndexes` is set) is checked decompressed, against the
    uncompressed file's entry. Files the Release does not list, and lists without a
    cached Release, are left as they are (apt checked them when it downloaded them).

    Args:
        lists_dir: apt's lists folder.
        prefix: the list files' name prefix for the suite (`<mirror>_dists_<suite>_`).
        files: the list files to check.

    Raises:
        IntegrityError: a file's sha256 is not the one the Release lists.

    Example:

    >>> import hashlib, pathlib, tempfile
    >>> lists = pathlib.Path(tempfile.mkdtemp())
    >>> packages = lists / "m_dists_s_main_binary-amd64_Packages"
    >>> _ = packages.write_bytes(b"Package: a\\n")
    >>> digest = hashlib.sha256(b"Package: a\\n").hexdigest()
    >>> _ = (lists / "m_dists_s_InRelease").write_text(f"SHA256:\\n {digest} 11 main/binary-amd64/Packages\\n")
    >>> verify_cached_lists(lists, "m_dists_s_", [packages])
    >>> _ = packages.write_bytes(b"Package: b\\n")
    >>> verify_cached_lists(lists, "m_dists_s_", [packages])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.IntegrityError: .../m_dists_s_main_binary-amd64_Packages: sha256 ... does not match the pinned ...; fetch the lists again (refresh=True, or --refresh)
    """
    lists_dir = pathlib.Path(lists_dir)
    releases = [lists_dir / (prefix + name) for name in ("InRelease", "Release")]
    release = next((path for path in releases if path.is_file()), None)
    if release is None:
        return
    listed = _release_sha256(release)
    for path in files:
        path = pathlib.Path(path)
        if not path.name.startswith(prefix):
            continue
        # apt names a list after its URI: "/" written "_", and "_" itself quoted as "%5f".
        relative = urllib.parse.unquote(path.name[len(prefix):].replace("_", "/"))
        stem, suffix = os.path.splitext(relative)
        if relative in listed:
            expected, actual = listed[relative], _sha256_of(path, decompress=False)
        elif suffix in _COMPRESSED and stem in listed:
            expected, actual = listed[stem], _sha256_of(path, decompress=True)
        else:
            continue
        if actual is not None and actual != expected:
            raise IntegrityError(path, expected, actual, "fetch the lists again (refresh=True, or --refresh)")


_COMPRESSED = (".gz", ".xz", ".bz2", ".lzma", ".lz4", ".zst")


def _release_sha256(path):
    """`{path in the archive: sha256}` of a Release / InRelease file's SHA256 section."""
    listed, inside = {}, False
    for line in pathlib.Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith(" "):
            inside = line.strip() == "SHA256:"
            continue
        parts = line.split()
        if inside and len(parts) == 3:
            listed[parts[2]] = parts[0].lower()
    return listed


def _sha256_of(path, decompress):
    """The sha256 of a list file's bytes (decompressed when asked); None when it cannot be
    decompressed here (no apt-helper for .lz4/.zst, or apt-helper fails)."""
    digest = hashlib.sha256()
    if decompress and path.suffix in (".lz4", ".zst"):
        helper = "/usr/lib/apt/apt-helper" if os.path.exists("/usr/lib/apt/apt-helper") else shutil.which("apt-helper")
        if not helper:
            return None
        process = subprocess.Popen([helper, "cat-file", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        with process.stdout:
            for block in iter(lambda: process.stdout.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() if process.wait() == 0 else None
    openers = {".gz": gzip.open, ".xz": lzma.open, ".lzma": lzma.open, ".bz2": bz2.open}
    try:
        with (openers[path.suffix] if decompress else open)(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (OSError, EOFError, lzma.LZMAError):
        return None if decompress else digest.hexdigest()
    return digest.hexdigest()


def _select(lists, languages):
    lists.require(languages)
    return DebianLists(
        packages=lists.packages,
        translations={lang: lists.translations[lang] for lang in languages},
    )


def _mirror_stem(mirror):
    """apt's list file prefix for a mirror: http://deb.debian.org/debian -> deb.debian.org_debian."""
    stem = mirror.split("://", 1)[-1].rstrip("/")
    return stem.replace("/", "_")


def write_apt_config(root, languages, mirror, suite, components, architecture):
    """Writes a private apt configuration under `root` and returns its path.

    Everything apt writes (lists, cache, logs, the status file) goes under `root`;
    `Dir::Etc::Parts` points at a copy of the system's `apt.conf.d` without files
    that set `Acquire::Languages` (container images often disable translations
    there), and our own last part clears update hooks and lists the languages.

    Example:

    >>> import tempfile
    >>> config = write_apt_config(tempfile.mkdtemp(), ["en", "de"], DEFAULT_MIRROR,
    ...                           "bookworm", ("main",), "amd64")
    >>> config.name, (config.parent / "lists").is_dir()
    ('apt.conf', True)
    """
    root = pathlib.Path(root)
    for sub in ("lists/partial", "cache/archives/partial", "log", "parts", "sources.list.d"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    status = root / "status"
    status.touch()
    parts = root / "parts"
    for old in parts.iterdir():
        old.unlink()
    for source in sorted(glob.glob("/etc/apt/apt.conf.d/*")):
        try:
            text = pathlib.Path(source).read_text(errors="replace")
        except OSError:
            continue
        if "Acquire::Languages" in text or not os.path.isfile(source):
            continue
        shutil.copyfile(source, parts / os.path.basename(source))
    language_list = " ".join(f'"{lang}";' for lang in languages)
    (parts / "zzzz-xdomain-tf").write_text(
        "#clear Acquire::Languages;\n"
        f"Acquire::Languages {{ {language_list} }};\n"
        "#clear APT::Update::Pre-Invoke;\n"
        "#clear APT::Update::Post-Invoke;\n"
        "#clear APT::Update::Post-Invoke-Success;\n"
        f'APT::Architecture "{architecture}";\n'
        "#clear APT::Architectures;\n"
        f'APT::Architectures {{ "{architecture}"; }};\n'
    )
    signed_by = f"Signed-By: {DEFAULT_KEYRING}\n" if os.path.exists(DEFAULT_KEYRING) else ""
    (root / "sources.list.d" / "debian.sources").write_text(
        f"Types: deb\nURIs: {mirror}\nSuites: {suite}\nComponents: {' '.join(components)}\n{signed_by}"
    )
    config = root / "apt.conf"
    user = "" if not hasattr(os, "geteuid") or os.geteuid() == 0 else _sandbox_user()
    config.write_text(
        f'Dir::State::Lists "{root / "lists"}";\n'
        f'Dir::State::status "{status}";\n'
        f'Dir::State::extended_states "{root / "extended_states"}";\n'
        f'Dir::Cache "{root / "cache"}";\n'
        'Dir::Cache::pkgcache "";\n'
        'Dir::Cache::srcpkgcache "";\n'
        f'Dir::Log "{root / "log"}";\n'
        f'Dir::Etc::Parts "{parts}";\n'
        'Dir::Etc::main "/dev/null";\n'
        'Dir::Etc::sourcelist "/dev/null";\n'
        f'Dir::Etc::sourceparts "{root / "sources.list.d"}";\n'
        + user
    )
    return config


def _sandbox_user():
    import pwd

    return f'APT::Sandbox::User "{pwd.getpwuid(os.geteuid()).pw_name}";\n'
