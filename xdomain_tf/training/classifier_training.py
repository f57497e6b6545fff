"""`train_classifier`: the Python API behind `xdomain-tf train`."""
import keras
import numpy as np

from xdomain_tf.data.label_space import LabelSpace
from xdomain_tf.data.pipeline import make_dataset
from xdomain_tf.data.readers import read_records
from xdomain_tf.training.callbacks.domain_adversary_schedule import DomainAdversarySchedule
from xdomain_tf.training.callbacks.gradual_unfreezing import apply_unfreezing
from xdomain_tf.training.callbacks.mean_of_domains import MeanOfDomains
from xdomain_tf.training.encoder_preparation import prepare_encoder
from xdomain_tf.training.multi_domain_trainer import MultiDomainTrainer
from xdomain_tf.training.training_run import compile_and_build, epoch_steps, fit_and_keep_best, log_parameter_count
from xdomain_tf.training.training_run import run_training, standard_callbacks, training_optimizer, with_known_cardinality


def train_classifier(options, callbacks=None, log=print):
    """Trains a multi-domain classifier and writes its run directory.

    Domains and label sets come from the training data. Running the same call again after
    an interruption resumes from the last checkpoint in `options.out`.

    The run directory's `model.keras` is a `MultiDomainTextClassifier` (tokenizer and
    labels inside): load it with `MultiDomainTextClassifier.from_preset(run_dir)` or
    `keras.saving.load_model`.

    Args:
        options: a `TrainOptions`.
        callbacks: more Keras callbacks for the fit (e.g. `keras.callbacks.TensorBoard`),
            called after the run's own.
        log: where progress lines go.

    Returns:
        A dict summary: run directory, steps, trainable and total parameters, best
        validation score, per-domain validation metrics of the last epoch.

    Example:

    >>> from xdomain_tf.training.train_options import TrainOptions
    >>> summary = train_classifier(TrainOptions(train=["train.jsonl"], out="runs/demo"))  # doctest: +SKIP
    """
    extra_callbacks = list(callbacks or [])
    return run_training(
        options, lambda *arguments: _train(*arguments, extra_callbacks=extra_callbacks), log
    )


