"""Keras optimizers and learning-rate schedules of xdomain_tf (registered as serializable).

They sit low in the package order so that a saved, compiled model loads wherever a run
directory is read. Names load on first use."""

__all__ = [
    "LayerwiseAdamW",
    "WarmupLinearDecay",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.optimizers.layerwise_adamw": ["LayerwiseAdamW"],
        "xdomain_tf.optimizers.warmup_linear_decay": ["WarmupLinearDecay"],
    },
)
