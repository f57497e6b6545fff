"""A WordPiece vocabulary cut down to the pieces some texts use, with the same tokens on them."""
import dataclasses

import numpy as np
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.word_piece_tokenizer import SPECIAL_TOKENS, WordPieceTokenizer

TOKENIZE_BATCH = 256


@dataclasses.dataclass
class TrimmedVocabulary:
    """What `trimmed_vocabulary` returns.

    Args:
        tokenizer: a `WordPieceTokenizer` over the kept tokens, in their original order,
            with the original tokenizer's options.
        kept_ids: int32 `[kept]`: the original id of each new id (gather an embedding
            table's rows with it).

    Example:

    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "goal", "shares"])
    >>> trimmed = trimmed_vocabulary(tokenizer, ["a goal"])
    >>> trimmed.tokenizer.vocabulary, trimmed.kept_ids.tolist()
    (['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'goal'], [0, 1, 2, 3, 4, 5])
    """

    tokenizer: WordPieceTokenizer
    kept_ids: np.ndarray


def trimmed_vocabulary(tokenizer, texts, max_tokens=None, max_size=None, batch_size=TOKENIZE_BATCH):
    """Keeps the WordPieces that `texts` use (plus the special tokens): on those texts the
    trimmed tokenizer gives the same tokens, so its ids are `kept_ids`-renumbered originals.

    Why the tokens stay the same: WordPiece matches each word greedily, longest piece
    first. Every piece the original tokenizer chose is kept, and a subset of the
    vocabulary has no longer match than the piece the full one chose, so each step
    picks the same piece. A word that became `[UNK]` is the exception: its greedy path
    (the pieces matched before it failed) is not in the output, and without them a
    shorter first piece could lead to a successful split, so those path pieces are kept
    too (found by replaying the greedy match on the word). Text with other words (unseen
    pieces) may tokenize differently, e.g. into shorter pieces or `[UNK]`.

    With `max_tokens`, only each text's first `max_tokens` pieces count, and the rest of
    the word the cut falls in (a word missing one of its pieces would become `[UNK]`
    whole): a model that truncates its inputs to that many tokens sees the same ids
    (tokenization is word by word, so later words cannot change the pieces before
    them), and the vocabulary holds fewer pieces (the long tail of long texts is never
    seen by the model).

    With `max_size`, at most that many tokens are kept: the special tokens, the
    single-character pieces (`"a"`, `"##a"`) of every character of the texts (so a word
    of those characters can always be split and never becomes `[UNK]` for lack of a
    piece), then the pieces the texts use most. Words that used a dropped piece then split into shorter
    pieces: the tokens are no longer all the same, but the embedding table is as small
    as asked.

    Args:
        tokenizer: the `WordPieceTokenizer` to trim.
        texts: the strings whose pieces to keep (e.g. all training text, both segments).
        max_tokens: None (every piece), or how many leading pieces of each text count
            (e.g. the model's sequence length).
        max_size: None (every used piece), or the most tokens to keep.
        batch_size: texts tokenized per call.

    Returns:
        A `TrimmedVocabulary`.

    Example:

    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "ab", "x", "##bd"])
    >>> trimmed = trimmed_vocabulary(tokenizer, ["abd a xbd"])
    >>> trimmed.tokenizer.vocabulary  # "ab": the failed path of "abd" -> [UNK]
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'ab', 'x', '##bd']
    >>> trimmed.tokenizer.tokenize(["abd a xbd"]).to_list() == tokenizer.tokenize(["abd a xbd"]).to_list()
    True
    >>> trimmed_vocabulary(tokenizer, ["xbd a"], max_tokens=1).tokenizer.vocabulary[5:]  # the whole first word
    ['x', '##bd']
    >>> trimmed_vocabulary(tokenizer, ["xbd xbd a"], max_size=7).tokenizer.vocabulary[5:]
    ['a', 'x']
    """
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    if not texts:
        raise XDomainError("vocabulary trimming needs texts: the pieces they use are kept")
    vocabulary = tokenizer.vocabulary
    unk_id = tokenizer.unk_token_id
    special = np.zeros(len(vocabulary), bool)
    special[[index for index, token in enumerate(vocabulary) if token in SPECIAL_TOKENS]] = True
    counts = np.zeros(len(vocabulary), np.int64)
    path_pieces = np.zeros(len(vocabulary), bool)
    by_token = {token: index for index, token in enumerate(vocabulary)}
    continuation = np.array([token.startswith(tokenizer.suffix_indicator) for token in vocabulary])
    characters = set()
    for start in range(0, len(texts), batch_size):
        batch = tf.constant(texts[start : start + batch_size], tf.string)
        ids = tokenizer.tokenize(batch)
        if max_tokens is not None:
            ids = _leading_words(ids, max_tokens, continuation)
        values = ids.flat_values.numpy()
        counts += np.bincount(values, minlength=len(vocabulary))
        if max_size is not None:
            characters.update("".join(text.decode("utf-8", errors="ignore") for text in tokenizer.normalize(batch).numpy()))
        if not np.any(values == unk_id):
            continue
        for word in _unknown_words(tokenizer, batch, unk_id, max_tokens):
            for piece in _greedy_path(word, by_token, tokenizer.suffix_indicator):
                path_pieces[by_token[piece]] = True
    kept = special | (counts > 0) | path_pieces
    if max_size is not None and kept.sum() > max_size:
        kept = _most_frequent(vocabulary, special, counts, max_size, tokenizer.suffix_indicator, characters)
    kept_ids = np.flatnonzero(kept).astype(np.int32)
    trimmed = WordPieceTokenizer(
        [vocabulary[index] for index in kept_ids],
        **{key: value for key, value in tokenizer.get_config().items() if key in _TOKENIZER_OPTIONS},
    )
    return TrimmedVocabulary(trimmed, kept_ids)


