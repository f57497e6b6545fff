"""Structured pruning of a multi-domain classifier: remove the least important attention heads
and feed-forward units (gradients on training data), then optionally recover by distillation
from the unpruned classifier or by fine-tuning."""
import dataclasses
import math
import time
import typing

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.option_fields import document_options, option_field

RECOVERIES = ("distill", "fine_tune")
_FRACTION = dict(check=lambda v: 0 <= v < 1, what="a number in [0, 1)", metavar="FRACTION")
_POSITIVE = dict(check=lambda v: v >= 1, what="a positive integer", metavar="N")


@document_options
@dataclasses.dataclass
class PruneOptions:
    """The options of `xdomain-tf prune` (`prune`'s arguments, under their flag names:
    `model` is `classifier`, `train` is `data`).

    Example:

    >>> PruneOptions(model="runs/minilm", heads=0.5, out="runs/pruned").recovery
    'distill'
    """

    model: str = option_field(None, "the classifier to prune: a run directory or a .keras file", group="model",
                              metavar="RUN")
    heads: float = option_field(0.0, "fraction of all attention heads to remove, in [0, 1)", group="pruning",
                                **_FRACTION)
    ffn: float = option_field(0.0, "fraction of all feed-forward units to remove, in [0, 1)", group="pruning",
                              **_FRACTION)
    importance_examples: int = option_field(512, "training examples the importance is measured on",
                                            group="pruning", **_POSITIVE)
    train: typing.List[str] = option_field(
        None, "labelled training data for the importance and the recovery (default: the run's training files)",
        group="data", metavar="FILE")
    valid: typing.List[str] = option_field(
        None, "labelled data to score macro-F1 on before and after, and to keep the best recovery epoch "
        "(default: the run's validation files)", group="data", metavar="FILE")
    epochs: int = option_field(
        None, "recovery epochs after pruning (default: 1 with `train`, else 0: no recovery)", group="optimisation",
        check=lambda v: v >= 0, what="an integer >= 0", metavar="N")
    recovery: str = option_field("distill", "distill from the unpruned classifier, or fine-tune on the labels",
                                 group="optimisation", choices=RECOVERIES)
    batch_size: int = option_field(32, "examples per batch", group="optimisation", **_POSITIVE)
    learning_rate: float = option_field(None, "peak learning rate of the recovery (default: the classifier's)",
                                        group="optimisation", metavar="X")
    seed: int = option_field(0, "seed of the example order and recovery", group="optimisation", metavar="N")
    out: str = option_field(None, "the run directory to write", group="output", metavar="RUN")


@dataclasses.dataclass
class PruningResult:
    """What `prune` returns.

    Args:
        classifier: the pruned `MultiDomainTextClassifier` (a new object with smaller
            kernels; the input classifier is unchanged).
        plan: `{"heads": [kept head indices per layer], "units": [kept feed-forward unit
            indices per layer]}`, indices into the input classifier's blocks.
        summary: parameters before and after, heads and units per layer, seconds, and with
            `valid` the macro-F1 per domain before pruning, after pruning and after
            recovery.
        history: the recovery's per-epoch history (empty without recovery).

    Example:

    >>> PruningResult(classifier=None, plan={"heads": [[0]], "units": [[0, 1]]}, summary={}, history=[]).plan["heads"]
    [[0]]
    """

    classifier: object
    plan: dict
    summary: dict
    history: list


