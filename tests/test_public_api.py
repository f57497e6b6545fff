"""The public API: `__all__` of xdomain_tf and of every subpackage, loaded lazily."""
import importlib
import importlib.util
import json
import pathlib
import subprocess
import sys
import types

import pytest

import xdomain_tf

PACKAGE_DIR = pathlib.Path(xdomain_tf.__file__).parent
TASKS_WRITTEN = importlib.util.find_spec("xdomain_tf.tasks.multi_domain_text_classifier") is not None
# Modules still named like the function they export; `models/build_*.py` become classes later.
SHADOWING_ALLOWED = {}
# Packages whose `__init__` imports its modules (the Keras classes register on import).
EAGER = ("xdomain_tf.layers", "xdomain_tf.models")


def package_names():
    """Every xdomain_tf package, found on disk."""
    names = []
    for init in sorted(PACKAGE_DIR.rglob("__init__.py")):
        parts = init.parent.relative_to(PACKAGE_DIR.parent).parts
        names.append(".".join(parts))
    return names


def test_subpackages_are_attributes_of_the_top_package():
    top = {path.parent.name for path in PACKAGE_DIR.glob("*/__init__.py")}
    assert top <= set(xdomain_tf.__all__) | {"tasks"}
    for name in sorted(top):
        if name == "tasks" and not TASKS_WRITTEN:
            continue
        module = getattr(xdomain_tf, name)
        assert isinstance(module, types.ModuleType) and module.__name__ == f"xdomain_tf.{name}"


@pytest.mark.parametrize("package_name", package_names())
def test_every_name_in_all_resolves(package_name):
    package = importlib.import_module(package_name)
    assert isinstance(package.__all__, list), f"{package_name} has no __all__ list"
    assert len(package.__all__) == len(set(package.__all__)), f"{package_name}.__all__ repeats a name"
    for name in package.__all__:
        if not TASKS_WRITTEN and (name == "tasks" or name == "MultiDomainTextClassifier"):
            continue
        assert getattr(package, name) is not None, f"{package_name}.{name}"
        assert name in dir(package)


@pytest.mark.parametrize("package_name", package_names())
def test_no_exported_name_shadows_a_module(package_name):
    package = importlib.import_module(package_name)
    directory = pathlib.Path(package.__file__).parent
    allowed = SHADOWING_ALLOWED.get(package_name, set())
    for name in package.__all__:
        if name in allowed or not ((directory / f"{name}.py").exists() or (directory / name / "__init__.py").exists()):
            continue
        if name == "tasks" and not TASKS_WRITTEN:
            continue
        value = getattr(package, name)
        assert isinstance(value, types.ModuleType), f"{package_name}.{name} is not the module {name}.py"


@pytest.mark.parametrize("package_name", EAGER)
def test_eager_packages_list_every_public_name(package_name):
    package = importlib.import_module(package_name)
    public = {
        name for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public <= set(package.__all__), f"add to {package_name}.__all__: {sorted(public - set(package.__all__))}"


def test_top_level_names():
    assert xdomain_tf.__version__ == importlib.import_module("xdomain_tf.version").__version__
    assert xdomain_tf.EncoderConfig is importlib.import_module("xdomain_tf.models.encoder_config").EncoderConfig
    assert callable(xdomain_tf.build_encoder) and callable(xdomain_tf.build_multi_domain_classifier)
    assert xdomain_tf.export.saved_model.__name__ == "saved_model"
    assert xdomain_tf.training.train_classifier.__name__ == "train_classifier"
    assert xdomain_tf.checkpoints.load_hf_bert.__name__ == "load_hf_bert"
    assert xdomain_tf.runs.RunDirectory.__name__ == "RunDirectory"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        xdomain_tf.nothing  # noqa: B018


LIGHT_IMPORTS = r"""
import importlib, json, sys
import xdomain_tf
for name in sys.argv[1:]:
    importlib.import_module(name)
xdomain_tf.training, xdomain_tf.export, xdomain_tf.serving
print(json.dumps(sorted(name for name in ("tensorflow", "keras") if name in sys.modules)))
"""


def test_importing_the_packages_does_not_import_tensorflow():
    light = [name for name in package_names() if name not in EAGER and name != "xdomain_tf.tasks"]
    light.append("xdomain_tf.cli.main")
    result = subprocess.run(
        [sys.executable, "-c", LIGHT_IMPORTS, *light], capture_output=True, text=True, timeout=300, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
