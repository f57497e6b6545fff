"""`xdomain-tf evaluate`: per-domain accuracy, macro-F1, per-label scores, the worst label's F1
and confusion matrices."""
import dataclasses
import json
import typing

from xdomain_tf.cli.flag_types import output_file, output_folder
from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.training.option_fields import option_field

EXAMPLES = """\
examples:
  # per-domain scores on a test file, a TF-IDF baseline beside them
  xdomain-tf evaluate --model runs/news --data test.jsonl --baseline

  # the report as JSON and a confusion-matrix PNG per domain
  xdomain-tf evaluate --model runs/news --data test.jsonl --json report.json \\
      --report-dir runs/news/report"""


@dataclasses.dataclass
class EvaluateOptions:
    """The flags of `xdomain-tf evaluate` (what is scored, how, and where it goes).

    Example:

    >>> EvaluateOptions(model="runs/news", data=["test.jsonl"]).batch_size
    64
    """

    model: str = option_field(None, "the run directory written by xdomain-tf train, or a .keras classifier",
                              metavar="MODEL")
    data: typing.List[str] = option_field(None, "labelled data files", metavar="FILE")
    json: str = option_field(None, "write the report as JSON", metavar="OUT.json")
    report_dir: str = option_field(None, "write a confusion-matrix PNG per domain", metavar="DIR")
    baseline: bool = option_field(
        False, "also score a TF-IDF + logistic-regression baseline trained on the run's training files")
    batch_size: int = option_field(64, "texts per model call", check=lambda v: v >= 1, what="a positive integer",
                                   metavar="N")


def add_parser(subparsers):
    parser = manual_parser(
        subparsers,
        "evaluate",
        help="evaluate a trained run on labelled data, per domain",
        description="Accuracy, macro-F1, per-label precision/recall/F1/support, the worst label's F1\n"
                    "and a confusion matrix per domain.",
        examples=EXAMPLES,
    )
    add_option_flags(parser, EvaluateOptions, flags={
        "model": dict(required=True),
        "data": dict(required=True),
        "json": dict(type=output_file),
        "report_dir": dict(type=output_folder),
        "baseline": dict(action="store_true"),
    })
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.evaluation.classification_metrics import worst_label
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report, write_report
    from xdomain_tf.tasks import load_classifier
    from xdomain_tf.training.record_classification import classify_records, evaluate_rows

    classifier, run_dir = load_classifier(args.model)
    records = list(read_records(args.data))
    report = evaluation_report(evaluate_rows(classify_records(classifier, records, args.batch_size), classifier.domains))
    for scores in report["domains"].values():
        scores["worst_label"] = worst_label(scores["per_label"])
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
    """Prints a row per domain (and overall), then each domain's per-label scores, then the
    overall scores as one JSON line."""
    baseline = report.get("baseline", {}).get("domains", {})
    header = f"{'domain':<16}{'n':>7}{'accuracy':>10}{'macro_f1':>10}" + (f"{'tfidf_f1':>10}" if baseline else "")
    print(header + f"{'worst_f1':>10}  worst_label")
    for domain, scores in {**report["domains"], "overall": report["overall"]}.items():
        line = f"{domain:<16}{scores['n']:>7}{scores['accuracy']:>10.4f}{scores['macro_f1']:>10.4f}"
        if baseline:
            other = baseline.get(domain) or (report["baseline"]["overall"] if domain == "overall" else None)
            line += f"{other['macro_f1']:>10.4f}" if other else f"{'':>10}"
        worst = scores.get("worst_label")
        if worst:
            line += f"{worst['f1']:>10.4f}  {worst['label']}"
        print(line.rstrip())
    for domain, scores in report["domains"].items():
        width = max(24, 4 + max(map(len, scores["per_label"]), default=0))
        print(f"\n{domain:<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
        for label, row in scores["per_label"].items():
            print(f"  {label:<{width - 2}}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
                  f"{row['support']:>9}")
    print(json.dumps({"overall": report["overall"]}))
