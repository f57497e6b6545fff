import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import normalize_text, split_words
from xdomain_tf.text.normalization import check_normalization_options, is_isolated_character


def decoded(tensor):
    return [value.decode("utf-8") for value in tensor.numpy().tolist()]


def test_exact_normalization_follows_hugging_face_rules():
    texts = tf.constant(["Straße ÜBER Ångström", "a\x00b\x01c\u200bd\ue000e\ufffdf", "x\ty\u3000z\u00a0w", "ΟΔΟΣ İ"])
    assert decoded(normalize_text(texts)) == [
        "straße uber angstrom",
        "abcdef",
        "x y z w",
        "οδοσ i",
    ]


def test_case_and_accent_options():
    text = tf.constant(["Crème BRÛLÉE"])
    assert decoded(normalize_text(text, lowercase=False)) == ["Crème BRÛLÉE"]
    assert decoded(normalize_text(text, lowercase=False, strip_accents=True)) == ["Creme BRULEE"]
    assert decoded(normalize_text(text, lowercase=True, strip_accents=False)) == ["crème brûlée"]
    assert decoded(normalize_text(text, normalization="tf_text")) == ["creme brulee"]


def test_scalar_and_empty_inputs():
    assert normalize_text("ÀB").numpy().decode() == "ab"
    assert normalize_text(tf.constant([], tf.string)).shape == (0,)
    assert decoded(normalize_text(tf.constant([["A", "B"]]))[0]) == ["a", "b"]


def test_option_checks():
    assert check_normalization_options(False, None, "exact") is False
    assert check_normalization_options(False, True, "exact") is True
    with pytest.raises(XDomainError, match="must be one of"):
        check_normalization_options(True, None, "nfkc")
    with pytest.raises(XDomainError, match="tf_text"):
        check_normalization_options(True, False, "tf_text")


def test_split_words_isolates_punctuation_and_cjk():
    words = split_words(tf.constant(["hello, wörld!  中文x $5", ""])).to_list()
    assert [[w.decode() for w in row] for row in words] == [
        ["hello", ",", "wörld", "!", "中", "文", "x", "$", "5"],
        [],
    ]
    assert is_isolated_character("$") and is_isolated_character("。") and is_isolated_character("東")
    assert not is_isolated_character("é") and not is_isolated_character("😀")
