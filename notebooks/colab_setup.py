"""Prepares a Colab runtime for the notebooks: one place for all four of them.

The first code cell of every notebook clones (or unpacks) the repository to a checkout
and then calls

    sys.path.insert(0, f"{CHECKOUT}/notebooks")
    import colab_setup
    colab_setup.setup(CHECKOUT)

which

- installs the package from the checkout with pip, with the `and-cuda` extra on a GPU
  runtime (`nvidia-smi` present), since a plain `tensorflow` wheel can lose the GPU;
- installs the Debian archive keyring when it is missing (Ubuntu-based Colab images lack
  it; `xdomain_tf.datasets.debian_archive` fetches the Debian lists with apt, which checks
  them against that keyring), or says in one line why the Debian corpus cannot be fetched;
- restarts the runtime when pip replaced a TensorFlow (or another loaded package) the
  runtime came with: Python keeps the old one until the process restarts.

Standard library only, and it never imports TensorFlow: it runs before the dependencies
are installed, and a TensorFlow imported before pip replaces it would stay the old one.

Example (outside Colab nothing needs installing; a dry run with stand-ins):

>>> calls = []
>>> state = setup("/content/xdomain-tf", run=lambda command, **kw: calls.append(command),
...               which=lambda name: None, version=lambda name: "2.21.0",
...               keyring=__file__, restart=None, log=lambda line: None)
>>> state, calls[0][-1]
('ready', '/content/xdomain-tf')
"""
import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys

# Where apt on Debian and Ubuntu puts the keyring; debian_archive.py names it `Signed-By`.
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Distributions whose replacement needs a restart: TensorFlow always (the notebooks import
# it later in this process), the others when this process has already imported them.
RESTART_FOR = ("tensorflow", "keras", "numpy", "protobuf", "ml-dtypes")
_MODULE = {"protobuf": "google.protobuf", "ml-dtypes": "ml_dtypes"}


def installed_version(distribution):
    """The installed version of `distribution` (pip's name), or None when it is missing.

    Reads the package metadata only, so nothing is imported.

    >>> installed_version("surely-not-installed-xdomain")
    """
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def pip_target(checkout, gpu):
    """What pip installs: the checkout, with the `and-cuda` extra on a GPU runtime.

    >>> pip_target("/content/xdomain-tf", gpu=True)
    '/content/xdomain-tf[and-cuda]'
    """
    return f"{checkout}[and-cuda]" if gpu else str(checkout)


def replaced(before, after, loaded=()):
    """`[(distribution, old, new)]` that pip replaced and that need a restart.

    Args:
        before: `{distribution: version or None}` before pip ran.
        after: the same after pip ran.
        loaded: module names this process has imported (`sys.modules`).

    >>> replaced({"tensorflow": "2.19.0", "numpy": "2.0.2"}, {"tensorflow": "2.21.0", "numpy": "2.1.0"})
    [('tensorflow', '2.19.0', '2.21.0')]
    """
    swaps = []
    for name in RESTART_FOR:
        old, new = before.get(name), after.get(name)
        if old is None or old == new:
            continue
        if name == "tensorflow" or _MODULE.get(name, name.replace("-", "_")) in loaded:
            swaps.append((name, old, new))
    return swaps


def debian_keyring(keyring=DEBIAN_KEYRING, run=subprocess.run, which=shutil.which):
    """Makes sure apt can verify the Debian archive; returns None, or why it cannot, in one line.

    Installs Ubuntu's (or Debian's) `debian-archive-keyring` package when the keyring file
    is missing, refreshing apt's package lists once if the first try fails.

    >>> debian_keyring(keyring="/no/such/keyring.gpg", which=lambda name: None)[:44]
    'apt-get not found (macOS, or not Debian/Ubun'
    """
    if os.path.exists(keyring):
        return None
    apt_get = which("apt-get")
    if not apt_get:
        return ("apt-get not found (macOS, or not Debian/Ubuntu), so the Debian package descriptions cannot be "
                "fetched here; BBC News works, and xdomain_tf.datasets.debian_descriptions(from_file=[...]) builds "
                "the corpus from Packages and Translation files downloaded by hand from a Debian mirror")
    install = [apt_get, "install", "-y", "-q", "debian-archive-keyring"]
    for command in (install, [apt_get, "update", "-q"], install):
        run(command, check=False, capture_output=True, text=True)
        if os.path.exists(keyring):
            return None
    return (f"could not install debian-archive-keyring with apt-get ({keyring} is missing), so the Debian "
            "package descriptions cannot be fetched here; run `apt-get install debian-archive-keyring` as root")


def _restart():
    # How Colab restarts a runtime: it starts a new kernel process when this one dies.
    os.kill(os.getpid(), 9)


def setup(checkout, run=subprocess.run, which=shutil.which, version=installed_version,
          keyring=DEBIAN_KEYRING, restart=_restart, log=print):
    """Installs the package from `checkout` and prepares the runtime for the notebooks.

    Args:
        checkout: the repository checkout (a folder with setup.cfg).
        run: `subprocess.run`, or a stand-in.
        which: `shutil.which`, or a stand-in.
        version: `installed_version`, or a stand-in.
        keyring: the Debian archive keyring file apt needs.
        restart: called to restart the runtime when pip replaced a loaded package.
        log: where the messages go.

    Returns:
        "ready", or "restart" when `restart` was called (Colab then starts a new process).
    """
    before = {name: version(name) for name in RESTART_FOR}
    gpu = which("nvidia-smi") is not None
    target = pip_target(checkout, gpu)
    log(f"Installing xdomain_tf from {checkout}" + (" with the CUDA extra (GPU runtime)" if gpu else "") + " ...")
    run([sys.executable, "-m", "pip", "install", "-q", target], check=True)
    importlib.invalidate_caches()
    os.environ["XDOMAIN_TF_REPO_ROOT"] = str(checkout)
    problem = debian_keyring(keyring, run=run, which=which)
    if problem:
        log(f"Note: {problem}.")
    swaps = replaced(before, {name: version(name) for name in RESTART_FOR}, loaded=set(sys.modules))
    if swaps:
        changes = ", ".join(f"{name} {old} -> {new}" for name, old, new in swaps)
        log(f"pip replaced packages this runtime had loaded ({changes}). Restarting the runtime so Python "
            "loads the new ones; when it is back, run the notebook again from the top (this cell is then quick).")
        restart()
        return "restart"
    log("Ready.")
    return "ready"
