"""The BERT-style encoder as a functional Keras model that stores its EncoderConfig.

Layer names (what a checkpoint converter maps; Hugging Face BERT names in brackets):

- `embeddings` (`TokenAndPositionEmbedding`) [embeddings.*]:
  `token_embedding/embeddings` [word_embeddings], `segment_embedding/embeddings`
  [token_type_embeddings], `position_embedding/embeddings` [position_embeddings],
  `layer_norm/{gamma,beta}` [LayerNorm].
- `transformer_layer_{i}` (`TransformerEncoderBlock`) [encoder.layer.{i}.*]:
  `attention/qkv/{kernel,bias}` [attention.self.{query,key,value}, concatenated on the
  output axis in that order, PyTorch weights transposed], `attention/output/{kernel,bias}`
  [attention.output.dense], `attention_layer_norm` [attention.output.LayerNorm],
  `intermediate` [intermediate.dense], `output` [output.dense], `output_layer_norm`
  [output.LayerNorm]; optional `attention_adapter`, `output_adapter`, `attention/lora_*`.
- `final_layer_norm` (pre-LayerNorm encoders only; no BERT counterpart).
- `pooler` (Dense, tanh over [CLS]) [pooler.dense].

Reach them with `encoder.get_layer("transformer_layer_0").attention.qkv.kernel`, or
`encoder.embeddings`, `encoder.transformer_layers[i]`, `encoder.pooler`.
"""
import keras
from keras import ops

from xdomain_tf.errors import XDomainError
from xdomain_tf.layers._utils import check_choice, default_kernel_initializer
from xdomain_tf.layers.layer_normalization import LAYER_NORM_MODES, layer_normalization
from xdomain_tf.layers.multi_head_attention import MASK_MODES
from xdomain_tf.layers.token_and_position_embedding import TokenAndPositionEmbedding
from xdomain_tf.layers.transformer_encoder_block import TransformerEncoderBlock
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.models.encoder_task_model import token_inputs


