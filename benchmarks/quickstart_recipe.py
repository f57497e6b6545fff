"""One ablation of the quickstart recipe: all-MiniLM-L6-v2 fine-tuned on the quickstart
corpora (BBC News, Debian descriptions) with one choice changed, scored on the test split
with TF-IDF + logistic regression trained on the same examples beside it. Appends one JSON
line to --results and prints it.

    python benchmarks/quickstart_recipe.py --name lr2e-4 --learning-rate 2e-4
    python benchmarks/quickstart_recipe.py --name seq256 --seq-len 256 --bucket-by-length
    python benchmarks/quickstart_recipe.py --name all-news --news-per-label 100000 --seq-len 256
"""
import argparse
import json
import pathlib
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--bucket-by-length", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--per-label", type=int, default=150, help="training examples per Debian label")
    parser.add_argument("--news-per-label", type=int, default=None, help="per BBC label (default: --per-label)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (initialisation, dropout, order)")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed of the capped training sample")
    parser.add_argument("--save", default=None, help="also save the fine-tuned classifier here (.keras)")
    parser.add_argument("--data", default="runs/quickstart_recipe/data")
    parser.add_argument("--results", default="runs/quickstart_recipe/results.jsonl")
    args = parser.parse_args()

    import keras

    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report
    from xdomain_tf.evaluation.tfidf_baseline import TfidfBaseline
    from xdomain_tf.quickstart_data import _capped, quickstart_data
    from xdomain_tf.tasks import MultiDomainTextClassifier
    from xdomain_tf.training.record_classification import classify_records, evaluate_rows

    news_cap = args.news_per_label or args.per_label
    paths = quickstart_data(pathlib.Path(args.data), max_train_per_label=100_000, log=print)
    every = list(read_records(paths["train"]))
    train = _capped([r for r in every if r["domain"] == "news"], news_cap, args.sample_seed) + _capped(
        [r for r in every if r["domain"] != "news"], args.per_label, args.sample_seed
    )
    test = list(read_records(paths["test"]))
    labels = LabelSpace.from_records(train)
    keras.utils.set_random_seed(args.seed)
    clf = MultiDomainTextClassifier.from_preset(
        "all-minilm-l6-v2", domains={d: list(labels.labels(d)) for d in labels.domains},
        sequence_length=args.seq_len, learning_rate=args.learning_rate,
    )
    started = time.perf_counter()
    clf.fit(train, epochs=args.epochs, batch_size=32, verbose=2, seed=args.seed, bucket_by_length=args.bucket_by_length)
    seconds = time.perf_counter() - started
    if args.save:
        clf.save(args.save)
    report = evaluation_report(evaluate_rows(classify_records(clf, test), clf.domains))
    baseline = TfidfBaseline().fit(train).evaluate(test)
    row = {
        **vars(args), "news_per_label": news_cap, "train_examples": len(train), "train_seconds": round(seconds),
        **{domain: round(scores["macro_f1"], 4) for domain, scores in report["domains"].items()},
        **{"tfidf_" + domain: round(scores["macro_f1"], 4) for domain, scores in baseline["domains"].items()},
    }
    print(json.dumps(row))
    results = pathlib.Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    with results.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
