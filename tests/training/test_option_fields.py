import dataclasses
import typing

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.option_fields import check_options, document_options, option_field


@document_options
@dataclasses.dataclass
class Options:
    """Options.

    Example:

    >>> Options().steps
    """

    files: typing.List[str] = option_field(help="data files", factory=list)
    steps: int = option_field(None, "total steps", check=lambda v: v >= 1, what="a positive integer")
    rate: float = option_field(0.5, "a rate", check=lambda v: 0 < v < 1, what="in (0, 1)")
    name: str = option_field("a", "a name")
    flag: bool = option_field(False, "a switch")
    weights: typing.Dict[str, float] = option_field(None, "weights")
    verbose: int = option_field(1, "verbosity", choices=(0, 1, 2))


@dataclasses.dataclass
class MoreOptions(Options):
    """More options.

    Example:

    >>> MoreOptions().extra
    3
    """

    extra: int = option_field(3, "one more")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"steps": True}, "steps must be a positive integer, got True"),
        ({"steps": 2.0}, "steps must be a positive integer, got 2.0"),
        ({"rate": True}, "rate must be in (0, 1), got True"),
        ({"rate": float("nan")}, "rate must be in (0, 1), got nan"),
        ({"name": 5}, "name must be a string, got 5"),
        ({"flag": 1}, "flag must be true or false, got 1"),
        ({"files": "a.jsonl"}, "files must be a list of strings, got 'a.jsonl'"),
        ({"files": ["a.jsonl", ""]}, "files must be a list of strings, got ['a.jsonl', '']"),
        ({"weights": {"news": True}}, "weights must be a mapping of name: number, got {'news': True}"),
        ({"verbose": True}, "verbose must be one of 0, 1, 2, got True"),
        ({"verbose": 3}, "verbose must be one of 0, 1, 2, got 3"),
        ({"name": "caf\udce9"}, "name must be UTF-8 text, got b'caf\\xe9'"),
        ({"files": ["ok", "\udcff"]}, "files must be UTF-8 text, got b'\\xff'"),
    ],
)
def test_values_of_the_wrong_type_or_range(values, message):
    with pytest.raises(XDomainError) as info:
        check_options(Options(**values))
    assert str(info.value) == message


def test_good_values_and_defaults_pass():
    check_options(Options(files=["a.jsonl"], steps=3, rate=0.25, name="b", flag=True, weights={"news": 2}, verbose=0))
    check_options(Options())


def test_docstring_args_are_generated_once_per_class():
    assert "    Args:\n        files: data files\n        steps: total steps\n" in Options.__doc__
    assert "        verbose: verbosity (default: 1)\n" in Options.__doc__
    assert "        extra: one more (default: 3)\n        **Options fields.\n" in document_options(MoreOptions).__doc__
    assert "steps:" not in MoreOptions.__doc__
