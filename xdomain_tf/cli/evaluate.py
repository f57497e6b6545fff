"""`xdomain-tf evaluate`: per-domain accuracy, macro-F1, per-label scores and confusion matrices."""
import json

from xdomain_tf.cli.flag_types import output_file, output_folder, positive_int


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained run on labelled data, per domain",
        description="Accuracy, macro-F1, per-label precision/recall/F1 and a confusion matrix per domain.",
    )
    parser.add_argument("--model", required=True, help="the run directory written by `train`, or a .keras classifier")
    parser.add_argument("--data", required=True, nargs="+", metavar="FILE", help="labelled data files")
    parser.add_argument("--json", type=output_file, metavar="OUT.json", help="write the report as JSON")
    parser.add_argument("--report-dir", type=output_folder, metavar="DIR", help="write a confusion-matrix PNG per domain")
    parser.add_argument(
        "--baseline", action="store_true",
        help="also score a TF-IDF + logistic-regression baseline trained on the run's training files",
    )
    parser.add_argument("--batch-size", type=positive_int, default=64, help="texts per model call (default: 64)")
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report, write_report
    from xdomain_tf.tasks import load_classifier
    from xdomain_tf.training.record_classification import classify_records, evaluate_rows

    classifier, run_dir = load_classifier(args.model)
    records = list(read_records(args.data))
    report = evaluation_report(evaluate_rows(classify_records(classifier, records, args.batch_size), classifier.domains))
    if args.baseline:
        from xdomain_tf.errors import XDomainError
        from xdomain_tf.evaluation.tfidf_baseline import TfidfBaseline

        if run_dir is None:
            raise XDomainError("--baseline needs a run directory (its training files train the baseline)")
        options = run_dir.load_options()
        baseline = TfidfBaseline().fit(list(read_records(options["train"], options.get("default_domain"))))
        report["baseline"] = baseline.evaluate(records)
    write_report(report, json_path=args.json, report_dir=args.report_dir)
    _print_table(report)
    return 0


def _print_table(report):
    baseline = report.get("baseline", {}).get("domains", {})
    header = f"{'domain':<16}{'n':>7}{'accuracy':>10}{'macro_f1':>10}" + (f"{'tfidf_f1':>10}" if baseline else "")
    print(header)
    for domain, scores in {**report["domains"], "overall": report["overall"]}.items():
        line = f"{domain:<16}{scores['n']:>7}{scores['accuracy']:>10.4f}{scores['macro_f1']:>10.4f}"
        if baseline:
            other = baseline.get(domain) or (report["baseline"]["overall"] if domain == "overall" else None)
            line += f"{other['macro_f1']:>10.4f}" if other else ""
        print(line)
    print(json.dumps({"overall": report["overall"]}))
