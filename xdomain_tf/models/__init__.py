"""Functional-API model builders."""
from xdomain_tf.models.build_causal_lm import build_causal_lm
from xdomain_tf.models.build_contrastive import build_contrastive
from xdomain_tf.models.build_encoder import build_encoder
from xdomain_tf.models.build_masked_lm import build_masked_lm
from xdomain_tf.models.build_multi_domain_classifier import (
    build_multi_domain_classifier,
    multi_domain_targets,
)
from xdomain_tf.models.causal_lm import CausalLM
from xdomain_tf.models.causal_lm_generator import CausalLMGenerator
from xdomain_tf.models.contrastive_aligner import ContrastiveAligner
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.models.masked_lm import MaskedLM
from xdomain_tf.models.masked_sparse_categorical_accuracy import MaskedSparseCategoricalAccuracy
from xdomain_tf.models.multi_domain_classifier import MultiDomainClassifier
from xdomain_tf.models.similarity_logits import SimilarityLogits
from xdomain_tf.models.transformer_encoder import TransformerEncoder
