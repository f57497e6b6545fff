"""`TFLiteModule`: the single-signature graph that a TFLite file is converted from."""
import contextlib
import math

import tensorflow as tf

from xdomain_tf.export.serving_module import _Hidden, route_to_domain
from xdomain_tf.errors import XDomainError

IDS_INPUTS = ("token_ids", "segment_ids", "padding_mask")
# Padded keys get each attention row's lowest score minus this margin: their softmax
# weight is then below exp(-20) = 2e-9 of the row's largest, under float32 rounding.
MASK_MARGIN = 20.0


def bounded_mask_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False, **kwargs):
    """`keras.ops.dot_product_attention` with a padding mask that keeps the scores' range small.

    Keras masks a score by replacing it with -2.4e38. The same numbers in float32, but an
    int8 TFLite file quantizes the masked scores tensor with one scale for that whole range
    (about 1e36 per step), so every real score rounds to the same value and attention becomes
    uniform. Here a masked score is instead the row's lowest score minus `MASK_MARGIN`: the
    softmax is unchanged in float32 (masked weights stay under 2e-9 of the largest) and the
    tensor's range grows by only `MASK_MARGIN`.

    Args:
        query, key, value: `[batch, length, heads, head_size]`.
        bias, is_causal, **kwargs: as in `keras.ops.dot_product_attention`; with any of
            them set (or no mask) the call goes to Keras unchanged.
        mask: boolean, broadcastable to `[batch, heads, queries, keys]`; True = attend.
        scale: the scores' scale (default `1 / sqrt(head_size)`).

    Returns:
        `[batch, length, heads, head_size]`.

    Example:

    >>> import numpy as np, keras
    >>> q = np.random.default_rng(0).normal(size=(1, 4, 2, 8)).astype("float32")
    >>> mask = np.array([True, True, True, False])[None, None, None, :]
    >>> expected = keras.ops.dot_product_attention(q, q, q, mask=mask)
    >>> bool(np.allclose(bounded_mask_attention(q, q, q, mask=mask), expected, atol=1e-6))
    True
    """
    if bias is not None or is_causal or mask is None or any(option is not None for option in kwargs.values()):
        import keras

        return keras.ops.dot_product_attention(
            query, key, value, bias=bias, mask=mask, scale=scale, is_causal=is_causal, **kwargs
        )
    query, key, value = (tf.convert_to_tensor(tensor) for tensor in (query, key, value))
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = tf.cast(tf.einsum("btnh,bsnh->bnts", query, key), tf.float32) * scale
    lowest = tf.reduce_min(scores, axis=-1, keepdims=True)
    scores = tf.where(tf.cast(mask, tf.bool), scores, lowest - MASK_MARGIN)
    probabilities = tf.cast(tf.nn.softmax(scores, axis=-1), value.dtype)
    return tf.einsum("bnts,bsnh->btnh", probabilities, value)


def matmul_variance_layer_norm(inputs, gamma=None, beta=None, epsilon=1e-3):
    """Layer normalization over the last axis whose variance is a dot product.

    Keras computes the variance as the mean of a squared-difference tensor and the output
    as `x * inv + (beta - mean * inv)`. In an int8 TFLite file each of those tensors gets
    one scale for all features: a few large features (BERT-style models have some) push the
    small squared differences to zero, and the two large terms of the output cancel. Here
    the squared differences are summed by a matmul (int32 accumulation in int8) and the
    output is `(x - mean) * inv * gamma + beta`. Equal to Keras in float32 (to ~1e-6).

    Args:
        inputs: `[..., features]`.
        gamma, beta: `[features]` or None.
        epsilon: added to the variance.

    Returns:
        The normalized `inputs`, float32.

    Example:

    >>> import numpy as np, keras
    >>> x = np.random.default_rng(0).normal(size=(2, 3, 8)).astype("float32")
    >>> expected = keras.layers.LayerNormalization(epsilon=1e-12)(x)
    >>> bool(np.allclose(matmul_variance_layer_norm(x, epsilon=1e-12), expected, atol=1e-5))
    True
    """
    x = tf.cast(inputs, tf.float32)
    centered = x - tf.reduce_mean(x, axis=-1, keepdims=True)
    squares = tf.matmul(centered[..., None, :], centered[..., :, None])[..., 0]
    outputs = centered * tf.math.rsqrt(squares / x.shape[-1] + epsilon)
    if gamma is not None:
        outputs = outputs * tf.cast(gamma, tf.float32)
    if beta is not None:
        outputs = outputs + tf.cast(beta, tf.float32)
    return outputs


def _layer_norm_call(original):
    def call(layer, inputs):
        rank = len(inputs.shape)
        axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
        if layer.rms_scaling or [axis % rank for axis in axes] != [rank - 1]:
            return original(layer, inputs)
        outputs = matmul_variance_layer_norm(inputs, layer.gamma, layer.beta, layer.epsilon)
        return tf.cast(outputs, layer.compute_dtype)

    return call


