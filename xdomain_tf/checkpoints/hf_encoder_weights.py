"""Moves weights between our encoder and Hugging Face BERT tensors (PyTorch layout).

The mapping follows the layer names documented in `xdomain_tf.models.transformer_encoder`:
a PyTorch `Linear` weight `[out, in]` is a transposed Keras kernel `[in, out]`, and
`attention.self.{query,key,value}` are concatenated on the output axis into the fused
`attention/qkv` kernel.
"""
import numpy as np

from xdomain_tf.errors import XDomainError


def encoder_config_of(encoder):
    """The `EncoderConfig` a `TransformerEncoder` was built with.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import build_encoder
    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> encoder = build_encoder(EncoderConfig.architecture("bert_tiny", vocab_size=50))
    >>> encoder_config_of(encoder).num_hidden_layers
    2
    """
    config = getattr(encoder, "encoder_config", None)
    if config is None:
        raise XDomainError(
            f"{getattr(encoder, 'name', encoder)!r} is not an xdomain_tf encoder (it has no encoder_config)"
        )
    return config


def _encoder_variables(encoder):
    """HF name -> (Keras variable, kind) with kind 'kernel' (transpose) or 'plain'."""
    embeddings = encoder.embeddings
    variables = {
        "embeddings.word_embeddings.weight": (embeddings.token_embedding.embeddings, "plain"),
        "embeddings.position_embeddings.weight": (embeddings.position_embedding.embeddings, "plain"),
        "embeddings.token_type_embeddings.weight": (embeddings.segment_embedding.embeddings, "plain"),
        "embeddings.LayerNorm.weight": (embeddings.layer_norm.gamma, "plain"),
        "embeddings.LayerNorm.bias": (embeddings.layer_norm.beta, "plain"),
        "pooler.dense.weight": (encoder.pooler.kernel, "kernel"),
        "pooler.dense.bias": (encoder.pooler.bias, "plain"),
    }
    for index, block in enumerate(encoder.transformer_layers):
        prefix = f"encoder.layer.{index}."
        for hf_name, layer in (
            ("attention.output.dense", block.attention.output_dense),
            ("intermediate.dense", block.intermediate),
            ("output.dense", block.output_dense),
        ):
            variables[prefix + hf_name + ".weight"] = (layer.kernel, "kernel")
            variables[prefix + hf_name + ".bias"] = (layer.bias, "plain")
        for hf_name, layer in (
            ("attention.output.LayerNorm", block.attention_layer_norm),
            ("output.LayerNorm", block.output_layer_norm),
        ):
            variables[prefix + hf_name + ".weight"] = (layer.gamma, "plain")
            variables[prefix + hf_name + ".bias"] = (layer.beta, "plain")
    return variables


def assign_hf_tensors(encoder, tensors, require_pooler=False):
    """Sets an encoder's weights from Hugging Face BERT tensors.

    Args:
        encoder: a `TransformerEncoder` whose config matches the tensors.
        tensors: HF tensor name (no `bert.` prefix) -> array in PyTorch layout.
        require_pooler: refuse tensors without `pooler.dense.*`; otherwise the pooler
            keeps its fresh initialisation.

    Raises:
        XDomainError: naming a missing or wrongly shaped tensor.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import build_encoder
    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> encoder = build_encoder(EncoderConfig.architecture("bert_tiny", vocab_size=50))
    >>> tensors = encoder_to_hf_tensors(encoder)
    >>> assign_hf_tensors(encoder, tensors)
    """
    config = encoder_config_of(encoder)
    if config.pre_layer_norm:
        raise XDomainError("Hugging Face BERT is post-LayerNorm; cannot load it into a pre-LayerNorm encoder")
    variables = _encoder_variables(encoder)
    values = {}
    for name, (variable, kind) in variables.items():
        if name not in tensors:
            if name.startswith("pooler.") and not require_pooler:
                continue
            raise XDomainError(f"tensor {name} is missing")
        value = np.asarray(tensors[name])
        if kind == "kernel":
            value = value.T
        values[name] = _checked(name, value, variable)
    hidden = config.hidden_size
    for index, block in enumerate(encoder.transformer_layers):
        prefix = f"encoder.layer.{index}.attention.self."
        parts = [f"{prefix}{part}" for part in ("query", "key", "value")]
        width = block.attention.num_heads * block.attention.head_size  # < hidden when pruned
        for part in parts:
            for suffix in (".weight", ".bias"):
                if part + suffix not in tensors:
                    raise XDomainError(f"tensor {part + suffix} is missing")
                expected = (width, hidden) if suffix == ".weight" else (width,)
                if tuple(np.shape(tensors[part + suffix])) != expected:
                    raise XDomainError(
                        f"tensor {part + suffix} has shape {list(np.shape(tensors[part + suffix]))}, "
                        f"the encoder needs {list(expected)}"
                    )
        kernel = np.concatenate([np.asarray(tensors[p + ".weight"]).T for p in parts], axis=1)
        bias = np.concatenate([np.asarray(tensors[p + ".bias"]) for p in parts])
        qkv = block.attention.qkv
        values[prefix + "qkv.kernel"] = _checked(prefix + "{query,key,value}.weight", kernel, qkv.kernel)
        values[prefix + "qkv.bias"] = _checked(prefix + "{query,key,value}.bias", bias, qkv.bias)
        variables[prefix + "qkv.kernel"] = (qkv.kernel, "plain")
        variables[prefix + "qkv.bias"] = (qkv.bias, "plain")
    # Assign only after every tensor checked out, so a refused checkpoint leaves the encoder as it was.
    for name, value in values.items():
        variables[name][0].assign(value)


