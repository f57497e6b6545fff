"""Every public class and function of xdomain_tf has a docstring with an example."""

import importlib
import inspect
import pathlib
import pkgutil

import pytest

import xdomain_tf

# CLI sub-command modules expose only the argparse hooks; their help text is the documentation.
CLI_HOOKS = ("add_parser", "run")


def public_module_names():
    """Names of the public xdomain_tf modules, found on disk without importing them."""
    names = []

    def walk(path, prefix):
        for info in pkgutil.iter_modules([str(path)]):
            if info.name.startswith("_"):
                continue
            name = prefix + info.name
            names.append(name)
            if info.ispkg:
                walk(pathlib.Path(path) / info.name, name + ".")

    walk(pathlib.Path(xdomain_tf.__file__).parent, "xdomain_tf.")
    return ["xdomain_tf"] + sorted(names)


def public_objects(module):
    """(name, object) for the public classes and functions defined in `module` itself."""
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if module.__name__.startswith("xdomain_tf.cli.") and name in CLI_HOOKS:
            continue
        yield name, obj


def has_example(docstring):
    for line in (docstring or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>") or stripped.startswith("Example"):
            return True
    return False


def test_module_walk_finds_the_package():
    names = public_module_names()
    assert "xdomain_tf.models.encoder_config" in names
    assert "xdomain_tf.cli.main" in names
    assert not any(part.startswith("_") for name in names for part in name.split("."))


def test_module_walk_agrees_with_walk_packages():
    walked = {
        info.name
        for info in pkgutil.walk_packages(xdomain_tf.__path__, "xdomain_tf.")
        if not any(part.startswith("_") for part in info.name.split("."))
    }
    assert set(public_module_names()) == walked | {"xdomain_tf"}


def test_has_example_detects_doctest_and_example_sections():
    assert has_example("Do it.\n\n    >>> 1 + 1\n    2\n")
    assert has_example("Do it.\n\nExample:\n    run it\n")
    assert has_example("Do it.\n\n    Examples:\n")
    assert not has_example("Do it.\n\nArgs:\n    x: a value.\n")
    assert not has_example(None)


@pytest.mark.parametrize("module_name", public_module_names())
def test_public_objects_have_docstring_with_example(module_name):
    module = importlib.import_module(module_name)
    offenders = []
    for name, obj in public_objects(module):
        doc = inspect.getdoc(obj) if obj.__doc__ else None
        if not doc:
            offenders.append(f"{module_name}.{name} (no docstring)")
        elif not has_example(doc):
            offenders.append(f"{module_name}.{name} (docstring without example)")
    assert not offenders, "public objects missing an example:\n" + "\n".join(offenders)
