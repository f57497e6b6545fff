import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.pretraining.corpus import PretrainingCorpus

RECORDS = [
    {"text": "one. two three.", "domain": "news", "lang": "en"},
    {"text": "vier fünf", "domain": "news", "lang": "de"},
    {"text": "six seven. eight. nine", "domain": "soft", "lang": "en"},
    {"text": "hello world", "text_pair": "hallo welt", "domain": "soft", "lang": "de"},
]


def test_grouping_by_domain_language_or_both():
    by_domain = PretrainingCorpus.from_records(RECORDS)
    assert by_domain.sizes() == {"news": 2, "soft": 3}  # a pair gives a text on each side
    assert by_domain.pairs == {"soft": [("hello world", "hallo welt")]}
    by_lang = PretrainingCorpus.from_records(RECORDS, group_by="lang")
    assert by_lang.texts == {"de": ["vier fünf", "hallo welt"], "en": ["one. two three.", "six seven. eight. nine", "hello world"]}
    assert by_lang.pair_groups == ["en-de"]
    both = PretrainingCorpus.from_records(RECORDS, group_by="domain_lang")
    assert both.text_groups == ["news-de", "news-en", "soft-de", "soft-en"]


def test_language_filter_keeps_pairs_only_with_both_sides():
    english = PretrainingCorpus.from_records(RECORDS, languages=["en"])
    assert english.num_texts() == 3 and english.num_pairs() == 0
    both = PretrainingCorpus.from_records(RECORDS, languages=["en", "de"])
    assert both.num_pairs() == 1


def test_sentence_order_examples_are_the_two_halves_maybe_swapped():
    corpus = PretrainingCorpus({"a": [f"s{i} first. s{i} second. s{i} third." for i in range(200)] + ["x"]})
    records = corpus.sentence_pair_records("sop", seed=0)
    assert len(records) == 200  # the one-word text is left out
    swapped = 0
    for record in records:
        first, second = record["text"], record["text_pair"]
        index = first.split()[0]
        original = f"{index} first. {index} second. {index} third."
        if record["label"] == "1":
            swapped += 1
            assert f"{second} {first}" == original
        else:
            assert f"{first} {second}" == original
    assert 70 < swapped < 130
    assert records == corpus.sentence_pair_records("sop", seed=0)


def test_next_sentence_negatives_come_from_other_texts():
    corpus = PretrainingCorpus({"a": [f"t{i} a. t{i} b." for i in range(100)]})
    records = corpus.sentence_pair_records("nsp", seed=1)
    for record in records:
        same = record["text"].split()[0] == record["text_pair"].split()[0]
        assert same == (record["label"] == "0")
    with pytest.raises(XDomainError):
        corpus.sentence_pair_records("mlm")
