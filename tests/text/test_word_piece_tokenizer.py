import keras
import numpy as np
import pytest
import tensorflow as tf
from text_fixtures import CORPUS, PROBES
from tokenizers import BertWordPieceTokenizer

from xdomain_tf.errors import DataError, XDomainError
from xdomain_tf.text import WordPieceTokenizer, read_vocabulary

SMALL_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "great", "##est", "!", "a", "##a"]


def hf_ids(vocab_file, texts, **options):
    hf = BertWordPieceTokenizer(str(vocab_file), **options)
    return [encoding.ids for encoding in hf.encode_batch(texts, add_special_tokens=False)]


def test_ids_equal_hugging_face_uncased(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file)
    texts = PROBES + CORPUS
    ours = tokenizer.tokenize(tf.constant(texts)).to_list()
    assert ours == hf_ids(vocab_file, texts, lowercase=True)
    # The probes exercise real pieces, not only [UNK].
    assert sum(len(ids) for ids in ours) > 500
    assert sum(ids.count(tokenizer.unk_token_id) for ids in ours) < 60


def test_ids_equal_hugging_face_cased_and_accent_options(cased_vocab_file):
    texts = PROBES + CORPUS
    cased = WordPieceTokenizer(cased_vocab_file, lowercase=False)
    assert cased.tokenize(tf.constant(texts)).to_list() == hf_ids(
        cased_vocab_file, texts, lowercase=False
    )
    stripped = WordPieceTokenizer(cased_vocab_file, lowercase=False, strip_accents=True)
    assert stripped.tokenize(tf.constant(texts)).to_list() == hf_ids(
        cased_vocab_file, texts, lowercase=False, strip_accents=True
    )


def test_lowercase_without_accent_stripping_matches_hugging_face(vocab_file):
    texts = PROBES + CORPUS
    tokenizer = WordPieceTokenizer(vocab_file, strip_accents=False)
    assert tokenizer.tokenize(tf.constant(texts)).to_list() == hf_ids(
        vocab_file, texts, lowercase=True, strip_accents=False
    )


def test_normalization_modes_differ_on_sharp_s_and_controls(vocab_file):
    exact = WordPieceTokenizer(vocab_file)
    folded = WordPieceTokenizer(vocab_file, normalization="tf_text")
    texts = tf.constant(["Straße", "ab\x01cd", "ΟΔΟΣ ς", "ﬁ µ"])
    assert [t.decode() for t in exact.normalize(texts).numpy()] == [
        "straße",
        "abcd",
        "οδοσ ς",
        "ﬁ µ",
    ]
    assert [t.decode() for t in folded.normalize(texts).numpy()] == [
        "strasse",
        "ab cd",
        "οδοσ σ",
        "fi μ",
    ]
    assert exact.tokenize(texts).to_list() != folded.tokenize(texts).to_list()


def test_special_token_ids_and_vocabulary(tmp_path):
    tokenizer = WordPieceTokenizer(SMALL_VOCAB)
    assert (
        tokenizer.pad_token_id,
        tokenizer.unk_token_id,
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.mask_token_id,
    ) == (0, 1, 2, 3, 4)
    assert tokenizer.vocabulary_size == len(SMALL_VOCAB)
    assert tokenizer.vocabulary == SMALL_VOCAB
    assert tokenizer.special_token_ids() == [0, 1, 2, 3, 4]
    assert tokenizer.token_to_id("great") == 6
    assert tokenizer.id_to_token(7) == "##est"
    with pytest.raises(XDomainError, match="not in the vocabulary"):
        tokenizer.token_to_id("missing")
    with pytest.raises(XDomainError, match="out of range"):
        tokenizer.id_to_token(99)


def test_missing_special_tokens_give_clear_errors():
    tokenizer = WordPieceTokenizer(["[UNK]", "[PAD]", "a"])
    assert tokenizer.pad_token_id == 1
    with pytest.raises(XDomainError, match=r"no \[MASK\] token"):
        tokenizer.mask_token_id
    with pytest.raises(XDomainError, match=r"no \[UNK\] token"):
        WordPieceTokenizer(["[PAD]", "a"])


def test_bad_vocabulary_files(tmp_path):
    duplicate = tmp_path / "dup.txt"
    duplicate.write_text("[UNK]\na\nb\na\n", encoding="utf-8")
    with pytest.raises(DataError) as error:
        WordPieceTokenizer(duplicate)
    assert error.value.line == 4 and "duplicate" in str(error.value)
    empty_line = tmp_path / "empty.txt"
    empty_line.write_text("[UNK]\n\na\n", encoding="utf-8")
    with pytest.raises(DataError, match="empty token"):
        WordPieceTokenizer(empty_line)
    with pytest.raises(FileNotFoundError):
        WordPieceTokenizer(tmp_path / "missing.txt")
    with pytest.raises(XDomainError, match="normalization"):
        WordPieceTokenizer(SMALL_VOCAB, normalization="fastest")
    with pytest.raises(XDomainError, match="tf_text"):
        WordPieceTokenizer(SMALL_VOCAB, lowercase=False, strip_accents=True, normalization="tf_text")


