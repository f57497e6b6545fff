"""The subpackages of xdomain_tf import only packages below them (see `xdomain_tf/__init__.py`).

Every module is parsed, not imported: module-level and function-local `import` statements
count, and so does every string that is a dotted xdomain_tf module name (an
`importlib.import_module` argument, a lazy export of a package's `__init__.py`, a list of
modules to import).
"""
import ast
import pathlib
import re

import pytest

import xdomain_tf

PACKAGE_DIR = pathlib.Path(xdomain_tf.__file__).parent

# Lowest first; packages of one rank may not import each other.
LAYERS = (
    ("errors", "version"),
    ("utils",),
    ("layers", "optimizers", "text", "data"),
    ("datasets", "evaluation"),
    ("models",),
    ("runs",),
    ("checkpoints",),
    ("tasks",),
    ("training",),
    ("export",),
    ("serving",),
    ("quickstart",),
    ("cli",),
)
# Modules that belong to the unit of another name.
UNIT_OF = {"quickstart_data": "quickstart", "__main__": "cli"}
MODULE_NAME = re.compile(r"xdomain_tf(\.[A-Za-z_]\w*)+")
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def unit_of(module_name):
    """The layering unit of a dotted xdomain_tf module name ("xdomain_tf" itself: None)."""
    parts = module_name.split(".")
    if parts[0] != "xdomain_tf" or len(parts) == 1:
        return None
    return UNIT_OF.get(parts[1], parts[1])


def module_name_of(path, package_dir=PACKAGE_DIR):
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_names(tree, module_name, is_package):
    """(line, dotted name) of every xdomain_tf import in the tree, wherever it is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if target == "xdomain_tf":
                # `from xdomain_tf import models` imports the subpackage; any other name the top package.
                for alias in node.names:
                    yield node.lineno, ("xdomain_tf." + alias.name if alias.name in RANK or alias.name in UNIT_OF else target)
            else:
                yield node.lineno, target
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.fullmatch(node.value):
            yield node.lineno, node.value


def violations(path, package_dir=PACKAGE_DIR):
    """'file:line: a imports b' for every import of `path` that goes up or sideways."""
    module_name = module_name_of(path, package_dir)
    source_unit = unit_of(module_name)
    if source_unit is None:  # the top-level package re-exports everything lazily
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for line, target in imported_names(tree, module_name, path.name == "__init__.py"):
        if target != "xdomain_tf" and not target.startswith("xdomain_tf."):
            continue
        target_unit = unit_of(target)
        if target_unit == source_unit:
            continue
        relative = path.relative_to(package_dir.parent)
        if target_unit is None:
            found.append(f"{relative}:{line}: imports the top-level package xdomain_tf (import the module instead)")
        elif target_unit not in RANK:
            found.append(f"{relative}:{line}: imports {target}, whose package {target_unit!r} has no place in LAYERS")
        elif RANK[target_unit] >= RANK[source_unit]:
            direction = "sideways" if RANK[target_unit] == RANK[source_unit] else "up"
            found.append(f"{relative}:{line}: {source_unit} imports {target} ({direction}: {target_unit} is not below {source_unit})")
    return found


def test_every_package_has_a_rank():
    units = {UNIT_OF.get(path.stem, path.stem) for path in PACKAGE_DIR.glob("*.py") if path.stem != "__init__"}
    units |= {path.parent.name for path in PACKAGE_DIR.glob("*/__init__.py")}
    assert units - set(RANK) == set()


def test_layers_are_documented_in_the_package_docstring():
    doc = xdomain_tf.__doc__
    for units in LAYERS:
        for unit in units:
            assert f"`{unit}`" in doc, unit


def test_the_checker_finds_upward_sideways_and_local_imports(tmp_path):
    fake_root = tmp_path / "xdomain_tf"
    (fake_root / "models").mkdir(parents=True)
    (fake_root / "__init__.py").write_text("")
    module = fake_root / "models" / "bad.py"
    (fake_root / "models" / "__init__.py").write_text('EXPORTS = {"xdomain_tf.runs.run_directory": ["RunDirectory"]}\n')
    module.write_text(
        "import importlib\n"
        "from xdomain_tf.layers import MaskedLMHead\n"
        "def f():\n"
        "    from xdomain_tf.checkpoints.mlm_head_weights import assign_mlm_head_weights\n"
        "    import xdomain_tf\n"
        "    return importlib.import_module('xdomain_tf.training.classifier_training')\n"
    )
    found = violations(module, fake_root) + violations(fake_root / "models" / "__init__.py", fake_root)
    assert [entry.split(": ", 1)[0] for entry in found] == [
        "xdomain_tf/models/bad.py:4",
        "xdomain_tf/models/bad.py:5",
        "xdomain_tf/models/bad.py:6",
        "xdomain_tf/models/__init__.py:1",
    ]


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda path: str(path.relative_to(PACKAGE_DIR)))
def test_imports_go_only_down_the_layers(path):
    found = violations(path)
    assert not found, "imports against the layer order (xdomain_tf/__init__.py):\n" + "\n".join(found)
