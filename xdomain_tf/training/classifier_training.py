"""`train_classifier`: the Python API behind `xdomain-tf train`."""
import keras
import numpy as np
import tensorflow as tf

from xdomain_tf.data.distributed_input import PerWorkerDataset, input_workers
from xdomain_tf.data.label_space import LabelSpace
from xdomain_tf.data.pipeline import make_dataset
from xdomain_tf.data.readers import read_records
from xdomain_tf.training.callbacks.domain_adversary_schedule import DomainAdversarySchedule
from xdomain_tf.training.callbacks.gradual_unfreezing import apply_unfreezing
from xdomain_tf.training.callbacks.mean_of_domains import MeanOfDomains
from xdomain_tf.training.encoder_preparation import prepare_encoder
from xdomain_tf.training.multi_domain_trainer import ALIGN_INPUT, MultiDomainTrainer
from xdomain_tf.training.training_run import compile_and_build, epoch_steps, fit_and_keep_best, log_parameter_count
from xdomain_tf.training.training_run import run_training, standard_callbacks, training_optimizer, with_known_cardinality


def train_classifier(options, callbacks=None, log=print, augment=None):
    """Trains a multi-domain classifier and writes its run directory.

    Domains and label sets come from the training data. Running the same call again after
    an interruption resumes from the last checkpoint in `options.out`.

    With `options.align_pairs`, translation-pair alignment trains beside the classifier
    (see `MultiDomainTrainer`; `align_loss` in the history).

    The run directory's `model.keras` is a `MultiDomainTextClassifier` (tokenizer and
    labels inside): load it with `MultiDomainTextClassifier.from_preset(run_dir)` or
    `keras.saving.load_model`.

    Args:
        options: a `TrainOptions`.
        callbacks: more Keras callbacks for the fit (e.g. `keras.callbacks.TensorBoard`),
            called after the run's own.
        log: where progress lines go.
        augment: more augmentation steps for the training batches, after those of
            `options.augment_pairs` and `options.augment` (validation data is never
            augmented): `xdomain_tf.data.augmentation` steps such as `TokenMasking(0.1)`,
            or callables mapping a `tf.string` batch of texts to augmented texts (see
            `make_dataset`).

    Returns:
        A dict summary: run directory, steps, trainable and total parameters, best
        validation score, per-domain validation metrics of the last epoch.

    Example:

    >>> from xdomain_tf.training.train_options import TrainOptions
    >>> summary = train_classifier(TrainOptions(train=["train.jsonl"], out="runs/demo"))  # doctest: +SKIP
    >>> import tensorflow as tf
    >>> from xdomain_tf.data.augmentation import TokenMasking
    >>> summary = train_classifier(TrainOptions(train=["train.jsonl"], out="runs/aug", augment="delete:0.1"),
    ...                            augment=[TokenMasking(0.1), tf.strings.lower])  # doctest: +SKIP
    >>> summary = train_classifier(TrainOptions(train=["train.jsonl"], out="runs/aligned",
    ...                                         align_pairs="pairs-de.jsonl", align_weight=0.5))  # doctest: +SKIP
    """
    extra_callbacks = list(callbacks or [])
    extra_augment = [augment] if callable(augment) else list(augment or [])
    return run_training(
        options,
        lambda *arguments: _train(*arguments, extra_callbacks=extra_callbacks, extra_augment=extra_augment),
        log,
    )


def _train(options, run, distribution, chief, log, extra_callbacks=(), extra_augment=()):
    keras.utils.set_random_seed(options.seed)

    label_space = _label_space(run, options)
    log(f"domains: {', '.join(f'{d} ({len(label_space.labels(d))} labels)' for d in label_space.domains)}")
    pairs = _alignment_pairs(options, distribution, log)
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
            align_weight=options.align_weight if pairs is not None else 0.0,
            align_temperature=options.align_temperature,
        )

        translate = _translate_train(options, log)
        steps_per_epoch, total_steps = _steps(options, translate)
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
    augment = _augmentations(options, preprocessor, translate, log) + list(extra_augment)

    def train_data(input_context=None):
        data = make_dataset(
            options.train, preprocessor, label_space, options.batch_size, training=True, bucketing=bucketing,
            alpha=options.alpha, seed=options.seed, default_domain=options.default_domain, on_error=options.on_error,
            label_sampling=options.label_sampling, augment=augment, augment_seed=options.augment_seed,
            input_context=input_context, data_service=options.data_service,
        )
        if pairs is None:
            return data
        return _with_pairs(data, pairs, preprocessor, options, distribution.num_replicas_in_sync, input_context)

    if options.data_service:
        log(f"training input pipeline on the tf.data service {options.data_service}")

    train_input = train_data
    if input_workers(distribution) > 1:
        # Each worker reads and tokenizes its own shards (files, else every n-th record),
        # rather than tf.distribute's fallback for generator datasets: every worker reading
        # and tokenizing everything, then keeping its slice of each batch.
        train_input = lambda: PerWorkerDataset(train_data, distribution)  # noqa: E731

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
        trainer, train_input, run, options, keeper, chief=chief, steps_per_epoch=steps_per_epoch, total_steps=total_steps,
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


def _steps(options, translate=None):
    """Steps per epoch (one pass over the training examples, translations included) and total steps."""
    records = read_records(options.train, options.default_domain, on_error="skip")
    return epoch_steps(sum(1 + len(translate(record) if translate else ()) for record in records), options)


