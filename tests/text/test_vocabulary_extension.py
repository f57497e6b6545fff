import json
import pathlib

import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import WordPieceTokenizer, train_wordpiece_vocabulary
from xdomain_tf.text.vocabulary_extension import extend_vocabulary, pieces_per_word

MULTILINGUAL = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "multilingual"


def _texts(split, lang):
    records = [json.loads(line) for line in (MULTILINGUAL / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    return [record["text"] for record in records if record["lang"] == lang]


@pytest.fixture(scope="module")
def english_tokenizer():
    """An English-only vocabulary: German and French words shatter into pieces."""
    return WordPieceTokenizer(train_wordpiece_vocabulary(_texts("train", "en"), 160, min_frequency=1))


@pytest.fixture(scope="module")
def extension(english_tokenizer):
    return extend_vocabulary(english_tokenizer, _texts("train", "de") + _texts("train", "fr"), add=60, min_frequency=1)


def test_old_tokens_keep_their_ids_and_new_ones_follow(english_tokenizer, extension):
    old = english_tokenizer.vocabulary
    new = extension.tokenizer.vocabulary
    assert new[: len(old)] == old
    assert new[len(old):] == extension.added
    assert len(extension.added) == 60 and not set(extension.added) & set(old)
    assert extension.old_size == len(old)
    assert extension.tokenizer.get_config() == {**english_tokenizer.get_config(), "name": extension.tokenizer.name}


def test_old_vocabulary_words_tokenize_as_before(english_tokenizer, extension):
    whole_words = [token for token in english_tokenizer.vocabulary if token.isalpha() and len(token) > 1]
    assert len(whole_words) > 20
    before = english_tokenizer.tokenize(whole_words).to_list()
    assert before == [[english_tokenizer.token_to_id(word)] for word in whole_words]
    assert extension.tokenizer.tokenize(whole_words).to_list() == before


def test_tokenizer_matches_hugging_face_on_the_extended_vocabulary(extension, tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    path = extension.tokenizer.save_vocabulary(str(tmp_path))
    reference = tokenizers.BertWordPieceTokenizer(str(path), lowercase=True)
    texts = _texts("valid", "de") + _texts("valid", "fr") + _texts("valid", "en")
    ours = extension.tokenizer.tokenize(texts).to_list()
    assert ours == [reference.encode(text, add_special_tokens=False).ids for text in texts]
    assert max(max(row) for row in ours) >= extension.old_size  # the new pieces are used


def test_sources_are_the_old_tokenizers_pieces(english_tokenizer, extension):
    suffix = english_tokenizer.suffix_indicator
    for token, sources in zip(extension.added, extension.sources):
        if token.startswith(suffix) or sources == [english_tokenizer.unk_token_id]:
            continue  # a continuation piece, or a piece the old vocabulary cannot spell
        assert english_tokenizer.tokenize([token]).to_list() == [sources]
    continuation = [(token, sources) for token, sources in zip(extension.added, extension.sources)
                    if token.startswith(suffix) and sources != [english_tokenizer.unk_token_id]]
    assert continuation
    for token, sources in continuation:
        pieces = [english_tokenizer.id_to_token(index) for index in sources]
        assert all(piece.startswith(suffix) for piece in pieces)
        assert "".join(piece[len(suffix):] for piece in pieces) == token[len(suffix):]


def test_pieces_per_word_drops_on_the_new_languages(english_tokenizer, extension):
    for lang in ("de", "fr"):
        heldout = _texts("valid", lang)
        before = pieces_per_word(english_tokenizer, heldout)
        after = pieces_per_word(extension.tokenizer, heldout)
        assert before["words"] == after["words"] > 50
        assert after["pieces_per_word"] < before["pieces_per_word"] - 0.2, lang


def test_fewer_pieces_when_the_text_runs_out_of_pairs(english_tokenizer):
    extension = extend_vocabulary(english_tokenizer, ["Straße Straße"], add=500, min_frequency=2)
    assert 0 < len(extension.added) < 500
    assert extension.tokenizer.tokenize(["straße"]).to_list() == [[english_tokenizer.vocabulary_size + len(extension.added) - 1]]


@pytest.mark.parametrize("add", [0, -3, 2.5, True])
def test_add_must_be_a_positive_integer(english_tokenizer, add):
    with pytest.raises(XDomainError, match="add .* must be a positive integer"):
        extend_vocabulary(english_tokenizer, ["Hallo Welt"], add=add)


def test_empty_texts_are_refused(english_tokenizer):
    with pytest.raises(XDomainError, match="needs texts"):
        extend_vocabulary(english_tokenizer, [], add=5)
    with pytest.raises(XDomainError, match="at least one text"):
        pieces_per_word(english_tokenizer, [])


def test_pieces_per_word_counts_unknown_words():
    tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "gut", "##en"])
    scores = pieces_per_word(tokenizer, ["Guten xyz"])
    assert scores == {"pieces_per_word": 1.5, "unknown_rate": 0.5, "words": 2, "pieces": 3, "texts": 1}
    assert np.isclose(pieces_per_word(tokenizer, ["gut"])["pieces_per_word"], 1.0)
