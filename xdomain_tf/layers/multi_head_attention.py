"""Multi-head self-attention with a fused QKV projection, LoRA and a key/value cache."""
import math

import keras
from keras import ops

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers._utils import (
    check_choice,
    clone_initializer,
    default_kernel_initializer,
    flat_tokens,
    unflat_tokens,
)

_LORA_TARGETS = ("query", "key", "value")
MASK_MODES = ("large_negative", "bounded")
# With `mask_mode="bounded"` padded keys get each attention row's lowest score minus this
# margin: their softmax weight is then below exp(-20) = 2e-9 of the row's largest, under
# float32 rounding.
MASK_MARGIN = 20.0


def bounded_mask(scores, mask):
    """`scores` with each masked entry set to its row's lowest score minus `MASK_MARGIN`.

    Args:
        scores: float `[batch, heads, queries, keys]`.
        mask: boolean, broadcastable to `scores`; True = attend.

    Returns:
        The masked scores (same shape).

    Example:

    >>> import numpy as np
    >>> bounded_mask(np.array([[[[1.0, 3.0, 9.0]]]]), np.array([True, True, False])).numpy().tolist()
    [[[[1.0, 3.0, -19.0]]]]
    """
    lowest = ops.min(scores, axis=-1, keepdims=True)
    return ops.where(ops.cast(mask, "bool"), scores, lowest - MASK_MARGIN)


def bounded_mask_attention(query, key, value, mask=None, scale=None):
    """`keras.ops.dot_product_attention` with a mask that keeps the scores' range small.

    Keras masks a score by replacing it with -2.4e38. The same numbers in float32, but an
    int8 TFLite file quantizes the masked scores tensor with one scale for that whole range
    (about 1e36 per step), so every real score rounds to the same value and attention becomes
    uniform. Here a masked score is instead the row's lowest score minus `MASK_MARGIN`
    (`bounded_mask`): the softmax is unchanged in float32 (masked weights stay under 2e-9 of
    the largest) and the tensor's range grows by only `MASK_MARGIN`. What
    `MultiHeadAttention(mask_mode="bounded")` computes.

    Args:
        query, key, value: `[batch, length, heads, head_size]`.
        mask: boolean, broadcastable to `[batch, heads, queries, keys]`; True = attend.
            Without a mask the call goes to `keras.ops.dot_product_attention`.
        scale: the scores' scale (default `1 / sqrt(head_size)`).

    Returns:
        `[batch, length, heads, head_size]`.

    Example:

    >>> import numpy as np
    >>> q = np.random.default_rng(0).normal(size=(1, 4, 2, 8)).astype("float32")
    >>> mask = np.array([True, True, True, False])[None, None, None, :]
    >>> expected = keras.ops.dot_product_attention(q, q, q, mask=mask)
    >>> bool(np.allclose(bounded_mask_attention(q, q, q, mask=mask), expected, atol=1e-6))
    True
    """
    if mask is None:
        return ops.dot_product_attention(query, key, value, scale=scale)
    query, key, value = (ops.convert_to_tensor(tensor) for tensor in (query, key, value))
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = ops.cast(ops.einsum("btnh,bsnh->bnts", query, key), "float32") * scale
    probabilities = ops.cast(ops.softmax(bounded_mask(scores, mask), axis=-1), value.dtype)
    return ops.einsum("bnts,bsnh->btnh", probabilities, value)


