"""Pretrained weights: Hugging Face BERT folders, keras-hub backbones, `--init` resolution."""
from xdomain_tf.checkpoints.fetch_minilm import fetch_minilm
from xdomain_tf.checkpoints.hf_bert_folder import HFBertFolder, read_hf_bert_config, read_hf_bert_folder
from xdomain_tf.checkpoints.hf_bert_tensor_shapes import hf_bert_mlm_head_shapes, hf_bert_tensor_shapes
from xdomain_tf.checkpoints.hf_encoder_weights import assign_hf_tensors, encoder_to_hf_tensors
from xdomain_tf.checkpoints.keras_hub_interop import from_keras_hub_backbone, to_keras_hub_backbone
from xdomain_tf.checkpoints.load_hf_bert import LoadedBert, load_hf_bert, tokenizer_from_vocab
from xdomain_tf.checkpoints.mlm_head_weights import (
    assign_mlm_head_weights,
    mlm_head_weights_from_hf,
    mlm_head_weights_of,
    mlm_head_weights_to_hf,
)
from xdomain_tf.checkpoints.named_checkpoints import NAMED_CHECKPOINTS, fetch_named_checkpoint
from xdomain_tf.checkpoints.reference_forward import reference_bert_forward
from xdomain_tf.checkpoints.resolve_init import InitializedEncoder, resolve_init
from xdomain_tf.checkpoints.save_hf_bert import save_hf_bert
