"""Mixed-precision policies by short name."""
import keras

from xdomain_tf.errors import XDomainError

POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def set_precision(precision):
    """Sets Keras' global dtype policy from `fp32`, `bf16` or `fp16` and returns its name.

    Under `fp16`, `model.compile` wraps the optimizer in a `LossScaleOptimizer`
    (dynamic loss scaling); `bf16` needs none. Variables stay float32 in both.

    Args:
        precision: `fp32`, `bf16` or `fp16`.

    Example:

    >>> set_precision("fp32")
    'float32'
    """
    if precision not in POLICIES:
        raise XDomainError(f"unknown precision {precision!r}; choose one of {', '.join(POLICIES)}")
    keras.mixed_precision.set_dtype_policy(POLICIES[precision])
    return POLICIES[precision]


def jit_compile_setting(value):
    """Maps `on`/`off`/`auto` (or a bool) to the `jit_compile` argument of `compile`.

    Example:

    >>> jit_compile_setting("off"), jit_compile_setting("auto"), jit_compile_setting(True)
    (False, 'auto', True)
    """
    mapping = {"on": True, "true": True, "off": False, "false": False, "auto": "auto"}
    if isinstance(value, bool):
        return value
    if str(value).lower() not in mapping:
        raise XDomainError(f"jit_compile must be on, off or auto, got {value!r}")
    return mapping[str(value).lower()]