def test_save_vocabulary_and_from_vocab_file(tmp_path):
    tokenizer = WordPieceTokenizer(SMALL_VOCAB)
    path = tokenizer.save_vocabulary(tmp_path)
    assert path.name == "vocab.txt"
    assert path.read_text(encoding="utf-8") == "\n".join(SMALL_VOCAB) + "\n"
    assert read_vocabulary(path) == SMALL_VOCAB
    again = WordPieceTokenizer.from_vocab_file(path, lowercase=False)
    assert again.vocabulary == SMALL_VOCAB and not again.lowercase


def test_tokenize_shapes_and_dtypes():
    tokenizer = WordPieceTokenizer(SMALL_VOCAB)
    scalar = tokenizer.tokenize("The greatest!")
    assert scalar.dtype == tf.int32 and scalar.numpy().tolist() == [5, 6, 7, 8]
    batch = tokenizer(tf.constant(["the", "great the"]))
    assert isinstance(batch, tf.RaggedTensor) and batch.to_list() == [[5], [6, 5]]
    matrix = tokenizer.tokenize(tf.constant([["the", "great"], ["greatest", "!"]]))
    assert matrix.to_list() == [[[5], [6]], [[6, 7], [8]]]


def test_detokenize():
    tokenizer = WordPieceTokenizer(SMALL_VOCAB)
    assert tokenizer.detokenize([6, 7, 5]).numpy() == b"greatest the"
    dense = tf.constant([[2, 6, 7, 3, 0, 0], [2, 5, 3, 0, 0, 0]])
    assert tokenizer.detokenize(dense, skip_special_tokens=True).numpy().tolist() == [
        b"greatest",
        b"the",
    ]
    ragged = tokenizer.tokenize(tf.constant(["The greatest!"]))
    assert tokenizer.detokenize(ragged).numpy().tolist() == [b"the greatest !"]


@pytest.mark.parametrize("normalization", ["exact", "tf_text"])
def test_odd_inputs_have_defined_outputs(normalization):
    tokenizer = WordPieceTokenizer(SMALL_VOCAB, normalization=normalization)
    texts = tf.constant(
        [b"", b"   \t\n ", b"a" * 100_000, b"a\xff\xfea", b"a\x00a", b"\x01\x02\x03", b"the\x00great"]
    )
    ids = tokenizer.tokenize(texts).to_list()
    assert ids[0] == [] and ids[1] == []
    assert ids[2] == [tokenizer.unk_token_id]  # Longer than max_bytes_per_word.
    if normalization == "exact":
        assert ids[3] == [9, 10]  # Invalid bytes dropped, as Hugging Face after a lossy decode.
        assert ids[4] == [9, 10]  # NUL removed, as Hugging Face does.
        assert ids[5] == []
        assert ids[6] == [1]  # "thegreat" has no "##great" piece: one unknown word.
    else:
        assert ids[3] == [tokenizer.unk_token_id]  # Invalid bytes kept: an unknown word.
        assert ids[4] == [9, 9]  # Control characters become spaces.
        assert ids[6] == [5, 6]
    empty = tokenizer.tokenize(tf.constant([], tf.string))
    assert empty.shape[0] == 0 and empty.to_list() == []


def test_invalid_utf8_matches_hugging_face_on_decoded_text(vocab_file):
    tokenizer = WordPieceTokenizer(vocab_file)
    raws = [
        "caf\u00e9 ok".encode() + b"\xff" + " stra\u00dfe".encode(),
        b"\xe4\xb8tok\xc3en\x80izer \xed\xa0\x80 \xf0\x9f\x98 \xc0\xaf end",
        b"\xff\xfe\xfd",
    ]
    ours = tokenizer.tokenize(tf.constant(raws)).to_list()
    decoded = [raw.decode("utf-8", errors="replace") for raw in raws]
    assert ours == hf_ids(vocab_file, decoded, lowercase=True)
    assert ours[1][:1] == tokenizer.tokenize("tokenizer").numpy().tolist()


def test_runs_in_tf_data():
    tokenizer = WordPieceTokenizer(SMALL_VOCAB)
    dataset = tf.data.Dataset.from_tensor_slices(["the great", "greatest !", ""]).batch(2)
    batches = [batch.to_list() for batch in dataset.map(tokenizer.tokenize)]
    assert batches == [[[5, 6], [6, 7, 8]], [[]]]


def test_config_round_trip_with_safe_mode_and_the_vocabulary_as_an_asset(vocab_file, tmp_path):
    tokenizer = WordPieceTokenizer(vocab_file, strip_accents=False, name="wp")
    config = keras.saving.serialize_keras_object(tokenizer)
    assert config["config"]["vocabulary"] is None  # the vocabulary is an asset, not config
    restored = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert isinstance(restored, WordPieceTokenizer) and restored.strip_accents is False
    assert not restored.has_vocabulary
    tokenizer.save_assets(tmp_path)
    restored.load_assets(tmp_path)
    assert restored.vocabulary == tokenizer.vocabulary
    texts = tf.constant(PROBES)
    np.testing.assert_array_equal(
        restored.tokenize(texts).flat_values, tokenizer.tokenize(texts).flat_values
    )