@keras.saving.register_keras_serializable(package="xdomain_tf")
class TransformerEncoder(keras.Model):
    """A BERT-style Transformer encoder (functional model).

    Inputs (dict): `token_ids`, `segment_ids`, `padding_mask`, int32 `[batch, seq]` with any
    `seq` up to `max_position_embeddings`; plus `adapter_index` (int32 `[batch]`) when
    `num_adapters > 0`. Outputs (dict): `sequence_output` `[batch, seq, hidden]`,
    `pooled_output` `[batch, hidden]` (tanh dense over the first token) and, with
    `output_hidden_states`, `hidden_states` `[batch, num_layers + 1, seq, hidden]` (index 0 is
    the embedding output, index i the output of layer i; the last equals `sequence_output`).

    A structurally pruned encoder (`xdomain_tf.prune`) has per-layer head counts and
    feed-forward widths in its config (`EncoderConfig.layer_attention_heads`,
    `layer_intermediate_sizes`): its blocks are built smaller, not masked.

    A frozen encoder (`encoder.trainable = False`) runs in inference mode (no dropout) even
    inside a model that is training, so it acts as a fixed feature extractor.

    `encoder.encoder_config` holds the `EncoderConfig`; it and the other arguments are the
    model's Keras config, so a `.keras` file reloads (with `safe_mode=True`) into the same
    model.

    Args:
        encoder_config: an `EncoderConfig`, its dict, or an architecture name
            (`EncoderConfig.architecture_names()`: `"bert_tiny"`, ...).
        causal: causal self-attention in every block (for a causal language model).
        num_adapters: bottleneck adapters per block position (0 = none), selected per
            example by the `adapter_index` input.
        adapter_reduction_factor: hidden width / adapter bottleneck width.
        lora_rank: LoRA rank on the attention projections (0 = none).
        lora_alpha: LoRA scale numerator (defaults to `lora_rank`).
        output_hidden_states: also output every layer's hidden states.
        attention_mask_mode: `"large_negative"` (default) or `"bounded"` (a padding mask that
            keeps the attention scores' range small, for full-int8 TFLite), see
            `MultiHeadAttention`.
        layer_norm_mode: `"standard"` (default) or `"matmul_variance"` (every LayerNorm:
            embeddings, blocks, final; same function and weights, quantizes well to int8),
            see `MatmulVarianceLayerNormalization`.
        dtype: dtype policy of all layers (None: the global policy).
        **kwargs: `name`, `trainable`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models.encoder_config import EncoderConfig
    >>> encoder = TransformerEncoder(EncoderConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
    ...                                            num_attention_heads=2, intermediate_size=64))
    >>> ids = np.array([[2, 5, 6, 3]], "int32")
    >>> outputs = encoder({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids})
    >>> sorted(outputs), tuple(outputs["sequence_output"].shape)
    (['pooled_output', 'sequence_output'], (1, 4, 32))
    >>> TransformerEncoder("bert_tiny").encoder_config == EncoderConfig.architecture("bert_tiny")
    True
    >>> twin = TransformerEncoder.from_config({**encoder.get_config(), "layer_norm_mode": "matmul_variance"})
    >>> twin.set_weights(encoder.get_weights())
    >>> twin_outputs = twin({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids})
    >>> bool(np.allclose(twin_outputs["sequence_output"], outputs["sequence_output"], atol=1e-5))
    True
    """

    def __init__(
        self,
        encoder_config,
        causal=False,
        num_adapters=0,
        adapter_reduction_factor=16,
        lora_rank=0,
        lora_alpha=None,
        output_hidden_states=False,
        attention_mask_mode="large_negative",
        layer_norm_mode="standard",
        dtype=None,
        **kwargs,
    ):
        config = _encoder_config(encoder_config)
        for argument, value in (("num_adapters", num_adapters), ("lora_rank", lora_rank)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise XDomainError(f"{argument} must be an integer >= 0, got {value!r}")
        if num_adapters and (
            isinstance(adapter_reduction_factor, bool)
            or not isinstance(adapter_reduction_factor, int)
            or adapter_reduction_factor < 1
        ):
            raise XDomainError(
                f"adapter_reduction_factor must be a positive integer, got {adapter_reduction_factor!r}"
            )
        check_choice("attention_mask_mode", attention_mask_mode, MASK_MODES)
        check_choice("layer_norm_mode", layer_norm_mode, LAYER_NORM_MODES)

        # === Layers ===
        self.embeddings = TokenAndPositionEmbedding(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            max_length=config.max_position_embeddings,
            type_vocab_size=config.type_vocab_size,
            dropout=config.hidden_dropout_prob,
            layer_norm_epsilon=config.layer_norm_eps,
            layer_norm_mode=layer_norm_mode,
            dtype=dtype,
            name="embeddings",
        )
        self.transformer_layers = [
            TransformerEncoderBlock(
                num_heads=config.heads_of(i),
                intermediate_size=config.intermediate_size_of(i),
                dropout=config.hidden_dropout_prob,
                attention_dropout=config.attention_probs_dropout_prob,
                activation=config.hidden_act,
                layer_norm_epsilon=config.layer_norm_eps,
                pre_layer_norm=config.pre_layer_norm,
                num_adapters=num_adapters,
                adapter_reduction_factor=adapter_reduction_factor,
                lora_rank=lora_rank,
                lora_alpha=lora_alpha,
                attention_mask_mode=attention_mask_mode,
                layer_norm_mode=layer_norm_mode,
                head_size=None if config.layer_attention_heads is None else config.head_size,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(config.num_hidden_layers)
        ]
        self.final_layer_norm = None
        if config.pre_layer_norm:
            self.final_layer_norm = layer_normalization(
                layer_norm_mode, epsilon=config.layer_norm_eps, dtype=dtype, name="final_layer_norm"
            )
        self.pooler = keras.layers.Dense(
            config.hidden_size,
            activation="tanh",
            kernel_initializer=default_kernel_initializer(),
            dtype=dtype,
            name="pooler",
        )

        # === Functional Model ===
        inputs = token_inputs()
        adapter_index = None
        if num_adapters:
            adapter_index = keras.Input(shape=(), dtype="int32", name="adapter_index")
            inputs["adapter_index"] = adapter_index
        x = self.embeddings(inputs["token_ids"], segment_ids=inputs["segment_ids"])
        hidden_states = [x]
        for block in self.transformer_layers:
            x = block(
                x,
                padding_mask=inputs["padding_mask"],
                causal=causal,
                adapter_index=adapter_index,
            )
            hidden_states.append(x)
        if self.final_layer_norm is not None:
            x = self.final_layer_norm(x)
            hidden_states[-1] = x
        outputs = {"sequence_output": x, "pooled_output": self.pooler(x[:, 0, :])}
        if output_hidden_states:
            outputs["hidden_states"] = ops.stack(hidden_states, axis=1)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        if dtype is not None:
            # A functional model ignores `dtype`; compile() reads the policy (fp16 loss scaling).
            self.dtype_policy = keras.dtype_policies.get(dtype)

        # === Config ===
        self.encoder_config = config
        self.causal = causal
        self.num_adapters = num_adapters
        self.adapter_reduction_factor = adapter_reduction_factor
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.output_hidden_states = output_hidden_states
        self.attention_mask_mode = attention_mask_mode
        self.layer_norm_mode = layer_norm_mode

    def call(self, inputs, training=None, mask=None, **kwargs):
        # A frozen encoder is a fixed feature extractor: no dropout even while training the
        # layers around it (Keras gives a frozen BatchNormalization the same treatment).
        if not self.trainable:
            training = False
        return super().call(inputs, training=training, mask=mask, **kwargs)

    def freeze_base_weights(self):
        """Makes every weight non-trainable except the adapters' and LoRA's.

        Use with `num_adapters` or `lora_rank` for parameter-efficient fine-tuning. (Setting
        `encoder.trainable = True` afterwards makes everything trainable again.)
        """
        keep = {id(v) for v in self.parameter_efficient_weights}
        for variable in self.weights:
            if id(variable) not in keep:
                variable.trainable = False

    @property
    def parameter_efficient_weights(self):
        """The adapter and LoRA variables of all blocks."""
        weights = []
        for block in self.transformer_layers:
            weights += block.adapter_weights + block.attention.lora_weights
        return weights

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "encoder_config": self.encoder_config.to_dict(),
            "causal": self.causal,
            "num_adapters": self.num_adapters,
            "adapter_reduction_factor": self.adapter_reduction_factor,
            "lora_rank": self.lora_rank,
            "lora_alpha": self.lora_alpha,
            "output_hidden_states": self.output_hidden_states,
            "attention_mask_mode": self.attention_mask_mode,
            "layer_norm_mode": self.layer_norm_mode,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)


def _encoder_config(value):
    """`value` (an `EncoderConfig`, its dict or an architecture name) as an `EncoderConfig`."""
    if isinstance(value, str):
        try:
            return EncoderConfig.architecture(value)
        except ValueError as error:
            raise XDomainError(str(error)) from None
    if isinstance(value, dict):
        return EncoderConfig.from_dict(value)
    if not isinstance(value, EncoderConfig):
        raise XDomainError(
            f"encoder_config must be an EncoderConfig, a dict or an architecture name, got {value!r}"
        )
    return value


def build_encoder(config, name="encoder", **options):
    """`TransformerEncoder(config, name=name, **options)`: the encoder's constructor under
    its older name (named `"encoder"` by default).

    Args:
        config: an `EncoderConfig`, its dict, or an architecture name (`"bert_tiny"`, ...).
        name: model name.
        **options: the other arguments of `TransformerEncoder` (`causal`, `num_adapters`,
            `lora_rank`, `output_hidden_states`, `dtype`, ...).

    Example:

    >>> import numpy as np
    >>> encoder = build_encoder(EncoderConfig.architecture("bert_tiny", vocab_size=100))
    >>> ids = np.array([[2, 5, 6, 3]], "int32")
    >>> outputs = encoder({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids})
    >>> encoder.name, tuple(outputs["sequence_output"].shape), tuple(outputs["pooled_output"].shape)
    ('encoder', (1, 4, 128), (1, 128))
    """
    return TransformerEncoder(config, name=name, **options)
