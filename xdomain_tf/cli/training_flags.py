"""Flags shared by `xdomain-tf train` and `pretrain`, generated from `TrainOptions`."""
import argparse
import dataclasses
import json


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


_TYPES = {"int": int, "float": float, "str": str}


def add_training_flags(parser, options_class, skip=()):
    """Adds one flag per field of `options_class` (defaults None, so YAML values survive).

    Example:

    >>> import argparse
    >>> from xdomain_tf.training.train_options import TrainOptions
    >>> parser = argparse.ArgumentParser()
    >>> add_training_flags(parser, TrainOptions)
    >>> args = parser.parse_args(["--train", "a.jsonl", "--out", "runs/x", "--batch-size", "16"])
    >>> args.batch_size, args.epochs, args.config
    (16, None, None)
    """
    parser.add_argument("--config", help="YAML file with any of these options (flags win)")
    for field in dataclasses.fields(options_class):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        annotation = str(field.type)
        if field.name in ("train", "valid"):
            parser.add_argument(flag, nargs="+", metavar="FILE", default=None)
        elif "Dict" in annotation:
            parser.add_argument(flag, type=_mapping, default=None, metavar="JSON")
        elif field.type is bool or annotation == "bool":
            parser.add_argument(flag, type=_bool, nargs="?", const=True, default=None, metavar="BOOL")
        else:
            kind = getattr(field.type, "__name__", annotation)
            parser.add_argument(flag, type=_TYPES.get(kind, str), default=None)


def options_from_args(options_class, args):
    """Builds the options from parsed flags and the optional `--config` file.

    Example:

    >>> import argparse
    >>> from xdomain_tf.training.train_options import TrainOptions
    >>> args = argparse.Namespace(config=None, train=["a.jsonl"], out="runs/x", batch_size=16, epochs=None)
    >>> options = options_from_args(TrainOptions, args)
    >>> options.train, options.batch_size, options.epochs
    (['a.jsonl'], 16, 3)
    """
    names = options_class.field_names()
    flags = {name: getattr(args, name) for name in names if hasattr(args, name)}
    return options_class.from_sources(config_path=args.config, **flags)
