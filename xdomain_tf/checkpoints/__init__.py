"""Pretrained weights: Hugging Face BERT folders, keras-hub backbones, `--init` resolution."""

__all__ = [
    "assign_hf_tensors", "assign_mlm_head_weights", "encoder_to_hf_tensors", "fetch_minilm",
    "fetch_named_checkpoint", "from_keras_hub_backbone", "hf_bert_mlm_head_shapes",
    "hf_bert_tensor_shapes", "HFBertFolder", "InitializedEncoder", "load_hf_bert", "LoadedBert",
    "mlm_head_weights_from_hf", "mlm_head_weights_of", "mlm_head_weights_to_hf",
    "NAMED_CHECKPOINTS", "plain_encoder", "read_hf_bert_config", "read_hf_bert_folder",
    "resolve_init", "save_hf_bert", "to_keras_hub_backbone", "tokenizer_from_vocab",
]

from xdomain_tf.utils.lazy_loading import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "xdomain_tf.checkpoints.minilm_checkpoint": ["fetch_minilm"],
        "xdomain_tf.checkpoints.hf_bert_folder": ["HFBertFolder", "read_hf_bert_config", "read_hf_bert_folder"],
        "xdomain_tf.checkpoints.hf_bert_layout": ["hf_bert_mlm_head_shapes", "hf_bert_tensor_shapes"],
        "xdomain_tf.checkpoints.hf_encoder_weights": ["assign_hf_tensors", "encoder_to_hf_tensors"],
        "xdomain_tf.checkpoints.keras_hub_interop": ["from_keras_hub_backbone", "to_keras_hub_backbone"],
        "xdomain_tf.checkpoints.hf_bert_loader": ["LoadedBert", "load_hf_bert", "tokenizer_from_vocab"],
        "xdomain_tf.checkpoints.mlm_head_weights": ["assign_mlm_head_weights", "mlm_head_weights_from_hf", "mlm_head_weights_of", "mlm_head_weights_to_hf"],
        "xdomain_tf.checkpoints.named_checkpoints": ["NAMED_CHECKPOINTS", "fetch_named_checkpoint"],
        "xdomain_tf.checkpoints.init_resolution": ["InitializedEncoder", "plain_encoder", "resolve_init"],
        "xdomain_tf.checkpoints.hf_bert_writer": ["save_hf_bert"],
    },
)
