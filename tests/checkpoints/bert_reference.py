"""Test oracle: a plain numpy forward pass of a Hugging Face BERT, to check converted weights.

Independent of Keras and of `xdomain_tf.layers` on purpose (numpy float64, its own
activations), so the tests that compare against it check our layers, not themselves.
"""
import math

import numpy as np

from xdomain_tf.errors import XDomainError

erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _silu(x):
    return x / (1.0 + np.exp(-x))


NUMPY_ACTIVATIONS = {
    "gelu": _gelu,
    "gelu_new": _gelu_tanh,
    "gelu_approximate": _gelu_tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "silu": _silu,
    "swish": _silu,
    "tanh": np.tanh,
}


def reference_bert_forward(tensors, config, token_ids, segment_ids=None, padding_mask=None):
    """Runs a Hugging Face `BertModel` in numpy (float64), as `transformers` computes it.

    Embeddings (word + position + token type, LayerNorm), post-LayerNorm Transformer
    blocks, the exact erf GELU (or the config's `hidden_act`), HF's
    extended additive attention mask (`(1 - mask) * float32.min`) and the tanh pooler
    on the first token. Dropout is off (inference).

    Args:
        tensors: dict of HF tensor name -> numpy array, e.g. from
            `safetensors.numpy.load_file`; a `bert.` prefix on the names is accepted.
        config: an `EncoderConfig` (uses `num_attention_heads`, `layer_norm_eps`,
            `hidden_act`, `num_hidden_layers`).
        token_ids: int array `[batch, seq]`.
        segment_ids: int array `[batch, seq]`; zeros when None.
        padding_mask: 0/1 or bool array `[batch, seq]`; all ones when None.

    Returns:
        dict with `sequence_output` `[batch, seq, hidden]` and `pooled_output`
        `[batch, hidden]` (float64; `pooled_output` is None without pooler tensors).

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> from xdomain_tf.checkpoints.hf_bert_layout import hf_bert_tensor_shapes
    >>> config = EncoderConfig.architecture("bert_tiny", vocab_size=50)
    >>> rng = np.random.default_rng(0)
    >>> tensors = {name: rng.normal(scale=0.1, size=shape)
    ...            for name, shape in hf_bert_tensor_shapes(config).items()}
    >>> out = reference_bert_forward(tensors, config, np.array([[2, 7, 3, 0]]),
    ...                              padding_mask=np.array([[1, 1, 1, 0]]))
    >>> out["sequence_output"].shape, out["pooled_output"].shape
    ((1, 4, 128), (1, 128))
    """
    weights = {name[5:] if name.startswith("bert.") else name: np.asarray(value) for name, value in tensors.items()}

    def get(name):
        if name in weights:
            return weights[name].astype(np.float64)
        # Older conversions name LayerNorm parameters gamma/beta.
        alias = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        if alias in weights:
            return weights[alias].astype(np.float64)
        raise XDomainError(f"reference_bert_forward: tensor {name!r} is missing")

    def dense(x, prefix):
        return x @ get(prefix + ".weight").T + get(prefix + ".bias")

    def layer_norm(x, prefix):
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        normed = (x - mean) / np.sqrt(variance + config.layer_norm_eps)
        return normed * get(prefix + ".weight") + get(prefix + ".bias")

    token_ids = np.asarray(token_ids)
    batch, seq = token_ids.shape
    segment_ids = np.zeros_like(token_ids) if segment_ids is None else np.asarray(segment_ids)
    padding_mask = np.ones_like(token_ids) if padding_mask is None else np.asarray(padding_mask)
    activation = NUMPY_ACTIVATIONS[config.hidden_act]

    hidden = (
        get("embeddings.word_embeddings.weight")[token_ids]
        + get("embeddings.position_embeddings.weight")[np.arange(seq)][None]
        + get("embeddings.token_type_embeddings.weight")[segment_ids]
    )
    hidden = layer_norm(hidden, "embeddings.LayerNorm")

    additive_mask = (1.0 - padding_mask.astype(np.float64)) * np.finfo(np.float32).min
    additive_mask = additive_mask[:, None, None, :]
    heads = config.num_attention_heads
    head_size = hidden.shape[-1] // heads

    def split_heads(x):
        return x.reshape(batch, seq, heads, head_size).transpose(0, 2, 1, 3)

    for index in range(config.num_hidden_layers):
        prefix = f"encoder.layer.{index}."
        query = split_heads(dense(hidden, prefix + "attention.self.query"))
        key = split_heads(dense(hidden, prefix + "attention.self.key"))
        value = split_heads(dense(hidden, prefix + "attention.self.value"))
        scores = query @ key.transpose(0, 1, 3, 2) / math.sqrt(head_size) + additive_mask
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs = probs / probs.sum(axis=-1, keepdims=True)
        context = (probs @ value).transpose(0, 2, 1, 3).reshape(batch, seq, heads * head_size)
        attention = dense(context, prefix + "attention.output.dense")
        hidden = layer_norm(attention + hidden, prefix + "attention.output.LayerNorm")
        ffn = dense(activation(dense(hidden, prefix + "intermediate.dense")), prefix + "output.dense")
        hidden = layer_norm(ffn + hidden, prefix + "output.LayerNorm")

    pooled = None
    if "pooler.dense.weight" in weights:
        pooled = np.tanh(dense(hidden[:, 0], "pooler.dense"))
    return {"sequence_output": hidden, "pooled_output": pooled}
