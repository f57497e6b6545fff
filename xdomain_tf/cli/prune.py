"""`xdomain-tf prune`: remove the least important attention heads and feed-forward units of a
classifier (structured pruning), optionally recover, and write a run directory.

    xdomain-tf prune --model RUN --heads FRACTION --ffn FRACTION [--train FILE...]
                     [--epochs N] [--recovery distill|fine_tune] [--valid FILE...] --out RUN
"""
import json

from xdomain_tf.cli.flag_types import output_folder, positive_int
from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.utils.storage import storage_path

EXAMPLES = """\
examples:
  # half the heads and half the feed-forward units, importance on the run's training files
  xdomain-tf prune --model runs/minilm --heads 0.5 --ffn 0.5 --out runs/minilm-pruned

  # the same, then two epochs of distillation from the unpruned model to recover
  xdomain-tf prune --model runs/minilm --heads 0.5 --ffn 0.5 --train train.jsonl \\
      --valid valid.jsonl --epochs 2 --out runs/minilm-pruned-distilled"""


def add_parser(subparsers):
    from xdomain_tf.training.classifier_pruning import RECOVERIES, PruneOptions

    parser = manual_parser(
        subparsers,
        "prune",
        help="remove the least important attention heads and feed-forward units of a classifier",
        description="""\
Structured pruning (Michel et al. 2019): the importance of every attention head
and feed-forward unit comes from loss gradients on training data; the least
important are removed across all layers (at least one of each kept per layer),
giving a smaller model (smaller kernels, not masks) that evaluates, exports and
predicts like any classifier run. With --epochs it then recovers by
distillation from the unpruned classifier (or fine-tuning).""",
        examples=EXAMPLES,
    )
    # Fractions and epochs are checked by `run` (one-line errors), the rest while parsing.
    add_option_flags(parser, PruneOptions, checked=False, flags={
        "model": dict(required=True),
        "recovery": dict(choices=RECOVERIES),
        "importance_examples": dict(type=positive_int),
        "batch_size": dict(type=positive_int),
        "out": dict(required=True, type=output_folder),
    })
    parser.set_defaults(run=run, python_names={"data": "--train"})


def run(args):
    
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.models.structured_pruning import check_fraction

    heads, ffn = check_fraction("heads", args.heads), check_fraction("ffn", args.ffn)  # before TensorFlow loads
    if heads == 0 and ffn == 0:
        raise XDomainError("nothing to prune: give --heads and/or --ffn above 0")
    epochs = args.epochs if args.epochs is not None else (1 if args.train else 0)
    if epochs < 0:
        raise XDomainError(f"epochs must be an integer >= 0, got {epochs}")
    if storage_path(args.model).resolve() == storage_path(args.out).resolve():
        raise XDomainError("out must be a new folder, not the model's own run directory")

    from xdomain_tf.runs import RunDirectory
    from xdomain_tf.training.classifier_pruning import prune

    model = storage_path(args.model)
    if not model.exists():
        raise XDomainError(f"{model}: no such classifier (a classifier run directory or a .keras file)")
    options = {}
    if model.is_dir():
        options = RunDirectory(model).load_options()
    train = args.train or options.get("train")
    if not train:
        raise XDomainError(f"{model}: no training files to measure importance on; give --train FILE")
    valid = args.valid or options.get("valid") or None
    result = prune(
        str(model), train, heads=heads, ffn=ffn, epochs=epochs, recovery=args.recovery, valid=valid,
        batch_size=args.batch_size, importance_examples=args.importance_examples,
        learning_rate=args.learning_rate, seed=args.seed, out=args.out, log=print,
    )
    summary = result.summary
    print(
        f"pruned: {args.out} ({summary['heads']['after']}/{summary['heads']['before']} heads, "
        f"{summary['units']['after']}/{summary['units']['before']} feed-forward units, "
        f"{summary['parameters']['before']:,} -> {summary['parameters']['after']:,} parameters)"
    )
    print(json.dumps({"pruning": summary}))
    return 0
