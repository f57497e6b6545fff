"""`xdomain-tf quickstart`: the whole job on real data with a small configuration."""
from xdomain_tf.cli.flag_types import output_folder, positive_float, positive_int, sequence_length


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "quickstart",
        help="fetch two real domains, fine-tune, evaluate vs TF-IDF, export SavedModel + int8 TFLite",
        description="Fetches BBC News and Debian package descriptions, fine-tunes all-MiniLM-L6-v2 as a "
        "two-domain classifier, compares it with TF-IDF + logistic regression, exports a SavedModel and an "
        "int8 TFLite file, reloads both and classifies unseen texts.",
    )
    parser.add_argument("--out", default="runs/quickstart", type=output_folder, metavar="DIR", help="output folder (default runs/quickstart)")
    parser.add_argument("--preset", default="all-minilm-l6-v2",
                        help="all-minilm-l6-v2 (pretrained) or an encoder preset such as bert_tiny (from scratch)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="default: 2 for MiniLM, 6 from scratch")
    parser.add_argument("--max-train-per-label", type=positive_int, default=150,
                        help="training records per label and domain (default: 150)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="default: 32")
    parser.add_argument("--seq-len", type=sequence_length, default=128, help="default: 128")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="peak learning rate (default: 2e-4 for MiniLM, 5e-4 from scratch)")
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.quickstart import run_quickstart

    run_quickstart(args.out, preset=args.preset, epochs=args.epochs, max_train_per_label=args.max_train_per_label,
                   batch_size=args.batch_size, seq_len=args.seq_len, learning_rate=args.learning_rate)
    return 0
