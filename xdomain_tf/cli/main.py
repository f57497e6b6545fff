"""The `xdomain-tf` command line.

Each sub-command lives in its own module under `xdomain_tf/cli/` and defines
`add_parser(subparsers)` (flags only, no heavy imports) and `run(args)`. An error the
user can act on ends the command with one line on stderr, never a traceback, and the
exit status says which kind it was (`EXIT_STATUS`).
"""
import argparse
import importlib
import os
import re
import sys

# Sub-command name -> module under xdomain_tf.cli.
COMMANDS = {
    "data": "data",
    "data-service": "data_service",
    "train": "train",
    "distill": "distill",
    "evaluate": "evaluate",
    "pretrain": "pretrain",
    "pretrain-eval": "pretrain_eval",
    "generate": "generate",
    "transfer": "transfer",
    "quickstart": "quickstart",
    "export": "export",
    "predict": "predict",
    "explain": "explain",
    "prune": "prune",
    "vocab": "vocab",
}

EXIT_STATUS = """\
exit status:
  0    success
  1    the operation failed: a download, a refused export, a file whose checksum
       does not match, a disk or network error (one line on stderr)
  2    a bad invocation or bad input: an unknown flag, a bad value, a bad data
       or config file, a missing path (one line on stderr)
  130  interrupted (Ctrl-C)"""

EPILOG = f"""\
Run `xdomain-tf COMMAND --help` for a command's flags and examples.

{EXIT_STATUS}"""

# Words that are also option names of some command but mean themselves in most messages
# ("not valid YAML", "unknown domain"): written as flags only where a message names the
# option: at its start ("valid must be ..."), in a listing ("epochs: 3 there") or as
# "out folder".
_PLAIN_WORDS = frozenset({
    "baseline", "check", "data", "domain", "epochs", "json", "language", "languages", "metric", "model", "out",
    "preset", "sections", "seed", "splits", "steps", "text", "threads", "train", "valid", "version",
})
_PLAIN_WORD_CONTEXT = r"(?=:\s|\s+folder\b)"
# A Python keyword argument in a message: `require_label=False`, `tpu='local'`.
_KEYWORD = re.compile(r"\b([a-z][a-z0-9_]*)=('[^']*'|\"[^\"]*\"|[^\s,;)]+)?")


