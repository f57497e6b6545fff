"""In-graph text normalization shared by the tokenizer and the vocabulary trainer.

Both modes run one tensorflow-text op, `FastBertNormalize` (which TFLite runs as a
tf-text custom op), with different per-character tables:

- `"exact"`: Hugging Face's BertNormalizer rules (see
  `xdomain_tf.text.bert_normalizer_model`): `"Straße"` -> `"straße"`.
- `"tf_text"`: tensorflow-text's own table (`FastBertTokenizer(
  lower_case_nfd_strip_accents=True)`, as TF-Hub BERT preprocessing models):
  NFKC case folding, `"Straße"` -> `"strasse"`.

See `WordPieceTokenizer` for the measured differences.
"""
import functools
import unicodedata

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text import build_fast_bert_normalizer_model

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.bert_normalizer_model import build_bert_normalizer_model

NORMALIZATIONS = ("exact", "tf_text")

# ASCII symbols count as punctuation for BERT, like the Unicode P* categories.
_PUNCTUATION = r"!-/:-@\[-`{-~\p{P}"
# The CJK ideograph blocks that BERT splits into one token per character.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
_CJK = "".join(f"\\x{{{low:X}}}-\\x{{{high:X}}}" for low, high in _CJK_RANGES)
_ISOLATED = f"[{_PUNCTUATION}{_CJK}]"
_WORD_DELIMITER = rf"[\s\p{{Z}}]+|{_ISOLATED}"


def check_normalization_options(lowercase, strip_accents, normalization):
    """Validates the options and returns the effective `strip_accents` (a bool).

    `strip_accents=None` follows `lowercase`, as in Hugging Face's BertNormalizer.

    >>> check_normalization_options(True, None, "exact")
    True
    """
    if normalization not in NORMALIZATIONS:
        raise XDomainError(
            f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}"
        )
    strip = bool(lowercase) if strip_accents is None else bool(strip_accents)
    if normalization == "tf_text" and strip != bool(lowercase):
        raise XDomainError(
            'normalization="tf_text" strips accents exactly when it lower-cases '
            f"(lowercase={lowercase!r}, strip_accents={strip_accents!r}); "
            'use normalization="exact" for other combinations'
        )
    return strip


def normalizer_model(lowercase=True, strip_accents=None, normalization="exact"):
    """The `FastBertNormalizer` flatbuffer (bytes) for these options.

    >>> len(normalizer_model()) > 1000
    True
    """
    strip = check_normalization_options(lowercase, strip_accents, normalization)
    if normalization == "tf_text":
        return _tf_text_normalizer_model(bool(lowercase))
    return build_bert_normalizer_model(bool(lowercase), strip)


@functools.lru_cache(maxsize=2)
def _tf_text_normalizer_model(lowercase):
    return build_fast_bert_normalizer_model(lowercase)


def normalize_text(strings, lowercase=True, strip_accents=None, normalization="exact"):
    """Normalizes UTF-8 strings as the tokenizer does before splitting words.

    `"exact"`: NUL, U+FFFD, control (Cc except tab/newline/CR), format (Cf) and
    private-use (Co) characters are removed; White_Space becomes a space; with
    `strip_accents`, NFD then non-spacing marks (Mn) are removed; with `lowercase`,
    each character is lower-cased like Python's `str.lower` (`"ß"` stays `"ß"`).
    `"tf_text"`: tensorflow-text's table: with `lowercase`, NFKC case folding
    (`"ß"` -> `"ss"`, `"ﬁ"` -> `"fi"`) and accent stripping; always, control
    characters become spaces. In both, an invalid UTF-8 byte becomes a space.

    Args:
        strings: a tf.string tensor of any shape.
        lowercase: lower-case the text.
        strip_accents: remove accents; None follows `lowercase`.
        normalization: `"exact"` or `"tf_text"`.

    Returns:
        A tf.string tensor of the same shape.

    Example:

    >>> normalize_text(tf.constant(["Straße Ünïcode\\u200b!"])).numpy()[0].decode()
    'straße unicode!'
    """
    model = normalizer_model(lowercase, strip_accents, normalization)
    strings = tf.convert_to_tensor(strings, dtype=tf.string)
    if strings.shape.rank == 0:
        return normalize_text(strings[tf.newaxis], lowercase, strip_accents, normalization)[0]
    return tf_text.FastBertNormalizer(model_buffer=model).normalize(strings)


def split_words(normalized):
    """Splits normalized strings into the words WordPiece sees.

    Whitespace separates words; punctuation (Unicode P* and ASCII symbols) and CJK
    ideographs become words of their own, as in BERT's pre-tokenizer.

    Args:
        normalized: a 1-D tf.string tensor (output of `normalize_text`).

    Returns:
        A `tf.RaggedTensor` of words, shape [batch, (words)].

    Example:

    >>> split_words(tf.constant(["hi, 世界"])).to_list()
    [[b'hi', b',', b'\\xe4\\xb8\\x96', b'\\xe7\\x95\\x8c']]
    """
    return tf_text.regex_split(normalized, _WORD_DELIMITER, _ISOLATED)


def is_isolated_character(char):
    """Whether the pre-tokenizer always makes `char` a word of its own (punctuation, CJK).

    >>> is_isolated_character(","), is_isolated_character("中"), is_isolated_character("a")
    (True, True, False)
    """
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    if unicodedata.category(char).startswith("P"):
        return True
    return any(low <= code <= high for low, high in _CJK_RANGES)

