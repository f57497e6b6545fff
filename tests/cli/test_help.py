"""`--help` reads like a manual, and the option flags are generated from the option dataclasses."""
import argparse
import dataclasses
import re

import pytest

from xdomain_tf.cli.main import build_parser, command_parser, main
from xdomain_tf.cli.training_flags import add_training_flags, options_parser
from xdomain_tf.training.option_fields import option_field
from xdomain_tf.training.pretraining.options import FINE_TUNING_ONLY, PretrainOptions
from xdomain_tf.training.train_options import TrainOptions


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def help_text(command):
    return command_parser(build_parser(), command).format_help()


def sections(text):
    """`{section title: its text}` of a --help output (a section starts at a line ending in ':')."""
    found, title = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            title = line[:-1]
            found[title] = []
        elif title is not None:
            found[title].append(line)
    return {title: "\n".join(lines) for title, lines in found.items()}


def flat(text):
    return " ".join(text.split())


def test_top_level_help_documents_the_exit_status(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: xdomain-tf [-h] [--version] COMMAND ...\n")
    status = sections(out)["exit status"]
    assert [line.split()[0] for line in status.splitlines() if line[:4].strip()] == ["0", "1", "2", "130"]
    assert "  130  interrupted (Ctrl-C)" in status


def test_train_help_is_grouped_with_generated_help_choices_and_defaults():
    text = help_text("train")
    assert text.startswith("usage: xdomain-tf train --train FILE [FILE ...] --out DIR [OPTION ...]\n\nTrain one")
    titles = list(sections(text))
    assert titles == ["options", "data", "model", "optimisation", "domains", "parameter-efficient fine-tuning",
                      "distribution", "output", "examples", "config files (--config FILE)"]
    parts = sections(text)
    for field in dataclasses.fields(TrainOptions):
        flag = "--" + field.name.replace("_", "-")
        group = {"peft": "parameter-efficient fine-tuning"}.get(field.metadata["group"], field.metadata["group"])
        assert re.search(rf"^  {flag}\b", parts[group], re.MULTILINE), (flag, group)
    assert "--precision {fp32,bf16,fp16}" in parts["distribution"]
    assert "compute precision (mixed precision for bf16 and fp16) (default: fp32)" in flat(parts["distribution"])
    assert "--verbose {0,1,2}" in parts["output"]
    assert "--adapters [BOOL] train a bottleneck adapter per domain with the encoder frozen (default: false)" in flat(
        parts["parameter-efficient fine-tuning"])
    # Option names in the help are written as flags, and no flag is split at its hyphens.
    assert "static per-domain loss weights, e.g. {\"news\": 2.0} (with --loss-weighting static)" in flat(
        parts["domains"])
    assert not re.search(r"--[\w-]*-\n", text)
    assert "xdomain-tf train --config train.yaml --epochs 5" in parts["examples"]
    assert "    batch-size: 16" in parts["config files (--config FILE)"]


def test_every_help_line_comes_from_the_field():
    """Changing a field's help changes --help: there is no second copy of it."""
    raw = help_text("pretrain")
    text = flat(raw)
    for field in dataclasses.fields(PretrainOptions):
        if field.name in FINE_TUNING_ONLY:
            assert not re.search(rf"^ +--{field.name.replace('_', '-')}\b", raw, re.MULTILINE), field.name
            continue
        shown = re.sub(r"`([^`]+)`", lambda m: "--" + m.group(1).replace("_", "-"), field.metadata["help"])
        assert flat(shown) in text, field.name


def test_pretrain_and_transfer_help():
    pretrain = sections(help_text("pretrain"))
    assert "--objective LIST" in pretrain["pretraining objectives"]
    assert "--group-by {domain,lang,domain_lang}" in pretrain["domains"]
    assert "--report-before [BOOL]" in pretrain["output"]
    transfer = sections(help_text("transfer"))
    assert list(transfer)[:3] == ["options", "transfer study", "data"]
    assert "--metric {macro_f1,accuracy}" in transfer["transfer study"]
    assert "--lora-rank N" in transfer["parameter-efficient fine-tuning"]


def test_docstring_args_come_from_the_fields():
    doc = TrainOptions.__doc__
    assert "        batch_size: the global batch size (split across replicas) (default: 32)\n" in doc
    assert doc.index("    Args:") < doc.index("    Example:")
    assert "        **TrainOptions fields." in PretrainOptions.__doc__
    assert "        batch_size:" not in PretrainOptions.__doc__


def test_the_flags_of_another_options_class():
    """A later command (e.g. distill) gets its flags the same way, new sections included."""

    @dataclasses.dataclass
    class DistillOptions:
        teacher: str = option_field(None, "the teacher run directory", group="distillation", metavar="DIR")
        distill_temperature: float = option_field(2.0, "softmax temperature of the `teacher`'s targets",
                                                  group="distillation", check=lambda v: v > 0, what="> 0")
        seed: int = option_field(0, "seed", group="optimisation")

    parser = options_parser(argparse.ArgumentParser(prog="xdomain-tf").add_subparsers(), "distill",
                            "distill a run", "Distil a teacher.", "examples:\n  xdomain-tf distill --teacher runs/a")
    add_training_flags(parser, DistillOptions)
    parts = sections(parser.format_help())
    assert list(parts)[:3] == ["options", "optimisation", "distillation"]
    assert "softmax temperature of the --teacher's targets (default: 2.0)" in flat(parts["distillation"])
    assert parser.parse_args(["--distill-temperature", "3"]).distill_temperature == 3.0


def test_train_help_length():
    """The manual stays one screenful per group: about 180 lines at 80 columns."""
    lines = help_text("train").splitlines()
    assert 120 < len(lines) < 220
    assert max(map(len, lines)) <= 80
