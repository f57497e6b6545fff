"""Causal-LM inputs: next-token labels from packed token ids."""
import tensorflow as tf

from xdomain_tf.errors import XDomainError


def causal_lm_inputs(token_ids, padding_mask=None):
    """Shifts packed sequences into (inputs, labels, sample weights) for next-token training.

    Position `i` of the inputs predicts token `i + 1`: inputs drop the last
    position, labels drop the first, and the weight of a label is its padding-mask
    value (so padding is never predicted).

    Args:
        token_ids: int ids [batch, seq] (or [seq]), or a dict with `token_ids`,
            `padding_mask` and optionally other per-position entries (e.g.
            `segment_ids`, shifted like the inputs) as a `Preprocessor` returns.
        padding_mask: 1 on tokens, 0 on padding; default all ones (ignored when a
            dict is given).

    Returns:
        `(inputs, labels, sample_weight)`: inputs a dict with `token_ids`,
        `padding_mask` (and the other dict entries), each [batch, seq - 1];
        labels int32 [batch, seq - 1]; sample_weight float32 [batch, seq - 1].
        Usable directly as a `tf.data` element for `Model.fit`.

    Example:

    >>> x, y, w = causal_lm_inputs(tf.constant([[2, 7, 8, 3, 0]]), tf.constant([[1, 1, 1, 1, 0]]))
    >>> x["token_ids"].numpy().tolist(), y.numpy().tolist(), w.numpy().tolist()
    ([[2, 7, 8, 3]], [[7, 8, 3, 0]], [[1.0, 1.0, 1.0, 0.0]])
    """
    features = {}
    if isinstance(token_ids, dict):
        features = dict(token_ids)
        if "token_ids" not in features:
            raise XDomainError(f'expected "token_ids" in the inputs, got {sorted(features)}')
        token_ids = features.pop("token_ids")
        padding_mask = features.pop("padding_mask", None)
    token_ids = tf.cast(tf.convert_to_tensor(token_ids), tf.int32)
    if padding_mask is None:
        padding_mask = tf.ones_like(token_ids)
    padding_mask = tf.cast(padding_mask, tf.int32)
    inputs = {"token_ids": token_ids[..., :-1], "padding_mask": padding_mask[..., :-1]}
    for key, value in features.items():
        inputs[key] = value[..., :-1]
    labels = token_ids[..., 1:]
    sample_weight = tf.cast(padding_mask[..., 1:], tf.float32)
    return inputs, labels, sample_weight
