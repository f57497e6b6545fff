"""Packs tokenized segments into BERT inputs with dense ops only.

No ragged op and no tf-text trimmer ends up in the graph: the segments arrive as
flat `(values, row_splits)` tensors and every output position is computed by
index arithmetic and one `gather`. Such graphs convert to TFLite with builtin ops
and load in TF Serving releases that bundle older tensorflow-text versions.
"""
import tensorflow as tf

from xdomain_tf.errors import XDomainError

TRUNCATIONS = ("round_robin", "longest_first")
PAD_TO = ("fixed", "longest")


def check_pad_multiple(pad_to_multiple_of):
    """Refuses a `pad_to_multiple_of` that is not a positive integer.

    >>> check_pad_multiple(8)
    >>> check_pad_multiple(0)
    Traceback (most recent call last):
    xdomain_tf.errors.XDomainError: pad_to_multiple_of must be a positive integer, got 0
    """
    if isinstance(pad_to_multiple_of, bool) or not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1:
        raise XDomainError(f"pad_to_multiple_of must be a positive integer, got {pad_to_multiple_of!r}")


def trimmed_lengths(lengths, budget, truncation="round_robin"):
    """How many tokens of each segment fit in `budget` tokens.

    `"round_robin"` takes tokens from the segments in turn (as tensorflow-text's
    `RoundRobinTrimmer`): with two long segments the first keeps
    `ceil(budget / 2)`. `"longest_first"` shortens the longer segment first (as
    Hugging Face's `LongestFirst`): with two long segments the shorter one keeps
    `floor(budget / 2)` (the first one on a tie).

    Args:
        lengths: list of one or two int32 tensors [batch].
        budget: Python int, the tokens available to the segments.
        truncation: `"round_robin"` or `"longest_first"`.

    Returns:
        list of int32 tensors [batch].

    >>> [t.numpy().tolist() for t in trimmed_lengths([tf.constant([9, 1]), tf.constant([9, 9])], 5)]
    [[3, 1], [2, 4]]
    """
    if truncation not in TRUNCATIONS:
        raise XDomainError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
    if len(lengths) == 1:
        return [tf.minimum(lengths[0], budget)]
    if len(lengths) != 2:
        raise XDomainError(f"one or two segments can be packed, got {len(lengths)}")
    first, second = lengths
    fits = first + second <= budget
    if truncation == "round_robin":
        first_share, second_share = (budget + 1) // 2, budget // 2
        new_first = tf.minimum(first, tf.maximum(first_share, budget - second))
        new_second = tf.minimum(second, tf.maximum(second_share, budget - first))
    else:
        shorter = tf.minimum(first, second)
        both_cut = 2 * shorter > budget
        kept_shorter = tf.where(both_cut, budget // 2, shorter)
        kept_longer = tf.where(both_cut, budget // 2 + budget % 2, budget - shorter)
        first_is_shorter = first <= second
        new_first = tf.where(first_is_shorter, kept_shorter, kept_longer)
        new_second = tf.where(first_is_shorter, kept_longer, kept_shorter)
    return [tf.where(fits, first, new_first), tf.where(fits, second, new_second)]


def pack_segments(
    segments,
    sequence_length,
    cls_id,
    sep_id,
    pad_id,
    truncation="round_robin",
    pad_to="fixed",
    pad_to_multiple_of=1,
):
    """Builds `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]` rows from flat token ids.

    Args:
        segments: list of one or two `(values, row_splits)` pairs, int32: the ids
            of every example one after the other, and where each example starts
            (`row_splits[i]`) and ends (`row_splits[i + 1]`), as in
            `WordPieceTokenizer.tokenize_flat`.
        sequence_length: Python int, the longest output row.
        cls_id: id of [CLS].
        sep_id: id of [SEP].
        pad_id: id of [PAD].
        truncation: `"round_robin"` or `"longest_first"` (see `trimmed_lengths`).
        pad_to: `"fixed"` pads every row to `sequence_length`; `"longest"` pads to
            the longest packed row of the batch (at most `sequence_length`).
        pad_to_multiple_of: with `"longest"`, round the width up to a multiple of this
            (never beyond `sequence_length`), so a graph sees few distinct shapes.

    Returns:
        dict of int32 [batch, length] tensors: `token_ids`, `segment_ids` (0 for
        [CLS] A [SEP], 1 for B [SEP], 0 on padding) and `padding_mask` (1 on tokens).

    >>> out = pack_segments([(tf.constant([7, 8, 9]), tf.constant([0, 2, 3]))], 5, 2, 3, 0)
    >>> out["token_ids"].numpy().tolist()
    [[2, 7, 8, 3, 0], [2, 9, 3, 0, 0]]
    >>> pack_segments([(tf.constant([7]), tf.constant([0, 1]))], 16, 2, 3, 0, pad_to="longest",
    ...               pad_to_multiple_of=4)["token_ids"].numpy().tolist()
    [[2, 7, 3, 0]]
    """
    if pad_to not in PAD_TO:
        raise XDomainError(f"pad_to must be one of {PAD_TO}, got {pad_to!r}")
    check_pad_multiple(pad_to_multiple_of)
    specials = len(segments) + 1
    budget = int(sequence_length) - specials
    if budget < 0:
        raise XDomainError(
            f"sequence_length {sequence_length} leaves no room for the {specials} special tokens"
        )
    starts, lengths, padded_values = [], [], []
    for values, row_splits in segments:
        values = tf.cast(values, tf.int32)
        row_splits = tf.cast(row_splits, tf.int32)
        starts.append(row_splits[:-1])
        lengths.append(row_splits[1:] - row_splits[:-1])
        # Index 0 holds [PAD], so positions outside a segment can gather it safely.
        padded_values.append(tf.concat([tf.fill([1], tf.constant(pad_id, tf.int32)), values], 0))
    kept = trimmed_lengths(lengths, budget, truncation)

    total = kept[0] + 2
    if len(segments) == 2:
        total = total + kept[1] + 1
    if pad_to == "fixed":
        width = int(sequence_length)
    else:
        width = tf.reduce_max(tf.concat([total, tf.zeros([1], tf.int32)], 0))
        if pad_to_multiple_of > 1:
            multiple = tf.constant(int(pad_to_multiple_of), tf.int32)
            width = tf.minimum((width + multiple - 1) // multiple * multiple, int(sequence_length))
    position = tf.range(width, dtype=tf.int32)[tf.newaxis, :]

    def segment_tokens(index, offset):
        inside = (position >= offset[:, tf.newaxis]) & (
            position < (offset + kept[index])[:, tf.newaxis]
        )
        source = starts[index][:, tf.newaxis] + position - offset[:, tf.newaxis] + 1
        tokens = tf.gather(padded_values[index], tf.where(inside, source, 0))
        return inside, tokens

    pad = tf.constant(pad_id, tf.int32)
    in_first, first_tokens = segment_tokens(0, tf.ones_like(kept[0]))
    first_sep = (kept[0] + 1)[:, tf.newaxis]
    token_ids = tf.where(in_first, first_tokens, pad)
    token_ids = tf.where(position == 0, tf.constant(cls_id, tf.int32), token_ids)
    token_ids = tf.where(position == first_sep, tf.constant(sep_id, tf.int32), token_ids)
    in_row = position < total[:, tf.newaxis]
    segment_ids = tf.zeros_like(token_ids)
    if len(segments) == 2:
        in_second, second_tokens = segment_tokens(1, kept[0] + 2)
        token_ids = tf.where(in_second, second_tokens, token_ids)
        second_sep = (total - 1)[:, tf.newaxis]
        token_ids = tf.where(position == second_sep, tf.constant(sep_id, tf.int32), token_ids)
        segment_ids = tf.cast(in_row & (position > first_sep), tf.int32)
    token_ids = tf.where(in_row, token_ids, pad)
    return {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": tf.cast(in_row, tf.int32),
    }
