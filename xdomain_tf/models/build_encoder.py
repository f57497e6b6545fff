"""Transitional: `build_encoder` now lives in `xdomain_tf.models.transformer_encoder` (import it
from `xdomain_tf.models`). Delete this module once nothing imports `xdomain_tf.models.build_encoder`."""
from xdomain_tf.models.transformer_encoder import build_encoder  # noqa: F401
