"""The `xdomain-tf` command line.

Each sub-command lives in its own module under `xdomain_tf/cli/` and defines
`add_parser(subparsers)` (flags only, no heavy imports) and `run(args)`. A user error
(`XDomainError`, a missing file) ends the command with exit code 2 and one line on
stderr, never a traceback.
"""
import argparse
import importlib
import os
import re
import sys

# Sub-command name -> module under xdomain_tf.cli.
COMMANDS = {
    "data": "data",
    "train": "train",
    "evaluate": "evaluate",
    "pretrain": "pretrain",
    "pretrain-eval": "pretrain_eval",
    "transfer": "transfer",
    "quickstart": "quickstart",
    "export": "export",
    "predict": "predict",
}


def build_parser():
    """The `xdomain-tf` argument parser with every sub-command of `COMMANDS`.

    Example:

    >>> args = build_parser().parse_args(["data", "stats", "train.jsonl"])
    >>> args.command, callable(args.run)
    ('data', True)
    """
    parser = argparse.ArgumentParser(
        prog="xdomain-tf",
        description="Cross-domain and cross-lingual BERT-style encoders on Keras 3 / TensorFlow.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name, module in COMMANDS.items():
        importlib.import_module(f"xdomain_tf.cli.{module}").add_parser(subparsers)
    return parser


def flag_names(error, parser, command):
    """The error's message with the library's argument names (`seq_len`) written as the
    command's flags (`--seq-len`); record errors (`DataError`) are left as they are.

    Example:

    >>> from xdomain_tf.errors import XDomainError
    >>> flag_names(XDomainError("seq_len must be at least 8, got 4"), build_parser(), "train")
    '--seq-len must be at least 8, got 4'
    """
    from xdomain_tf.errors import DataError

    message = str(error)
    if isinstance(error, DataError):
        return message
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {
        action.dest: action.option_strings[-1]
        for action in subparsers.choices[command]._actions
        if action.option_strings and action.option_strings[-1].startswith("--") and action.dest != "help"
    }
    if not flags:
        return message
    pattern = re.compile(r"(?<![\w\-\"'`./])(" + "|".join(map(re.escape, sorted(flags, key=len, reverse=True))) + r")(?![\w\-\"'`])")
    return pattern.sub(lambda match: flags[match.group(1)], message)


def main(argv=None):
    """Runs `xdomain-tf` with `argv` (default: `sys.argv[1:]`) and returns the exit code.

    User errors (`XDomainError`, missing files) print one line on stderr and return 2.

    Example:

    >>> main(["data", "stats", "missing.jsonl"])
    2
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    from xdomain_tf.errors import XDomainError

    try:
        result = args.run(args)
    except XDomainError as error:
        print(f"xdomain-tf {args.command}: error: {flag_names(error, parser, args.command)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        print(f"xdomain-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xdomain-tf {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
