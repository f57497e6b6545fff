"""Options of `xdomain-tf distill` (`xdomain_tf.training.distillation.distill`), declared once."""
import dataclasses
import typing

from xdomain_tf.training.option_fields import check_options, document_options, option_field

# Equal to `xdomain_tf.tasks.student_spec.DEFAULT_STUDENT` (a test checks it); not imported,
# so that reading the options does not load TensorFlow.
DEFAULT_STUDENT = "layers=2,vocab=trim"

_POSITIVE = dict(check=lambda v: v >= 1, what="a positive integer", metavar="N")
_WEIGHT = dict(check=lambda v: v >= 0, what="a weight >= 0", metavar="X")


@document_options
@dataclasses.dataclass
class DistillOptions:
    """What `distill` is given: the teacher, the student, the data and the losses.

    Each field's help, group and check make this docstring's `Args:`, the check of the
    values (the same messages as `distill`'s) and the `--help` of `xdomain-tf distill`.

    Example:

    >>> DistillOptions(teacher="runs/minilm", train=["a.jsonl"], valid=["b.jsonl"], out="runs/s").student
    'layers=2,vocab=trim'
    >>> DistillOptions(teacher="runs/minilm", train=["a.jsonl"], alpha=2.0)
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: alpha must be a number in [0, 1] (the weight of the hard-label loss), got 2.0
    """

    teacher: str = option_field(None, "the teacher: a classifier run directory or a .keras classifier (required)",
                                group="model", metavar="RUN|MODEL")
    student: str = option_field(
        DEFAULT_STUDENT, "the student SPEC (see below); the default, from a fine-tuned MiniLM on the quickstart's "
        "domains, has the same macro-F1, runs 3x faster at batch 1 and makes a 0.45x TFLite file",
        group="model", metavar="SPEC")
    train: typing.List[str] = option_field(
        help="training records (required; a record without a label gets the teacher's soft labels only)",
        group="data", factory=list, what="a list of data file paths", metavar="FILE")
    unlabelled: typing.List[str] = option_field(
        None, "more in-domain records; their labels, if any, are ignored", group="data",
        what="a list of data file paths", metavar="FILE")
    valid: typing.List[str] = option_field(
        None, "labelled records scored each epoch; the best epoch is kept (required on the command line)",
        group="data", what="a list of data file paths", metavar="FILE")
    temperature: float = option_field(2.0, "T of the soft labels", group="losses", check=lambda v: v > 0,
                                      what="a number > 0", metavar="X")
    alpha: float = option_field(
        0.5, "weight of the hard-label loss; the soft loss gets 1 - alpha", group="losses",
        check=lambda v: 0 <= v <= 1, what="a number in [0, 1] (the weight of the hard-label loss)", metavar="X")
    hidden_loss: float = option_field(
        0.0, "weight of the hidden-state MSE, through a learned projection when the widths differ; 0 turns it off",
        group="losses", **_WEIGHT)
    attention_loss: float = option_field(
        0.0, "weight of the attention KL, which needs as many heads as the teacher; 0 turns it off", group="losses", **_WEIGHT)
    epochs: int = option_field(3, "passes over the examples", group="optimisation", **_POSITIVE)
    batch_size: int = option_field(32, "examples per step", group="optimisation", **_POSITIVE)
    learning_rate: float = option_field(
        None, "peak learning rate (default: 1e-4 for a student cut from the teacher, 1e-3 for fresh weights)",
        group="optimisation", check=lambda v: 0 < v < 1, what="in (0, 1)", metavar="X")
    seed: int = option_field(0, "seed of the initialisation, dropout and order", group="optimisation",
                             metavar="N")
    out: str = option_field(None, "the run directory to write (a classifier run, as `xdomain-tf train --out`)",
                            group="output", what="a folder path", metavar="DIR")

    def __post_init__(self):
        check_options(self)