def _leading_words(ids, max_tokens, continuation):
    """Each row's first `max_tokens` ids, and the continuation pieces of its last word."""
    rows = []
    for row in ids.to_list():
        end = min(max_tokens, len(row))
        while end < len(row) and continuation[row[end]]:
            end += 1
        rows.append(row[:end])
    return tf.ragged.constant(rows, dtype=tf.int32, ragged_rank=1, inner_shape=())


def _most_frequent(vocabulary, special, counts, max_size, suffix_indicator, characters):
    """Special tokens, the single-character pieces of `characters`, then the most used
    other pieces."""
    single = np.array([
        len(token.removeprefix(suffix_indicator)) == 1 and token.removeprefix(suffix_indicator) in characters
        for token in vocabulary
    ])
    required = special | single
    if required.sum() > max_size:
        raise XDomainError(
            f"a vocabulary of {max_size} tokens cannot hold the {int(required.sum())} special tokens and single "
            "characters of the text; allow more"
        )
    others = np.flatnonzero(~required & (counts > 0))
    chosen = others[np.argsort(-counts[others], kind="stable")[: max_size - int(required.sum())]]
    kept = required.copy()
    kept[chosen] = True
    return kept


_TOKENIZER_OPTIONS = ("lowercase", "strip_accents", "normalization", "suffix_indicator", "max_bytes_per_word")


def _unknown_words(tokenizer, batch, unk_id, max_tokens):
    """The normalized words of `batch` (within each text's first `max_tokens` pieces) that
    the tokenizer turned into [UNK]."""
    ids, starts, ends = tokenizer._fast_bert.tokenize_with_offsets(batch)
    words = []
    for text, row, row_starts, row_ends in zip(batch.numpy(), ids.to_list(), starts.to_list(), ends.to_list()):
        for token_id, start, end in list(zip(row, row_starts, row_ends))[:max_tokens]:
            if token_id == unk_id:
                words.append(text[start:end])
    if not words:
        return []
    normalized = tokenizer.normalize(tf.constant(words, tf.string)).numpy()
    return [
        word.decode("utf-8", errors="ignore")
        for word in normalized
        if len(word) <= tokenizer.max_bytes_per_word  # longer words are [UNK] whatever the vocabulary
    ]


def _greedy_path(word, by_token, suffix_indicator):
    """The pieces WordPiece's greedy longest match takes in `word` (up to where it fails).

    Example:

    >>> _greedy_path("abd", {"a": 0, "ab": 1, "##bd": 2}, "##")
    ['ab']
    """
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else suffix_indicator + word[start:end]
            if piece in by_token:
                pieces.append(piece)
                start = end
                break
        else:
            return pieces
    return pieces
