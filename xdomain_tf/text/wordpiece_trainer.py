"""Learns a WordPiece vocabulary (vocab.txt) from text, with the tokenizer's own normalization."""
import collections
import heapq

import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.normalization import (
    check_normalization_options,
    is_isolated_character,
    normalize_text,
    split_words,
)
from xdomain_tf.text.vocabulary_file import check_vocabulary, write_vocabulary
from xdomain_tf.text.word_piece_tokenizer import SPECIAL_TOKENS


def train_wordpiece_vocabulary(
    texts,
    vocabulary_size,
    lowercase=True,
    strip_accents=None,
    normalization="exact",
    reserved_tokens=SPECIAL_TOKENS,
    output_path=None,
    min_frequency=2,
    max_alphabet_size=None,
    suffix_indicator="##",
    max_bytes_per_word=100,
    batch_size=1024,
):
    """Learns a WordPiece vocabulary for `WordPieceTokenizer`.

    The text goes through the tokenizer's normalization (same TF ops, same
    `lowercase` / `strip_accents` / `normalization` options) and word splitting
    (whitespace; punctuation and CJK ideographs are words of their own). Pieces are
    then learned by byte-pair-style merging of the most frequent adjacent pair, as
    Hugging Face's WordPiece trainer does: a word starts as its first character
    plus `##`-prefixed continuation characters, and each merge adds one token.

    The vocabulary is: `reserved_tokens` (ids 0, 1, ...), the alphabet (the most
    frequent characters, both as word start and as `##` continuation, except
    punctuation and CJK which only ever stand alone), then the merged pieces in
    merge order. The result is deterministic for the same input (ties broken by
    token text). It can be smaller than `vocabulary_size` when no pair occurs
    `min_frequency` times any more.

    Args:
        texts: an iterable of str / bytes, or a `tf.data.Dataset` of tf.string
            scalars or batches.
        vocabulary_size: the maximum number of tokens, reserved tokens included.
        lowercase: as for `WordPieceTokenizer`.
        strip_accents: as for `WordPieceTokenizer`.
        normalization: as for `WordPieceTokenizer` (`"exact"` or `"tf_text"`).
        reserved_tokens: tokens placed first, in this order.
        output_path: if given, the vocabulary is also written there as vocab.txt.
        min_frequency: a pair seen fewer times is never merged.
        max_alphabet_size: how many single-character tokens at most; default half of
            the non-reserved vocabulary. Words with rarer characters are skipped
            (they tokenize to `[UNK]`).
        suffix_indicator: prefix of continuation pieces.
        max_bytes_per_word: longer words are skipped (the tokenizer maps them to
            `[UNK]`).
        batch_size: strings normalized per TF call.

    Returns:
        list of str tokens.

    Example:

    >>> vocab = train_wordpiece_vocabulary(["low lower lowest", "new newer"], 40)
    >>> vocab[:5], "low" in vocab
    (['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'], True)
    """
    check_normalization_options(lowercase, strip_accents, normalization)
    reserved = check_vocabulary(reserved_tokens) if reserved_tokens else []
    vocabulary_size = int(vocabulary_size)
    if vocabulary_size <= len(reserved):
        raise XDomainError(
            f"vocabulary_size ({vocabulary_size}) must exceed the {len(reserved)} reserved tokens"
        )
    word_counts = count_words(
        texts,
        lowercase=lowercase,
        strip_accents=strip_accents,
        normalization=normalization,
        batch_size=batch_size,
        max_bytes_per_word=max_bytes_per_word,
    )
    vocabulary = _learn_merges(
        word_counts,
        vocabulary_size,
        reserved,
        min_frequency=min_frequency,
        max_alphabet_size=max_alphabet_size,
        suffix=suffix_indicator,
    )
    if output_path is not None:
        write_vocabulary(vocabulary, output_path)
    return vocabulary


def count_words(
    texts,
    lowercase=True,
    strip_accents=None,
    normalization="exact",
    batch_size=1024,
    max_bytes_per_word=100,
):
    """Counts the normalized words of `texts` (see `train_wordpiece_vocabulary`).

    Returns:
        dict str word -> count.

    Example:

    >>> count_words(["Hello there, hello!"])
    {'hello': 2, 'there': 1, ',': 1, '!': 1}
    """
    strip = check_normalization_options(lowercase, strip_accents, normalization)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def unique_words(batch):
        normalized = normalize_text(batch, lowercase, strip, normalization)
        words, _, counts = tf.unique_with_counts(split_words(normalized).flat_values)
        return words, counts

    totals = collections.defaultdict(int)
    for batch in _string_batches(texts, batch_size):
        words, counts = unique_words(batch)
        for word, count in zip(words.numpy().tolist(), counts.numpy().tolist()):
            totals[word] += count
    result = {}
    for word, count in totals.items():
        if len(word) > max_bytes_per_word:
            continue
        try:
            result[word.decode("utf-8")] = count
        except UnicodeDecodeError:
            continue  # Invalid UTF-8 input bytes become spaces; this is a safety net.
    return result


