"""The run directory: what `train` and `pretrain` write and `evaluate`, `export`, `predict`
and `--init` read, and the registration of the Keras classes its `.keras` files need.

Nothing here imports TensorFlow until a model is saved or loaded."""

__all__ = [
    "register_serializables",
    "RunDirectory",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.runs.run_directory": ["RunDirectory"],
        "xdomain_tf.runs.serializables": ["register_serializables"],
    },
)