def _translate_train(options, log):
    """The `TranslateTrain` step of `options.augment_pairs` (None without it)."""
    if options.augment_pairs is None:
        return None
    from xdomain_tf.data.augmentation import TranslateTrain

    translate = TranslateTrain(options.augment_pairs)
    log(f"translate-train: {len(translate.translations)} source texts with translations in {options.augment_pairs}")
    return translate


def _augmentations(options, preprocessor, translate, log):
    """The augmentation steps of the options: translate-train, then `options.augment`."""
    from xdomain_tf.data.augmentation import augmentations_from_spec, parse_augment_spec

    masked_lm = None
    if any(name == "mlm_replace" for name, _ in parse_augment_spec(options.augment)):
        masked_lm = _augment_masked_lm(options.augment_mlm, preprocessor)
    steps = ([translate] if translate else []) + augmentations_from_spec(options.augment, masked_lm)
    if steps:
        log(f"augmentation of the training batches: {', '.join(map(repr, steps))}")
    return steps


def _augment_masked_lm(path, preprocessor):
    """The `MaskedLM` of `augment_mlm`: its encoder and trained head, on the classifier's vocabulary."""
    from xdomain_tf.checkpoints.init_resolution import resolve_init
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.models.masked_lm import MaskedLM
    from xdomain_tf.training.pretraining.head_weights import mlm_head_weights_for

    initialized = resolve_init(str(path))
    if initialized.encoder is None:
        raise XDomainError(f"augment_mlm {path} is an architecture without weights; give a pretrain run directory")
    weights = initialized.mlm_head_weights
    if weights is None:
        weights = mlm_head_weights_for(path)
    if weights is None:
        raise XDomainError(f"augment_mlm {path} has no masked-LM head (a run of pretrain with objective mlm has one)")
    vocabulary = getattr(initialized.tokenizer, "vocabulary", None)
    if vocabulary is None or list(vocabulary) != list(preprocessor.tokenizer.vocabulary):
        raise XDomainError(
            f"augment_mlm {path} has another vocabulary than the classifier; train from it (init {path}) or from "
            "an encoder with the same vocab.txt"
        )
    return MaskedLM(initialized.encoder, mlm_head_weights=weights)


def _alignment_pairs(options, distribution, log):
    """The translation pairs of `options.align_pairs` as a `PretrainingCorpus` grouped by
    language (None when alignment is off)."""
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.errors import DataError, XDomainError
    from xdomain_tf.training.pretraining.corpus import PretrainingCorpus

    if options.align_pairs is None or not options.align_weight:
        return None
    replicas = distribution.num_replicas_in_sync
    records = []
    for record, path, line in read_records(
        options.align_pairs, default_domain="pairs", require_label=False, on_error=options.on_error, with_location=True
    ):
        if "text_pair" not in record:
            raise DataError("a translation pair needs text_pair (the translation)", path=path, line=line,
                            field="text_pair")
        records.append(record)
    corpus = PretrainingCorpus.from_records(records, group_by="lang")
    if corpus.num_pairs() < 2 * replicas:
        per_replica = f" (2 per replica, {replicas} replicas)" if replicas > 1 else ""
        raise XDomainError(f"align_pairs {options.align_pairs}: {corpus.num_pairs()} pair(s); the in-batch "
                           f"contrastive loss needs at least {2 * replicas}{per_replica}")
    sizes = ", ".join(f"{group} {len(values)}" for group, values in corpus.pairs.items())
    log(f"alignment: {corpus.num_pairs()} translation pairs ({sizes}), weight {options.align_weight:g}, "
        f"temperature {options.align_temperature:g}")
    return corpus


def _with_pairs(data, corpus, preprocessor, options, replicas=1, input_context=None):
    """Adds one batch of translation pairs to every training batch, as `features["align"]`.

    The pairs are their own stream rather than a source of the domain mixture: the
    classification batches stay exactly what they are without alignment, and every step
    gets a full batch of in-batch negatives. Within the stream, language pairs are drawn
    by the same temperature sampling (`alpha`) as the domains, shuffled and repeated
    under `seed` (`contrastive_dataset`, as pretraining's contrastive objective). Under
    several replicas (`input_context` of this input pipeline) each replica gets its
    slice of the global pairs batch beside its slice of the classification batch, and
    its in-batch negatives are its own pairs.
    """
    from xdomain_tf.training.pretraining.input_pipelines import contrastive_dataset

    batch_size = min(options.batch_size, corpus.num_pairs() // replicas * replicas)
    pairs = contrastive_dataset(corpus, preprocessor, batch_size, training=True, alpha=options.alpha,
                                seed=options.seed, data_service=options.data_service, input_context=input_context)
    pairs = pairs.map(lambda batch: {key: value for key, value in batch.items() if key != "domain_id"})
    return tf.data.Dataset.zip(data, pairs).map(
        lambda batch, pair: ({**batch[0], ALIGN_INPUT: pair}, batch[1]), num_parallel_calls=tf.data.AUTOTUNE
    )


def _dummy_batch():
    ids = np.zeros((1, 8), "int32")
    return {"token_ids": ids, "segment_ids": ids, "padding_mask": np.ones_like(ids), "domain_id": np.zeros((1,), "int32")}
