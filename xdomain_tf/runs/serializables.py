"""Imports every module that registers Keras-serializable classes, so `.keras` files and
serialized configs of xdomain_tf objects load in any process."""
import importlib

MODULES = (
    "xdomain_tf.layers",
    "xdomain_tf.models",
    "xdomain_tf.text.word_piece_tokenizer",
    "xdomain_tf.text.preprocessor",
    "xdomain_tf.optimizers.warmup_linear_decay",
    "xdomain_tf.optimizers.layerwise_adamw",
)


def register_serializables():
    """Imports the modules above (cheap after the first call).

    Example:

    >>> import keras
    >>> register_serializables()
    >>> keras.saving.get_registered_object("xdomain_tf>TransformerEncoder").__name__
    'TransformerEncoder'
    """
    for name in MODULES:
        importlib.import_module(name)
