"""Every sub-command's flags come from one options dataclass: each has a help line and shows
its default, and the shared generator types them as the command says."""
import argparse
import dataclasses
import json
import re
import subprocess
import sys
import typing

import pytest

from xdomain_tf.cli.main import COMMANDS, build_parser, command_parser, main
from xdomain_tf.cli.training_flags import add_option_flags
from xdomain_tf.training.distillation_options import DistillOptions
from xdomain_tf.training.option_fields import option_field

# The option dataclass of each command whose flags have None defaults (a --config file's
# values must survive), with the options each skips.
TRAINING_COMMANDS = {"train": "TrainOptions", "pretrain": "PretrainOptions", "transfer": "TrainOptions"}


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def leaf_commands(parser, path=()):
    """(command path, parser) of every sub-command that takes flags, e.g. ("data stats", ...)."""
    subparsers = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subparsers:
        yield " ".join(path), parser
        return
    for name, child in subparsers[0].choices.items():
        yield from leaf_commands(child, (*path, name))


def flat(text):
    return " ".join(text.split())


def shown(default):
    return str(default).lower() if isinstance(default, bool) else str(default)


LEAVES = dict(leaf_commands(build_parser()))


def test_every_command_is_covered():
    assert set(COMMANDS) == {path.split()[0] for path in LEAVES}
    assert {"data build debian", "data build bbc", "data stats", "data pairs debian", "distill"} <= set(LEAVES)


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_every_flag_has_a_help_line_and_its_default(command):
    parser = LEAVES[command]
    text = flat(parser.format_help())
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        name = action.option_strings[-1] if action.option_strings else action.metavar
        assert action.help and flat(action.help.replace("%%", "%")) in text, (command, name)
        # A switch is off unless given; every other default is written in its help line.
        if action.default not in (None, False, []):
            assert f"(default: {shown(action.default)})" in action.help, (command, name, action.default)


@pytest.mark.parametrize("command", sorted(TRAINING_COMMANDS))
def test_training_flags_show_the_field_default(command):
    """train/pretrain/transfer flags default to None; the help shows the option's default."""
    from xdomain_tf.training.pretraining.options import PretrainOptions
    from xdomain_tf.training.train_options import TrainOptions

    options_class = {"TrainOptions": TrainOptions, "PretrainOptions": PretrainOptions}[TRAINING_COMMANDS[command]]
    defaults = {field.name: field.default for field in dataclasses.fields(options_class)}
    actions = {action.dest: action for action in LEAVES[command]._actions}
    for name, default in defaults.items():
        if name in actions and default not in (None, dataclasses.MISSING) and not (
                isinstance(default, (list, dict)) and not default):
            assert f"(default: {shown(default)})" in actions[name].help, (command, name)


def test_distill_help_is_grouped_and_generated_from_its_options():
    text = command_parser(build_parser(), "distill").format_help()
    titles = [line[:-1] for line in text.splitlines() if line and not line.startswith(" ") and line.endswith(":")]
    assert titles == ["options", "data", "model", "losses", "optimisation", "output", "examples",
                      "student SPEC (comma-separated)"]
    assert text.startswith("usage: xdomain-tf distill --teacher RUN|MODEL --train FILE [FILE ...]\n")
    body = flat(text)
    for field in dataclasses.fields(DistillOptions):
        flag = "--" + field.name.replace("_", "-")
        assert f" {flag} " in body, flag
    assert "--temperature X T of the soft labels (default: 2.0)" in body
    assert "--hidden-loss X weight of the hidden-state MSE" in body
    assert "--student SPEC the student SPEC (see below);" in body and "(default: layers=2,vocab=trim)" in body
    args = build_parser().parse_args(["distill", "--teacher", "t.keras", "--train", "a.jsonl", "--valid", "b.jsonl",
                                      "--out", "runs/s"])
    assert (args.teacher_model, args.student_spec, args.alpha, args.epochs, args.unlabelled) == (
        "t.keras", "layers=2,vocab=trim", 0.5, 3, None)


def test_distill_options_check_as_distill_does():
    with pytest.raises(Exception, match=r"^temperature must be a number > 0, got 0$"):
        DistillOptions(teacher="t", train=["a"], temperature=0)
    with pytest.raises(Exception, match=r"^hidden_loss must be a weight >= 0, got -1.0$"):
        DistillOptions(teacher="t", train=["a"], hidden_loss=-1.0)
    assert DistillOptions(teacher="t", train=["a"], learning_rate=None).learning_rate is None


