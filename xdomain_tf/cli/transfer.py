"""`xdomain-tf transfer`: a transfer matrix across domains or languages, and zero-shot scores."""
import json

from xdomain_tf.cli.training_flags import add_training_flags, options_from_args, options_parser
from xdomain_tf.utils.storage import storage_path

EXAMPLES = """\
examples:
  # which domain's classifier works on which other domain, by macro-F1
  xdomain-tf transfer --train train.jsonl --valid valid.jsonl --out runs/transfer

  # across languages (records with lang), a pretrained multilingual start
  xdomain-tf transfer --train train.jsonl --valid valid.jsonl --group-by lang \\
      --init runs/aligned --metric accuracy --out runs/transfer-lang"""


def add_parser(subparsers):
    from xdomain_tf.training.train_options import TrainOptions

    parser = options_parser(
        subparsers,
        "transfer",
        help="train on each domain (or language) alone and evaluate on every other",
        description="""\
Train one classifier per group (domain or language) and evaluate it on every
group with the same label set: a transfer matrix (OUT/transfer.json and
OUT/transfer.png). Unless --no-all-but-one, also train on all groups but one
and test zero-shot on the one left out. Each model is a full run under
OUT/<name>; the training options are those of `xdomain-tf train`, and --valid
is required.""",
        examples=EXAMPLES,
    )
    study = parser.add_argument_group("transfer study")
    study.add_argument("--group-by", choices=("domain", "lang"), default="domain",
                       help="what a group is: a domain or a language (default: domain)")
    study.add_argument("--metric", choices=("macro_f1", "accuracy"), default="macro_f1",
                       help="the score in the matrix and the plot (default: macro_f1)")
    study.add_argument("--no-all-but-one", action="store_true", help="skip the leave-one-group-out runs")
    add_training_flags(parser, TrainOptions)
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.training.train_options import TrainOptions

    options = options_from_args(TrainOptions, args)  # checked before TensorFlow loads: bad flags fail fast
    from xdomain_tf.evaluation.plots import transfer_matrix_plot
    from xdomain_tf.training.transfer_study import transfer_experiment
    from xdomain_tf.utils.atomic import write_json_atomic

    report = transfer_experiment(options, group_by=args.group_by, all_but_one=not args.no_all_but_one, metric=args.metric)
    out = storage_path(options.out)
    write_json_atomic(out / "transfer.json", report)
    transfer_matrix_plot(report["matrix"], report["train_domains"], report["eval_domains"], out / "transfer.png",
                         title=f"{args.metric}: trained on (rows) / evaluated on (columns)")
    print(json.dumps(report))
    return 0
