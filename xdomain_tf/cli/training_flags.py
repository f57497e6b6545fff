"""Flags generated from an options dataclass: every sub-command's flags.

Every flag, its help line, choices, default and `--help` section come from the option's
`option_field` declaration (`xdomain_tf.training.option_fields`); nothing is repeated here.
`add_training_flags` gives `train`, `pretrain` and `transfer` their flags and `--config`;
`add_option_flags` gives any other command its flags, with how each is typed on the
command line (required, positional, a switch, repeatable, ...) said by the command.
"""
import argparse
import dataclasses
import json
import math
import re
import textwrap
import typing

from xdomain_tf.training.option_fields import accepted_values, describe_default, field_default, value_kind

# `--help` sections: option_field group -> (title, description), in the order shown.
GROUPS = {
    "data": ("data", "the record files and how they are read (records: JSON lines, CSV/TSV or TFRecord with "
                     "text, label, domain and optional text_pair, lang, id)"),
    "model": ("model", "the encoder, where its weights come from, and the classifier heads"),
    "objectives": ("pretraining objectives", None),
    "losses": ("losses", "what the student learns from: the teacher's soft labels, the hard labels, hidden "
                         "states and attention"),
    "pruning": ("pruning", "how much is removed, and the examples that rank what goes"),
    "optimisation": ("optimisation", "steps, batches, AdamW and its learning-rate schedule"),
    "domains": ("domains", "how the domains are sampled, weighted and aligned"),
    "peft": ("parameter-efficient fine-tuning", "train part of the model: adapters, LoRA, frozen or gradually "
                                                "unfrozen encoder layers"),
    "distribution": ("distribution", "devices, precision and compilation"),
    "output": ("output", "the run directory, checkpoints and progress"),
    "serving": ("SavedModel for TF Serving", None),
    "tflite": ("TFLite", None),
}

_METAVARS = {"int": "N", "float": "X", "str": "TEXT", "list": "FILE", "dict": "JSON", "bool": "BOOL"}

CONFIG_HELP = """\
config files (--config FILE):
  a YAML mapping of option: value, the names being the flags' without "--"
  (- or _ alike); flags given on the command line win over the file:
    train: [data/train.jsonl]
    valid: data/valid.jsonl
    out: runs/news
    batch-size: 16
  a name the command does not know is an error, as is a value of the wrong
  type. A BOOL flag alone means true; "--FLAG false" turns it off."""


def _bool(text):
    lowered = str(text).lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _mapping(text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f'expected a JSON object such as {{"news": 2.0}}, got {text!r}')
    return value


_TYPES = {"int": int, "float": float, "str": str, "bool": _bool, "dict": _mapping}


class ManualFormatter(argparse.RawDescriptionHelpFormatter):
    """Help laid out as a manual: description and epilog as written (examples keep their
    lines), flag help wrapped without breaking `--flag-names` at their hyphens.

    Example:

    >>> parser = argparse.ArgumentParser(prog="demo", formatter_class=ManualFormatter, epilog="a\\n  b")
    >>> parser.format_help().endswith("a\\n  b\\n")
    True
    """

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def options_parser(subparsers, name, help, description, examples, usage=None, config=True):
    """A sub-command parser laid out as a manual: a short usage line, `description` and,
    after the flags, `examples` and how a `--config` file is written.

    Args:
        subparsers: the `add_subparsers()` action of the `xdomain-tf` parser.
        name: the sub-command, e.g. `"train"`.
        help: the one line in `xdomain-tf --help`.
        description: paragraphs shown under the usage line, wrapped at 79 columns.
        examples: the examples section, already laid out.
        usage: the usage line after the program name (default: `--train ... --out ...`).
        config: whether the epilog explains `--config` files (the command has the flag).

    Example:

    >>> parser = options_parser(argparse.ArgumentParser(prog="xdomain-tf").add_subparsers(), "train",
    ...                         "train a model", "Trains a model.", "examples:\\n  xdomain-tf train --out r")
    >>> parser.format_usage()
    'usage: xdomain-tf train --train FILE [FILE ...] --out DIR [OPTION ...]\\n'
    """
    return subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=f"{examples}\n\n{CONFIG_HELP}" if config else examples,
        usage="%(prog)s " + (usage or "--train FILE [FILE ...] --out DIR [OPTION ...]"),
        formatter_class=ManualFormatter,
    )


