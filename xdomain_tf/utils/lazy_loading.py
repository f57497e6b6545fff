"""Package attributes that load on first access (PEP 562), so importing a package stays cheap."""
import importlib
import sys


def lazy_exports(package, exports):
    """The `__getattr__` and `__dir__` of a package whose public names load on first use.

    Args:
        package: the package's `__name__`.
        exports: `{absolute module name: the public names it defines}`; a name whose
            module is `package.name` itself (a subpackage or module) stands for that module.

    Returns:
        `(__getattr__, __dir__)`, to assign at the package's top level. A loaded value is
        stored on the package, so the module is looked up once.

    Example:

    >>> __getattr__, __dir__ = lazy_exports("xdomain_tf.data", {"xdomain_tf.data.label_space": ["LabelSpace"]})
    >>> __getattr__("LabelSpace").__name__, "LabelSpace" in __dir__()
    ('LabelSpace', True)
    """
    module_of = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name):
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(module_of[name])
        value = module if module_of[name] == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(module_of))

    return __getattr__, __dir__
