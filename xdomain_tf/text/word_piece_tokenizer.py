"""BERT WordPiece tokenization as a TensorFlow graph (tf.data, SavedModel, TFLite)."""
import os

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from xdomain_tf.errors import XDomainError
from xdomain_tf.text.normalization import (
    check_normalization_options,
    normalize_text,
    normalizer_model,
)
from xdomain_tf.text.preprocessing_layer import PreprocessingLayer
from xdomain_tf.text.vocabulary_file import check_vocabulary, read_vocabulary, write_vocabulary

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
CLS_TOKEN = "[CLS]"
SEP_TOKEN = "[SEP]"
MASK_TOKEN = "[MASK]"
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)


@keras.saving.register_keras_serializable(package="xdomain_tf")
class WordPieceTokenizer(PreprocessingLayer):
    """BERT WordPiece tokenizer built from TensorFlow and tensorflow-text ops.

    The same graph tokenizes in `tf.data`, inside Keras models, in exported
    SavedModels (TF Serving receives raw strings) and inside TFLite files: it is
    `tensorflow_text.FastBertTokenizer`, i.e. two tf-text ops (`FastBertNormalize`,
    `FastWordpieceTokenizeWithOffsets`) that TFLite runs as custom ops
    (`tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS`). Words are split on
    whitespace, punctuation and CJK ideographs, then matched greedily
    longest-first against the vocabulary as in BERT.

    Normalization (pick it before training; the training graph, the SavedModel
    and the TFLite file then agree, as they run the same table):

    - `"exact"` (default): the normalizer op runs a per-character table built
      with Hugging Face's BertNormalizer rules (`bert_normalizer_model`): NUL,
      U+FFFD, Cc (except tab/newline/CR), Cf and Co characters are removed;
      `strip_accents` is NFD + removal of Mn marks; `lowercase` is per-character
      `str.lower` (`"Straße"` -> `"straße"`, `"ΟΔΟΣ"` -> `"οδοσ"`). Ids equal
      those of `tokenizers.BertWordPieceTokenizer` over the same vocab.txt.
      Known differences: tested with each of the 1,112,064 code points between
      two letters, 795 give other ids, all from Unicode table versions (marks,
      punctuation and CJK characters added in Unicode 11+ that Hugging Face's
      tables lack, and its CJK range typo U+2B820-U+2B91F); words over
      `max_bytes_per_word` *bytes* become `[UNK]` (Hugging Face: 100
      *characters*; the same for ASCII words, but e.g. a run of 34+ kana is
      `[UNK]` here: raise the limit to 300 for kana- or Thai-heavy text).
      Invalid UTF-8 bytes are dropped, as Hugging Face does with text decoded by
      `bytes.decode(errors="replace")`. On real text (3,000 texts each of BBC
      News, Debian descriptions in en/de/fr/ru/uk/ja; MiniLM's vocab and a
      learned multilingual one) all ids agree except 1 Japanese text in 3,000,
      from that word limit.
    - `"tf_text"`: tensorflow-text's own table (`FastBertTokenizer(
      lower_case_nfd_strip_accents=True)`, the normalization of TF-Hub BERT
      preprocessing models). It case-folds with NFKC (`"ß"` -> `"ss"`, `"µ"` ->
      `"μ"`, `"ς"` -> `"σ"`, `"ﬁ"` -> `"fi"`, fullwidth `"Ａ"` -> `"a"`, `"²"` ->
      `"2"`, `"…"` -> `"..."`), turns control characters into word breaks instead
      of removing them, keeps private-use characters and invalid UTF-8 bytes
      (their word becomes `[UNK]`): 142,873 code points give other ids than
      Hugging Face. On the texts above, the share of texts with the same ids
      is 82% in German (`ß`), 97% in Japanese, 98.8-99.9% in en/fr/ru/uk.
      `benchmarks/tokenizer_parity.py` measures both modes.

    With `lowercase=False` accents are kept unless `strip_accents=True` (exact
    mode only), as in Hugging Face.

    Args:
        vocabulary: list of tokens (the id is the index) or the path of a vocab.txt;
            None leaves it to `set_vocabulary` / `load_assets` (a `.keras` file stores
            the vocabulary as the asset `vocab.txt`, not in the config).
            It must contain `[UNK]`; `[PAD]`, `[CLS]`, `[SEP]` and `[MASK]` are looked
            up when their id is asked for.
        lowercase: lower-case the text (an uncased vocabulary).
        strip_accents: remove accents; None follows `lowercase`.
        normalization: `"exact"` or `"tf_text"` (see above).
        suffix_indicator: prefix of word-continuation pieces.
        max_bytes_per_word: longer words become `[UNK]`.
        **kwargs: Keras layer arguments (`name`, ...).

    Example:

    >>> tokenizer = WordPieceTokenizer(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "great", "##est", "!"])
    >>> tokenizer.tokenize(tf.constant(["The greatest!"])).to_list()
    [[5, 6, 7, 8]]
    >>> tokenizer.detokenize(tf.ragged.constant([[5, 6, 7]])).numpy().tolist()
    [b'the greatest']
    """

    default_dtype = "int32"

    def __init__(
        self,
        vocabulary,
        lowercase=True,
        strip_accents=None,
        normalization="exact",
        suffix_indicator="##",
        max_bytes_per_word=100,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_normalization_options(lowercase, strip_accents, normalization)
        if int(max_bytes_per_word) < 1:
            raise XDomainError(f"max_bytes_per_word must be >= 1, got {max_bytes_per_word}")
        self.lowercase = bool(lowercase)
        self.strip_accents = strip_accents
        self.normalization = normalization
        self.suffix_indicator = suffix_indicator
        self.max_bytes_per_word = int(max_bytes_per_word)
        self._vocabulary = None
        self._token_to_id = {}
        self._fast_bert = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    def set_vocabulary(self, vocabulary):
        """Sets the vocabulary (a list of tokens or the path of a vocab.txt) and builds the
        tokenizer graph over it; what `load_assets` calls when a saved model reloads."""
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = read_vocabulary(vocabulary)
        else:
            vocabulary = check_vocabulary(vocabulary)
        if UNK_TOKEN not in vocabulary:
            raise XDomainError(f"the vocabulary has no {UNK_TOKEN} token")
        self._vocabulary = vocabulary
        self._token_to_id = {token: index for index, token in enumerate(vocabulary)}
        self._fast_bert = tf_text.FastBertTokenizer(
            vocab=vocabulary,
            suffix_indicator=self.suffix_indicator,
            max_bytes_per_word=self.max_bytes_per_word,
            token_out_type=tf.int32,
            unknown_token=UNK_TOKEN,
            support_detokenization=True,
            fast_bert_normalizer_model_buffer=normalizer_model(
                self.lowercase, self.strip_accents, self.normalization
            ),
        )

    def _check_vocabulary(self):
        if self._vocabulary is None:
            raise XDomainError(
                "the tokenizer has no vocabulary yet: pass `vocabulary=` or call `set_vocabulary`"
            )

    def save_assets(self, dir_path):
        """Writes the vocabulary as `vocab.txt` into `dir_path` (Keras calls this when a
        model is saved: the vocabulary is an asset of the `.keras` file, not config)."""
        self._check_vocabulary()
        write_vocabulary(self._vocabulary, os.path.join(dir_path, "vocab.txt"))

    def load_assets(self, dir_path):
        """Reads `vocab.txt` from `dir_path` (Keras calls this when a model is loaded)."""
        self.set_vocabulary(os.path.join(dir_path, "vocab.txt"))

    @classmethod
    def from_vocab_file(cls, path, **kwargs):
        """Builds a tokenizer from a vocab.txt; `kwargs` as for the constructor."""
        return cls(read_vocabulary(path), **kwargs)

    def save_vocabulary(self, path):
        """Writes the vocabulary as a vocab.txt (one token a line) and returns its path.

        A path to a folder writes `vocab.txt` inside it.
        """
        if os.path.isdir(path):
            path = os.path.join(path, "vocab.txt")
        return write_vocabulary(self._vocabulary, path)

    @property
    def has_vocabulary(self):
        """False until a vocabulary is set (a tokenizer rebuilt from config alone)."""
        return self._vocabulary is not None

    @property
    def vocabulary(self):
        """The tokens, in id order (a copy)."""
        self._check_vocabulary()
        return list(self._vocabulary)

    def get_vocabulary(self):
        """The tokens, in id order (a copy), as in keras-hub."""
        return self.vocabulary

    @property
    def vocabulary_size(self):
        """The number of tokens."""
        self._check_vocabulary()
        return len(self._vocabulary)

    def token_to_id(self, token):
        """The id of `token`; raises XDomainError when it is not in the vocabulary."""
        if token not in self._token_to_id:
            raise XDomainError(f"token {token!r} is not in the vocabulary")
        return self._token_to_id[token]

    def id_to_token(self, token_id):
        """The token of `token_id`; raises XDomainError when out of range."""
        token_id = int(token_id)
        if not 0 <= token_id < len(self._vocabulary):
            raise XDomainError(
                f"token id {token_id} is out of range [0, {len(self._vocabulary)})"
            )
        return self._vocabulary[token_id]

    def _special_id(self, token):
        self._check_vocabulary()
        if token not in self._token_to_id:
            raise XDomainError(
                f"the vocabulary has no {token} token (BERT special tokens: "
                f"{', '.join(SPECIAL_TOKENS)})"
            )
        return self._token_to_id[token]

    @property
    def pad_token_id(self):
        """The id of [PAD] (XDomainError if the vocabulary has none)."""
        return self._special_id(PAD_TOKEN)

    @property
    def unk_token_id(self):
        """The id of [UNK] (XDomainError if the vocabulary has none)."""
        return self._special_id(UNK_TOKEN)

    @property
    def cls_token_id(self):
        """The id of [CLS] (XDomainError if the vocabulary has none)."""
        return self._special_id(CLS_TOKEN)

    @property
    def sep_token_id(self):
        """The id of [SEP] (XDomainError if the vocabulary has none)."""
        return self._special_id(SEP_TOKEN)

    @property
    def mask_token_id(self):
        """The id of [MASK] (XDomainError if the vocabulary has none)."""
        return self._special_id(MASK_TOKEN)

    def special_token_ids(self):
        """Ids of the BERT special tokens present in the vocabulary, sorted."""
        return sorted(self._token_to_id[t] for t in SPECIAL_TOKENS if t in self._token_to_id)

    def normalize(self, strings):
        """The text as the WordPiece step sees it (tf.string, same shape)."""
        return normalize_text(strings, self.lowercase, self.strip_accents, self.normalization)

    def tokenize(self, strings):
        """Token ids of UTF-8 strings.

        Args:
            strings: tf.string tensor (or Python str / list of str): a scalar gives
                a 1-D int32 tensor, shape [batch] an int32 `tf.RaggedTensor`
                [batch, (tokens)], higher ranks a ragged tensor with one more
                ragged dimension.

        Returns:
            int32 ids.
        """
        self._check_vocabulary()
        strings = tf.convert_to_tensor(strings, dtype=tf.string)
        if strings.shape.rank == 0:
            # tf-text's normalizer fails on scalars: tokenize a batch of one.
            return self.tokenize(strings[tf.newaxis]).values
        return self._fast_bert.tokenize(strings)

    def tokenize_with_offsets(self, strings):
        """Token ids of a 1-D batch with each token's UTF-8 byte span in the input.

        The offsets point into the original strings, before normalization: a token
        of a lower-cased or accent-stripped word spans the word as written.

        Args:
            strings: a 1-D tf.string tensor (or a list of str).

        Returns:
            `(ids, starts, ends)`: `tf.RaggedTensor`s `[batch, (tokens)]`; int32 ids and
            int64 byte offsets (token `i` is `string[starts[i]:ends[i]]` in bytes).

        Example:

        >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "cafe", "!"])
        >>> ids, starts, ends = tokenizer.tokenize_with_offsets(["Café!"])
        >>> ids.to_list(), starts.to_list(), ends.to_list()
        ([[4, 5]], [[0, 5]], [[5, 6]])
        """
        self._check_vocabulary()
        strings = tf.convert_to_tensor(strings, dtype=tf.string)
        if strings.shape.rank != 1:
            raise XDomainError(f"tokenize_with_offsets expects a 1-D batch, got shape {strings.shape}")
        return self._fast_bert.tokenize_with_offsets(strings)

    def tokenize_flat(self, strings):
        """Ids of a 1-D batch as (values [n] int32, row_splits [batch + 1] int32).

        Uses no ragged ops: for graphs that must stay dense (TFLite, TF Serving).
        """
        strings = tf.convert_to_tensor(strings, dtype=tf.string)
        if strings.shape.rank != 1:
            raise XDomainError(f"tokenize_flat expects a 1-D batch, got shape {strings.shape}")
        ids = self.tokenize(strings)
        return ids.values, tf.cast(ids.row_splits, tf.int32)

    def detokenize(self, token_ids, skip_special_tokens=False):
        """Joins ids back into text (pieces merged, words separated by one space).

        The text is the normalized one (lower-cased, accents removed, punctuation
        separated by spaces), as in every BERT tokenizer.

        Args:
            token_ids: int ids, 1-D (one sequence) -> scalar string, or
                [batch, seq] dense or ragged -> [batch] strings.
            skip_special_tokens: drop [PAD], [CLS], [SEP] and [MASK] ids first.

        Returns:
            tf.string tensor.
        """
        if not isinstance(token_ids, tf.RaggedTensor):
            token_ids = tf.convert_to_tensor(token_ids)
        token_ids = tf.cast(token_ids, tf.int32)
        scalar = token_ids.shape.rank == 1
        if scalar:
            token_ids = token_ids[tf.newaxis]
        if not isinstance(token_ids, tf.RaggedTensor):
            token_ids = tf.RaggedTensor.from_tensor(token_ids)
        if skip_special_tokens:
            dropped = [
                self._token_to_id[t]
                for t in (PAD_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)
                if t in self._token_to_id
            ]
            if dropped:
                keep = tf.reduce_all(
                    tf.not_equal(token_ids[..., tf.newaxis], tf.constant(dropped, tf.int32)),
                    axis=-1,
                )
                token_ids = tf.ragged.boolean_mask(token_ids, keep)
        text = self._fast_bert.detokenize(token_ids)
        return text[0] if scalar else text

    def call(self, inputs):
        return self.tokenize(inputs)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((None, None), dtype="int32", ragged=True)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": None,  # an asset: see save_assets
                "lowercase": self.lowercase,
                "strip_accents": self.strip_accents,
                "normalization": self.normalization,
                "suffix_indicator": self.suffix_indicator,
                "max_bytes_per_word": self.max_bytes_per_word,
            }
        )
        return config
