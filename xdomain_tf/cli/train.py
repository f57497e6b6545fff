"""`xdomain-tf train`: fine-tune a multi-domain classifier (one head per domain)."""
import json

from xdomain_tf.cli.training_flags import add_training_flags, options_from_args, options_parser

EXAMPLES = """\
examples:
  # two domains, a bert_tiny encoder from scratch, validation every epoch
  xdomain-tf train --train news.jsonl software.jsonl --valid valid.jsonl \\
      --out runs/tiny

  # all-MiniLM-L6-v2 with an adapter per domain, bf16 on every local GPU
  xdomain-tf train --train train.jsonl --valid valid.jsonl --out runs/minilm \\
      --init all-minilm-l6-v2 --adapters --precision bf16 --strategy mirrored

  # the options of a YAML file, five epochs instead of its number
  xdomain-tf train --config train.yaml --epochs 5"""


def add_parser(subparsers):
    from xdomain_tf.training.train_options import TrainOptions

    parser = options_parser(
        subparsers,
        "train",
        help="train a multi-domain classifier from JSONL/CSV/TFRecord files",
        description="""\
Train one shared encoder with a classifier head per domain. The domains and
their label sets come from the training data; the run directory (--out) gets
the model, its vocabulary, label space, options, metric history, TensorBoard
logs and resumable checkpoints. Run the same command again to resume an
interrupted run. Evaluate the run with `xdomain-tf evaluate`, export it with
`xdomain-tf export`.""",
        examples=EXAMPLES,
    )
    add_training_flags(parser, TrainOptions)
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.training.train_options import TrainOptions

    options = options_from_args(TrainOptions, args)  # checked before TensorFlow loads: bad flags fail fast
    from xdomain_tf.training.classifier_training import train_classifier

    summary = train_classifier(options)
    print(json.dumps(summary))
    return 0
