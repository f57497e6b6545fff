"""`train_pretraining`: the Python API behind `xdomain-tf pretrain`."""
import json

import keras
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.text.domain_tokens import domain_token_ids
from xdomain_tf.training.encoder_preparation import prepare_encoder
from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
from xdomain_tf.training.pretraining.head_weights import HEAD_FILE, mlm_head_weights_for, save_head_weights
from xdomain_tf.training.pretraining.input_pipelines import causal_lm_dataset, contrastive_dataset, lm_masker, masked_lm_dataset
from xdomain_tf.training.pretraining.trainer import PretrainingTrainer
from xdomain_tf.training.training_run import compile_and_build, epoch_steps, fit_and_keep_best, log_parameter_count
from xdomain_tf.training.training_run import run_training, standard_callbacks, training_optimizer, with_known_cardinality
from xdomain_tf.utils.atomic import write_json_atomic


def train_pretraining(options, log=print):
    """Pretrains (or continues pretraining) an encoder and writes its run directory.

    The objectives of `options.objective` share one encoder and train together, each
    step on one batch of every objective; groups (domains or languages) are mixed by
    temperature sampling (`options.alpha`). The encoder starts from `options.init` (a
    preset with a new WordPiece vocabulary, `all-minilm-l6-v2`, a Hugging Face folder or
    a run directory; its masked-LM head too when it has one). Running the same call again
    after an interruption resumes from the last checkpoint. The run directory
    (`kind="pretrain"`) holds `model.keras` (the masked LM, the causal LM as a
    `MultiDomainCausalLM` with its tokenizer and domain tokens, or the contrastive
    model), `encoder.weights.h5` + `encoder_config.json`, `preprocessor.json`,
    `vocab.txt`, `mlm_head.npz` and is accepted by `--init` of `train` and `pretrain`.
    A causal LM is conditioned on each text's group (domain, or language with
    `group_by`) by a reserved `[domain:NAME]` token in place of `[CLS]`, except for an
    `unconditioned_rate` fraction of texts.

    Args:
        options: a `PretrainOptions`.
        log: where progress lines go.

    Returns:
        A dict summary: run directory, steps, parameters, groups, the validation metrics
        before (with `report_before`) and after training.

    Example:

    >>> from xdomain_tf.training.pretraining.options import PretrainOptions
    >>> summary = train_pretraining(PretrainOptions(train=["corpus.jsonl"], out="runs/mlm"))  # doctest: +SKIP
    """
    return run_training(options, _train, log)


def _train(options, run, distribution, chief, log):
    keras.utils.set_random_seed(options.seed)
    objectives = options.objectives
    corpus_options = dict(
        default_domain=options.default_domain, on_error=options.on_error, group_by=options.group_by,
        languages=options.language_list, pair_source_lang=options.pair_source_lang,
    )
    corpus = PretrainingCorpus.from_files(options.train, **corpus_options)
    valid_corpus = PretrainingCorpus.from_files(options.valid, **corpus_options) if options.valid else None
    groups = sorted(set(corpus.text_groups) | set(valid_corpus.text_groups if valid_corpus else []))
    _check_corpus(corpus, objectives)
    log(
        f"pretraining {'+'.join(objectives)} on {corpus.num_texts():,} texts "
        f"({', '.join(f'{g} {n:,}' for g, n in corpus.sizes().items())}), {corpus.num_pairs():,} translation pairs"
    )

    with distribution.scope():
        prepared = prepare_encoder(
            options.init, run, texts=lambda: (t for values in corpus.texts.values() for t in values),
            vocab_size=options.vocab_size, seq_len=options.seq_len, lora_rank=options.lora_rank,
            causal="clm" in objectives, domain_tokens=groups if options.domain_conditioned else (), log=log,
        )
        encoder, preprocessor = prepared.encoder, prepared.preprocessor
        models = _build_models(encoder, preprocessor, groups, options, objectives, log)
        if options.lora_rank:
            encoder.freeze_base_weights()
        elif options.freeze_encoder:
            encoder.trainable = False
        if not options.sentence_objective:
            encoder.pooler.trainable = False  # only NSP/SOP read the pooled output
        trainer = PretrainingTrainer(**models, groups=groups, objective_weights=options.objective_weights)
        steps_per_epoch, total_steps = _steps(options, corpus, objectives)
        compile_and_build(
            trainer,
            training_optimizer(options, total_steps, prepared.config.num_hidden_layers, prepared.pretrained),
            options,
            trainer.dummy_batch(),
        )
    trainable, total = log_parameter_count(trainer, log)

    masker = lm_masker(preprocessor.tokenizer, options.mask_rate, options.predictions_per_sequence, options.whole_word)
    # Replicas must see batches of one width; length bucketing is for single-replica runs.
    bucketing = distribution.num_replicas_in_sync == 1
    builder = _DataBuilder(options, objectives, preprocessor, masker, groups, bucketing)
    valid_data = with_known_cardinality(builder.validation(valid_corpus)) if valid_corpus is not None else None

    summary = {"run_dir": str(run.path), "objectives": objectives, "groups": groups}
    checkpoint_dir = RunDirectory(options.out).checkpoint_dir
    resuming = checkpoint_dir.exists() and any(checkpoint_dir.iterdir())
    before_path = run.path / "before.json"
    if options.report_before and valid_data is not None:
        if before_path.exists():
            summary["before"] = json.loads(before_path.read_text(encoding="utf-8"))
        elif not resuming:
            summary["before"] = _evaluate(trainer, valid_data)
            write_json_atomic(before_path, summary["before"])
        if "before" in summary:
            log("before training: " + _format(summary["before"]))

    monitor = "val_loss" if valid_data is not None else "loss"
    callbacks, keeper = standard_callbacks(run, options, monitor, chief)
    step = fit_and_keep_best(
        trainer, lambda: builder.training(corpus), run, options, keeper, chief=chief,
        steps_per_epoch=steps_per_epoch, total_steps=total_steps, validation_data=valid_data, callbacks=callbacks,
        keep_best=valid_data is not None, log=log,
    )
    encoder.trainable = True
    encoder.pooler.trainable = True
    if valid_data is not None:
        summary["after"] = _evaluate(trainer, valid_data)
        log("after training: " + _format(summary["after"]))
    summary.update(steps=step, parameters=total, trainable_parameters=trainable, best_epoch=keeper.best_epoch)
    if chief:
        head = models["masked_lm"].mlm_head if models["masked_lm"] is not None else None
        if head is not None:
            from xdomain_tf.checkpoints.mlm_head_weights import mlm_head_weights_of

            save_head_weights(run.path / HEAD_FILE, mlm_head_weights_of(head))
        primary = next(model for model in models.values() if model is not None)
        run.save(
            kind="pretrain",
            model=primary,
            encoder=primary.encoder,
            encoder_config=prepared.config,
            preprocessor=preprocessor,
            options=options.to_dict(),
            extra={
                "summary": summary, "objectives": objectives, "groups": groups,
                **({"domains": groups} if options.domain_conditioned else {}),
            },
        )
        log(f"wrote {run.path}")
    return summary


