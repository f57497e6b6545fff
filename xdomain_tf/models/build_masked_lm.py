"""Transitional: `build_masked_lm` now lives in `xdomain_tf.models.masked_lm` (import it from
`xdomain_tf.models`). Delete this module once nothing imports `xdomain_tf.models.build_masked_lm`."""
from xdomain_tf.models.masked_lm import build_masked_lm  # noqa: F401
