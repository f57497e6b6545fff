"""New WordPieces for a pretrained vocabulary, learned on text of a language it serves badly."""
import dataclasses

import numpy as np
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.normalization import split_words
from xdomain_tf.text.trimmed_vocabulary import _TOKENIZER_OPTIONS
from xdomain_tf.text.word_piece_tokenizer import SPECIAL_TOKENS, WordPieceTokenizer
from xdomain_tf.text.wordpiece_trainer import _learn_merges, count_words

MEASURE_BATCH = 256
# Single characters the learner may use; fixed, so a larger learning run repeats the
# merges of a smaller one and only adds to them.
ALPHABET_SIZE = 1000


@dataclasses.dataclass
class VocabularyExtension:
    """What `extend_vocabulary` returns.

    Args:
        tokenizer: a `WordPieceTokenizer` over the old tokens (same ids) followed by the
            added ones, with the old tokenizer's options.
        added: the new tokens; token `added[i]` has id `old_size + i`.
        sources: for each new token, the old ids the old tokenizer splits it into (the
            rows to average for its embedding); `[unk_id]` when the old vocabulary could
            not spell it.
        old_size: the old vocabulary size.

    Example:

    >>> old = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "s", "t", "##s", "##t", "##e"])
    >>> extension = extend_vocabulary(old, ["test tests test"], add=2, min_frequency=1)
    >>> extension.added, extension.sources  # "e" alone: the old vocabulary had no word-initial e
    (['e', '##es'], [[1], [9, 7]])
    """

    tokenizer: WordPieceTokenizer
    added: list
    sources: list
    old_size: int


def extend_vocabulary(tokenizer, texts, add, min_frequency=2, batch_size=1024):
    """Appends up to `add` WordPieces learned on `texts` to `tokenizer`'s vocabulary.

    The pieces are learned by the library's WordPiece learner
    (`train_wordpiece_vocabulary`'s merges, with the tokenizer's own normalization),
    in merge order, skipping those the vocabulary already holds, so the first new
    pieces are the most frequent ones. Old tokens keep their ids, so old embedding rows
    stay valid. A word that is a token of the old vocabulary keeps its id (WordPiece
    matches longest first, and a whole word is the longest match); other words may now
    split into fewer, longer pieces, which is the point. Fewer than `add` pieces come
    back when no pair of the text occurs `min_frequency` times any more.

    Each new token's `sources` are the pieces the old tokenizer split it into (a
    continuation piece `##xy` is matched as the continuation of a word), so a model
    can start its new embedding at their mean.

    Args:
        tokenizer: the `WordPieceTokenizer` to extend.
        texts: strings (an iterable, or a `tf.data.Dataset` of strings) in the new
            language(s).
        add: how many new pieces at most (a positive integer).
        min_frequency: a pair seen fewer times is never merged.
        batch_size: strings normalized per TF call.

    Returns:
        A `VocabularyExtension`.

    Example:

    >>> old = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "d", "e", "i", "r", "##d",
    ...                           "##e", "##i", "##r"])
    >>> extension = extend_vocabulary(old, ["der die der die der"], add=3, min_frequency=1)
    >>> extension.added, extension.tokenizer.tokenize(["der die"]).to_list()
    (['##er', 'der', '##ie'], [[14, 5, 15]])
    """
    add = _check_add(add)
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    options = {key: value for key, value in tokenizer.get_config().items() if key in _TOKENIZER_OPTIONS}
    word_counts = count_words(
        texts, lowercase=tokenizer.lowercase, strip_accents=tokenizer.strip_accents,
        normalization=tokenizer.normalization, batch_size=batch_size, max_bytes_per_word=tokenizer.max_bytes_per_word,
    )
    if not word_counts:
        raise XDomainError("vocabulary extension needs texts: new pieces are learned on them")
    old = tokenizer.vocabulary
    known = set(old)
    reserved = [token for token in SPECIAL_TOKENS if token in known]
    size = len(reserved) + 2 * ALPHABET_SIZE + 2 * add
    while True:
        learned = _learn_merges(
            word_counts, size, reserved, min_frequency=min_frequency, max_alphabet_size=ALPHABET_SIZE,
            suffix=tokenizer.suffix_indicator,
        )
        added = [token for token in learned if token not in known][:add]
        if len(added) == add or len(learned) < size:  # enough, or the text has no more merges
            break
        size += 2 * (add - len(added)) + add
    by_token = {token: index for index, token in enumerate(old)}
    sources = [
        _old_pieces(token, by_token, tokenizer.suffix_indicator) or [tokenizer.unk_token_id] for token in added
    ]
    return VocabularyExtension(WordPieceTokenizer(old + added, **options), added, sources, len(old))


def pieces_per_word(tokenizer, texts, batch_size=MEASURE_BATCH):
    """How finely `tokenizer` splits `texts`: WordPieces per word, and the share of
    words that become `[UNK]`.

    Words are what WordPiece sees (`split_words` of the normalized text: punctuation
    marks count as words of one piece).

    Args:
        tokenizer: a `WordPieceTokenizer`.
        texts: a list of strings.
        batch_size: strings per TF call.

    Returns:
        `{"pieces_per_word", "unknown_rate", "words", "pieces", "texts"}`.

    Example:

    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "gut", "##en", "tag"])
    >>> pieces_per_word(tokenizer, ["Guten Tag!", "tag"])  # "!" is a word, and [UNK]
    {'pieces_per_word': 1.25, 'unknown_rate': 0.25, 'words': 4, 'pieces': 5, 'texts': 2}
    """
    texts = [texts] if isinstance(texts, (str, bytes)) else list(texts)
    if not texts:
        raise XDomainError("pieces_per_word needs at least one text")
    words = pieces = unknown = 0
    unk_id = tokenizer.unk_token_id
    for start in range(0, len(texts), batch_size):
        batch = tf.constant(texts[start : start + batch_size], tf.string)
        words += int(tf.size(split_words(tokenizer.normalize(batch)).flat_values))
        ids = tokenizer.tokenize(batch).flat_values.numpy()
        pieces += ids.size
        unknown += int(np.sum(ids == unk_id))
    return {
        "pieces_per_word": pieces / words if words else 0.0,
        "unknown_rate": unknown / words if words else 0.0,
        "words": words,
        "pieces": pieces,
        "texts": len(texts),
    }


def _check_add(add):
    if isinstance(add, bool) or not isinstance(add, (int, np.integer)) or add < 1:
        raise XDomainError(f"add (the number of new WordPieces) must be a positive integer, got {add!r}")
    return int(add)


def _old_pieces(token, by_token, suffix_indicator):
    """The old ids WordPiece's greedy longest match splits `token` into (a `##` token as
    the continuation of a word), or None when the old vocabulary cannot spell it.

    Example:

    >>> _old_pieces("##ung", {"##u": 0, "##ng": 1, "ung": 2}, "##"), _old_pieces("ab", {"a": 0}, "##")
    ([0, 1], None)
    """
    continuation = token.startswith(suffix_indicator)
    word = token[len(suffix_indicator):] if continuation else token
    ids, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 and not continuation else suffix_indicator + word[start:end]
            if piece in by_token:
                ids.append(by_token[piece])
                start = end
                break
        else:
            return None
    return ids
