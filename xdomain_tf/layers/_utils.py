"""Small helpers shared by the layers: option checks, initializer cloning, BERT's default initializer."""
import keras

from xdomain_tf.errors import XDomainError


def check_choice(argument, value, choices):
    """Raises `XDomainError` unless `value` is one of `choices` (the message names `argument`)."""
    if value not in choices:
        raise XDomainError(f"{argument} must be one of {choices}, got {value!r}")


def clone_initializer(initializer):
    """A fresh copy, so that layers never share one initializer object (and its seed)."""
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())


def default_kernel_initializer():
    """BERT's weight initialization: truncated normal with standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=0.02)
