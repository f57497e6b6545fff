"""Cross-domain / cross-lingual transfer: train on each group alone, test on every other."""
import dataclasses

from xdomain_tf.data.readers import read_records
from xdomain_tf.data.writers import write_jsonl
from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.storage import storage_path

# Groups compared in a transfer experiment share a label set: every run trains one head.
SHARED_DOMAIN = "transfer"


def transfer_experiment(options, group_by="domain", all_but_one=True, metric="macro_f1", log=print):
    """Trains one classifier per group (domain or language) and evaluates it on every group
    with the same label set, giving a transfer matrix; with `all_but_one`, also trains on
    all groups but one and tests zero-shot on the one left out.

    Each model is a full `train_classifier` run under `options.out/<name>` with one head
    (domain `transfer`), so every run can be evaluated or exported later. Groups are
    compared only when their label sets are equal (e.g. the same Debian sections in
    English, German and French).

    Args:
        options: `TrainOptions` shared by every run (`train`, `valid`, `out`, ...).
        group_by: `domain` or `lang` (records without `lang` count as `"und"`).
        all_but_one: also run the leave-one-group-out experiments.
        metric: `macro_f1` or `accuracy`.
        log: where progress lines go.

    Returns:
        The `transfer_report` dict (matrix rows = trained on, columns = evaluated on).

    Example:

    >>> report = transfer_experiment(options, group_by="lang")  # doctest: +SKIP
    """
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report
    from xdomain_tf.evaluation.transfer_results import transfer_matrix, transfer_report
    from xdomain_tf.tasks import load_classifier
    from xdomain_tf.training.classifier_training import train_classifier
    from xdomain_tf.training.record_classification import classify_records, evaluate_rows

    if group_by not in ("domain", "lang"):
        raise XDomainError(f"group_by must be domain or lang, got {group_by!r}")
    if not options.valid:
        raise XDomainError("transfer needs valid data to evaluate on")
    out = storage_path(options.out)
    train = _grouped(options.train, group_by, options.default_domain)
    valid = _grouped(options.valid, group_by, options.default_domain)
    if len(train) < 2:
        raise XDomainError(f"transfer needs at least two {group_by}s in the training data, found {sorted(train)}")
    label_sets = {group: frozenset(r["label"] for r in records) for group, records in train.items()}

    def train_and_score(name, train_records, eval_groups):
        data_dir = out / "data" / name
        write_jsonl([{**r, "domain": SHARED_DOMAIN} for r in train_records], data_dir / "train.jsonl")
        log(f"== training on {name} ({len(train_records)} examples)")
        run_options = dataclasses.replace(options, train=[str(data_dir / "train.jsonl")], valid=[], out=str(out / name))
        train_classifier(run_options, log=log)
        classifier, _ = load_classifier(run_options.out)
        reports = {}
        for group in eval_groups:
            records = [{**r, "domain": SHARED_DOMAIN} for r in valid.get(group, [])]
            if records:
                rows = classify_records(classifier, records)
                (only_domain, scores), = evaluation_report(evaluate_rows(rows, classifier.domains))["domains"].items()
                reports[group] = scores
        return {"domains": reports}

    reports = {}
    for group, records in sorted(train.items()):
        comparable = [g for g in sorted(valid) if label_sets.get(g, frozenset()) == label_sets[group]]
        reports[group] = train_and_score(f"only-{group}", records, comparable)
    matrix, train_groups, eval_groups = transfer_matrix(reports, metric=metric)
    left_out = None
    if all_but_one:
        left_out = {}
        for group in sorted(train):
            others = [r for g, rs in sorted(train.items()) if g != group and label_sets[g] == label_sets[group] for r in rs]
            if not others:
                continue
            report = train_and_score(f"all-but-{group}", others, [group])
            if group in report["domains"]:
                left_out[group] = report["domains"][group][metric]
    return transfer_report(matrix, train_groups, eval_groups, all_but_one=left_out, metric=metric)


def _grouped(paths, group_by, default_domain):
    groups = {}
    for record in read_records(paths, default_domain=default_domain):
        key = record.get(group_by) or "und"
        groups.setdefault(key, []).append(record)
    return groups
