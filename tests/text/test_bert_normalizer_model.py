import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text as tf_text
from tokenizers.normalizers import BertNormalizer

from xdomain_tf.text.bert_normalizer_model import (
    bert_character_map,
    build_bert_normalizer_model,
    build_darts_trie,
)


def lookup(units, key):
    """A reference darts-clone lookup, written from the unit layout."""
    position = 0
    unit = int(units[0])
    for byte in key:
        position ^= ((unit >> 10) << ((unit & 0x200) >> 6)) ^ byte
        if position >= len(units):
            return None
        unit = int(units[position])
        if unit & 0x800000FF != byte:
            return None
    if not unit & 0x100:
        return None
    value_unit = int(units[position ^ ((unit >> 10) << ((unit & 0x200) >> 6))])
    return value_unit & 0x7FFFFFFF


def test_darts_trie_finds_every_key_and_nothing_else():
    rng = np.random.default_rng(0)
    keys = {bytes(rng.integers(1, 256, size=rng.integers(1, 5)).tolist()) for _ in range(3000)}
    values = {key: int(rng.integers(0, 2**31)) for key in keys}
    units = build_darts_trie(values)
    assert units.dtype == np.uint32
    for key, value in values.items():
        assert lookup(units, key) == value
    for _ in range(3000):
        other = bytes(rng.integers(1, 256, size=rng.integers(1, 6)).tolist())
        if other not in values:
            assert lookup(units, other) is None


def test_darts_trie_shares_identical_subtrees():
    # 64 * 64 keys that all map to one value: shared blocks keep the array small.
    values = {bytes([0xF3, 0xB0, b, c]): 7 for b in range(0x80, 0xC0) for c in range(0x80, 0xC0)}
    units = build_darts_trie(values)
    assert len(units) < 1024
    assert all(lookup(units, key) == 7 for key in list(values)[::97])


def test_character_map_rules():
    table = bert_character_map(lowercase=True, strip_accents=True)
    assert table[ord("É")] == "e" and table[ord("Σ")] == "σ" and table[ord("İ")] == "i"
    assert table[ord("\u200b")] == "" and table[ord("\x01")] == "" and table[0xE000] == ""
    assert table[ord("\t")] == " " and table[0x3000] == " "
    assert ord("ß") not in table and ord("ς") not in table and ord("中") not in table
    cased = bert_character_map(lowercase=False, strip_accents=False)
    assert ord("É") not in cased and cased[ord("\x01")] == ""
    assert bert_character_map(lowercase=True, strip_accents=False)[ord("İ")] == "i\u0307"


def test_normalizer_op_applies_the_table_to_the_basic_multilingual_plane():
    table = bert_character_map(True, True)
    normalizer = tf_text.FastBertNormalizer(model_buffer=build_bert_normalizer_model(True, True))
    codes = [c for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    texts = ["a" + chr(c) + "b" for c in codes]
    got = normalizer.normalize(tf.constant(texts)).numpy().tolist()
    expected = [("a" + table.get(c, chr(c)) + "b").encode() for c in codes]
    assert got == expected


def test_agrees_with_hugging_face_below_unicode_11_additions():
    # Hugging Face's tables are older: differences start with characters that
    # newer Unicode versions added (the first, U+07FD, is from Unicode 11).
    normalizer = tf_text.FastBertNormalizer(model_buffer=build_bert_normalizer_model(True, True))
    hf = BertNormalizer(lowercase=True)
    codes = [c for c in range(1, 0x3000) if not 0xD800 <= c <= 0xDFFF]
    texts = ["a" + chr(c) + "b" for c in codes]
    ours = [t.decode() for t in normalizer.normalize(tf.constant(texts)).numpy().tolist()]
    differing = [c for c, text, o in zip(codes, texts, ours) if hf.normalize_str(text) != o]
    assert min(differing) == 0x7FD
    assert len(differing) < 150


@pytest.mark.parametrize(
    "raw",
    [b"a\xffb", b"\xe4\xb8", b"x\xed\xa0\x80y", b"\xf0\x9f\x98", b"\xc0\xaf", b"\x80\x80ok\xfe"],
)
def test_invalid_utf8_is_dropped_like_a_lossy_decode(raw):
    normalizer = tf_text.FastBertNormalizer(model_buffer=build_bert_normalizer_model(True, True))
    expected = BertNormalizer(lowercase=True).normalize_str(raw.decode("utf-8", errors="replace"))
    assert normalizer.normalize(tf.constant([raw])).numpy()[0].decode() == expected