def _string_batches(texts, batch_size):
    if isinstance(texts, tf.data.Dataset):
        spec = texts.element_spec
        if not isinstance(spec, tf.TensorSpec) or spec.dtype != tf.string:
            raise XDomainError(f"the dataset must yield tf.string tensors, got {spec}")
        if spec.shape.rank == 0:
            texts = texts.batch(batch_size)
        elif spec.shape.rank != 1:
            raise XDomainError(f"the dataset must yield strings or batches, got shape {spec.shape}")
        for batch in texts:
            yield batch
        return
    if isinstance(texts, (str, bytes)):
        raise XDomainError("texts must be an iterable of strings, not one string")
    chunk = []
    for index, text in enumerate(texts):
        if not isinstance(text, (str, bytes)):
            raise XDomainError(f"text {index} is a {type(text).__name__}, not a string")
        chunk.append(text)
        if len(chunk) == batch_size:
            yield tf.constant(chunk, tf.string)
            chunk = []
    if chunk:
        yield tf.constant(chunk, tf.string)


def _learn_merges(word_counts, vocabulary_size, reserved, min_frequency, max_alphabet_size, suffix):
    vocabulary = list(reserved)
    known = set(vocabulary)
    budget = vocabulary_size - len(vocabulary)
    alphabet = _alphabet(word_counts, budget // 2 if max_alphabet_size is None else max_alphabet_size)
    for char in sorted(alphabet):
        _append(vocabulary, known, char)
    for char in sorted(alphabet):
        if not is_isolated_character(char):
            _append(vocabulary, known, suffix + char)
    del vocabulary[vocabulary_size:]

    symbols = []
    symbol_ids = {}

    def symbol_id(text):
        if text not in symbol_ids:
            symbol_ids[text] = len(symbols)
            symbols.append(text)
        return symbol_ids[text]

    words, counts = [], []
    for word in sorted(word_counts):
        if len(word) < 2 or not alphabet.issuperset(word):
            continue
        words.append([symbol_id(word[0])] + [symbol_id(suffix + char) for char in word[1:]])
        counts.append(word_counts[word])

    pair_counts = collections.defaultdict(int)
    words_with_pair = collections.defaultdict(set)
    for index, (pieces, count) in enumerate(zip(words, counts)):
        for pair in zip(pieces, pieces[1:]):
            pair_counts[pair] += count
            words_with_pair[pair].add(index)
    heap = [(-count, symbols[a], symbols[b], (a, b)) for (a, b), count in pair_counts.items()]
    heapq.heapify(heap)

    while len(vocabulary) < vocabulary_size and heap:
        negative_count, left, right, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if count != -negative_count:
            continue  # A stale entry: the pair's count changed since it was pushed.
        if count < min_frequency:
            break
        merged = symbol_id(left + right[len(suffix):])
        _append(vocabulary, known, symbols[merged])
        changed = set()
        for index in words_with_pair.pop(pair, ()):
            pieces = words[index]
            new_pieces = _merge_pair(pieces, pair, merged)
            if new_pieces is None:
                continue
            count_of_word = counts[index]
            for old in zip(pieces, pieces[1:]):
                pair_counts[old] -= count_of_word
                changed.add(old)
            for new in zip(new_pieces, new_pieces[1:]):
                pair_counts[new] += count_of_word
                words_with_pair[new].add(index)
                changed.add(new)
            words[index] = new_pieces
        pair_counts.pop(pair, None)
        changed.discard(pair)
        for other in changed:
            count = pair_counts.get(other, 0)
            if count > 0:
                heapq.heappush(heap, (-count, symbols[other[0]], symbols[other[1]], other))
            else:
                pair_counts.pop(other, None)
    return vocabulary


def _alphabet(word_counts, size):
    char_counts = collections.defaultdict(int)
    for word, count in word_counts.items():
        for char in word:
            char_counts[char] += count
    alphabet = set()
    used = 0
    for char in sorted(char_counts, key=lambda c: (-char_counts[c], c)):
        cost = 1 if is_isolated_character(char) else 2
        if used + cost > size:
            continue
        alphabet.add(char)
        used += cost
    return alphabet


def _merge_pair(pieces, pair, merged):
    first, second = pair
    result = []
    index = 0
    found = False
    while index < len(pieces):
        if index + 1 < len(pieces) and pieces[index] == first and pieces[index + 1] == second:
            result.append(merged)
            index += 2
            found = True
        else:
            result.append(pieces[index])
            index += 1
    return result if found else None


def _append(vocabulary, known, token):
    if token not in known:
        known.add(token)
        vocabulary.append(token)
