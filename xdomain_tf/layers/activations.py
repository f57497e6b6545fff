"""Activations by name: the one table the layers, `EncoderConfig.hidden_act` and the
Hugging Face checkpoint reader and writer share."""
import keras

from xdomain_tf.errors import XDomainError


def _gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


# Our name -> (the Keras function, the name Hugging Face transformers' ACT2FN gives it).
# `"gelu"` is the exact erf GELU (as BERT); `"gelu_new"`/`"gelu_approximate"` the tanh one.
ACTIVATIONS = {
    "gelu": (_gelu_exact, "gelu"),
    "gelu_new": (_gelu_tanh, "gelu_new"),
    "gelu_approximate": (_gelu_tanh, "gelu_new"),
    "relu": (keras.activations.relu, "relu"),
    "silu": (keras.activations.silu, "silu"),
    "swish": (keras.activations.silu, "silu"),
    "tanh": (keras.activations.tanh, "tanh"),
    "linear": (keras.activations.linear, "linear"),
}
# Hugging Face names that are not ours, and the activation of ours that computes them.
_HF_ALIASES = {"gelu_python": "gelu", "gelu_pytorch_tanh": "gelu_approximate", "gelu_fast": "gelu_approximate"}


def get_activation(name):
    """The Keras function of the activation called `name` (a key of `ACTIVATIONS`).

    Example:

    >>> import numpy as np
    >>> round(float(get_activation("gelu")(np.array([1.0], "float32"))[0]), 4)
    0.8413
    >>> get_activation("gelu_new") is get_activation("gelu_approximate")
    True
    """
    check_activation(name)
    return ACTIVATIONS[name][0]


def check_activation(name, argument="activation"):
    """Raises `XDomainError` unless `name` is a key of `ACTIVATIONS`.

    Args:
        name: the value to check.
        argument: how the error message names it.

    Example:

    >>> check_activation("mish", "hidden_act")
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: hidden_act 'mish' is not one of gelu, gelu_new, gelu_approximate, relu, silu, swish, tanh, linear
    """
    if name not in ACTIVATIONS:
        raise XDomainError(f"{argument} {name!r} is not one of {', '.join(ACTIVATIONS)}")


def hf_activation_name(name):
    """The Hugging Face (`config.json` `hidden_act`) name of our activation `name`.

    Example:

    >>> hf_activation_name("gelu_approximate"), hf_activation_name("swish")
    ('gelu_new', 'silu')
    """
    check_activation(name)
    return ACTIVATIONS[name][1]


def activation_from_hf(hf_name):
    """Our name of the Hugging Face activation `hf_name`, or None for one we do not have.

    Example:

    >>> activation_from_hf("gelu_pytorch_tanh"), activation_from_hf("gelu"), activation_from_hf("mish")
    ('gelu_approximate', 'gelu', None)
    """
    if hf_name in ACTIVATIONS:
        return hf_name
    return _HF_ALIASES.get(hf_name)


def hf_activation_names():
    """Every Hugging Face activation name `activation_from_hf` knows, sorted.

    Example:

    >>> "gelu_fast" in hf_activation_names()
    True
    """
    return sorted(set(ACTIVATIONS) | set(_HF_ALIASES))
