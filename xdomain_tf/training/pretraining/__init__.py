"""The pretraining objectives (masked LM, causal LM, contrastive alignment): corpus, input
pipelines, losses, trainer, head weights and held-out evaluation. Names load on first use."""

__all__ = [
    "causal_lm_dataset", "contrastive_dataset", "evaluate_clm", "evaluate_mlm", "info_nce_loss", "lm_masker",
    "load_head_weights", "masked_lm_dataset", "mlm_head_weights_for", "PretrainingCorpus",
    "PretrainingTrainer", "PretrainOptions", "retrieval_accuracy", "save_head_weights",
    "token_cross_entropy",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.training.pretraining.options": ["PretrainOptions"],
        "xdomain_tf.training.pretraining.corpus": ["PretrainingCorpus"],
        "xdomain_tf.training.pretraining.input_pipelines": ["causal_lm_dataset", "contrastive_dataset", "lm_masker", "masked_lm_dataset"],
        "xdomain_tf.training.pretraining.losses": ["info_nce_loss", "retrieval_accuracy", "token_cross_entropy"],
        "xdomain_tf.training.pretraining.trainer": ["PretrainingTrainer"],
        "xdomain_tf.training.pretraining.head_weights": ["load_head_weights", "mlm_head_weights_for", "save_head_weights"],
        "xdomain_tf.training.pretraining.clm_evaluation": ["evaluate_clm"],
        "xdomain_tf.training.pretraining.mlm_evaluation": ["evaluate_mlm"],
    },
)
