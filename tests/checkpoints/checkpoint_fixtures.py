"""Tiny random Hugging Face BERT folders for the checkpoint tests."""
import json

import numpy as np
from xdomain_tf.checkpoints.hf_bert_layout import hf_bert_mlm_head_shapes, hf_bert_tensor_shapes
from xdomain_tf.models.encoder_config import EncoderConfig

# A tiny vocabulary: specials, some words and their WordPiece continuations.
TINY_VOCAB = (
    ["[PAD]"]
    + [f"[unused{i}]" for i in range(3)]
    + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list("abcdefghijklmnopqrstuvwxyz.,!?'")
    + ["the", "cat", "sat", "on", "mat", "dog", "run", "##ing", "##ed", "hello", "world"]
    + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
)


def tiny_config(**overrides):
    values = dict(
        vocab_size=len(TINY_VOCAB) + 3,  # a few unused rows, as in real checkpoints
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=24,
        type_vocab_size=2,
    )
    values.update(overrides)
    return EncoderConfig(**values)


def random_hf_tensors(config, seed=0, pooler=True, mlm_head=False):
    rng = np.random.default_rng(seed)
    shapes = dict(hf_bert_tensor_shapes(config, pooler=pooler))
    if mlm_head:
        shapes.update(hf_bert_mlm_head_shapes(config))
    tensors = {}
    for name, shape in shapes.items():
        if name.endswith("LayerNorm.weight"):
            value = 1.0 + rng.normal(scale=0.1, size=shape)
        else:
            value = rng.normal(scale=0.2, size=shape)
        tensors[name] = value.astype(np.float32)
    return tensors


def write_hf_folder(path, config, tensors, vocab=TINY_VOCAB, config_extra=None, position_ids=True):
    """Writes a HF-style BERT folder, as `transformers.BertModel.save_pretrained` would."""
    from safetensors.numpy import save_file

    path.mkdir(parents=True, exist_ok=True)
    hf_config = dict(config.to_dict())
    hf_config.pop("pre_layer_norm")
    hf_config.update(model_type="bert", architectures=["BertModel"], pad_token_id=0, initializer_range=0.02)
    hf_config.update(config_extra or {})
    (path / "config.json").write_text(json.dumps(hf_config, indent=2))
    tensors = dict(tensors)
    if position_ids:
        prefix = "bert." if any(name.startswith("bert.") for name in tensors) else ""
        tensors[prefix + "embeddings.position_ids"] = np.arange(
            config.max_position_embeddings, dtype=np.int64
        )[None]
    save_file(tensors, str(path / "model.safetensors"))
    if vocab is not None:
        (path / "vocab.txt").write_text("".join(token + "\n" for token in vocab), encoding="utf-8")
    return path


def random_batch(config, batch=3, seq=10, seed=1):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(1, config.vocab_size, size=(batch, seq)).astype(np.int32)
    segment_ids = np.zeros((batch, seq), np.int32)
    segment_ids[0, seq // 2 :] = 1
    padding_mask = np.ones((batch, seq), np.int32)
    padding_mask[1, seq - 3 :] = 0
    if batch > 2:
        padding_mask[2, 4:] = 0
    token_ids = token_ids * padding_mask
    return token_ids, segment_ids, padding_mask
