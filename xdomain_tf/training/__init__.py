"""Training runs: fine-tuning a multi-domain classifier, pretraining, transfer studies.

- `train_classifier`, `train_pretraining`, `transfer_experiment`: the Python API behind
  `xdomain-tf train`, `pretrain` and `transfer`; `TrainOptions` / `PretrainOptions` hold
  their options.
- `prune`: structured pruning of a classifier's attention heads and feed-forward units
  (`xdomain-tf prune`).
- `callbacks`: Keras callbacks of a run (best-model keeping, resumable checkpoints, metric
  history, schedules).
- `distribution`: `tf.distribute` strategies, precision, multi-worker workarounds.
- `pretraining`: corpora, input pipelines, losses, trainer and evaluation of the
  pretraining objectives.

Names load on first use (`import xdomain_tf.training` does not import TensorFlow)."""

__all__ = [
    "callbacks", "classify_records", "distribution", "evaluate_rows", "MultiDomainTrainer",
    "prepare_encoder", "PreparedEncoder", "pretraining", "prune", "PruningResult", "PretrainOptions", "resumable_fit",
    "run_training", "train_classifier", "train_pretraining", "TrainOptions",
    "transfer_experiment",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.training.classifier_training": ["train_classifier"],
        "xdomain_tf.training.classifier_pruning": ["prune", "PruningResult"],
        "xdomain_tf.training.pretraining_run": ["train_pretraining"],
        "xdomain_tf.training.transfer_study": ["transfer_experiment"],
        "xdomain_tf.training.train_options": ["TrainOptions"],
        "xdomain_tf.training.pretraining.options": ["PretrainOptions"],
        "xdomain_tf.training.record_classification": ["classify_records", "evaluate_rows"],
        "xdomain_tf.training.encoder_preparation": ["PreparedEncoder", "prepare_encoder"],
        "xdomain_tf.training.fit_resumption": ["resumable_fit"],
        "xdomain_tf.training.multi_domain_trainer": ["MultiDomainTrainer"],
        "xdomain_tf.training.training_run": ["run_training"],
        "xdomain_tf.training.callbacks": ["callbacks"],
        "xdomain_tf.training.distribution": ["distribution"],
        "xdomain_tf.training.pretraining": ["pretraining"],
    },
)