class _DataBuilder:
    """Builds the zipped `{objective: batch}` datasets of a run."""

    def __init__(self, options, objectives, preprocessor, masker, groups, bucketing):
        self.options, self.objectives = options, objectives
        self.preprocessor, self.masker, self.groups = preprocessor, masker, groups
        self.bucketing = bucketing

    def _parts(self, corpus, training):
        o = self.options
        common = dict(training=training, alpha=o.alpha, seed=o.seed, data_service=o.data_service if training else None)
        parts = {}
        if "mlm" in self.objectives and corpus.texts:
            parts["mlm"] = masked_lm_dataset(
                corpus, self.preprocessor, self.masker, o.batch_size, self.groups, mask_seed=o.mask_seed,
                sentence_objective=o.sentence_objective, bucketing=self.bucketing, **common,
            )
        if "clm" in self.objectives and corpus.texts:
            conditioning = {}
            if o.domain_conditioned:
                conditioning = dict(
                    domain_token_ids=domain_token_ids(self.preprocessor.tokenizer, self.groups),
                    unconditioned_rate=o.unconditioned_rate,
                )
            parts["clm"] = causal_lm_dataset(
                corpus, self.preprocessor, o.batch_size, self.groups, bucketing=self.bucketing, **conditioning, **common
            )
        if "contrastive" in self.objectives and corpus.pairs:
            parts["contrastive"] = contrastive_dataset(corpus, self.preprocessor, o.batch_size, **common)
        return parts

    def training(self, corpus):
        return tf.data.Dataset.zip(self._parts(corpus, True)).prefetch(tf.data.AUTOTUNE)

    def validation(self, corpus):
        """One pass over the largest objective's validation data; smaller ones repeat."""
        parts = self._parts(corpus, False)
        if not parts:
            raise XDomainError(f"the validation data has nothing for the objectives {', '.join(self.objectives)}")
        sizes = {"mlm": corpus.num_texts(), "clm": corpus.num_texts(), "contrastive": corpus.num_pairs()}
        longest = max(parts, key=lambda name: sizes[name])
        parts = {name: part if name == longest else part.repeat() for name, part in parts.items()}
        return tf.data.Dataset.zip(parts).prefetch(tf.data.AUTOTUNE)


def _build_models(encoder, preprocessor, groups, options, objectives, log):
    from xdomain_tf.models import ContrastiveAligner, MaskedLM
    from xdomain_tf.tasks.multi_domain_causal_lm import MultiDomainCausalLM

    models = {"masked_lm": None, "causal_lm": None, "contrastive": None}
    if "mlm" in objectives:
        head_weights = mlm_head_weights_for(options.init)
        log("masked-LM head: " + ("from the checkpoint" if head_weights is not None else "new, tied to the token embedding"))
        models["masked_lm"] = MaskedLM(
            encoder, options.sentence_objective, mlm_head_weights=head_weights, name="masked_lm"
        )
    if "clm" in objectives:
        domains = groups if options.domain_conditioned else []
        models["causal_lm"] = MultiDomainCausalLM(encoder, preprocessor, domains=domains, name="causal_lm")
    if "contrastive" in objectives:
        models["contrastive"] = ContrastiveAligner(
            encoder, options.temperature, options.learn_temperature, name="contrastive_aligner"
        )
    return models


def _check_corpus(corpus, objectives):
    if any(name in objectives for name in ("mlm", "clm")) and not corpus.texts:
        raise XDomainError("the training data has no text for masked/causal LM")
    if "contrastive" in objectives and not corpus.pairs:
        raise XDomainError(
            "objective contrastive needs translation pairs (records with text and text_pair) in train"
        )


def _steps(options, corpus, objectives):
    """Steps per epoch (one pass over the largest objective's examples) and total steps."""
    count = max(
        corpus.num_texts() if any(name in objectives for name in ("mlm", "clm")) else 0,
        corpus.num_pairs() if "contrastive" in objectives else 0,
    )
    return epoch_steps(count, options)


def _evaluate(trainer, dataset):
    results = trainer.evaluate(dataset, verbose=0, return_dict=True)
    return {key: float(value) for key, value in results.items()}


def _format(metrics):
    shown = [f"{key} {value:.4f}" for key, value in metrics.items() if key.endswith(("loss", "accuracy"))]
    return ", ".join(shown)
