"""The tensor names and shapes of a Hugging Face `BertModel` checkpoint."""


def hf_bert_tensor_shapes(config, pooler=True):
    """Maps each tensor name of a HF `BertModel` state dict to its shape.

    Shapes are in PyTorch layout: a `Linear` weight is `[out_features, in_features]`.
    Buffers (`embeddings.position_ids`) and masked-LM head tensors (`cls.*`) are not
    listed.

    Args:
        config: an `EncoderConfig`.
        pooler: include `pooler.dense.*`.

    Example:

    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> shapes = hf_bert_tensor_shapes(EncoderConfig.architecture("bert_tiny", vocab_size=100))
    >>> len(shapes), shapes["encoder.layer.1.intermediate.dense.weight"]
    (39, (512, 128))
    """
    hidden = config.hidden_size
    ffn = config.intermediate_size
    shapes = {
        "embeddings.word_embeddings.weight": (config.vocab_size, hidden),
        "embeddings.position_embeddings.weight": (config.max_position_embeddings, hidden),
        "embeddings.token_type_embeddings.weight": (config.type_vocab_size, hidden),
        "embeddings.LayerNorm.weight": (hidden,),
        "embeddings.LayerNorm.bias": (hidden,),
    }
    for index in range(config.num_hidden_layers):
        prefix = f"encoder.layer.{index}."
        for name in ("query", "key", "value"):
            shapes[f"{prefix}attention.self.{name}.weight"] = (hidden, hidden)
            shapes[f"{prefix}attention.self.{name}.bias"] = (hidden,)
        shapes[prefix + "attention.output.dense.weight"] = (hidden, hidden)
        shapes[prefix + "attention.output.dense.bias"] = (hidden,)
        shapes[prefix + "attention.output.LayerNorm.weight"] = (hidden,)
        shapes[prefix + "attention.output.LayerNorm.bias"] = (hidden,)
        shapes[prefix + "intermediate.dense.weight"] = (ffn, hidden)
        shapes[prefix + "intermediate.dense.bias"] = (ffn,)
        shapes[prefix + "output.dense.weight"] = (hidden, ffn)
        shapes[prefix + "output.dense.bias"] = (hidden,)
        shapes[prefix + "output.LayerNorm.weight"] = (hidden,)
        shapes[prefix + "output.LayerNorm.bias"] = (hidden,)
    if pooler:
        shapes["pooler.dense.weight"] = (hidden, hidden)
        shapes["pooler.dense.bias"] = (hidden,)
    return shapes


def hf_bert_mlm_head_shapes(config):
    """Tensor names and shapes of BERT's masked-LM head (`BertForPreTraining`/`BertForMaskedLM`).

    `cls.predictions.decoder.weight` is tied to the word embeddings and often absent
    from a file; it is not listed.

    Args:
        config: an `EncoderConfig`.

    Example:

    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> sorted(hf_bert_mlm_head_shapes(EncoderConfig.architecture("bert_tiny", vocab_size=100)))[0]
    'cls.predictions.bias'
    """
    hidden = config.hidden_size
    return {
        "cls.predictions.transform.dense.weight": (hidden, hidden),
        "cls.predictions.transform.dense.bias": (hidden,),
        "cls.predictions.transform.LayerNorm.weight": (hidden,),
        "cls.predictions.transform.LayerNorm.bias": (hidden,),
        "cls.predictions.bias": (config.vocab_size,),
    }