def manual_parser(subparsers, name, help, description, examples=None):
    """A sub-command parser laid out as a manual (`ManualFormatter`): argparse's usage
    line, `description` as written, the flags, then `examples`.

    Args:
        subparsers: the `add_subparsers()` action of the parent parser.
        name: the sub-command, e.g. `"evaluate"`.
        help: the one line in the parent's `--help`.
        description: paragraphs shown under the usage line, already wrapped.
        examples: the examples section, already laid out (None: none).

    Example:

    >>> parser = manual_parser(argparse.ArgumentParser(prog="xdomain-tf").add_subparsers(), "evaluate",
    ...                        "evaluate a run", "Scores a run.", "examples:\\n  xdomain-tf evaluate --model r")
    >>> parser.format_help().splitlines()[-1]
    '  xdomain-tf evaluate --model r'
    """
    return subparsers.add_parser(name, help=help, description=description, epilog=examples,
                                 formatter_class=ManualFormatter)


def add_training_flags(parser, options_class, skip=()):
    """Adds a `--config` flag and one flag per field of `options_class`, in the field's
    `--help` section, with defaults None (so values from `--config` survive); values are
    checked with the options (`check_options`), after `--config` is read.

    Args:
        parser: the sub-command's `argparse.ArgumentParser`.
        options_class: an options dataclass whose fields are `option_field`s.
        skip: names of fields that get no flag.

    Example:

    >>> from xdomain_tf.training.train_options import TrainOptions
    >>> parser = argparse.ArgumentParser()
    >>> add_training_flags(parser, TrainOptions)
    >>> args = parser.parse_args(["--train", "a.jsonl", "--out", "runs/x", "--batch-size", "16"])
    >>> args.batch_size, args.epochs, args.config
    (16, None, None)
    """
    parser.add_argument("--config", metavar="FILE", help="a YAML file of option: value (see below); flags win")
    add_option_flags(parser, options_class, skip=skip, defaults=False, checked=False, descriptions=True)


def add_option_flags(parser, options_class, skip=(), flags=None, defaults=True, checked=True, descriptions=False):
    """Adds one flag per field of `options_class` to `parser`, in the `--help` section of
    the field's group (`GROUPS`; a field without a group: the parser's own "options").

    The help line, choices, default and placeholder come from the field; how the flag is
    typed on the command line is the command's to say, in `flags`.

    Args:
        parser: the sub-command's `argparse.ArgumentParser`.
        options_class: an options dataclass whose fields are `option_field`s.
        skip: names of fields that get no flag.
        flags: `{field name: dict}` of `argparse.add_argument` keywords for that flag
            (`required`, `dest`, `type`, `metavar`, `action`: `"store_true"` for a switch
            or `"append"` for a repeatable flag), plus `name` (the flag, e.g.
            `"--teacher"`, or a positional argument's name, without `--`) and `exclusive`
            (a name shared by flags of which at most one may be given; `"!name"`: exactly
            one).
        defaults: each flag's default is its field's (False: None, so that a value from
            a `--config` file survives).
        checked: a value that is not of the field's type, choices and check is a usage
            error while the flags are parsed (`must be <accepted values>, got '<text>'`);
            False: the options check it later.
        descriptions: whether each section starts with its description in `GROUPS` (those
            describe the training commands' options).

    Example:

    >>> from xdomain_tf.training.option_fields import option_field
    >>> @dataclasses.dataclass
    ... class Options:
    ...     files: typing.List[str] = option_field(None, "data files", metavar="FILE")
    ...     steps: int = option_field(50, "integration steps", check=lambda v: v >= 1, what="a positive integer")
    ...     json: bool = option_field(False, "print JSON")
    >>> parser = argparse.ArgumentParser(prog="demo")
    >>> add_option_flags(parser, Options, flags={"files": {"name": "files"}, "json": {"action": "store_true"}})
    >>> parser.parse_args(["a.jsonl", "--json"])
    Namespace(files=['a.jsonl'], steps=50, json=True)
    >>> parser.format_usage()
    'usage: demo [-h] [--steps N] [--json] FILE [FILE ...]\\n'
    """
    flags = flags or {}
    fields = [field for field in dataclasses.fields(options_class) if field.name not in skip]
    names = {field.name for field in fields}
    used = {field.metadata.get("group") for field in fields} - {None}
    sections = {group.title: group for group in parser._action_groups}
    groups = {None: parser}
    for key in [key for key in GROUPS if key in used] + sorted(used - set(GROUPS)):
        title, description = GROUPS.get(key, (key, None))
        if title not in sections:
            described = description and descriptions and textwrap.fill(description, 76)
            sections[title] = parser.add_argument_group(title, described or None)
        groups[key] = sections[title]
    exclusive = {}
    for field in fields:
        spec = dict(flags.get(field.name, {}))
        name = spec.pop("name", flag(field.name))
        container = groups[field.metadata.get("group")]
        together = spec.pop("exclusive", None)
        if together is not None:
            if together not in exclusive:
                exclusive[together] = container.add_mutually_exclusive_group(required=together.startswith("!"))
            container = exclusive[together]
        container.add_argument(name, **_flag_keywords(field, spec, names, defaults, checked))


