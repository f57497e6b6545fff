"""Keras callbacks of a training run. Names load on first use."""

__all__ = [
    "apply_unfreezing", "BestModelKeeper", "DomainAdversarySchedule", "MeanOfDomains",
    "MetricsHistory", "ResumableCheckpoint", "TerminateOnNonFinite", "unfrozen_blocks",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.training.callbacks.best_model_keeper": ["BestModelKeeper"],
        "xdomain_tf.training.callbacks.domain_adversary_schedule": ["DomainAdversarySchedule"],
        "xdomain_tf.training.callbacks.gradual_unfreezing": ["apply_unfreezing", "unfrozen_blocks"],
        "xdomain_tf.training.callbacks.mean_of_domains": ["MeanOfDomains"],
        "xdomain_tf.training.callbacks.metrics_history": ["MetricsHistory"],
        "xdomain_tf.training.callbacks.resumable_checkpoint": ["ResumableCheckpoint"],
        "xdomain_tf.training.callbacks.terminate_on_non_finite": ["TerminateOnNonFinite"],
    },
)