def encoder_to_hf_tensors(encoder, config=None, drop_adapters=False):
    """The encoder's weights as Hugging Face BERT tensors (PyTorch layout, float32).

    LoRA updates are merged into the query/key/value weights. Adapters have no BERT
    counterpart: an encoder with adapters is refused unless `drop_adapters`.

    Args:
        encoder: a `TransformerEncoder`.
        config: its `EncoderConfig` (read from the encoder when None).
        drop_adapters: leave the adapters out instead of refusing the encoder.

    Returns:
        dict HF tensor name -> float32 numpy array, names as in `hf_bert_tensor_shapes`.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import build_encoder
    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> encoder = build_encoder(EncoderConfig.architecture("bert_tiny", vocab_size=50))
    >>> encoder_to_hf_tensors(encoder)["encoder.layer.0.attention.self.key.weight"].shape
    (128, 128)
    """
    config = config or encoder_config_of(encoder)
    if config.pre_layer_norm:
        raise XDomainError("Hugging Face BERT is post-LayerNorm; a pre-LayerNorm encoder has no BERT equivalent")
    if getattr(encoder, "num_adapters", 0) and not drop_adapters:
        raise XDomainError(
            "an encoder with adapters has no Hugging Face BERT equivalent (the adapters would be lost)"
        )
    tensors = {}
    for name, (variable, kind) in _encoder_variables(encoder).items():
        value = np.asarray(variable.numpy(), dtype=np.float32)
        tensors[name] = np.ascontiguousarray(value.T if kind == "kernel" else value)
    for index, block in enumerate(encoder.transformer_layers):
        attention = block.attention
        # A structurally pruned block has fewer heads: its parts are narrower than hidden.
        width = attention.num_heads * attention.head_size
        kernel = np.array(attention.qkv.kernel.numpy(), dtype=np.float32)
        bias = np.asarray(attention.qkv.bias.numpy(), dtype=np.float32)
        for part_index, part in enumerate(("query", "key", "value")):
            columns = slice(part_index * width, (part_index + 1) * width)
            part_kernel = kernel[:, columns]
            if attention.lora_rank and part in attention.lora_targets:
                a = np.asarray(getattr(attention, f"lora_{part}_a").numpy(), dtype=np.float32)
                b = np.asarray(getattr(attention, f"lora_{part}_b").numpy(), dtype=np.float32)
                scale = (attention.lora_alpha or attention.lora_rank) / attention.lora_rank
                part_kernel = part_kernel + (a @ b) * scale
            prefix = f"encoder.layer.{index}.attention.self.{part}"
            tensors[prefix + ".weight"] = np.ascontiguousarray(part_kernel.T)
            tensors[prefix + ".bias"] = np.ascontiguousarray(bias[columns])
    return tensors


def _checked(name, value, variable):
    if tuple(value.shape) != tuple(variable.shape):
        raise XDomainError(
            f"tensor {name} has shape {list(value.shape)}, the encoder needs {list(variable.shape)} (after transposing "
            "PyTorch [out, in] weights)"
        )
    return value.astype(variable.dtype if isinstance(variable.dtype, str) else "float32")
