"""The weights of a `MaskedLMHead` as a dict in Keras layout, to copy them in and out.

- `transform_kernel` `[hidden, hidden]`, `transform_bias` `[hidden]`
- `layer_norm_gamma`, `layer_norm_beta` `[hidden]`
- `output_bias` `[vocab]`

The output projection is tied to the token embedding, so it is not part of the dict.
`xdomain_tf.checkpoints.mlm_head_weights` converts the dict to and from Hugging Face
`cls.predictions.*` tensors.
"""
import numpy as np

from xdomain_tf.errors import XDomainError

MLM_HEAD_KEYS = ("transform_kernel", "transform_bias", "layer_norm_gamma", "layer_norm_beta", "output_bias")


def assign_mlm_head_weights(head, weights):
    """Sets a built `xdomain_tf.layers.MaskedLMHead`'s weights from the Keras-layout dict.

    Args:
        head: a built `MaskedLMHead` (call it once, or `head.build(shape)`, first).
        weights: the dict (e.g. `load_hf_bert(...).mlm_head_weights`).

    Example:

    >>> import keras, numpy as np
    >>> from xdomain_tf.layers.masked_lm_head import MaskedLMHead
    >>> embedding = keras.layers.Embedding(20, 8)
    >>> embedding.build((None,))
    >>> head = MaskedLMHead(embedding)
    >>> _ = head(np.zeros((1, 3, 8), "float32"))
    >>> weights = dict(mlm_head_weights_of(head), output_bias=np.full(20, 0.5, "float32"))
    >>> assign_mlm_head_weights(head, weights)
    >>> float(head.output_bias.numpy()[0])
    0.5
    """
    check_mlm_head_keys(weights)
    if not head.built:
        raise XDomainError("assign_mlm_head_weights: build the MaskedLMHead first")
    targets = _head_variables(head)
    for key, variable in targets.items():
        value = np.asarray(weights[key])
        if tuple(value.shape) != tuple(variable.shape):
            raise XDomainError(
                f"masked-LM head weight {key} has shape {list(value.shape)}, the head needs {list(variable.shape)}"
            )
    for key, variable in targets.items():
        variable.assign(np.asarray(weights[key], np.float32))


def mlm_head_weights_of(head):
    """The Keras-layout weight dict of a built `MaskedLMHead` (for `save_hf_bert`).

    Example:

    >>> import keras
    >>> from xdomain_tf.layers.masked_lm_head import MaskedLMHead
    >>> head = MaskedLMHead(keras.layers.Embedding(20, 8))
    >>> head.build((None, 3, 8))
    >>> {key: value.shape for key, value in mlm_head_weights_of(head).items()}
    {'transform_kernel': (8, 8), 'transform_bias': (8,), 'layer_norm_gamma': (8,), 'layer_norm_beta': (8,), 'output_bias': (20,)}
    """
    return {key: variable.numpy() for key, variable in _head_variables(head).items()}


def check_mlm_head_keys(weights):
    """Raises an XDomainError naming the keys of `MLM_HEAD_KEYS` that `weights` lacks.

    Example:

    >>> check_mlm_head_keys({"transform_kernel": None})
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: masked-LM head weights lack transform_bias, layer_norm_gamma, layer_norm_beta, output_bias
    """
    missing = [key for key in MLM_HEAD_KEYS if key not in weights]
    if missing:
        raise XDomainError(f"masked-LM head weights lack {', '.join(missing)}")


def _head_variables(head):
    """The head's variables under the keys of `MLM_HEAD_KEYS`."""
    return {
        "transform_kernel": head.transform_dense.kernel,
        "transform_bias": head.transform_dense.bias,
        "layer_norm_gamma": head.transform_layer_norm.gamma,
        "layer_norm_beta": head.transform_layer_norm.beta,
        "output_bias": head.output_bias,
    }
