"""Conversion between our encoder and keras-hub's `BertBackbone` (extra `[hub]`).

Both directions go through the Hugging Face tensor layout (`hf_bert_tensor_shapes`), the
one naming scheme the project's converters share. keras-hub is imported only inside the
functions.

Example:

>>> import keras_hub  # doctest: +SKIP
>>> backbone = keras_hub.models.BertBackbone(vocabulary_size=100, num_layers=2,
...     num_heads=2, hidden_dim=32, intermediate_dim=64)  # doctest: +SKIP
>>> encoder, config = from_keras_hub_backbone(backbone)  # doctest: +SKIP
>>> to_keras_hub_backbone(encoder).count_params() == backbone.count_params()  # doctest: +SKIP
True
"""
import re

import numpy as np

from xdomain_tf.checkpoints.hf_bert_layout import hf_bert_tensor_shapes
from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.activations import get_activation
from xdomain_tf.models.encoder_config import EncoderConfig

# keras-hub's BertBackbone is fixed to these (see keras_hub/src/models/bert/bert_backbone.py).
KERAS_HUB_BERT_ACTIVATION = "gelu_approximate"
KERAS_HUB_BERT_LAYER_NORM_EPS = 1e-12

_EMBEDDING_PATHS = {
    "token_embedding/embeddings": "embeddings.word_embeddings.weight",
    "position_embedding/embeddings": "embeddings.position_embeddings.weight",
    "segment_embedding/embeddings": "embeddings.token_type_embeddings.weight",
    "embeddings_layer_norm/gamma": "embeddings.LayerNorm.weight",
    "embeddings_layer_norm/beta": "embeddings.LayerNorm.bias",
    "pooled_dense/kernel": "pooler.dense.weight",
    "pooled_dense/bias": "pooler.dense.bias",
}
_LAYER_PATHS = {
    "self_attention_layer/query/kernel": "attention.self.query.weight",
    "self_attention_layer/query/bias": "attention.self.query.bias",
    "self_attention_layer/key/kernel": "attention.self.key.weight",
    "self_attention_layer/key/bias": "attention.self.key.bias",
    "self_attention_layer/value/kernel": "attention.self.value.weight",
    "self_attention_layer/value/bias": "attention.self.value.bias",
    "self_attention_layer/attention_output/kernel": "attention.output.dense.weight",
    "self_attention_layer/attention_output/bias": "attention.output.dense.bias",
    "self_attention_layer_norm/gamma": "attention.output.LayerNorm.weight",
    "self_attention_layer_norm/beta": "attention.output.LayerNorm.bias",
    "feedforward_intermediate_dense/kernel": "intermediate.dense.weight",
    "feedforward_intermediate_dense/bias": "intermediate.dense.bias",
    "feedforward_output_dense/kernel": "output.dense.weight",
    "feedforward_output_dense/bias": "output.dense.bias",
    "feedforward_layer_norm/gamma": "output.LayerNorm.weight",
    "feedforward_layer_norm/beta": "output.LayerNorm.bias",
}
_LAYER_PATH = re.compile(r"transformer_layer_(\d+)/(.+)$")


def keras_hub_backbone_config(backbone):
    """The `EncoderConfig` of a keras-hub `BertBackbone` (tanh GELU, eps 1e-12, as keras-hub builds it).

    Args:
        backbone: a `keras_hub.models.BertBackbone`.

    Example (`backbone` as in the module example):

    >>> keras_hub_backbone_config(backbone).hidden_act  # doctest: +SKIP
    'gelu_approximate'
    """
    if type(backbone).__name__ != "BertBackbone":
        raise XDomainError(f"expected a keras_hub.models.BertBackbone, got {type(backbone).__name__}")
    return EncoderConfig(
        vocab_size=backbone.vocabulary_size,
        hidden_size=backbone.hidden_dim,
        num_hidden_layers=backbone.num_layers,
        num_attention_heads=backbone.num_heads,
        intermediate_size=backbone.intermediate_dim,
        max_position_embeddings=backbone.max_sequence_length,
        type_vocab_size=backbone.num_segments,
        hidden_dropout_prob=backbone.dropout,
        attention_probs_dropout_prob=backbone.dropout,
        layer_norm_eps=KERAS_HUB_BERT_LAYER_NORM_EPS,
        hidden_act=KERAS_HUB_BERT_ACTIVATION,
    )


def keras_hub_backbone_to_hf_tensors(backbone):
    """The backbone's weights as Hugging Face BERT tensors (PyTorch layout, float32).

    Args:
        backbone: a `keras_hub.models.BertBackbone`.

    Example (`backbone` as in the module example):

    >>> tensors = keras_hub_backbone_to_hf_tensors(backbone)  # doctest: +SKIP
    >>> tensors["encoder.layer.0.attention.self.query.weight"].shape  # doctest: +SKIP
    (32, 32)
    """
    config = keras_hub_backbone_config(backbone)
    tensors = {}
    for variable in backbone.weights:
        name = _hf_name(variable.path)
        value = np.asarray(variable.numpy(), dtype=np.float32)
        if name.endswith(".bias"):
            value = value.reshape(-1)  # attention biases are [heads, head_size]
        elif "/kernel" in variable.path:
            # Attention kernels are [hidden, heads, head_size] (query/key/value) or
            # [heads, head_size, hidden] (output): flatten to [in, out], then to PyTorch [out, in].
            if value.ndim == 3 and name.endswith("output.dense.weight"):
                value = value.reshape(-1, value.shape[-1])
            elif value.ndim == 3:
                value = value.reshape(value.shape[0], -1)
            value = value.T
        tensors[name] = np.ascontiguousarray(value)
    _check_complete(tensors, config)
    return tensors


