"""Small helpers shared by the layers: initializer cloning, BERT's default initializer."""
import keras


def clone_initializer(initializer):
    """A fresh copy, so that layers never share one initializer object (and its seed)."""
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())


def default_kernel_initializer():
    """BERT's weight initialization: truncated normal with standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=0.02)
