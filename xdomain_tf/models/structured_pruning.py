"""Structured pruning of a `TransformerEncoder`: how much each attention head and each
feed-forward unit matters (gradients on data, Michel et al. 2019), which to remove, and the
smaller encoder without them.

A head `h` of a block contributes `context_h @ W_o[rows of h]` to the attention output, and a
feed-forward unit `u` contributes `activation_u * W_2[u]` to the block's output. Multiplying
that contribution by a mask `m` and differentiating the loss at `m = 1` gives
`dL/dm = sum over the rows of (W * dL/dW)`, where `W` is the output kernel (`attention/output`
or `output`) and `dL/dW` its ordinary gradient: the mask gradient of Michel et al. without
rebuilding the model with masks. `importance` accumulates its absolute value over batches;
`pruning_plan` normalises each layer's scores to unit L2 norm (as Michel et al. do for heads)
and removes the lowest-ranked heads and units across all layers (a global ranking), always
keeping one head and one unit per layer; `pruned_encoder` rebuilds the encoder with smaller
kernels (`EncoderConfig.layer_attention_heads`, `layer_intermediate_sizes`) and copies the
kept weights into it. Removing a head or unit then gives exactly the outputs of the original
with that head or unit masked (to float rounding).
"""
import keras
import numpy as np
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.models.encoder_config import EncoderConfig


