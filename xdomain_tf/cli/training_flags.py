"""Sub-commands whose flags are an options dataclass (`train`, `pretrain`, `transfer`).

Every flag, its help line, choices, default and `--help` section come from the option's
`option_field` declaration (`xdomain_tf.training.option_fields`); nothing is repeated here.
"""
import argparse
import dataclasses
import json
import re
import textwrap

from xdomain_tf.training.option_fields import describe_default, value_kind

# `--help` sections: option_field group -> (title, description), in the order shown.
GROUPS = {
    "data": ("data", "the record files and how they are read (records: JSON lines, CSV/TSV or TFRecord with "
                     "text, label, domain and optional text_pair, lang, id)"),
    "model": ("model", "the encoder, where its weights come from, and the classifier heads"),
    "objectives": ("pretraining objectives", None),
    "optimisation": ("optimisation", "steps, batches, AdamW and its learning-rate schedule"),
    "domains": ("domains", "how the domains are sampled, weighted and aligned"),
    "peft": ("parameter-efficient fine-tuning", "train part of the model: adapters, LoRA, frozen or gradually "
                                                "unfrozen encoder layers"),
    "distribution": ("distribution", "devices, precision and compilation"),
    "output": ("output", "the run directory, checkpoints and progress"),
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


def options_parser(subparsers, name, help, description, examples):
    """A sub-command parser laid out as a manual: a short usage line, `description` and,
    after the flags, `examples` and how a `--config` file is written.

    Args:
        subparsers: the `add_subparsers()` action of the `xdomain-tf` parser.
        name: the sub-command, e.g. `"train"`.
        help: the one line in `xdomain-tf --help`.
        description: paragraphs shown under the usage line, wrapped at 79 columns.
        examples: the examples section, already laid out.

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
        epilog=f"{examples}\n\n{CONFIG_HELP}",
        usage="%(prog)s --train FILE [FILE ...] --out DIR [OPTION ...]",
        formatter_class=ManualFormatter,
    )


def add_training_flags(parser, options_class, skip=()):
    """Adds a `--config` flag and one flag per field of `options_class`, in the field's
    `--help` section, with defaults None (so values from `--config` survive).

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
    fields = [field for field in dataclasses.fields(options_class) if field.name not in skip]
    names = {field.name for field in fields}
    used = {field.metadata.get("group") or "other" for field in fields}
    groups = {}
    for key in [key for key in GROUPS if key in used] + sorted(used - set(GROUPS)):
        title, description = GROUPS.get(key, (key, None))
        groups[key] = parser.add_argument_group(title, description and textwrap.fill(description, 76))
    for field in fields:
        kind = value_kind(field)
        choices = field.metadata.get("choices")
        keywords = dict(
            default=None,
            help=describe_default(field, flag_text(field.metadata.get("help", ""), names)).replace("%", "%%"),
            metavar="{" + ",".join(map(str, choices)) + "}" if choices else field.metadata.get("metavar")
            or _METAVARS[kind],
        )
        if kind == "list":
            keywords.update(nargs="+")
        elif kind == "bool":
            keywords.update(type=_bool, nargs="?", const=True)
        else:
            keywords.update(type=type(choices[0]) if choices else _TYPES[kind])
        groups[field.metadata.get("group") or "other"].add_argument(flag(field.name), **keywords)


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
