"""The encoder, its config and the Keras models built on it; each class's constructor builds it
(`build_*` are the same constructors under their older names)."""

__all__ = [
    "build_causal_lm",
    "build_contrastive",
    "build_encoder",
    "build_masked_lm",
    "build_multi_domain_classifier",
    "CausalLM",
    "CausalLMGenerator",
    "ContrastiveAligner",
    "EncoderConfig",
    "MaskedLM",
    "MaskedSparseCategoricalAccuracy",
    "multi_domain_targets",
    "MultiDomainClassifier",
    "SimilarityLogits",
    "TransformerEncoder",
]

# Transitional modules under the builders' old paths (each says when to delete it), loaded
# first so that the functions imported below, not these modules, are the package attributes.
from xdomain_tf.models import build_encoder as _build_encoder_module  # noqa: F401
from xdomain_tf.models import build_masked_lm as _build_masked_lm_module  # noqa: F401
from xdomain_tf.models import build_multi_domain_classifier as _build_classifier_module  # noqa: F401
from xdomain_tf.models.causal_lm import CausalLM, build_causal_lm
from xdomain_tf.models.causal_lm_generator import CausalLMGenerator
from xdomain_tf.models.contrastive_aligner import ContrastiveAligner, build_contrastive
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.models.masked_lm import MaskedLM, build_masked_lm
from xdomain_tf.models.masked_sparse_categorical_accuracy import MaskedSparseCategoricalAccuracy
from xdomain_tf.models.multi_domain_classifier import (
    MultiDomainClassifier,
    build_multi_domain_classifier,
    multi_domain_targets,
)
from xdomain_tf.models.similarity_logits import SimilarityLogits
from xdomain_tf.models.transformer_encoder import TransformerEncoder, build_encoder
