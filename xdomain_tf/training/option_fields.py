"""Option fields: dataclass fields that carry their own documentation and check.

One declaration per option gives the class docstring's `Args:` entry, the validation of
values from keywords or a YAML file, and the command-line flag with its `--help` line
(`xdomain_tf.cli.training_flags.add_option_flags`).
"""
import dataclasses
import math
import typing

from xdomain_tf.errors import XDomainError

# What a value of each kind must be, in the error message when no `what` is given.
_KIND_WORDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "list": "a list of strings",
    "dict": "a mapping of name: number",
}


def option_field(default=None, help="", group=None, *, factory=None, choices=None, check=None, what=None,
                 metavar=None):
    """A dataclass field documented and checked by its own declaration.

    Args:
        default: the default value (None: not set; the help says what that means).
        help: what the option does, one or two sentences (shown by `--help` and in the
            class docstring).
        group: the section of `--help` the flag is listed in, e.g. `"data"`.
        factory: a callable that makes the default (a list), instead of `default`.
        choices: the only values accepted.
        check: a predicate a value of the right type must also pass, e.g. `lambda v: v >= 1`.
        what: the accepted values in words, for the error message, e.g.
            `"a positive integer"` (default: from the type or the choices).
        metavar: the value's placeholder in `--help`, e.g. `"DIR"`.

    Example:

    >>> @dataclasses.dataclass
    ... class Options:
    ...     epochs: int = option_field(3, "passes over the data", check=lambda v: v >= 1, what="a positive integer")
    >>> check_options(Options(epochs=0))
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: epochs must be a positive integer, got 0
    """
    metadata = {"help": help, "group": group, "choices": choices, "check": check, "what": what, "metavar": metavar}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def value_kind(field):
    """The kind of value a field holds: `int`, `float`, `str`, `bool`, `list` or `dict`.

    Example:

    >>> [value_kind(field) for field in dataclasses.fields(dataclasses.make_dataclass(
    ...     "A", [("n", int), ("files", typing.List[str]), ("weights", typing.Dict[str, float])]))]
    ['int', 'list', 'dict']
    """
    origin = typing.get_origin(field.type)
    if origin in (list, tuple):
        return "list"
    if origin is dict:
        return "dict"
    name = getattr(field.type, "__name__", str(field.type))
    return name if name in _KIND_WORDS else "str"


def field_default(field):
    """The field's default value (a fresh one for a factory; None when it has none).

    Example:

    >>> field_default(dataclasses.fields(dataclasses.make_dataclass(
    ...     "A", [("files", list, dataclasses.field(default_factory=list))]))[0])
    []
    """
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def accepted_values(field):
    """What a field's value must be, in words (`what`, or from its choices or type).

    Example:

    >>> @dataclasses.dataclass
    ... class Options:
    ...     pooling: str = option_field("cls", "how to pool", choices=("cls", "mean"))
    >>> accepted_values(dataclasses.fields(Options)[0])
    'one of cls, mean'
    """
    if field.metadata.get("what"):
        return field.metadata["what"]
    if field.metadata.get("choices"):
        return "one of " + ", ".join(map(str, field.metadata["choices"]))
    return _KIND_WORDS[value_kind(field)]


def check_options(options):
    """Checks every field of the dataclass instance `options` against its type, choices and
    `check`. A count is an int that is not a bool (YAML `true` must not mean 1 step); a
    field whose default is None may be None; text must be UTF-8 (undecodable command-line
    bytes arrive as lone surrogates, and the options are saved as JSON).

    Raises:
        XDomainError: `"<name> must be <accepted values>, got <value>"` for the first bad field.

    Example:

    >>> @dataclasses.dataclass
    ... class Options:
    ...     steps: int = option_field(None, "total steps", check=lambda v: v >= 1, what="a positive integer")
    >>> check_options(Options(steps=True))
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: steps must be a positive integer, got True
    """
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if value is None and field_default(field) is None:
            continue
        for text in [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []:
            if isinstance(text, str) and not _is_utf8(text):
                raise XDomainError(f"{field.name} must be UTF-8 text, got {text.encode('utf-8', 'surrogateescape')!r}")
        if not _valid(field, value):
            raise XDomainError(f"{field.name} must be {accepted_values(field)}, got {value!r}")


def document_options(cls):
    """Class decorator: writes an `Args:` section into the docstring from the fields'
    help (before `Example:`), so the docstring and `--help` cannot disagree. Inherited
    fields are named as such in one line.

    Example:

    >>> @document_options
    ... @dataclasses.dataclass
    ... class Options:
    ...     '''Options.
    ...
    ...     Example:
    ...     '''
    ...     epochs: int = option_field(3, "passes over the data")
    >>> print(Options.__doc__.split("Example")[0].strip())
    Options.
    <BLANKLINE>
        Args:
            epochs: passes over the data (default: 3)
    """
    inherited = {name for base in cls.__mro__[1:] for name in getattr(base, "__dataclass_fields__", {})}
    lines = (cls.__doc__ or "").splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip().startswith("Example")), len(lines))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())] if at < len(lines) else "    "
    args = [f"{indent}Args:"]
    for field in dataclasses.fields(cls):
        if field.name not in inherited:
            args.append(f"{indent}    {field.name}: {describe_default(field, field.metadata.get('help', ''))}")
    bases = [base.__name__ for base in cls.__mro__[1:] if hasattr(base, "__dataclass_fields__")]
    if bases:
        args.append(f"{indent}    **{bases[0]} fields.")
    cls.__doc__ = "\n".join(lines[:at] + args + [""] + lines[at:])
    return cls


def describe_default(field, text):
    """`text` followed by the field's default, as `--help` shows it (none for None or an
    empty list: the help text says what those mean).

    Example:

    >>> describe_default(dataclasses.fields(dataclasses.make_dataclass(
    ...     "A", [("adapters", bool, False)]))[0], "per-domain adapters")
    'per-domain adapters (default: false)'
    """
    default = field_default(field)
    if default is None or default == [] or default == {}:
        return text
    shown = str(default).lower() if isinstance(default, bool) else str(default)
    return f"{text} (default: {shown})"


def _valid(field, value):
    choices = field.metadata.get("choices")
    if choices is not None:
        return any(type(value) is type(choice) and value == choice for choice in choices)
    if not _TYPE_CHECKS[value_kind(field)](value):
        return False
    check = field.metadata.get("check")
    return check is None or bool(check(value))


def _is_utf8(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_TYPE_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _is_number,
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, (list, tuple)) and all(isinstance(item, str) and item for item in v),
    "dict": lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_number(n) for k, n in v.items()),
}