class _OpsWith:
    """`keras.ops` with some functions replaced."""

    def __init__(self, ops, **replacements):
        self._ops = ops
        self.__dict__.update(replacements)

    def __getattr__(self, name):
        return getattr(self._ops, name)


@contextlib.contextmanager
def _tflite_formulations(for_int8):
    """While a graph is traced, `MultiHeadAttention` calls `bounded_mask_attention` and,
    with `for_int8`, `LayerNormalization` calls `matmul_variance_layer_norm`. Only the
    traced graph changes: the layers' code and the trained model are untouched (restored on
    exit). Not thread-safe: trace or train no other model in the process meanwhile."""
    import keras

    from xdomain_tf.layers import multi_head_attention

    ops, layer_norm_call = multi_head_attention.ops, keras.layers.LayerNormalization.call
    multi_head_attention.ops = _OpsWith(ops, dot_product_attention=bounded_mask_attention)
    if for_int8:
        keras.layers.LayerNormalization.call = _layer_norm_call(layer_norm_call)
    try:
        yield
    finally:
        multi_head_attention.ops = ops
        keras.layers.LayerNormalization.call = layer_norm_call


class TFLiteModule(tf.Module):
    """A classifier with a static sequence length, for conversion to TFLite.

    Its one signature, `serving_default`, takes either packed ids (`token_ids`,
    `segment_ids`, `padding_mask`: int32 `[batch, sequence_length]`) or, with
    `with_tokenizer`, raw `text` (tf.string `[batch]`), plus `domain_id` (int32 `[batch]`,
    the domain's index in the labels file). Outputs: `probabilities` (float32
    `[batch, max_labels]`, zeros past the domain's labels), `label_id` (int32 `[batch]`)
    and `score` (float32 `[batch]`). A `domain_id` outside `[0, domains)` makes the
    interpreter's invoke fail (gather index out of bounds).

    The graph computes attention with `bounded_mask_attention` (equal to the Keras model in
    float32; int8 quantization then keeps the attention scores apart) and, `for_int8`,
    layer normalization with `matmul_variance_layer_norm` (also equal in float32, but
    slower there: 1.3 -> 2.2 ms at batch 1 for a 2-layer, hidden-128 model).

    Args:
        model: the `MultiDomainClassifier`.
        preprocessor: the run's `Preprocessor`; with `with_tokenizer` it runs in the graph
            (padded to its `sequence_length`).
        with_tokenizer: take raw text (tensorflow-text TFLite custom ops tokenize it).
        for_int8: build the graph for full-integer quantization.

    Example:

        module = TFLiteModule(model, preprocessor)
        tf.saved_model.save(module, path, signatures={"serving_default": module.signature()})
    """

    def __init__(self, model, preprocessor, with_tokenizer=False, for_int8=False):
        super().__init__(name="xdomain_tflite")
        from xdomain_tf.text.preprocessor import Preprocessor

        domains = getattr(model, "domains", None)
        if not domains:
            raise XDomainError("the model is not a multi-domain classifier (no `domains`)")
        if preprocessor.pad_to != "fixed":
            preprocessor = Preprocessor.from_config({**preprocessor.get_config(), "pad_to": "fixed"})
        self._keras = _Hidden(model=model, preprocessor=preprocessor)
        self.model_variables = [variable.value if hasattr(variable, "value") else variable for variable in model.variables]
        self.domain_names = list(domains)
        self.max_labels = max(len(labels) for labels in domains.values())
        self.sequence_length = preprocessor.sequence_length
        self.with_tokenizer = with_tokenizer
        self.for_int8 = for_int8

    @property
    def preprocessor(self):
        """The Preprocessor used (padding to the fixed sequence length)."""
        return self._keras.preprocessor

    def _classify(self, features, domain_id):
        inputs = {name: features[name] for name in IDS_INPUTS}
        inputs["domain_id"] = domain_id
        logits = self._keras.model(inputs, training=False)
        probabilities, label_id, score = route_to_domain(logits, domain_id, self.domain_names, self.max_labels)
        return {"probabilities": probabilities, "label_id": label_id, "score": score}

    def signature(self):
        """The concrete function to save as `serving_default`."""
        with _tflite_formulations(self.for_int8):
            return self._trace()

    def _trace(self):
        domain_id = tf.TensorSpec([None], tf.int32, name="domain_id")
        if self.with_tokenizer:
            def classify_text(text, domain_id):
                return self._classify(self._keras.preprocessor(text), domain_id)

            return tf.function(classify_text, autograph=False).get_concrete_function(
                tf.TensorSpec([None], tf.string, name="text"), domain_id
            )

        ids = tf.TensorSpec([None, self.sequence_length], tf.int32)

        def classify_ids(token_ids, segment_ids, padding_mask, domain_id):
            features = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
            return self._classify(features, domain_id)

        return tf.function(classify_ids, autograph=False).get_concrete_function(
            tf.TensorSpec.from_spec(ids, name="token_ids"),
            tf.TensorSpec.from_spec(ids, name="segment_ids"),
            tf.TensorSpec.from_spec(ids, name="padding_mask"),
            domain_id,
        )
