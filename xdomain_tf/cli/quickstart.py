"""`xdomain-tf quickstart`: the whole job on real data with a small configuration."""
import dataclasses

from xdomain_tf.cli.flag_types import output_folder
from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.training.option_fields import option_field

_POSITIVE = dict(check=lambda v: v >= 1, what="a positive integer", metavar="N")

EXAMPLES = """\
examples:
  # the recipe: all-MiniLM-L6-v2, 2 epochs, 150 training examples per label
  xdomain-tf quickstart --out runs/quickstart

  # a bert_tiny encoder trained from scratch instead
  xdomain-tf quickstart --preset bert_tiny --out runs/quickstart-tiny"""


@dataclasses.dataclass
class QuickstartOptions:
    """The flags of `xdomain-tf quickstart` (`xdomain_tf.quickstart.run_quickstart`'s
    arguments).

    Example:

    >>> QuickstartOptions().preset
    'all-minilm-l6-v2'
    """

    out: str = option_field("runs/quickstart", "output folder: data, run directory, exports and reports",
                            group="output", metavar="DIR")
    preset: str = option_field(
        "all-minilm-l6-v2", "all-minilm-l6-v2 (pretrained) or an encoder preset such as bert_tiny (from scratch)",
        group="model", metavar="PRESET")
    epochs: int = option_field(None, "training epochs (default: 2 for MiniLM, 6 from scratch)",
                               group="optimisation", **_POSITIVE)
    max_train_per_label: int = option_field(150, "training records per label and domain", group="data",
                                            **_POSITIVE)
    batch_size: int = option_field(32, "examples per step", group="optimisation", **_POSITIVE)
    seq_len: int = option_field(128, "maximum tokens per example", group="data", check=lambda v: v >= 8,
                                what="an integer >= 8", metavar="N")
    learning_rate: float = option_field(
        None, "peak learning rate (default: 2e-4 for MiniLM, 5e-4 from scratch)", group="optimisation",
        check=lambda v: v > 0, what="a number > 0", metavar="X")


def add_parser(subparsers):
    parser = manual_parser(
        subparsers,
        "quickstart",
        help="fetch two real domains, fine-tune, evaluate vs TF-IDF, export SavedModel + int8 TFLite",
        description="""\
Fetches BBC News and Debian package descriptions, fine-tunes all-MiniLM-L6-v2
as a two-domain classifier, compares it with TF-IDF + logistic regression,
exports a SavedModel and an int8 TFLite file, reloads both and classifies
unseen texts.""",
        examples=EXAMPLES,
    )
    add_option_flags(parser, QuickstartOptions, flags={"out": dict(type=output_folder)})
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.quickstart import run_quickstart

    run_quickstart(args.out, preset=args.preset, epochs=args.epochs, max_train_per_label=args.max_train_per_label,
                   batch_size=args.batch_size, seq_len=args.seq_len, learning_rate=args.learning_rate)
    return 0
