"""Small helpers shared by the layers: activations by name, initializer cloning."""
import keras

from xdomain_tf.errors import XDomainError


def _gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


_ACTIVATIONS = {
    "gelu": _gelu_exact,
    "gelu_new": _gelu_tanh,
    "gelu_approximate": _gelu_tanh,
    "relu": keras.activations.relu,
    "silu": keras.activations.silu,
    "swish": keras.activations.silu,
    "tanh": keras.activations.tanh,
    "linear": keras.activations.linear,
}


def get_activation(name):
    """The activation function called `name`; `"gelu"` is the exact erf GELU (as BERT)."""
    if name not in _ACTIVATIONS:
        raise XDomainError(f"Unknown activation {name!r}; known: {', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[name]


def clone_initializer(initializer):
    """A fresh copy, so that layers never share one initializer object (and its seed)."""
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())


def default_kernel_initializer():
    """BERT's weight initialization: truncated normal with standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=0.02)
