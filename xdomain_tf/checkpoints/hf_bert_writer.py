"""Writes our encoder (and tokenizer) as a Hugging Face BERT folder."""
import os
import pathlib

import numpy as np

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.activations import hf_activation_name
from xdomain_tf.text.vocabulary_file import read_vocabulary, write_vocabulary
from xdomain_tf.utils.atomic import atomic_path, write_json_atomic

def save_hf_bert(encoder, tokenizer, path, mlm_head_weights=None, overwrite=False):
    """Saves an encoder as a Hugging Face BERT folder that `load_hf_bert` (and `transformers`) read.

    Writes `config.json` (`architectures: ["BertModel"]`, or `["BertForMaskedLM"]` with a
    masked-LM head), `model.safetensors` (PyTorch layout, via `safetensors.numpy`; LoRA
    merged into the attention weights), and `vocab.txt` plus `tokenizer_config.json`
    when a tokenizer is given.

    Args:
        encoder: a `TransformerEncoder` (or one from `load_hf_bert`) (post-LayerNorm, no adapters).
        tokenizer: a `WordPieceTokenizer`, a list of tokens, a vocab.txt path, or None.
        path: the folder to write (created).
        mlm_head_weights: optional masked-LM head, a `MaskedLMHead` layer or its weight
            dict (see `xdomain_tf.checkpoints.mlm_head_weights`); written as
            `cls.predictions.*` with the encoder tensors under the `bert.` prefix.
        overwrite: replace an existing model.safetensors.

    Returns:
        The folder as a `pathlib.Path`.

    Example:

    >>> from xdomain_tf.models.transformer_encoder import build_encoder
    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> import tempfile
    >>> encoder = build_encoder(EncoderConfig.architecture("bert_tiny", vocab_size=8))
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]
    >>> folder = save_hf_bert(encoder, vocab, tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt']
    """
    from safetensors.numpy import save_file

    from xdomain_tf.checkpoints.hf_encoder_weights import encoder_config_of, encoder_to_hf_tensors
    from xdomain_tf.checkpoints.mlm_head_weights import mlm_head_weights_of, mlm_head_weights_to_hf

    config = encoder_config_of(encoder)
    if config.is_pruned:
        raise XDomainError(
            f"{encoder.name}: a structurally pruned encoder (per-layer heads or feed-forward widths) has no "
            "Hugging Face BertConfig; save it as .keras instead"
        )
    path = pathlib.Path(path)
    weights_path = path / "model.safetensors"
    if weights_path.exists() and not overwrite:
        raise XDomainError(f"{weights_path} exists; pass overwrite=True to replace it")
    vocabulary, lowercase = _vocabulary(tokenizer)
    if vocabulary is not None and len(vocabulary) > config.vocab_size:
        raise XDomainError(
            f"the tokenizer has {len(vocabulary)} tokens, more than the encoder's vocab_size {config.vocab_size}"
        )
    tensors = encoder_to_hf_tensors(encoder, config)
    architecture = "BertModel"
    if mlm_head_weights is not None:
        if not isinstance(mlm_head_weights, dict):
            mlm_head_weights = mlm_head_weights_of(mlm_head_weights)
        tensors = {"bert." + name: value for name, value in tensors.items()}
        tensors.update(mlm_head_weights_to_hf(mlm_head_weights))
        architecture = "BertForMaskedLM"
        if tensors["cls.predictions.bias"].shape != (config.vocab_size,):
            raise XDomainError(
                f"masked-LM output_bias has shape {list(tensors['cls.predictions.bias'].shape)}, "
                f"expected [{config.vocab_size}]"
            )

    path.mkdir(parents=True, exist_ok=True)
    hf_config = {
        "architectures": [architecture],
        "model_type": "bert",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "intermediate_size": config.intermediate_size,
        "hidden_act": hf_activation_name(config.hidden_act),
        "hidden_dropout_prob": config.hidden_dropout_prob,
        "attention_probs_dropout_prob": config.attention_probs_dropout_prob,
        "max_position_embeddings": config.max_position_embeddings,
        "type_vocab_size": config.type_vocab_size,
        "layer_norm_eps": config.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    write_json_atomic(path / "config.json", hf_config)
    with atomic_path(weights_path) as partial:
        save_file({name: np.ascontiguousarray(value, np.float32) for name, value in tensors.items()},
                  str(partial), metadata={"format": "pt"})
    if vocabulary is not None:
        write_vocabulary(vocabulary, path / "vocab.txt")
        tokenizer_config = {
            "do_lower_case": lowercase,
            "tokenizer_class": "BertTokenizer",
            "model_max_length": config.max_position_embeddings,
        }
        write_json_atomic(path / "tokenizer_config.json", tokenizer_config, sort_keys=False)
    return path


def _vocabulary(tokenizer):
    if tokenizer is None:
        return None, True
    if isinstance(tokenizer, (str, os.PathLike)):
        return read_vocabulary(tokenizer), True
    if isinstance(tokenizer, (list, tuple)):
        return list(tokenizer), True
    vocabulary = getattr(tokenizer, "vocabulary", None)
    if vocabulary is None:
        raise XDomainError(
            f"save_hf_bert: cannot read a vocabulary from {type(tokenizer).__name__} "
            "(pass a WordPieceTokenizer, a token list or a vocab.txt path)"
        )
    return list(vocabulary), bool(getattr(tokenizer, "lowercase", True))

