"""Temperature sampling of domains: how often a training mixture draws from each domain."""
import math
import numbers

from xdomain_tf.errors import XDomainError


def sampling_probabilities(sizes, alpha=1.0, weights=None):
    """Probabilities of drawing each domain: `p_d ∝ w_d * n_d ** alpha`.

    `alpha=1` samples in proportion to domain size, `alpha=0` uniformly (or by the
    explicit weights alone); XLM-R used `alpha=0.3`, which lifts small domains without
    repeating them as often as uniform sampling would. A domain of size 0 gets 0.

    Args:
        sizes: example counts, a mapping `{domain: n}` or a sequence.
        alpha: the exponent (temperature `1 / alpha`).
        weights: optional multipliers `w_d`, of the same kind as `sizes` (a mapping may
            leave domains out; they get 1).

    Returns:
        The probabilities, a dict with the keys of `sizes` or a list, summing to 1.

    Example:

    >>> sampling_probabilities({"big": 1000, "small": 10}, alpha=0.5)
    {'big': 0.9090909090909091, 'small': 0.09090909090909091}
    >>> sampling_probabilities([1000, 10], alpha=0)
    [0.5, 0.5]
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not math.isfinite(alpha):
        raise XDomainError(f"alpha must be a finite number, got {alpha!r}")
    is_mapping = hasattr(sizes, "items")
    keys = list(sizes) if is_mapping else list(range(len(sizes)))
    counts = [sizes[key] for key in keys]
    if not keys:
        raise XDomainError("sampling_probabilities needs at least one domain")
    for key, count in zip(keys, counts):
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise XDomainError(f"domain size must be an integer >= 0, got {count!r} for {key!r}")
    factors = _weights(keys, weights, is_mapping)
    raw = [w * float(n) ** float(alpha) if n > 0 else 0.0 for n, w in zip(counts, factors)]
    total = sum(raw)
    if not total > 0:
        raise XDomainError(
            f"no domain can be sampled: sizes {dict(zip(keys, counts))}, "
            f"weights {dict(zip(keys, factors))}"
        )
    probabilities = [value / total for value in raw]
    return dict(zip(keys, probabilities)) if is_mapping else probabilities


def _weights(keys, weights, is_mapping):
    if weights is None:
        return [1.0] * len(keys)
    if is_mapping:
        if not hasattr(weights, "items"):
            raise XDomainError("weights must be a mapping {domain: weight} when sizes is one")
        unknown = sorted(set(weights) - set(keys), key=str)
        if unknown:
            raise XDomainError(
                f"weights for unknown domain(s) {unknown}; known: {', '.join(map(str, keys))}"
            )
        factors = [weights.get(key, 1.0) for key in keys]
    else:
        factors = list(weights)
        if len(factors) != len(keys):
            raise XDomainError(f"got {len(factors)} weights for {len(keys)} domains")
    for key, factor in zip(keys, factors):
        if (
            isinstance(factor, bool)
            or not isinstance(factor, numbers.Real)
            or not math.isfinite(factor)
            or factor < 0
        ):
            raise XDomainError(f"weight must be a finite number >= 0, got {factor!r} for {key!r}")
    return [float(factor) for factor in factors]