@keras.saving.register_keras_serializable(package="xdomain_tf")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head self-attention, as in BERT, with a fused query/key/value projection.

    Sub-layers and weights (names a checkpoint converter maps):
    `qkv` (Dense, kernel `[hidden, 3 * heads_width]` laid out `[query | key | value]`, each
    `heads_width = num_heads * head_size` wide, head-major), `output` (Dense,
    `[heads_width, hidden]`) and, with LoRA, `lora_{query,key,value}_{a,b}`. By default
    `head_size = hidden / num_heads`, so `heads_width` is the input width; a layer whose
    heads were pruned keeps its `head_size` with fewer heads.

    Attention runs through `keras.ops.dot_product_attention` (fused kernels where the backend
    has them). The probabilities are computed explicitly only when they are asked for or when
    attention dropout is active in training.

    Masking (`mask_mode`): `"large_negative"` (default) replaces a masked score by a huge
    negative number, as Keras does. `"bounded"` replaces it by the row's lowest score minus
    `MASK_MARGIN` (`bounded_mask_attention`): the same outputs in float32 (to ~1e-6), and a
    scores tensor whose range stays small, so full-int8 quantization (TFLite) keeps the real
    scores apart. The weights do not depend on the mode.

    LoRA: with `lora_rank > 0`, each projection named in `lora_targets` gets a low-rank update
    `x @ A @ B * lora_alpha / lora_rank` with `B` initialised to zero, so the layer starts out
    identical to the one without LoRA. Freeze `qkv` and `output` (`layer.qkv.trainable =
    False`) to train only `lora_weights`.

    Key/value cache (incremental decoding): `cache` has shape
    `[batch, 2, max_length, num_heads, head_size]` (keys, then values); the new keys/values are
    written at `cache_index` (the position of the first query token) and the call returns
    `(output, new_cache)`. Keys after the last written position are masked out.

    Args:
        num_heads: number of heads; must divide the input width unless `head_size` is given.
        head_size: width of each head (None: the input width / `num_heads`).
        dropout: dropout rate on the attention probabilities.
        lora_rank: rank of the LoRA updates; 0 (default) disables LoRA.
        lora_alpha: LoRA scale numerator (updates are scaled by `lora_alpha / lora_rank`);
            defaults to `lora_rank` (scale 1).
        lora_targets: projections that get LoRA, a subset of `("query", "key", "value")`.
        kernel_initializer: initializer of the projection kernels.
        bias_initializer: initializer of the projection biases.
        mask_mode: `"large_negative"` or `"bounded"`, see above.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `[batch, seq, hidden]`.
        padding_mask: `[batch, key_length]`, 1/True for real tokens (key_length is `seq`, or
            `max_length` with a cache).
        causal: mask out keys after each query position.
        cache, cache_index: see above.
        return_attention_scores: also return the probabilities `[batch, heads, seq, keys]`.

    Returns `output`, or a tuple `(output, [scores], [new_cache])`.

    Example:

    >>> import numpy as np
    >>> layer = MultiHeadAttention(num_heads=2)
    >>> tuple(layer(np.zeros((1, 4, 8), "float32"), causal=True).shape)
    (1, 4, 8)
    >>> MultiHeadAttention(num_heads=2, mask_mode="bounded").get_config()["mask_mode"]
    'bounded'
    >>> pruned = MultiHeadAttention(num_heads=1, head_size=4)
    >>> _ = pruned(np.zeros((1, 4, 8), "float32"))
    >>> tuple(pruned.qkv.kernel.shape), tuple(pruned.output_dense.kernel.shape)
    ((8, 12), (4, 8))
    """

    def __init__(
        self,
        num_heads,
        dropout=0.0,
        lora_rank=0,
        lora_alpha=None,
        lora_targets=("query", "value"),
        kernel_initializer=None,
        bias_initializer="zeros",
        mask_mode="large_negative",
        head_size=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("mask_mode", mask_mode, MASK_MODES)
        for argument, value in (("num_heads", num_heads), ("head_size", head_size)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise XDomainError(f"{argument} must be a positive integer, got {value!r}")
        unknown = sorted(set(lora_targets) - set(_LORA_TARGETS))
        if unknown:
            raise XDomainError(f"Unknown LoRA target(s) {unknown}; choose from {_LORA_TARGETS}")
        if lora_rank < 0:
            raise XDomainError(f"lora_rank must be >= 0, got {lora_rank}")
        self.num_heads = num_heads
        self.head_size = head_size
        # None: derived from the input width at build time (and left out of the config).
        self._configured_head_size = head_size
        self.dropout = dropout
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.lora_targets = tuple(lora_targets)
        self.mask_mode = mask_mode
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or default_kernel_initializer()
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, query_shape):
        hidden_size = query_shape[-1]
        if self.head_size is None:
            if hidden_size % self.num_heads:
                raise XDomainError(
                    f"{self.name}: width {hidden_size} is not divisible by num_heads {self.num_heads}"
                )
            self.head_size = hidden_size // self.num_heads
        self.hidden_size = hidden_size
        self.heads_width = self.num_heads * self.head_size
        self.qkv = keras.layers.Dense(
            3 * self.heads_width,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="qkv",
        )
        self.qkv.build(query_shape)
        self.output_dense = keras.layers.Dense(
            hidden_size,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="output",
        )
        self.output_dense.build(tuple(query_shape[:-1]) + (self.heads_width,))
        for target in self.lora_targets if self.lora_rank else ():
            a = self.add_weight(
                name=f"lora_{target}_a",
                shape=(hidden_size, self.lora_rank),
                initializer=keras.initializers.HeUniform(),
            )
            b = self.add_weight(
                name=f"lora_{target}_b", shape=(self.lora_rank, self.heads_width), initializer="zeros"
            )
            setattr(self, f"lora_{target}_a", a)
            setattr(self, f"lora_{target}_b", b)
        self.built = True

    @property
    def lora_weights(self):
        """The LoRA variables (A and B of every target), empty without LoRA."""
        if not self.lora_rank or not self.built:
            return []
        return [
            getattr(self, f"lora_{target}_{part}")
            for target in self.lora_targets
            for part in ("a", "b")
        ]

    def call(
        self,
        query,
        padding_mask=None,
        causal=False,
        cache=None,
        cache_index=None,
        return_attention_scores=False,
        training=None,
    ):
        query_heads, key_heads, value_heads = self._project(query)
        if cache is not None:
            if cache_index is None:
                raise XDomainError(f"{self.name}: a cache needs a cache_index")
            start = [0, cache_index, 0, 0]
            key_heads = ops.slice_update(cache[:, 0], start, key_heads)
            value_heads = ops.slice_update(cache[:, 1], start, value_heads)
            new_cache = ops.stack([key_heads, value_heads], axis=1)
        mask = self._attention_mask(
            query_length=ops.shape(query)[1],
            key_length=ops.shape(key_heads)[1],
            padding_mask=padding_mask,
            causal=causal,
            offset=cache_index if cache is not None else None,
        )
        dropout_active = bool(training) and self.dropout > 0
        if return_attention_scores or dropout_active:
            context, scores = self._explicit_attention(
                query_heads, key_heads, value_heads, mask, training
            )
        elif self.mask_mode == "bounded":
            context = bounded_mask_attention(
                query_heads,
                key_heads,
                value_heads,
                mask=mask,
                scale=1.0 / math.sqrt(self.head_size),
            )
        else:
            context = ops.dot_product_attention(
                query_heads,
                key_heads,
                value_heads,
                mask=mask,
                scale=1.0 / math.sqrt(self.head_size),
            )
        output = unflat_tokens(self.output_dense(ops.reshape(context, (-1, self.heads_width))), like=query)
        results = (output,)
        if return_attention_scores:
            results += (scores,)
        if cache is not None:
            results += (new_cache,)
        return results[0] if len(results) == 1 else results

    def _project(self, query):
        tokens = flat_tokens(query)
        qkv = self.qkv(tokens)
        heads_shape = ops.shape(query)[:-1] + (self.num_heads, self.head_size)
        # One split, not three slices: a slice's gradient writes a zero-padded copy of the
        # whole fused projection, which made training steps ~15% slower (bert_mini, CPU).
        projections = ops.split(qkv, 3, axis=-1)
        if self.lora_rank:
            scale = (self.lora_alpha or self.lora_rank) / self.lora_rank
            for i, target in enumerate(_LORA_TARGETS):
                if target in self.lora_targets:
                    a = getattr(self, f"lora_{target}_a")
                    b = getattr(self, f"lora_{target}_b")
                    update = ops.matmul(ops.matmul(tokens, a), b)
                    projections[i] = projections[i] + update * ops.cast(scale, update.dtype)
        return [ops.reshape(p, heads_shape) for p in projections]

    def _attention_mask(self, query_length, key_length, padding_mask, causal, offset):
        """A boolean mask `[batch or 1, 1, query_length, key_length]`, or None."""
        mask = None
        if padding_mask is not None:
            mask = ops.cast(padding_mask, "bool")[:, None, None, :]
        if causal or offset is not None:
            query_positions = ops.arange(query_length, dtype="int32")[:, None]
            key_positions = ops.arange(key_length, dtype="int32")[None, :]
            if offset is not None:
                query_positions = query_positions + ops.cast(offset, "int32")
            if causal:
                visible = key_positions <= query_positions
            else:
                # Without the causal mask a cached call still must not see unwritten slots.
                visible = key_positions <= query_positions[-1:]
            visible = visible[None, None, :, :]
            mask = visible if mask is None else ops.logical_and(mask, visible)
        return mask

    def _explicit_attention(self, query_heads, key_heads, value_heads, mask, training):
        logits = ops.einsum("btnh,bsnh->bnts", query_heads, key_heads)
        logits = ops.cast(logits, "float32") / math.sqrt(self.head_size)
        if mask is not None and self.mask_mode == "bounded":
            logits = bounded_mask(logits, mask)
        elif mask is not None:
            logits = ops.where(mask, logits, -1e9)
        scores = ops.softmax(logits, axis=-1)
        probabilities = self.dropout_layer(ops.cast(scores, value_heads.dtype), training=training)
        context = ops.einsum("bnts,bsnh->btnh", probabilities, value_heads)
        return context, scores

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "lora_rank": self.lora_rank,
                "lora_alpha": self.lora_alpha,
                "lora_targets": list(self.lora_targets),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "mask_mode": self.mask_mode,
                "head_size": self._configured_head_size,
            }
        )
        return config
