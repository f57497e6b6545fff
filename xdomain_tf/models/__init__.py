"""The encoder, its config and the Keras models built on it; each class's constructor builds it
(`build_*` are the same constructors under their older names)."""

__all__ = [
    "build_causal_lm", "build_contrastive", "build_encoder", "build_masked_lm",
    "build_multi_domain_classifier", "CausalLM", "CausalLMGenerator", "ContrastiveAligner",
    "EncoderConfig", "MaskedLM", "MaskedSparseCategoricalAccuracy", "MultiDomainClassifier",
    "SimilarityLogits", "TransformerEncoder",
]

from xdomain_tf.models.causal_lm import CausalLM, build_causal_lm
from xdomain_tf.models.causal_lm_generator import CausalLMGenerator
from xdomain_tf.models.contrastive_aligner import ContrastiveAligner, build_contrastive
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.models.masked_lm import MaskedLM, build_masked_lm
from xdomain_tf.models.masked_sparse_categorical_accuracy import MaskedSparseCategoricalAccuracy
from xdomain_tf.models.multi_domain_classifier import (
    MultiDomainClassifier,
    build_multi_domain_classifier,
)
from xdomain_tf.models.similarity_logits import SimilarityLogits
from xdomain_tf.models.transformer_encoder import TransformerEncoder, build_encoder
