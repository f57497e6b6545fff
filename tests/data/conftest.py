import pytest

# Words outside this vocabulary tokenize to one [UNK] each, so a test text of n
# whitespace-separated words packs to n + 2 tokens.
VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "a", "mat"]


@pytest.fixture
def make_preprocessor():
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    tokenizer = WordPieceTokenizer(VOCABULARY)

    def make(sequence_length=16, pad_to="fixed"):
        return Preprocessor(tokenizer, sequence_length=sequence_length, pad_to=pad_to)

    return make


@pytest.fixture
def preprocessor(make_preprocessor):
    return make_preprocessor()
