"""Where a run computes: `tf.distribute` strategies, mixed precision, multi-worker workarounds.

Names load on first use."""

__all__ = [
    "is_chief", "jit_compile_setting", "LocalSymbolicBuild", "patch_keras_multi_worker_reduce",
    "set_precision", "strategy", "tpu_strategy",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.training.distribution.strategies": ["is_chief", "strategy", "tpu_strategy"],
        "xdomain_tf.training.distribution.precision": ["jit_compile_setting", "set_precision"],
        "xdomain_tf.training.distribution.keras_multi_worker_patch": ["patch_keras_multi_worker_reduce"],
        "xdomain_tf.training.distribution.local_symbolic_build": ["LocalSymbolicBuild"],
    },
)