def build_parser():
    """The `xdomain-tf` argument parser with every sub-command of `COMMANDS`.

    Example:

    >>> args = build_parser().parse_args(["data", "stats", "train.jsonl"])
    >>> args.command, callable(args.run)
    ('data', True)
    """
    from xdomain_tf.version import __version__

    parser = argparse.ArgumentParser(
        prog="xdomain-tf",
        description="""\
Cross-domain and cross-lingual BERT-style encoders on Keras 3 / TensorFlow:
build corpora (data), fine-tune a classifier with a head per domain (train),
pretrain an encoder (pretrain), score them (evaluate, pretrain-eval,
transfer), export a classifier for TF Serving or TFLite (export) and label
texts with it (predict).""",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"xdomain-tf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name, module in COMMANDS.items():
        importlib.import_module(f"xdomain_tf.cli.{module}").add_parser(subparsers)
    return parser


def command_parser(parser, command):
    """The parser of `command`, a sub-command path such as `"data stats"`.

    Example:

    >>> command_parser(build_parser(), "data stats").prog
    'xdomain-tf data stats'
    """
    for name in command.split():
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = subparsers.choices[name]
    return parser


def command_path(parser, args):
    """The sub-command path that parsed `args`, e.g. `"data stats"`.

    Example:

    >>> parser = build_parser()
    >>> command_path(parser, parser.parse_args(["data", "stats", "a.jsonl"]))
    'data stats'
    """
    names = []
    while True:
        subparsers = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        name = getattr(args, subparsers.dest, None) if subparsers else None
        if name is None:
            return " ".join(names)
        names.append(name)
        parser = subparsers.choices[name]


def flag_names(error, parser, command):
    """The error's message in the words of `command`'s flags.

    - A Python keyword argument (`whole_word=True`, `require_label=False`) becomes the
      flag that sets it (`--whole-word`; a parser's `python_names` default maps the ones
      whose flag differs, e.g. `{"require_label=False": "--unlabelled"}`, and library
      names a flag stands for, e.g. `{"init": "--model"}`). Advice to pass
      True/False/None/`...` that no flag of the command can follow is dropped with the
      parentheses around it.
    - Except in record errors (`DataError`), an option name (`seq_len`) becomes its flag
      (`--seq-len`); a name that is also a plain word ("valid", "domain") only where the
      message names the option (at its start, in a listing "name: value", or "out folder").

    Args:
        error: the exception (its `str` is the message).
        parser: the `xdomain-tf` parser (`build_parser()`).
        command: the sub-command path, e.g. `"train"` or `"data stats"`.

    Example:

    >>> from xdomain_tf.errors import DataError, XDomainError
    >>> flag_names(XDomainError("seq_len must be an integer >= 8, got 4"), build_parser(), "train")
    '--seq-len must be an integer >= 8, got 4'
    >>> flag_names(XDomainError("c.yaml: not valid YAML"), build_parser(), "train")
    'c.yaml: not valid YAML'
    >>> error = DataError("missing required field (unlabeled data needs require_label=False)", "a.jsonl", 2, "label")
    >>> flag_names(error, build_parser(), "data stats")
    'a.jsonl:2: field "label": missing required field (unlabeled data needs --unlabelled)'
    >>> flag_names(error, build_parser(), "evaluate")
    'a.jsonl:2: field "label": missing required field'
    """
    from xdomain_tf.errors import DataError

    leaf = command_parser(parser, command)
    actions = {
        action.dest: action
        for action in leaf._actions
        if action.option_strings and action.option_strings[-1].startswith("--") and action.dest != "help"
    }
    python_names = leaf.get_default("python_names") or {}
    message = _keyword_flags(str(error), actions, python_names)
    flags = {name: action.option_strings[-1] for name, action in actions.items()}
    flags.update({name: flag for name, flag in python_names.items() if "=" not in name})
    if isinstance(error, DataError) or not flags:
        return message
    names = sorted(flags, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w\-\"'`./=])(" + "|".join(map(re.escape, names)) + r")(?![\w\-\"'`=]|\.\w)")

    def replace(match):
        name = match.group(1)
        if name in _PLAIN_WORDS and match.start() > 0 and not re.match(_PLAIN_WORD_CONTEXT, message[match.end():]):
            return name
        return flags[name]

    return pattern.sub(replace, message)


def _keyword_flags(message, actions, python_names):
    """`name=value` mentions written as flags (see `flag_names`)."""

    def flag_of(match):
        mention, name, value = match.group(0), match.group(1), match.group(2) or ""
        if mention in python_names:
            return python_names[mention]
        action = actions.get(name)
        if action is None:
            return None
        flag = action.option_strings[-1]
        if action.nargs == 0:  # store_true
            return flag if value in ("True", "") else f"no {flag}"
        if action.const is True:  # a BOOL flag: alone it means true
            return flag if value == "True" else f"{flag} {value.lower()}"
        if value.strip("[]") in ("", "..."):  # `from_file=[...]`: the flag with its placeholder
            value = action.metavar or action.dest.upper()
        return f"{flag} {value.strip(chr(39) + chr(34))}"

    def replace(match):
        flag = flag_of(match)
        return match.group(0) if flag is None else flag

    message = _drop_unreachable_advice(message, lambda match: flag_of(match) is None)
    return _KEYWORD.sub(replace, message)


def _drop_unreachable_advice(message, unmapped):
    """Removes a parenthetical that asks for a Python True/False/None/... no flag can give."""

    def replace(match):
        for keyword in _KEYWORD.finditer(match.group(0)):
            if keyword.group(2) in ("True", "False", "None", "...", "[...]") and unmapped(keyword):
                return ""
        return match.group(0)

    return re.sub(r"\s*\([^()]*\)", replace, message)


def _one_line(message):
    return re.sub(r"\s*\n\s*", " ", str(message)).strip()


def _os_error_text(error):
    """`PATH: reason` rather than `[Errno 2] No such file or directory: 'PATH'`."""
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror[0].lower()}{error.strerror[1:]}"
    return str(error)


def main(argv=None):
    """Runs `xdomain-tf` with `argv` (default: `sys.argv[1:]`) and returns the exit status.

    0 on success; 2 for a bad invocation or bad input (`XDomainError`, `DataError`, a
    missing or wrong kind of path); 1 when an operation failed (`OperationError`, a
    network or disk error); 130 when interrupted. Each error is one line on stderr.

    Example:

    >>> main(["data", "stats", "missing.jsonl"])
    2
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    prog = "xdomain-tf"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = command_path(parser, args)
        prog = f"xdomain-tf {command}"
        return _run(args, parser, command, prog)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _run(args, parser, command, prog):
    from xdomain_tf.errors import OperationError, XDomainError

    try:
        result = args.run(args)
    except XDomainError as error:
        print(f"{prog}: error: {_one_line(flag_names(error, parser, command))}", file=sys.stderr)
        return 1 if isinstance(error, OperationError) else 2
    except (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError) as error:
        print(f"{prog}: error: {_one_line(_os_error_text(error))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): stop quietly, as other tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return 1
    except OSError as error:  # network, disk full, ...: the operation failed, not the input
        print(f"{prog}: error: {_one_line(_os_error_text(error))}", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
