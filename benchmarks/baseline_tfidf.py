"""TF-IDF + logistic-regression baseline on data files: one JSON line of per-domain scores.

    python benchmarks/baseline_tfidf.py --train train.jsonl --test test.jsonl

Files are read with `xdomain_tf.data.read_records` (JSONL, CSV, TSV, TFRecord, optionally
gzipped). One classifier per domain is fitted on the training files and scored on the test
files; the printed line holds accuracy, macro-F1 and n per domain and overall (and per
language of a domain whose test records have several `lang` values), the parameters and
timings. `--json-out`/`--report-dir` also write the full evaluation report
(per-label scores, confusion matrices) and confusion-matrix PNGs.
"""
import argparse
import json
import sys
import time


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", nargs="+", required=True, metavar="FILE", help="training data files")
    parser.add_argument("--test", nargs="+", required=True, metavar="FILE", help="test data files")
    parser.add_argument("--default-domain", help="domain of records that have none")
    parser.add_argument("--min-df", type=int, default=1, help="least document count of a term (default 1)")
    parser.add_argument("--max-features", type=int, default=200_000, help="vocabulary size per domain")
    parser.add_argument("--C", type=float, default=10.0, help="inverse regularization strength (default 10)")
    parser.add_argument("--json-out", help="write the full evaluation report here")
    parser.add_argument("--report-dir", help="write confusion_<domain>.png figures here")
    return parser


def _scores_by_language(model, test, report):
    """`{domain: {lang: {accuracy, macro_f1, n}}}` for domains whose test set has several languages."""
    from xdomain_tf.evaluation import classification_report

    predictions = model.predict(test)
    by_domain = {}
    for record, prediction in zip(test, predictions):
        if "lang" in record:
            pairs = by_domain.setdefault(record["domain"], {}).setdefault(record["lang"], ([], []))
            pairs[0].append(record["label"])
            pairs[1].append(prediction)
    result = {}
    for domain, languages in by_domain.items():
        if len(languages) < 2:
            continue
        labels = report["domains"][domain]["labels"]
        result[domain] = {}
        for lang, (y_true, y_pred) in sorted(languages.items()):
            scores = classification_report(y_true, y_pred, labels)
            result[domain][lang] = {key: scores[key] for key in ("accuracy", "macro_f1", "n")}
    return result


def main(argv=None):
    args = build_parser().parse_args(argv)
    from xdomain_tf.data import read_records
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.evaluation import TfidfBaseline, write_report

    try:
        train = list(read_records(args.train, default_domain=args.default_domain))
        test = list(read_records(args.test, default_domain=args.default_domain))
        model = TfidfBaseline(min_df=args.min_df, max_features=args.max_features, C=args.C)
        start = time.perf_counter()
        model.fit(train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        report = model.evaluate(test)
        evaluate_seconds = time.perf_counter() - start
        by_language = _scores_by_language(model, test, report)
        if args.json_out or args.report_dir:
            write_report(report, json_path=args.json_out, report_dir=args.report_dir)
    except (XDomainError, FileNotFoundError) as error:
        print(f"baseline_tfidf: error: {error}", file=sys.stderr)
        return 2

    summary = {
        "benchmark": "baseline_tfidf",
        "params": {
            "min_df": args.min_df, "max_features": args.max_features, "C": args.C,
            "ngram_range": [1, 2], "solver": "saga", "tol": model.tol,
        },
        "train_n": len(train),
        "fit_seconds": round(fit_seconds, 3),
        "evaluate_seconds": round(evaluate_seconds, 3),
        "domains": {
            domain: {key: scores[key] for key in ("accuracy", "macro_f1", "n")}
            for domain, scores in report["domains"].items()
        },
        "overall": report["overall"],
    }
    if by_language:
        summary["by_language"] = by_language
    print(json.dumps(summary, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
