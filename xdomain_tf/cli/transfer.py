"""`xdomain-tf transfer`: a transfer matrix across domains or languages, and zero-shot scores."""
import json
import pathlib

from xdomain_tf.cli.training_flags import add_training_flags, options_from_args


def add_parser(subparsers):
    from xdomain_tf.training.train_options import TrainOptions

    parser = subparsers.add_parser(
        "transfer",
        help="train on each domain (or language) alone and evaluate on every other",
        description="Trains one classifier per group and evaluates it on each group with the same label set "
        "(a transfer matrix, JSON + heatmap PNG), plus all-but-one training tested zero-shot on the held-out group.",
    )
    parser.add_argument("--group-by", choices=("domain", "lang"), default="domain")
    parser.add_argument("--metric", choices=("macro_f1", "accuracy"), default="macro_f1")
    parser.add_argument("--no-all-but-one", action="store_true", help="skip the leave-one-group-out runs")
    add_training_flags(parser, TrainOptions)
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.evaluation.plots import transfer_matrix_plot
    from xdomain_tf.training.train_options import TrainOptions
    from xdomain_tf.training.transfer_study import transfer_experiment
    from xdomain_tf.utils.atomic import write_json_atomic

    options = options_from_args(TrainOptions, args)
    report = transfer_experiment(options, group_by=args.group_by, all_but_one=not args.no_all_but_one, metric=args.metric)
    out = pathlib.Path(options.out)
    write_json_atomic(out / "transfer.json", report)
    transfer_matrix_plot(report["matrix"], report["train_domains"], report["eval_domains"], out / "transfer.png",
                         title=f"{args.metric}: trained on (rows) / evaluated on (columns)")
    print(json.dumps(report))
    return 0
