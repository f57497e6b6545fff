import numpy as np
import pytest
import tensorflow as tf
from text_fixtures import CORPUS, PROBES

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import WordPieceTokenizer
from xdomain_tf.text.trimmed_vocabulary import trimmed_vocabulary


def _original_ids(trimmed, texts):
    """The trimmed tokenizer's ids of `texts`, mapped back to the original vocabulary."""
    return [[int(trimmed.kept_ids[i]) for i in row] for row in trimmed.tokenizer.tokenize(tf.constant(texts)).to_list()]


def test_trimmed_tokenizer_gives_the_same_tokens_on_the_texts_it_was_trimmed_on(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file)
    texts = CORPUS[:12]
    trimmed = trimmed_vocabulary(tokenizer, texts)
    assert 20 < len(trimmed.kept_ids) < tokenizer.vocabulary_size - 100
    assert _original_ids(trimmed, texts) == tokenizer.tokenize(tf.constant(texts)).to_list()
    vocabulary = tokenizer.vocabulary
    assert trimmed.tokenizer.vocabulary == [vocabulary[i] for i in trimmed.kept_ids]
    for token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        assert token in trimmed.tokenizer.vocabulary
    # The claim is about the trimmed-on text: other text can tokenize otherwise.
    others = PROBES + CORPUS[12:]
    assert _original_ids(trimmed, others) != tokenizer.tokenize(tf.constant(others)).to_list()


def test_an_unknown_word_keeps_its_greedy_path_so_it_stays_unknown():
    # "abd": greedy "ab", then no "##d": [UNK]. Without "ab" (used by no output token),
    # "a" + "##bd" (both kept for other words) would split it.
    tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "ab", "x", "##bd", "zz"])
    texts = ["abd a xbd", "ABD!"]
    trimmed = trimmed_vocabulary(tokenizer, texts)
    assert trimmed.tokenizer.vocabulary[5:] == ["a", "ab", "x", "##bd"]
    assert _original_ids(trimmed, texts) == tokenizer.tokenize(tf.constant(texts)).to_list() == [[1, 5, 7, 8], [1, 1]]


def test_max_tokens_keeps_the_leading_pieces_identical_and_fewer_tokens(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file)
    text = " ".join(CORPUS)
    whole = trimmed_vocabulary(tokenizer, [text])
    head = trimmed_vocabulary(tokenizer, [text], max_tokens=40)
    assert len(head.kept_ids) < len(whole.kept_ids)
    original = tokenizer.tokenize(tf.constant([text])).to_list()[0]
    assert _original_ids(head, [text])[0][:40] == original[:40]


def test_max_size_keeps_specials_single_characters_and_the_most_frequent_pieces(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file)
    texts = CORPUS[:7]
    full = trimmed_vocabulary(tokenizer, texts)
    capped = trimmed_vocabulary(tokenizer, texts, max_size=len(full.kept_ids) - 10)
    assert len(capped.kept_ids) == len(full.kept_ids) - 10
    ids = capped.tokenizer.tokenize(tf.constant(texts))
    # Words that lost a piece split into shorter pieces, never [UNK].
    assert capped.tokenizer.unk_token_id not in ids.flat_values.numpy()
    assert ids.flat_values.shape[0] > tokenizer.tokenize(tf.constant(texts)).flat_values.shape[0]
    counts = np.bincount(tokenizer.tokenize(tf.constant(texts)).flat_values.numpy(), minlength=tokenizer.vocabulary_size)
    longer = [
        i for i, token in enumerate(tokenizer.vocabulary) if len(token.removeprefix("##")) > 1 and token[0] != "["
    ]
    kept = [i for i in longer if i in set(capped.kept_ids)]
    dropped = [i for i in longer if counts[i] and i not in set(capped.kept_ids)]
    assert dropped and max(counts[dropped]) <= min(counts[kept])
    with pytest.raises(XDomainError, match="cannot hold the .* special tokens and single characters"):
        trimmed_vocabulary(tokenizer, texts, max_size=10)


def test_options_and_errors(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file, lowercase=False, max_bytes_per_word=50)
    trimmed = trimmed_vocabulary(tokenizer, CORPUS[:3])
    assert (trimmed.tokenizer.lowercase, trimmed.tokenizer.max_bytes_per_word) == (False, 50)
    with pytest.raises(XDomainError, match="needs texts"):
        trimmed_vocabulary(tokenizer, [])
