"""One Transformer encoder block (BERT layout), with optional adapters, LoRA and kv-cache."""
import keras

from xdomain_tf.layers._utils import (
    check_choice,
    clone_initializer,
    default_kernel_initializer,
    flat_tokens,
    unflat_tokens,
)
from xdomain_tf.layers.activations import get_activation
from xdomain_tf.layers.bottleneck_adapter import BottleneckAdapter
from xdomain_tf.layers.layer_normalization import LAYER_NORM_MODES, layer_normalization
from xdomain_tf.layers.multi_head_attention import MASK_MODES, MultiHeadAttention


@keras.saving.register_keras_serializable(package="xdomain_tf")
class TransformerEncoderBlock(keras.layers.Layer):
    """Self-attention and feed-forward sub-layers with residuals and LayerNorm.

    Post-LayerNorm (BERT): `x = LN(x + Dropout(Attention(x)))`, then
    `x = LN(x + Dropout(FFN(x)))`. Pre-LayerNorm: `x = x + Dropout(Attention(LN(x)))`, then
    `x = x + Dropout(FFN(LN(x)))` (the model adds a final LayerNorm).

    Sub-layers (names a checkpoint converter maps): `attention` (`MultiHeadAttention`, with
    `qkv` and `output`), `attention_layer_norm`, `intermediate` (Dense to
    `intermediate_size`), `output` (Dense back to hidden), `output_layer_norm`, and with
    adapters `attention_adapter` and `output_adapter` (`BottleneckAdapter`, Houlsby
    placement: on each sub-layer's output, before the residual sum).

    Args:
        num_heads: attention heads.
        intermediate_size: feed-forward width.
        dropout: dropout on each sub-layer's output.
        attention_dropout: dropout on the attention probabilities.
        activation: feed-forward activation; `"gelu"` is the exact erf GELU.
        layer_norm_epsilon: LayerNorm epsilon.
        pre_layer_norm: LayerNorm before each sub-layer instead of after.
        num_adapters: bottleneck adapters per position (0 = none), e.g. one per domain.
        adapter_reduction_factor: hidden width / adapter bottleneck width.
        lora_rank, lora_alpha, lora_targets: LoRA on the attention projections, see
            `MultiHeadAttention`.
        kernel_initializer: initializer of the dense kernels.
        attention_mask_mode: `"large_negative"` (default) or `"bounded"`: the attention's
            `mask_mode`, see `MultiHeadAttention`.
        layer_norm_mode: `"standard"` (default, `keras.layers.LayerNormalization`) or
            `"matmul_variance"` (`MatmulVarianceLayerNormalization`: same function and
            weights, quantizes well to int8).
        head_size: width of each attention head (None: hidden width / `num_heads`); given
            when structured pruning left the block fewer heads than hidden / head_size.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: `[batch, seq, hidden]`.
        padding_mask: `[batch, keys]`, 1 for real tokens.
        causal: causal self-attention.
        cache, cache_index: key/value cache of this block's attention; the call then returns
            `(output, new_cache)`.
        adapter_index: int `[batch]`, each example's adapter (needed with > 1 adapter).

    Example:

    >>> import numpy as np
    >>> block = TransformerEncoderBlock(num_heads=2, intermediate_size=16)
    >>> tuple(block(np.zeros((2, 5, 8), "float32"), padding_mask=np.ones((2, 5))).shape)
    (2, 5, 8)
    >>> block = TransformerEncoderBlock(2, 16, attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    >>> {key: block.get_config()[key] for key in ("attention_mask_mode", "layer_norm_mode")}
    {'attention_mask_mode': 'bounded', 'layer_norm_mode': 'matmul_variance'}
    >>> pruned = TransformerEncoderBlock(num_heads=1, intermediate_size=6, head_size=4)
    >>> tuple(pruned(np.zeros((2, 5, 8), "float32")).shape), tuple(pruned.attention.qkv.kernel.shape)
    ((2, 5, 8), (8, 12))
    """

    def __init__(
        self,
        num_heads,
        intermediate_size,
        dropout=0.0,
        attention_dropout=0.0,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        pre_layer_norm=False,
        num_adapters=0,
        adapter_reduction_factor=16,
        lora_rank=0,
        lora_alpha=None,
        lora_targets=("query", "value"),
        kernel_initializer=None,
        attention_mask_mode="large_negative",
        layer_norm_mode="standard",
        head_size=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("attention_mask_mode", attention_mask_mode, MASK_MODES)
        check_choice("layer_norm_mode", layer_norm_mode, LAYER_NORM_MODES)
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = activation
        self._activation_fn = get_activation(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.pre_layer_norm = pre_layer_norm
        self.num_adapters = num_adapters
        self.adapter_reduction_factor = adapter_reduction_factor
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.lora_targets = tuple(lora_targets)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or default_kernel_initializer()
        )
        self.attention_mask_mode = attention_mask_mode
        self.layer_norm_mode = layer_norm_mode
        self.head_size = head_size

    def build(self, inputs_shape):
        hidden_size = inputs_shape[-1]
        self.attention = MultiHeadAttention(
            self.num_heads,
            dropout=self.attention_dropout,
            lora_rank=self.lora_rank,
            lora_alpha=self.lora_alpha,
            lora_targets=self.lora_targets,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            mask_mode=self.attention_mask_mode,
            head_size=self.head_size,
            dtype=self.dtype_policy,
            name="attention",
        )
        self.attention.build(inputs_shape)
        self.attention_layer_norm = self._layer_norm("attention_layer_norm", inputs_shape)
        self.intermediate = keras.layers.Dense(
            self.intermediate_size,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="intermediate",
        )
        self.intermediate.build(inputs_shape)
        self.output_dense = keras.layers.Dense(
            hidden_size,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="output",
        )
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_size,))
        self.output_layer_norm = self._layer_norm("output_layer_norm", inputs_shape)
        self.attention_adapter = self._adapter("attention_adapter", inputs_shape)
        self.output_adapter = self._adapter("output_adapter", inputs_shape)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.built = True

    def _layer_norm(self, name, inputs_shape):
        layer = layer_normalization(
            self.layer_norm_mode, epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        layer.build(inputs_shape)
        return layer

    def _adapter(self, name, inputs_shape):
        if not self.num_adapters:
            return None
        adapter = BottleneckAdapter(
            self.num_adapters,
            reduction_factor=self.adapter_reduction_factor,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name=name,
        )
        adapter.build(inputs_shape)
        return adapter

    @property
    def adapter_weights(self):
        """The variables of both adapters (empty without adapters)."""
        if not self.num_adapters or not self.built:
            return []
        return self.attention_adapter.weights + self.output_adapter.weights

    def call(
        self,
        inputs,
        padding_mask=None,
        causal=False,
        cache=None,
        cache_index=None,
        adapter_index=None,
        training=None,
    ):
        x = inputs
        attention_input = self.attention_layer_norm(x) if self.pre_layer_norm else x
        attended = self.attention(
            attention_input,
            padding_mask=padding_mask,
            causal=causal,
            cache=cache,
            cache_index=cache_index,
            training=training,
        )
        if cache is not None:
            attended, new_cache = attended
        attended = self.dropout_layer(attended, training=training)
        if self.attention_adapter is not None:
            attended = self.attention_adapter(attended, adapter_index=adapter_index)
        x = x + attended
        if not self.pre_layer_norm:
            x = self.attention_layer_norm(x)

        feed_forward_input = self.output_layer_norm(x) if self.pre_layer_norm else x
        transformed = self._activation_fn(self.intermediate(flat_tokens(feed_forward_input)))
        transformed = unflat_tokens(self.output_dense(transformed), like=feed_forward_input)
        transformed = self.dropout_layer(transformed, training=training)
        if self.output_adapter is not None:
            transformed = self.output_adapter(transformed, adapter_index=adapter_index)
        x = x + transformed
        if not self.pre_layer_norm:
            x = self.output_layer_norm(x)
        return (x, new_cache) if cache is not None else x

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_size": self.intermediate_size,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "pre_layer_norm": self.pre_layer_norm,
                "num_adapters": self.num_adapters,
                "adapter_reduction_factor": self.adapter_reduction_factor,
                "lora_rank": self.lora_rank,
                "lora_alpha": self.lora_alpha,
                "lora_targets": list(self.lora_targets),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "attention_mask_mode": self.attention_mask_mode,
                "layer_norm_mode": self.layer_norm_mode,
                "head_size": self.head_size,
            }
        )
        return config
