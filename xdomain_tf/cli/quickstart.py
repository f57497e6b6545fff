"""`xdomain-tf quickstart`: the whole job on real data with a small configuration."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "quickstart",
        help="fetch two real domains, fine-tune, evaluate vs TF-IDF, export SavedModel + int8 TFLite",
        description="Fetches BBC News and Debian package descriptions, fine-tunes all-MiniLM-L6-v2 as a "
        "two-domain classifier, compares it with TF-IDF + logistic regression, exports a SavedModel and an "
        "int8 TFLite file, reloads both and classifies unseen texts.",
    )
    parser.add_argument("--out", default="runs/quickstart", help="output folder (default runs/quickstart)")
    parser.add_argument("--preset", default="all-minilm-l6-v2",
                        help="all-minilm-l6-v2 (pretrained) or an encoder preset such as bert_tiny (from scratch)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--max-train-per-label", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.quickstart import run_quickstart

    run_quickstart(args.out, preset=args.preset, epochs=args.epochs, max_train_per_label=args.max_train_per_label,
                   batch_size=args.batch_size, seq_len=args.seq_len)
    return 0