BAD_DISTILL = """
import sys
from xdomain_tf.cli.main import main
status = main(["distill", "--teacher", "missing.keras", "--train", "a.jsonl", "--valid", "b.jsonl",
               "--out", sys.argv[1], "--temperature", "0"])
print(status, "tensorflow" in sys.modules)
"""


def test_bad_distill_flags_fail_before_tensorflow_loads(tmp_path):
    result = subprocess.run([sys.executable, "-c", BAD_DISTILL, str(tmp_path / "r")], capture_output=True,
                            text=True, timeout=300)
    assert result.stdout.split() == ["2", "False"], result.stderr
    assert result.stderr.strip() == "xdomain-tf distill: error: --temperature must be a number > 0, got 0.0"


LIGHT_HELP = """
import contextlib, io, json, sys
from xdomain_tf.cli.main import build_parser
import xdomain_tf.training.distillation_options, xdomain_tf.training.pretraining.evaluation_options
for argv in sys.argv[1:]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        build_parser().parse_args(argv.split() + ["--help"])
print(json.dumps(sorted(name for name in ("tensorflow", "keras") if name in sys.modules)))
"""


def test_help_and_option_modules_do_not_load_tensorflow():
    result = subprocess.run([sys.executable, "-c", LIGHT_HELP, *sorted(LEAVES)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


@dataclasses.dataclass
class _Options:
    files: typing.List[str] = option_field(None, "data files", metavar="FILE")
    text: typing.List[str] = option_field(None, "a text (repeatable)", metavar="TEXT")
    data: typing.List[str] = option_field(None, "data files", metavar="FILE")
    steps: int = option_field(50, "steps", check=lambda v: v >= 1, what="a positive integer", metavar="N")
    rate: float = option_field(0.5, "a rate", group="optimisation", check=lambda v: 0 < v < 1,
                               what="a number in (0, 1)", metavar="X")
    mode: str = option_field("pad", "the mode", choices=("pad", "mask"))
    json: bool = option_field(False, "print JSON")


def _parser(**keywords):
    parser = argparse.ArgumentParser(prog="demo", exit_on_error=False)
    add_option_flags(parser, _Options, flags={
        "files": dict(name="files"),
        "text": dict(action="append", exclusive="!source"),
        "data": dict(exclusive="!source"),
        "json": dict(action="store_true"),
    }, **keywords)
    return parser


def test_option_flags_are_typed_as_the_command_says():
    parser = _parser()
    args = parser.parse_args(["a.jsonl", "--text", "x", "--text", "y", "--json", "--rate", "0.25"])
    assert vars(args) == dict(files=["a.jsonl"], text=["x", "y"], data=None, steps=50, rate=0.25, mode="pad",
                              json=True)
    assert re.search(r"\noptimisation:\n  --rate X +a rate \(default: 0.5\)\n", parser.format_help())
    usage = flat(parser.format_usage())
    assert usage == ("usage: demo [-h] (--text TEXT | --data FILE [FILE ...]) [--steps N] [--rate X] "
                     "[--mode {pad,mask}] [--json] FILE [FILE ...]")


@pytest.mark.parametrize("argv, message", [
    (["a", "--text", "x", "--steps", "0"], "argument --steps: must be a positive integer, got '0'"),
    (["a", "--text", "x", "--steps", "two"], "argument --steps: must be a positive integer, got 'two'"),
    (["a", "--text", "x", "--rate", "nan"], "argument --rate: must be a number in (0, 1), got 'nan'"),
    (["a", "--text", "x", "--mode", "zero"], "argument --mode: invalid choice: 'zero'"),
])
def test_checked_flags_are_refused_while_parsing(argv, message):
    with pytest.raises(argparse.ArgumentError, match=None) as info:
        _parser().parse_args(argv)
    assert message in str(info.value)


def test_unchecked_flags_are_left_to_the_options():
    args = _parser(checked=False, defaults=False).parse_args(["a", "--data", "d", "--steps", "0"])
    assert (args.steps, args.rate, args.mode) == (0, None, None)


def test_a_bad_value_of_a_generated_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--model", "m", "--data", "d.jsonl", "--batch-size", "0"])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().endswith(
        "xdomain-tf evaluate: error: argument --batch-size: must be a positive integer, got '0'")
