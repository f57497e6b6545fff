"""BERT masked-LM head weights: Hugging Face `cls.predictions.*` <-> our `MaskedLMHead`.

The weights travel as a dict in Keras layout:

- `transform_kernel` `[hidden, hidden]`, `transform_bias` `[hidden]`
  [cls.predictions.transform.dense]
- `layer_norm_gamma`, `layer_norm_beta` `[hidden]` [cls.predictions.transform.LayerNorm]
- `output_bias` `[vocab]` [cls.predictions.bias]

The output projection is tied to the word embeddings (`MaskedLMHead` multiplies by the
transposed token embedding matrix), so `cls.predictions.decoder.weight` is not kept.
"""
import warnings

import numpy as np

from xdomain_tf.errors import XDomainError

MLM_HEAD_KEYS = ("transform_kernel", "transform_bias", "layer_norm_gamma", "layer_norm_beta", "output_bias")


def mlm_head_weights_from_hf(tensors, word_embeddings=None):
    """Converts `cls.predictions.*` tensors into the Keras-layout dict described above.

    Args:
        tensors: HF name -> array (as `HFBertFolder.mlm_head_tensors`).
        word_embeddings: the checkpoint's word embedding matrix; when given and the file
            holds a different (untied) `cls.predictions.decoder.weight`, a warning says
            that the tied embeddings are used instead.

    Example:

    >>> import numpy as np
    >>> hf = {"cls.predictions.transform.dense.weight": np.eye(2) * [1.0, 2.0],
    ...       "cls.predictions.transform.dense.bias": np.zeros(2),
    ...       "cls.predictions.transform.LayerNorm.weight": np.ones(2),
    ...       "cls.predictions.transform.LayerNorm.bias": np.zeros(2),
    ...       "cls.predictions.bias": np.zeros(5)}
    >>> sorted(mlm_head_weights_from_hf(hf)) == sorted(MLM_HEAD_KEYS)
    True
    """
    prefix = "cls.predictions."
    decoder = tensors.get(prefix + "decoder.weight")
    if decoder is not None and word_embeddings is not None and not np.array_equal(decoder, word_embeddings):
        warnings.warn(
            "the checkpoint's masked-LM decoder is not tied to the word embeddings; "
            "xdomain_tf's MaskedLMHead ties them, so the decoder weights are not used",
            stacklevel=2,
        )
    bias = tensors.get(prefix + "bias", tensors.get(prefix + "decoder.bias"))
    return {
        "transform_kernel": np.asarray(tensors[prefix + "transform.dense.weight"], np.float32).T,
        "transform_bias": np.asarray(tensors[prefix + "transform.dense.bias"], np.float32),
        "layer_norm_gamma": np.asarray(tensors[prefix + "transform.LayerNorm.weight"], np.float32),
        "layer_norm_beta": np.asarray(tensors[prefix + "transform.LayerNorm.bias"], np.float32),
        "output_bias": np.asarray(bias, np.float32),
    }


def mlm_head_weights_to_hf(weights):
    """The inverse of `mlm_head_weights_from_hf`: HF `cls.predictions.*` tensors (PyTorch layout).

    Example:

    >>> import numpy as np
    >>> weights = {"transform_kernel": np.array([[1.0, 2.0], [3.0, 4.0]]),
    ...            "transform_bias": np.zeros(2), "layer_norm_gamma": np.ones(2),
    ...            "layer_norm_beta": np.zeros(2), "output_bias": np.zeros(5)}
    >>> mlm_head_weights_to_hf(weights)["cls.predictions.transform.dense.weight"].tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    _check_keys(weights)
    prefix = "cls.predictions."
    return {
        prefix + "transform.dense.weight": np.ascontiguousarray(np.asarray(weights["transform_kernel"], np.float32).T),
        prefix + "transform.dense.bias": np.asarray(weights["transform_bias"], np.float32),
        prefix + "transform.LayerNorm.weight": np.asarray(weights["layer_norm_gamma"], np.float32),
        prefix + "transform.LayerNorm.bias": np.asarray(weights["layer_norm_beta"], np.float32),
        prefix + "bias": np.asarray(weights["output_bias"], np.float32),
    }


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
    _check_keys(weights)
    if not head.built:
        raise XDomainError("assign_mlm_head_weights: build the MaskedLMHead first")
    targets = {
        "transform_kernel": head.transform_dense.kernel,
        "transform_bias": head.transform_dense.bias,
        "layer_norm_gamma": head.transform_layer_norm.gamma,
        "layer_norm_beta": head.transform_layer_norm.beta,
        "output_bias": head.output_bias,
    }
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

    >>> import keras, numpy as np
    >>> from xdomain_tf.layers.masked_lm_head import MaskedLMHead
    >>> embedding = keras.layers.Embedding(20, 8)
    >>> embedding.build((None,))
    >>> head = MaskedLMHead(embedding)
    >>> _ = head(np.zeros((1, 3, 8), "float32"))
    >>> {key: value.shape for key, value in mlm_head_weights_of(head).items()}
    {'transform_kernel': (8, 8), 'transform_bias': (8,), 'layer_norm_gamma': (8,), 'layer_norm_beta': (8,), 'output_bias': (20,)}
    """
    return {
        "transform_kernel": head.transform_dense.kernel.numpy(),
        "transform_bias": head.transform_dense.bias.numpy(),
        "layer_norm_gamma": head.transform_layer_norm.gamma.numpy(),
        "layer_norm_beta": head.transform_layer_norm.beta.numpy(),
        "output_bias": head.output_bias.numpy(),
    }


def _check_keys(weights):
    missing = [key for key in MLM_HEAD_KEYS if key not in weights]
    if missing:
        raise XDomainError(f"masked-LM head weights lack {', '.join(missing)}")
