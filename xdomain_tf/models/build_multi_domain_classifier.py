"""Transitional: `build_multi_domain_classifier` and `multi_domain_targets` now live in
`xdomain_tf.models.multi_domain_classifier` (import them from `xdomain_tf.models`). Delete this
module once nothing imports `xdomain_tf.models.build_multi_domain_classifier`."""
from xdomain_tf.models.multi_domain_classifier import build_multi_domain_classifier, multi_domain_targets  # noqa: F401