def check_fraction(name, value):
    """`value` as a float in [0, 1), else a one-line XDomainError.

    Args:
        name: the argument's name, for the message.
        value: the fraction of heads or units to remove.

    Example:

    >>> check_fraction("heads", 0.5)
    0.5
    >>> check_fraction("ffn", 1.0)
    Traceback (most recent call last):
    ...
    xdomain_tf.errors.XDomainError: ffn must be a fraction in [0, 1) of what to remove (1 would remove all), got 1.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise XDomainError(f"{name} must be a fraction in [0, 1) of what to remove (1 would remove all), got {value!r}")
    return float(value)


def importance(encoder, loss_fn, batches):
    """Importance of every attention head and feed-forward unit of `encoder`.

    For each batch, the gradient of `loss_fn(batch)` with respect to each head's and each
    unit's mask (see the module docstring), in absolute value, summed over the batches
    (Michel et al. 2019, whose code also sums absolute batch gradients).

    Args:
        encoder: a `TransformerEncoder`.
        loss_fn: `batch -> scalar loss`, running the model that holds `encoder` (in
            inference mode, so dropout does not add noise).
        batches: an iterable of batches for `loss_fn`.

    Returns:
        `(heads, units)`: lists with one float64 numpy array per layer, `[heads of the
        layer]` and `[feed-forward units of the layer]`.

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models.transformer_encoder import TransformerEncoder
    >>> encoder = TransformerEncoder(EncoderConfig(vocab_size=30, hidden_size=8, num_hidden_layers=2,
    ...                                            num_attention_heads=2, intermediate_size=6))
    >>> ids = np.array([[2, 5, 6, 3]], "int32")
    >>> batch = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}
    >>> heads, units = importance(encoder, lambda x: keras.ops.sum(encoder(x)["pooled_output"] ** 2), [batch])
    >>> [h.shape for h in heads], [u.shape for u in units]
    ([(2,), (2,)], [(6,), (6,)])
    """
    blocks = encoder.transformer_layers
    kernels = []
    for block in blocks:
        kernels += [block.attention.output_dense.kernel, block.output_dense.kernel]
    watched = [kernel.value for kernel in kernels]

    @tf.function(reduce_retracing=True)
    def mask_gradients(batch):
        with tf.GradientTape() as tape:
            tape.watch(watched)
            loss = loss_fn(batch)
        gradients = tape.gradient(loss, watched)
        # One value per kernel row: the derivative by that row's mask.
        return [
            tf.reduce_sum(tf.cast(kernel, tf.float32) * tf.cast(gradient, tf.float32), axis=1)
            for kernel, gradient in zip(watched, gradients)
        ]

    heads = [np.zeros(block.attention.num_heads) for block in blocks]
    units = [np.zeros(block.intermediate_size) for block in blocks]
    seen = 0
    for batch in batches:
        rows = [row.numpy().astype(np.float64) for row in mask_gradients(batch)]
        for index, block in enumerate(blocks):
            attention_rows, unit_rows = rows[2 * index], rows[2 * index + 1]
            heads[index] += np.abs(attention_rows.reshape(block.attention.num_heads, -1).sum(axis=1))
            units[index] += np.abs(unit_rows)
        seen += 1
    if not seen:
        raise XDomainError("no batches to measure the importance of heads and units on")
    return heads, units


def pruning_plan(head_importance, unit_importance, heads=0.0, ffn=0.0):
    """Which heads and feed-forward units to keep in each layer.

    Each layer's scores are divided by their L2 norm (Michel et al.'s normalisation: it
    keeps layers whose gradients are small overall from losing all their heads); then
    the `round(heads * all heads)` lowest-scored heads and the `round(ffn * all units)`
    lowest-scored units across all layers are removed, skipping any that is the last one
    of its layer.

    Args:
        head_importance: one array of head scores per layer (see `importance`).
        unit_importance: one array of feed-forward unit scores per layer.
        heads: the fraction of all heads to remove, in [0, 1).
        ffn: the fraction of all feed-forward units to remove, in [0, 1).

    Returns:
        `{"heads": [kept head indices per layer], "units": [kept unit indices per layer]}`
        (sorted lists of ints).

    Example:

    >>> import numpy as np
    >>> plan = pruning_plan([np.array([1.0, 5.0, 2.0]), np.array([9.0, 1.0, 1.0])],
    ...                     [np.ones(2), np.array([3.0, 1.0])], heads=0.5, ffn=0.25)
    >>> plan["heads"], plan["units"]
    ([[1, 2], [0]], [[0, 1], [0]])
    """
    heads, ffn = check_fraction("heads", heads), check_fraction("ffn", ffn)
    return {
        "heads": _kept(head_importance, heads),
        "units": _kept(unit_importance, ffn),
    }


def _kept(scores, fraction):
    scores = [np.asarray(layer, np.float64) for layer in scores]
    total = sum(len(layer) for layer in scores)
    to_remove = int(round(fraction * total))
    normalised = []
    for layer, values in enumerate(scores):
        norm = np.linalg.norm(values)
        values = values / norm if norm > 0 else values
        normalised += [(value, layer, index) for index, value in enumerate(values)]
    left = [len(layer) for layer in scores]
    removed = set()
    # Ties (e.g. heads that never matter) go to the later layer, then the later index.
    for _, layer, index in sorted(normalised, key=lambda item: (item[0], -item[1], -item[2])):
        if len(removed) == to_remove:
            break
        if left[layer] > 1:
            removed.add((layer, index))
            left[layer] -= 1
    return [[index for index in range(len(values)) if (layer, index) not in removed] for layer, values in enumerate(scores)]


def pruned_config(config, kept_heads, kept_units):
    """`config` with the per-layer head counts and feed-forward widths of a plan.

    Args:
        config: the `EncoderConfig` of the encoder being pruned.
        kept_heads: kept head indices per layer.
        kept_units: kept feed-forward unit indices per layer.

    Example:

    >>> config = EncoderConfig.architecture("bert_tiny")
    >>> pruned = pruned_config(config, [[0], [0, 1]], [list(range(512)), [3, 4]])
    >>> pruned.layer_attention_heads, pruned.layer_intermediate_sizes
    ([1, 2], [512, 2])
    """
    heads = [len(kept) for kept in kept_heads]
    units = [len(kept) for kept in kept_units]
    values = config.to_dict()
    values["layer_attention_heads"] = None if all(n == config.num_attention_heads for n in heads) else heads
    values["layer_intermediate_sizes"] = None if all(n == config.intermediate_size for n in units) else units
    return EncoderConfig.from_dict(values)


def pruned_encoder(encoder, kept_heads, kept_units):
    """A new, smaller `TransformerEncoder` holding only the kept heads and units of `encoder`.

    The query, key and value columns and the attention output rows of removed heads, and the
    intermediate columns and output rows of removed units, are left out of the new kernels;
    every other weight (embeddings, LayerNorms, biases of the outputs, pooler, adapters,
    LoRA A matrices) is copied as is. `encoder` is not changed.

    Args:
        encoder: a `TransformerEncoder` (possibly pruned before: indices are positions in
            its current blocks).
        kept_heads: for each layer, the indices of the heads to keep (at least one).
        kept_units: for each layer, the indices of the feed-forward units to keep (at least
            one).

    Returns:
        The pruned `TransformerEncoder` (same name and options, config with
        `layer_attention_heads` / `layer_intermediate_sizes`).

    Example:

    >>> import numpy as np
    >>> from xdomain_tf.models.transformer_encoder import TransformerEncoder
    >>> encoder = TransformerEncoder(EncoderConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1,
    ...                                            num_attention_heads=2, intermediate_size=6))
    >>> smaller = pruned_encoder(encoder, [[1]], [[0, 2, 5]])
    >>> block = smaller.transformer_layers[0]
    >>> tuple(block.attention.qkv.kernel.shape), tuple(block.attention.output_dense.kernel.shape)
    ((8, 12), (4, 8))
    >>> tuple(block.intermediate.kernel.shape), encoder.count_params() - smaller.count_params()
    ((8, 3), 191)
    """
    blocks = encoder.transformer_layers
    if len(kept_heads) != len(blocks) or len(kept_units) != len(blocks):
        raise XDomainError(
            f"the plan has {len(kept_heads)} head and {len(kept_units)} unit lists for an encoder of {len(blocks)} layers"
        )
    slicers = {}
    for layer, (block, heads, units) in enumerate(zip(blocks, kept_heads, kept_units)):
        attention = block.attention
        heads, units = _checked_indices(layer, "head", heads, attention.num_heads), _checked_indices(
            layer, "feed-forward unit", units, block.intermediate_size
        )
        size, width = attention.head_size, attention.heads_width
        head_columns = np.concatenate([np.arange(head * size, (head + 1) * size) for head in heads])
        qkv_columns = np.concatenate([part * width + head_columns for part in range(3)])
        slicers[id(attention.qkv.kernel)] = lambda value, columns=qkv_columns: value[:, columns]
        slicers[id(attention.qkv.bias)] = lambda value, columns=qkv_columns: value[columns]
        slicers[id(attention.output_dense.kernel)] = lambda value, rows=head_columns: value[rows]
        for variable in attention.lora_weights:
            if variable.path.endswith("_b"):
                slicers[id(variable)] = lambda value, columns=head_columns: value[:, columns]
        slicers[id(block.intermediate.kernel)] = lambda value, columns=units: value[:, columns]
        slicers[id(block.intermediate.bias)] = lambda value, columns=units: value[columns]
        slicers[id(block.output_dense.kernel)] = lambda value, rows=units: value[rows]

    config = pruned_config(encoder.encoder_config, kept_heads, kept_units)
    smaller = type(encoder).from_config({**encoder.get_config(), "encoder_config": config.to_dict()})
    if len(smaller.weights) != len(encoder.weights):
        raise XDomainError(f"{encoder.name}: the pruned encoder has other weights than the original")
    for source, target in zip(encoder.weights, smaller.weights):
        value = keras.ops.convert_to_numpy(source.value)
        value = slicers.get(id(source), lambda value: value)(value)
        if tuple(value.shape) != tuple(target.shape):
            raise XDomainError(f"{source.path}: pruned to {value.shape}, but the pruned encoder has {target.shape}")
        target.assign(value)
    smaller.trainable = encoder.trainable
    return smaller


def _checked_indices(layer, what, indices, count):
    indices = [int(index) for index in indices]
    if not indices:
        raise XDomainError(f"layer {layer}: pruning would remove every {what}; keep at least one")
    if len(set(indices)) != len(indices) or min(indices) < 0 or max(indices) >= count:
        raise XDomainError(f"layer {layer}: {what} indices must be distinct and in [0, {count}), got {indices}")
    return np.array(sorted(indices))

