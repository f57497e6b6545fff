"""Fetch layer for the Debian archive's `Packages` and `Translation-<lang>` lists.

`fetch_debian_lists` runs `apt-get update` under a PRIVATE apt configuration
(`APT_CONFIG`) whose lists, cache, state and config parts all live in the cache
folder, so the system's apt state is never read for packages nor written.
`local_debian_lists` takes files the user downloaded instead.
"""
import dataclasses
import glob
import os
import pathlib
import shutil
import subprocess

from xdomain_tf.datasets.debian_index import translation_language
from xdomain_tf.errors import XDomainError

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
        XDomainError: apt is missing, the archive cannot be reached, or a language
            has no Translation file.

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
        return _select(lists, languages)
    apt_get = shutil.which("apt-get")
    hint = _LOCAL_HINT.format(suite=suite)
    if not apt_get:
        raise XDomainError(f"apt-get not found, so the Debian archive cannot be fetched; {hint}")
    wanted = sorted(set(languages) | set(lists.translations) | {"en"})
    config = write_apt_config(root, wanted, mirror, suite, components, architecture)
    env = dict(os.environ, APT_CONFIG=str(config), LC_ALL="C")
    command = [apt_get, "update", "-o", "Acquire::http::Timeout=30", "-o", "Acquire::Retries=1"]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise XDomainError(f"apt-get update did not finish within {timeout} s; {hint}") from None
    problems = [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith(("E:", "W:", "Err:"))
    ]
    lists = _classify(sorted(lists_dir.glob(prefix + "*")))
    if result.returncode != 0 or not lists.packages:
        detail = "; ".join(problems[:3]) or f"exit code {result.returncode}"
        raise XDomainError(f"could not fetch the Debian archive ({mirror} {suite}): {detail}; {hint}")
    try:
        return _select(lists, languages)
    except XDomainError as error:
        raise XDomainError(f"{error} after apt-get update from {mirror} {suite}; {hint}") from None


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
