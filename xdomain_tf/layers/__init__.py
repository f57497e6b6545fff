"""Keras layers of the xdomain_tf encoders and heads."""

__all__ = [
    "BottleneckAdapter", "ClassificationHead", "GradientReversal", "MaskedLMHead",
    "MatmulVarianceLayerNormalization", "MultiHeadAttention", "PositionEmbedding",
    "TokenAndPositionEmbedding", "TransformerEncoderBlock",
]

from xdomain_tf.layers.bottleneck_adapter import BottleneckAdapter
from xdomain_tf.layers.classification_head import ClassificationHead
from xdomain_tf.layers.gradient_reversal import GradientReversal
from xdomain_tf.layers.layer_normalization import MatmulVarianceLayerNormalization
from xdomain_tf.layers.masked_lm_head import MaskedLMHead
from xdomain_tf.layers.multi_head_attention import MultiHeadAttention
from xdomain_tf.layers.position_embedding import PositionEmbedding
from xdomain_tf.layers.token_and_position_embedding import TokenAndPositionEmbedding
from xdomain_tf.layers.transformer_encoder_block import TransformerEncoderBlock
