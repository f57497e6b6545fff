"""Runs the `>>>` examples in every xdomain_tf module's docstrings."""

import doctest
import importlib
import os
import pathlib
import pkgutil
import tempfile

import pytest

import xdomain_tf

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_names():
    """Names of all xdomain_tf modules (private ones included), found on disk without importing them."""
    names = []

    def walk(path, prefix):
        for info in pkgutil.iter_modules([str(path)]):
            name = prefix + info.name
            if name == "xdomain_tf.__main__":
                continue
            names.append(name)
            if info.ispkg:
                walk(pathlib.Path(path) / info.name, name + ".")

    walk(pathlib.Path(xdomain_tf.__file__).parent, "xdomain_tf.")
    return ["xdomain_tf"] + sorted(names)


def run_doctests(module, directory):
    """Runs the module's doctests with `directory` as working and temporary folder.

    Returns:
        (examples run, examples skipped, examples failed, failure report).
    """
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    report = []
    skipped = 0
    previous_cwd, previous_tempdir = os.getcwd(), tempfile.tempdir
    # Examples that write files (relative paths, tempfile.mkdtemp) do so under `directory`.
    os.chdir(directory)
    tempfile.tempdir = str(directory)
    try:
        for test in finder.find(module, module.__name__):
            skipped += sum(1 for example in test.examples if example.options.get(doctest.SKIP))
            runner.run(test, out=report.append)
    finally:
        os.chdir(previous_cwd)
        tempfile.tempdir = previous_tempdir
    return runner.tries, skipped, runner.failures, "".join(report)


def test_module_names_cover_the_package():
    names = module_names()
    assert "xdomain_tf.models.encoder_config" in names
    assert "xdomain_tf.__main__" not in names
    assert len(names) == len(set(names))


def test_runner_reports_a_failing_example(tmp_path):
    module = type(os)("fake_module")
    module.__doc__ = ">>> 1 + 1\n3\n>>> 2 + 2\n4\n>>> print('x')  # doctest: +SKIP\ny\n"
    attempted, skipped, failed, report = run_doctests(module, tmp_path)
    assert (attempted, skipped, failed) == (2, 1, 1)
    assert "Expected:\n    3\nGot:\n    2" in report


def test_examples_write_under_the_given_folder(tmp_path):
    module = type(os)("fake_module")
    module.__doc__ = (
        ">>> import os, tempfile\n"
        ">>> _ = open('relative.txt', 'w').write('x')\n"
        ">>> folder = tempfile.mkdtemp()\n"
    )
    previous_cwd = os.getcwd()
    attempted, skipped, failed, report = run_doctests(module, tmp_path)
    assert (attempted, failed) == (3, 0), report
    assert (tmp_path / "relative.txt").read_text() == "x"
    assert len([path for path in tmp_path.iterdir() if path.is_dir()]) == 1
    assert os.getcwd() == previous_cwd and tempfile.tempdir != str(tmp_path)


@pytest.mark.parametrize("module_name", module_names())
def test_doctests_pass(module_name, tmp_path):
    module = importlib.import_module(module_name)
    examples_run, _, failed, report = run_doctests(module, tmp_path)
    assert failed == 0, f"{failed} of {examples_run} doctest examples failed in {module_name}:\n{report}"