def assign_hf_tensors_to_keras_hub_backbone(backbone, tensors):
    """Sets a keras-hub `BertBackbone`'s weights from Hugging Face BERT tensors.

    Args:
        backbone: a built `keras_hub.models.BertBackbone` of the matching size.
        tensors: HF tensor name -> array, PyTorch layout (no `bert.` prefix).

    Example (`backbone` as in the module example):

    >>> tensors = keras_hub_backbone_to_hf_tensors(backbone)  # doctest: +SKIP
    >>> assign_hf_tensors_to_keras_hub_backbone(backbone, tensors)  # doctest: +SKIP
    """
    for variable in backbone.weights:
        name = _hf_name(variable.path)
        if name not in tensors:
            raise XDomainError(f"tensor {name} (for keras-hub weight {variable.path}) is missing")
        value = np.asarray(tensors[name], dtype=np.float32)
        if "/kernel" in variable.path:
            value = value.T
        value = value.reshape(tuple(variable.shape))
        variable.assign(value)


def from_keras_hub_backbone(backbone):
    """Converts a keras-hub `BertBackbone` into our encoder with identical outputs.

    The encoder uses the tanh-approximate GELU and LayerNorm epsilon 1e-12, as keras-hub's
    BertBackbone does.

    Args:
        backbone: a `keras_hub.models.BertBackbone` (e.g. `BertBackbone.from_preset(...)`
            where presets are reachable, or a freshly configured one).

    Returns:
        `(encoder, config)`: the `TransformerEncoder` and its `EncoderConfig`.

    Example (`backbone` as in the module example):

    >>> encoder, config = from_keras_hub_backbone(backbone)  # doctest: +SKIP
    """
    from xdomain_tf.checkpoints.hf_encoder_weights import assign_hf_tensors
    from xdomain_tf.models.transformer_encoder import build_encoder

    config = keras_hub_backbone_config(backbone)
    encoder = build_encoder(config)
    assign_hf_tensors(encoder, keras_hub_backbone_to_hf_tensors(backbone))
    return encoder, config


def to_keras_hub_backbone(encoder, config=None, strict=True):
    """Converts our encoder into a keras-hub `BertBackbone`.

    keras-hub's BertBackbone always uses the tanh-approximate GELU, LayerNorm epsilon
    1e-12 and post-LayerNorm blocks. An encoder that differs (e.g. BERT's exact `"gelu"`)
    would give slightly different outputs (about 1e-3 on MiniLM): refused unless
    `strict=False`.

    Args:
        encoder: a `TransformerEncoder` (e.g. from `load_hf_bert`).
        config: its `EncoderConfig`; read from the encoder when None.
        strict: refuse an encoder whose outputs keras-hub cannot reproduce exactly.

    Returns:
        A `keras_hub.models.BertBackbone` holding the encoder's weights.

    Example:

    >>> backbone = to_keras_hub_backbone(encoder)  # doctest: +SKIP
    """
    import keras_hub

    from xdomain_tf.checkpoints.hf_encoder_weights import encoder_config_of, encoder_to_hf_tensors

    config = config or encoder_config_of(encoder)
    if config.pre_layer_norm:
        raise XDomainError("keras-hub's BertBackbone is post-LayerNorm; a pre-LayerNorm encoder cannot be converted")
    differences = []
    if get_activation(config.hidden_act) is not get_activation(KERAS_HUB_BERT_ACTIVATION):
        differences.append(f"hidden_act {config.hidden_act!r} (keras-hub uses the tanh GELU)")
    if config.layer_norm_eps != KERAS_HUB_BERT_LAYER_NORM_EPS:
        differences.append(f"layer_norm_eps {config.layer_norm_eps} (keras-hub uses 1e-12)")
    if differences and strict:
        raise XDomainError(
            "keras-hub's BertBackbone cannot reproduce this encoder exactly: "
            + "; ".join(differences)
            + " (pass strict=False to convert anyway)"
        )
    if config.hidden_dropout_prob != config.attention_probs_dropout_prob and strict:
        raise XDomainError(
            "keras-hub's BertBackbone has a single dropout rate; this encoder has "
            f"hidden {config.hidden_dropout_prob} and attention {config.attention_probs_dropout_prob} "
            "(pass strict=False to use the hidden rate)"
        )
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=config.vocab_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size,
        dropout=config.hidden_dropout_prob,
        max_sequence_length=config.max_position_embeddings,
        num_segments=config.type_vocab_size,
    )
    assign_hf_tensors_to_keras_hub_backbone(backbone, encoder_to_hf_tensors(encoder, config))
    return backbone


def _hf_name(path):
    for suffix, name in _EMBEDDING_PATHS.items():
        if path == suffix or path.endswith("/" + suffix):
            return name
    match = _LAYER_PATH.search(path)
    if match and match.group(2) in _LAYER_PATHS:
        return f"encoder.layer.{match.group(1)}.{_LAYER_PATHS[match.group(2)]}"
    raise XDomainError(f"keras-hub BertBackbone weight {path!r} has no Hugging Face BERT counterpart")


def _check_complete(tensors, config):
    expected = hf_bert_tensor_shapes(config)
    for name, shape in expected.items():
        if name not in tensors:
            raise XDomainError(f"keras-hub backbone has no weight for {name}")
        if tuple(tensors[name].shape) != shape:
            raise XDomainError(f"keras-hub weight for {name} has shape {tensors[name].shape}, expected {shape}")
