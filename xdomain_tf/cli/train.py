"""`xdomain-tf train`: fine-tune a multi-domain classifier (one head per domain)."""
import json

from xdomain_tf.cli.training_flags import add_training_flags, options_from_args


def add_parser(subparsers):
    from xdomain_tf.training.train_options import TrainOptions

    parser = subparsers.add_parser(
        "train",
        help="train a multi-domain classifier from JSONL/CSV/TFRecord files",
        description="Train one shared encoder with a classifier head per domain. Domains and label sets come "
        "from the training data. Run the same command again after an interruption to resume.",
    )
    add_training_flags(parser, TrainOptions)
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.training.classifier_training import train_classifier
    from xdomain_tf.training.train_options import TrainOptions

    summary = train_classifier(options_from_args(TrainOptions, args))
    print(json.dumps(summary))
    return 0
