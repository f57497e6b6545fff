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

from xdomain_tf.layers.masked_lm_head_weights import (  # noqa: F401  (re-exported)
    MLM_HEAD_KEYS,
    assign_mlm_head_weights,
    check_mlm_head_keys,
    mlm_head_weights_of,
)


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
    check_mlm_head_keys(weights)
    prefix = "cls.predictions."
    return {
        prefix + "transform.dense.weight": np.ascontiguousarray(np.asarray(weights["transform_kernel"], np.float32).T),
        prefix + "transform.dense.bias": np.asarray(weights["transform_bias"], np.float32),
        prefix + "transform.LayerNorm.weight": np.asarray(weights["layer_norm_gamma"], np.float32),
        prefix + "transform.LayerNorm.bias": np.asarray(weights["layer_norm_beta"], np.float32),
        prefix + "bias": np.asarray(weights["output_bias"], np.float32),
    }