def _train(options, run, distribution, chief, log, extra_callbacks=()):
    keras.utils.set_random_seed(options.seed)

    label_space = _label_space(run, options)
    log(f"domains: {', '.join(f'{d} ({len(label_space.labels(d))} labels)' for d in label_space.domains)}")
    with distribution.scope():
        prepared = prepare_encoder(
            options.init,
            run,
            texts=lambda: (r["text"] for r in read_records(options.train, options.default_domain, on_error="skip")),
            vocab_size=options.vocab_size,
            seq_len=options.seq_len,
            num_adapters=label_space.num_domains if options.adapters else 0,
            adapter_reduction_factor=options.adapter_reduction,
            lora_rank=options.lora_rank,
            log=log,
        )
        encoder, preprocessor = prepared.encoder, prepared.preprocessor
        from xdomain_tf.models import MaskedSparseCategoricalAccuracy
        from xdomain_tf.tasks import MultiDomainTextClassifier

        freeze = "base" if (options.adapters or options.lora_rank) else bool(options.freeze_encoder)
        classifier = MultiDomainTextClassifier(
            encoder,
            {d: list(label_space.labels(d)) for d in label_space.domains},
            preprocessor=preprocessor,
            dropout=options.dropout,
            freeze_encoder=freeze,
            pooling=options.pooling,
            learning_rate=options.learning_rate or (5e-5 if prepared.pretrained else 1e-3),
        )
        trainer = MultiDomainTrainer(
            classifier,
            label_space.domains,
            loss_weighting=options.loss_weighting,
            domain_weights=options.domain_weights,
            adversarial=options.adversarial,
            adversarial_weight=options.adversarial_weight,
            class_weights=_class_weights(options, label_space, log),
        )

        steps_per_epoch, total_steps = _steps(options)
        compile_and_build(
            trainer,
            training_optimizer(options, total_steps, prepared.config.num_hidden_layers, prepared.pretrained),
            options,
            _dummy_batch(),
            metrics={d: [MaskedSparseCategoricalAccuracy(name="accuracy")] for d in label_space.domains},
        )
        if options.unfreeze == "gradual":
            apply_unfreezing(encoder, 0)
    trainable, total = log_parameter_count(trainer, log)

    # Replicas must see batches of one width; length bucketing is for single-replica runs.
    bucketing = distribution.num_replicas_in_sync == 1

    def train_data():
        return make_dataset(
            options.train, preprocessor, label_space, options.batch_size, training=True, bucketing=bucketing,
            alpha=options.alpha, seed=options.seed, default_domain=options.default_domain, on_error=options.on_error,
            label_sampling=options.label_sampling,
        )

    valid_data = None
    if options.valid:
        valid_data = make_dataset(
            options.valid, preprocessor, label_space, options.batch_size, training=False, bucketing=bucketing,
            default_domain=options.default_domain, on_error=options.on_error,
        )
        valid_data = with_known_cardinality(valid_data)
    monitor = "val_mean_accuracy" if valid_data is not None else "mean_accuracy"
    callbacks, keeper = standard_callbacks(run, options, monitor, chief)
    callbacks.insert(0, MeanOfDomains(label_space.domains))
    if options.adversarial:
        callbacks.append(DomainAdversarySchedule(trainer.reversal, total_steps))
    callbacks.extend(extra_callbacks)
    before_epoch = (lambda epoch: log(f"epoch {epoch + 1}: {apply_unfreezing(encoder, epoch)} encoder block(s) training")) if (
        options.unfreeze == "gradual"
    ) else None

    step = fit_and_keep_best(
        trainer, train_data, run, options, keeper, chief=chief, steps_per_epoch=steps_per_epoch, total_steps=total_steps,
        validation_data=valid_data, callbacks=callbacks, before_epoch=before_epoch, log=log,
    )
    encoder.trainable = True
    summary = {
        "run_dir": str(run.path),
        "steps": step,
        "parameters": total,
        "trainable_parameters": trainable,
        "best_epoch": keeper.best_epoch,
        "best": {monitor: keeper.best},
        "loss_weights": trainer.uncertainty_weights(),
    }
    if chief:  # the scratch folder of other workers is deleted anyway
        run.save(
            kind="classifier",
            model=classifier,
            encoder=encoder,
            encoder_config=prepared.config,
            preprocessor=preprocessor,
            options=options.to_dict(),
            label_space=label_space,
            extra={"summary": summary},
        )
        log(f"wrote {run.path}")
    return summary


def _label_space(run, options):
    if run.label_space_path.exists():
        return LabelSpace.from_json(run.label_space_path)
    records = read_records(options.train, options.default_domain, on_error=options.on_error)
    label_space = LabelSpace.from_records(records)
    run.path.mkdir(parents=True, exist_ok=True)
    label_space.to_json(run.label_space_path)
    return label_space


def _class_weights(options, label_space, log):
    """The label weights of `options.class_weights` (None for none), logged per domain."""
    from xdomain_tf.data.class_weights import label_counts, resolve_class_weights

    if options.class_weights == "none":
        return None
    counts = None
    if options.class_weights == "balanced":
        records = read_records(options.train, options.default_domain, on_error="skip")
        counts = label_counts(records, label_space)
    weights = resolve_class_weights(options.class_weights, label_space, counts)
    for domain, values in weights.items():
        shown = ", ".join(f"{label} {value:.3g}" for label, value in zip(label_space.labels(domain), values))
        log(f"class weights of {domain}: {shown}")
    return weights


def _steps(options):
    """Steps per epoch (one pass over the training examples) and total steps."""
    return epoch_steps(sum(1 for _ in read_records(options.train, options.default_domain, on_error="skip")), options)


def _dummy_batch():
    ids = np.zeros((1, 8), "int32")
    return {"token_ids": ids, "segment_ids": ids, "padding_mask": np.ones_like(ids), "domain_id": np.zeros((1,), "int32")}
