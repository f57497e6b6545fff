"""Functional-API model builders."""
from xdomain_tf.models.encoder_config import EncoderConfig