def _flag_keywords(field, spec, names, defaults, checked):
    """The `add_argument` keywords of one field's flag (see `add_option_flags`)."""
    kind = value_kind(field)
    choices = field.metadata.get("choices")
    switch = spec.get("action") == "store_true"
    text = flag_text(field.metadata.get("help", ""), names)
    keywords = dict(
        default=None if not defaults or spec.get("action") == "append" else field_default(field),
        help=(text if switch else describe_default(field, text)).replace("%", "%%"),
    )
    if not switch:
        keywords["metavar"] = ("{" + ",".join(map(str, choices)) + "}" if choices
                               else field.metadata.get("metavar") or _METAVARS[kind])
    if switch:
        pass
    elif kind == "list":
        if spec.get("action") != "append":
            keywords.update(nargs="+")
    elif kind == "bool":
        keywords.update(type=_bool, nargs="?", const=True)
    elif choices:
        keywords.update(type=type(choices[0]))
        if checked:
            keywords.update(choices=choices)
    else:
        keywords.update(type=_checked(field) if checked else _TYPES[kind])
    keywords.update(spec)
    return keywords


def _checked(field):
    """An `argparse` type: the text as the field's kind of value, which must pass its check."""
    kind = value_kind(field)
    check = field.metadata.get("check")

    def parse(text):
        try:
            value = _TYPES[kind](text)
        except ValueError:
            value = None
        if value is None or (kind == "float" and not math.isfinite(value)) or (check and not check(value)):
            raise argparse.ArgumentTypeError(f"must be {accepted_values(field)}, got {text!r}")
        return value

    parse.__name__ = kind
    return parse


def flag(name):
    """The command-line flag of an option name.

    Example:

    >>> flag("batch_size")
    '--batch-size'
    """
    return "--" + name.replace("_", "-")


def flag_text(text, names):
    """`text` with each backquoted option name of `names` written as its flag (other
    backquotes dropped): help written once reads right in Python and on the command line.

    Example:

    >>> flag_text("with `loss_weighting` static, e.g. `{news: 2}`", {"loss_weighting"})
    'with --loss-weighting static, e.g. {news: 2}'
    """
    return re.sub(r"`([^`]+)`", lambda match: flag(match.group(1)) if match.group(1) in names else match.group(1),
                  text)


def options_from_args(options_class, args):
    """Builds the options from parsed flags and the optional `--config` file.

    Example:

    >>> from xdomain_tf.training.train_options import TrainOptions
    >>> args = argparse.Namespace(config=None, train=["a.jsonl"], out="runs/x", batch_size=16, epochs=None)
    >>> options = options_from_args(TrainOptions, args)
    >>> options.train, options.batch_size, options.epochs
    (['a.jsonl'], 16, 3)
    """
    names = options_class.field_names()
    flags = {name: getattr(args, name) for name in names if hasattr(args, name)}
    return options_class.from_sources(config_path=args.config, **flags)
