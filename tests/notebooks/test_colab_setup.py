"""The notebooks' Colab setup: notebooks/colab_setup.py and the first code cell that runs it.

Nothing here touches the network, pip or apt: the setup takes stand-ins for
`subprocess.run`, `shutil.which`, the version lookup and the restart.
"""
import doctest
import importlib.util
import sys
import types
import zipfile

import pytest

from notebook_runner import NOTEBOOKS, REPO_ROOT

nbformat = pytest.importorskip("nbformat")


def _load_colab_setup():
    spec = importlib.util.spec_from_file_location("colab_setup_under_test", NOTEBOOKS / "colab_setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_setup = _load_colab_setup()

OLD = {"tensorflow": "2.19.0", "keras": "3.10.0", "numpy": "2.0.2", "protobuf": "5.29.5", "ml-dtypes": "0.4.1"}
NEW = {**OLD, "tensorflow": "2.21.0", "keras": "3.15.0"}


class FakeRuntime:
    """Records commands; pip "installs" `after`, apt "installs" the keyring when `apt_works`."""

    def __init__(self, tmp_path, before=OLD, after=OLD, tools=("apt-get",), keyring=True, apt_works=True):
        self.versions = dict(before)
        self.after = dict(after)
        self.tools = set(tools)
        self.keyring = tmp_path / "debian-archive-keyring.gpg"
        if keyring:
            self.keyring.write_bytes(b"keys")
        self.apt_works = apt_works
        self.commands, self.lines, self.restarts = [], [], 0

    def run(self, command, **kwargs):
        self.commands.append(list(command))
        if command[1:4] == ["-m", "pip", "install"]:
            self.versions = dict(self.after)
        if command[1:2] == ["install"] and "debian-archive-keyring" in command and self.apt_works:
            self.keyring.write_bytes(b"keys")
        return types.SimpleNamespace(returncode=0, stdout="", stderr="")

    def which(self, name):
        return f"/usr/bin/{name}" if name in self.tools else None

    def restart(self):
        self.restarts += 1

    def setup(self, checkout="/content/xdomain-tf"):
        return colab_setup.setup(
            checkout, run=self.run, which=self.which, version=lambda name: self.versions.get(name),
            keyring=str(self.keyring), restart=self.restart, log=self.lines.append,
        )

    def pip_commands(self):
        return [c for c in self.commands if c[1:4] == ["-m", "pip", "install"]]


def test_doctests():
    assert doctest.testmod(colab_setup).failed == 0


def test_same_tensorflow_installs_without_restart(tmp_path, monkeypatch):
    monkeypatch.delenv("XDOMAIN_TF_REPO_ROOT", raising=False)
    runtime = FakeRuntime(tmp_path)
    assert runtime.setup() == "ready"
    assert runtime.pip_commands() == [[sys.executable, "-m", "pip", "install", "-q", "/content/xdomain-tf"]]
    assert runtime.restarts == 0 and runtime.lines[-1] == "Ready."
    assert colab_setup.os.environ["XDOMAIN_TF_REPO_ROOT"] == "/content/xdomain-tf"


def test_tensorflow_swap_restarts_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("XDOMAIN_TF_REPO_ROOT", "unchanged-by-test")
    runtime = FakeRuntime(tmp_path, after=NEW)
    assert runtime.setup() == "restart"
    assert runtime.restarts == 1
    # The reason comes before the restart, naming the swap.
    assert "tensorflow 2.19.0 -> 2.21.0" in runtime.lines[-1] and "Restarting the runtime" in runtime.lines[-1]


def test_gpu_runtime_installs_the_cuda_extra(tmp_path, monkeypatch):
    monkeypatch.setenv("XDOMAIN_TF_REPO_ROOT", "unchanged-by-test")
    runtime = FakeRuntime(tmp_path, tools=("apt-get", "nvidia-smi"))
    runtime.setup()
    assert runtime.pip_commands()[0][-1] == "/content/xdomain-tf[and-cuda]"
    assert "with the CUDA extra" in runtime.lines[0]


def test_the_cuda_extra_exists():
    from setuptools.config.setupcfg import read_configuration

    extras = read_configuration(str(REPO_ROOT / "setup.cfg"))["options"]["extras_require"]
    # setuptools spells the extra with "_"; pip normalises "and-cuda" to the same name.
    assert extras["and_cuda"] == ["tensorflow[and-cuda]>=2.21,<2.22"]


def test_missing_keyring_is_installed_with_apt(tmp_path, monkeypatch):
    monkeypatch.setenv("XDOMAIN_TF_REPO_ROOT", "unchanged-by-test")
    runtime = FakeRuntime(tmp_path, keyring=False)
    assert runtime.setup() == "ready"
    assert ["/usr/bin/apt-get", "install", "-y", "-q", "debian-archive-keyring"] in runtime.commands
    assert runtime.keyring.is_file() and not any(line.startswith("Note:") for line in runtime.lines)


def test_keyring_apt_cannot_install_gives_one_line(tmp_path):
    runtime = FakeRuntime(tmp_path, keyring=False, apt_works=False)
    problem = colab_setup.debian_keyring(str(runtime.keyring), run=runtime.run, which=runtime.which)
    # It refreshed apt's lists and tried again before giving up.
    assert [c[1] for c in runtime.commands] == ["install", "update", "install"]
    assert "could not install debian-archive-keyring" in problem and "\n" not in problem


def test_no_apt_gives_one_line_and_still_installs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDOMAIN_TF_REPO_ROOT", "unchanged-by-test")
    runtime = FakeRuntime(tmp_path, tools=(), keyring=False)
    assert runtime.setup() == "ready"
    notes = [line for line in runtime.lines if line.startswith("Note:")]
    assert len(notes) == 1 and "apt-get not found" in notes[0] and "\n" not in notes[0]
    assert len(runtime.pip_commands()) == 1 and len(runtime.commands) == 1


def test_other_packages_restart_only_when_loaded():
    before, after = {"numpy": "2.0.2"}, {"numpy": "2.1.0"}
    assert colab_setup.replaced(before, after, loaded={"json"}) == []
    assert colab_setup.replaced(before, after, loaded={"numpy"}) == [("numpy", "2.0.2", "2.1.0")]
    # No TensorFlow before: nothing was replaced.
    assert colab_setup.replaced({"tensorflow": None}, {"tensorflow": "2.21.0"}) == []


# The first code cell of every notebook: clone, or unpack an uploaded zip, then colab_setup.setup.

def _setup_cells():
    cells = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        cells[path.stem] = [c.source for c in notebook.cells if c.cell_type == "code"][0]
    return cells


def test_every_notebook_has_the_same_setup_cell():
    cells = _setup_cells()
    assert len(cells) == 4 and len(set(cells.values())) == 1
    assert "colab_setup.setup(CHECKOUT)" in next(iter(cells.values()))


@pytest.fixture
def in_colab(monkeypatch, tmp_path):
    """Runs the setup cell as Colab would, with CHECKOUT under tmp_path: `in_colab.run(repo_url)`."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "colab_setup", raising=False)
    source = next(iter(_setup_cells().values()))
    assert 'CHECKOUT = "/content/xdomain-tf"' in source
    checkout = tmp_path / "content" / "xdomain-tf"
    checkout.parent.mkdir()

    def run(repo_url=""):
        code = source.replace('CHECKOUT = "/content/xdomain-tf"', f"CHECKOUT = {str(checkout)!r}")
        code = code.replace('REPO_URL = ""', f"REPO_URL = {repo_url!r}")
        exec(compile(code, "setup-cell", "exec"), {})
        return checkout

    return types.SimpleNamespace(run=run, checkout=checkout)


STUB = "import pathlib\ndef setup(checkout):\n    pathlib.Path(checkout, 'set-up').write_text(checkout)\n"


def test_setup_cell_without_url_or_upload_stops_with_one_message(in_colab):
    with pytest.raises(SystemExit) as stop:
        in_colab.run()
    message = str(stop.value)
    assert message.startswith("Set REPO_URL in this cell") and "xdomain-tf.zip" in message and "\n" not in message


def test_setup_cell_unpacks_an_uploaded_github_zip(in_colab, tmp_path):
    with zipfile.ZipFile(tmp_path / "content" / "xdomain-tf.zip", "w") as archive:
        archive.writestr("xdomain_tf-main/setup.cfg", "[metadata]\n")
        archive.writestr("xdomain_tf-main/notebooks/colab_setup.py", STUB)
    checkout = in_colab.run()
    assert (checkout / "setup.cfg").is_file()
    assert (checkout / "set-up").read_text() == str(checkout)


def test_setup_cell_refuses_a_zip_without_a_checkout(in_colab, tmp_path):
    with zipfile.ZipFile(tmp_path / "content" / "xdomain-tf.zip", "w") as archive:
        archive.writestr("photos/cat.jpg", "meow")
    with pytest.raises(SystemExit, match="holds no checkout of xdomain_tf"):
        in_colab.run()


def test_setup_cell_clones_repo_url(in_colab, monkeypatch):
    import subprocess

    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        (in_colab.checkout / "notebooks").mkdir(parents=True)
        (in_colab.checkout / "notebooks" / "colab_setup.py").write_text(STUB)

    monkeypatch.setattr(subprocess, "run", fake_run)
    checkout = in_colab.run("https://example.org/me/xdomain_tf.git")
    assert commands == [["git", "clone", "--depth", "1", "https://example.org/me/xdomain_tf.git", str(checkout)]]
    assert (checkout / "set-up").read_text() == str(checkout)