def prune(
    classifier,
    data,
    heads=0.0,
    ffn=0.0,
    epochs=0,
    recovery="distill",
    valid=None,
    batch_size=32,
    importance_examples=512,
    learning_rate=None,
    seed=0,
    out=None,
    log=None,
):
    """Removes the least important attention heads and feed-forward units of a classifier.

    Importance (Michel et al. 2019): on up to `importance_examples` labelled examples of
    `data`, the loss's gradient with respect to a mask on each head and each feed-forward
    unit, in absolute value, summed over batches (`xdomain_tf.models.structured_pruning.
    importance`). Each layer's scores are normalised to unit L2 norm and ranked across all
    layers; the lowest `heads` of all heads and `ffn` of all units go, keeping at least one
    of each per layer (`pruning_plan`). The result is a new `MultiDomainTextClassifier`
    with smaller kernels (its `EncoderConfig` records the per-layer head counts and widths),
    not masks: it saves to `.keras`, exports (SavedModel, TFLite) and predicts like any
    classifier. Without recovery its outputs are those of the input classifier with the
    removed heads and units masked out.

    Recovery (`epochs > 0`): `"distill"` trains the pruned classifier to match the unpruned
    one (`xdomain_tf.training.distillation.distill`: soft labels and hard labels of `data`,
    best epoch on `valid` kept); `"fine_tune"` fits it on `data`'s labels.

    Args:
        classifier: a `MultiDomainTextClassifier`, a classifier run directory or `.keras` file.
        data: labelled training data: data files or records (any input
            `MultiDomainTextClassifier.fit` takes, for `"fine_tune"`).
        heads: the fraction of all attention heads to remove, in [0, 1).
        ffn: the fraction of all feed-forward units to remove, in [0, 1).
        epochs: recovery epochs (0: none).
        recovery: `"distill"` (from the unpruned classifier) or `"fine_tune"`.
        valid: labelled data to score on before and after (macro-F1 per domain), and for
            distillation to keep the best epoch; None skips the scores.
        batch_size: examples per batch, for the importance and the recovery.
        importance_examples: how many examples of `data` the importance is measured on.
        learning_rate: the recovery's peak learning rate (default: the classifier's).
        seed: seed of the example order and the recovery.
        out: a run directory to write (model.keras, vocabulary, label space, options,
            history; run.json holds the summary), or None. `xdomain-tf export`,
            `evaluate` and `predict` take it like a trained run.
        log: a function taking one line of progress.

    Returns:
        A `PruningResult`.

    Example:

    >>> from xdomain_tf.tasks import MultiDomainTextClassifier
    >>> records = [{"text": "a late goal won the cup", "domain": "news", "label": "sport"},
    ...            {"text": "shares fell on the market", "domain": "news", "label": "business"}] * 8
    >>> clf = MultiDomainTextClassifier.from_preset(
    ...     "bert_mini", domains={"news": ["business", "sport"]}, sequence_length=16,
    ...     vocabulary=[r["text"] for r in records], vocabulary_size=60)
    >>> result = prune(clf, records, heads=0.5, ffn=0.25)
    >>> result.classifier.encoder.encoder_config.layer_attention_heads is not None
    True
    >>> sum(result.classifier.encoder.encoder_config.layer_attention_heads), result.summary["heads"]
    (8, {'before': 16, 'after': 8})
    >>> prune(clf, records, heads=1.0)
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: heads must be a fraction in [0, 1) of what to remove (1 would remove all), got 1.0
    """
    import keras

    from xdomain_tf.models.structured_pruning import check_fraction
    from xdomain_tf.tasks import load_classifier

    log = log or (lambda line: None)
    heads, ffn = check_fraction("heads", heads), check_fraction("ffn", ffn)
    if heads == 0 and ffn == 0:
        raise XDomainError("nothing to prune: heads and ffn are both 0")
    if recovery not in RECOVERIES:
        raise XDomainError(f"recovery must be one of {', '.join(RECOVERIES)}, got {recovery!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("importance_examples", importance_examples)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "epochs" else 1):
            raise XDomainError(f"{name} must be an integer >= {0 if name == 'epochs' else 1}, got {value!r}")
    source = classifier if not isinstance(classifier, keras.Model) else "<classifier>"
    classifier, _ = load_classifier(classifier)
    run, lock = None, None
    if out is not None:
        from xdomain_tf.runs import RunDirectory

        options = {
            "pruned_from": str(source), "train": _paths(data), "valid": _paths(valid), "heads": heads, "ffn": ffn,
            "epochs": epochs, "recovery": recovery, "batch_size": batch_size,
            "importance_examples": importance_examples, "learning_rate": learning_rate, "seed": seed,
            "seq_len": classifier.preprocessor.sequence_length, "default_domain": None,
        }
        run = RunDirectory(out)
        lock = run.claim(options, data_options=tuple(key for key in ("train", "valid") if isinstance(options[key], list)))
    try:
        result = _prune(
            classifier, data, heads, ffn, epochs, recovery, valid, batch_size, importance_examples, learning_rate,
            seed, log,
        )
        if run is not None:
            _save_run(run, result, options, log)
    finally:
        if lock is not None:
            lock.release()
    return result


def _prune(classifier, data, heads, ffn, epochs, recovery, valid, batch_size, importance_examples, learning_rate,
           seed, log):
    import keras

    from xdomain_tf.models.domain_losses import masked_domain_losses
    from xdomain_tf.models.structured_pruning import importance, pruned_encoder, pruning_plan

    summary = {}
    if valid is not None:
        summary["macro_f1_before"] = _macro_f1(classifier, valid)
        log(f"before pruning: macro-F1 {summary['macro_f1_before']}")

    started = time.perf_counter()
    steps = math.ceil(importance_examples / batch_size)
    batches = classifier.dataset(data, batch_size=batch_size, shuffle=True, seed=seed, labelled=True).take(steps)
    names = classifier.domain_names

    def loss_fn(batch):
        features, targets = batch
        logits = classifier(features, training=False)
        return sum(loss for loss, _ in masked_domain_losses(targets, logits, names))

    seen = []

    def counted(batches):
        for batch in batches:
            seen.append(int(batch[0]["token_ids"].shape[0]))
            yield batch

    head_scores, unit_scores = importance(classifier.encoder, loss_fn, counted(batches))
    plan = pruning_plan(head_scores, unit_scores, heads=heads, ffn=ffn)
    encoder = pruned_encoder(classifier.encoder, plan["heads"], plan["units"])
    pruned = _with_encoder(classifier, encoder)
    summary.update(
        {
            "heads_fraction": heads,
            "ffn_fraction": ffn,
            "importance_examples": sum(seen),
            "heads": {"before": sum(len(s) for s in head_scores), "after": sum(len(k) for k in plan["heads"])},
            "units": {"before": sum(len(s) for s in unit_scores), "after": sum(len(k) for k in plan["units"])},
            "heads_per_layer": [len(kept) for kept in plan["heads"]],
            "units_per_layer": [len(kept) for kept in plan["units"]],
            "parameters": {"before": classifier.count_params(), "after": pruned.count_params()},
            "pruning_seconds": round(time.perf_counter() - started, 1),
        }
    )
    log(
        f"pruned {summary['heads']['before'] - summary['heads']['after']} of {summary['heads']['before']} heads "
        f"(per layer {summary['heads_per_layer']}) and {summary['units']['before'] - summary['units']['after']} of "
        f"{summary['units']['before']} feed-forward units (per layer {summary['units_per_layer']}): "
        f"{summary['parameters']['before']:,} -> {summary['parameters']['after']:,} parameters"
    )
    if valid is not None:
        summary["macro_f1_pruned"] = _macro_f1(pruned, valid)
        log(f"after pruning: macro-F1 {summary['macro_f1_pruned']}")

    history = []
    if epochs:
        started = time.perf_counter()
        keras.utils.set_random_seed(seed)
        if recovery == "distill":
            from xdomain_tf.training.distillation import distill

            result = distill(
                classifier, pruned, data, valid=valid, epochs=epochs, batch_size=batch_size,
                learning_rate=learning_rate, seed=seed, log=log,
            )
            pruned, history = result.student, result.history
        else:
            if learning_rate is not None:
                pruned.learning_rate = float(learning_rate)
            fitted = pruned.fit(data, epochs=epochs, batch_size=batch_size, seed=seed, verbose=0)
            history = [
                {key: float(values[epoch]) for key, values in fitted.history.items()} for epoch in range(epochs)
            ]
        summary["recovery"] = {"kind": recovery, "epochs": epochs, "seconds": round(time.perf_counter() - started, 1)}
        if valid is not None:
            summary["macro_f1_recovered"] = _macro_f1(pruned, valid)
            log(f"after {recovery} ({epochs} epochs): macro-F1 {summary['macro_f1_recovered']}")
    return PruningResult(classifier=pruned, plan=plan, summary=summary, history=history)


def _paths(data):
    """The data file paths of `data` (for options.json), or a placeholder for records."""
    import os

    if data is None:
        return None
    if isinstance(data, (str, os.PathLike)):
        return [str(data)]
    if isinstance(data, (list, tuple)) and data and all(isinstance(item, (str, os.PathLike)) for item in data):
        return [str(item) for item in data]
    return "<records>"


def _save_run(run, result, options, log):
    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.utils.atomic import write_json_atomic

    pruned = result.classifier
    write_json_atomic(run.history_path, {"epochs": result.history})
    run.save(
        kind="classifier",
        model=pruned,
        encoder=pruned.encoder,
        encoder_config=pruned.encoder.encoder_config,
        preprocessor=pruned.preprocessor,
        options=options,
        label_space=LabelSpace(pruned.domains),
        extra={"pruning": {**result.summary, "kept_heads": result.plan["heads"]}},
    )
    log(f"wrote {run.path}")


def _with_encoder(classifier, encoder):
    """A classifier like `classifier` (domains, preprocessor, heads' weights) around `encoder`."""
    pruned = type(classifier)(
        encoder,
        classifier.domains,
        preprocessor=classifier.preprocessor,
        dropout=classifier.dropout,
        freeze_encoder=classifier.freeze_encoder,
        pooling=classifier.pooling,
        learning_rate=classifier.learning_rate,
        name=classifier.name,
    )
    for source, target in zip(classifier.heads, pruned.heads):
        target.set_weights(source.get_weights())
    pruned.example_records = list(classifier.example_records)
    return pruned


def _macro_f1(classifier, data):
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report
    from xdomain_tf.training.record_classification import classify_records, evaluate_rows

    report = evaluation_report(evaluate_rows(classify_records(classifier, data), classifier.domains))
    return {domain: round(scores["macro_f1"], 4) for domain, scores in report["domains"].items()}
