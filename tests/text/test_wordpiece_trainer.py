import random

import pytest
import tensorflow as tf
from text_fixtures import CORPUS
from tokenizers import BertWordPieceTokenizer

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import WordPieceTokenizer, read_vocabulary, train_wordpiece_vocabulary
from xdomain_tf.text.wordpiece_trainer import count_words

RESERVED = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def test_reserved_tokens_first_size_and_file(tmp_path):
    path = tmp_path / "out" / "vocab.txt"
    vocab = train_wordpiece_vocabulary(CORPUS, 300, output_path=path)
    assert vocab[:5] == RESERVED
    assert len(vocab) <= 300 and len(vocab) == len(set(vocab))
    assert read_vocabulary(path) == vocab


def test_deterministic_for_same_input_in_any_form_and_order():
    first = train_wordpiece_vocabulary(CORPUS, 300)
    assert train_wordpiece_vocabulary(CORPUS, 300) == first
    shuffled = list(CORPUS)
    random.Random(3).shuffle(shuffled)
    assert train_wordpiece_vocabulary(shuffled, 300) == first
    as_bytes = [text.encode("utf-8") for text in CORPUS]
    assert train_wordpiece_vocabulary(as_bytes, 300, batch_size=7) == first
    dataset = tf.data.Dataset.from_tensor_slices(CORPUS)
    assert train_wordpiece_vocabulary(dataset, 300) == first
    assert train_wordpiece_vocabulary(dataset.batch(5), 300) == first


def test_uses_the_tokenizer_normalization_and_splits_cjk():
    vocab = train_wordpiece_vocabulary(CORPUS * 3, 400)
    assert "ß" in vocab and "##ß" in vocab and "Die" not in vocab and "die" in vocab
    assert not any("é" in token or "É" in token for token in vocab)
    for char in "中文東京北京":
        assert char in vocab and "##" + char not in vocab
    assert not any(len(token) > 1 and any("\u4e00" <= c <= "\u9fff" for c in token) for token in vocab)
    folded = train_wordpiece_vocabulary(CORPUS * 3, 400, normalization="tf_text")
    assert "ß" not in folded and "##ß" not in folded
    cased = train_wordpiece_vocabulary(CORPUS * 3, 400, lowercase=False)
    assert "D" in cased and "é" in cased and "##é" in cased and "die" not in cased


def test_every_corpus_word_tokenizes_without_unknown_and_matches_hugging_face(tmp_path):
    path = tmp_path / "vocab.txt"
    vocab = train_wordpiece_vocabulary(CORPUS, 700, output_path=path, min_frequency=1)
    tokenizer = WordPieceTokenizer(vocab)
    ids = tokenizer.tokenize(tf.constant(CORPUS)).to_list()
    assert not any(tokenizer.unk_token_id in row for row in ids)
    hf = BertWordPieceTokenizer(str(path), lowercase=True)
    assert ids == [e.ids for e in hf.encode_batch(CORPUS, add_special_tokens=False)]


def test_small_alphabet_keeps_the_frequent_characters():
    vocab = train_wordpiece_vocabulary(CORPUS, 60, min_frequency=1)
    single = [token for token in vocab[5:] if len(token.removeprefix("##")) == 1]
    assert len(single) <= (60 - 5) // 2 and "e" in single and "😀" not in single


def test_larger_vocabulary_gives_fewer_tokens():
    lengths = []
    for size in (150, 300, 600):
        tokenizer = WordPieceTokenizer(train_wordpiece_vocabulary(CORPUS, size, min_frequency=1))
        lengths.append(int(tokenizer.tokenize(tf.constant(CORPUS)).flat_values.shape[0]))
    assert lengths[0] > lengths[1] > lengths[2]


def test_count_words_normalizes_and_splits():
    counts = count_words(["Hello, HELLO world!", "héllo\x00 wor\u200bld", b"bad\xffbytes"])
    assert counts == {"hello": 3, ",": 1, "world": 2, "!": 1, "badbytes": 1}


def test_odd_inputs_and_errors():
    assert train_wordpiece_vocabulary(["", "   ", "\x00\x01"], 20) == RESERVED
    assert train_wordpiece_vocabulary([], 20) == RESERVED
    with pytest.raises(XDomainError, match="must exceed"):
        train_wordpiece_vocabulary(CORPUS, 5)
    with pytest.raises(XDomainError, match="text 1 is a int"):
        train_wordpiece_vocabulary(["ok", 3], 50)
    with pytest.raises(XDomainError, match="not one string"):
        train_wordpiece_vocabulary("just one string", 50)
    with pytest.raises(XDomainError, match="tf.string"):
        train_wordpiece_vocabulary(tf.data.Dataset.range(3), 50)
