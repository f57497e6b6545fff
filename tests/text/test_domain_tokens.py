import pytest
import tensorflow as tf

from xdomain_tf.errors import XDomainError
from xdomain_tf.text import Preprocessor, WordPieceTokenizer
from xdomain_tf.text.domain_tokens import (
    condition_on_domains,
    domain_token,
    domain_token_ids,
    reserve_domain_tokens,
    vocabulary_domains,
)

BASE = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "goal", "package"]


def test_reserved_tokens_fill_unused_slots_then_grow_the_vocabulary_and_keep_existing_ids():
    with_unused = BASE[:5] + ["[unused0]", "[unused1]"] + BASE[5:]
    reserved = reserve_domain_tokens(with_unused, ["news", "debian"])
    assert reserved[5:7] == ["[domain:news]", "[domain:debian]"] and len(reserved) == len(with_unused)
    grown = reserve_domain_tokens(BASE, ["news", "debian"])
    assert grown == BASE + ["[domain:news]", "[domain:debian]"]
    assert reserve_domain_tokens(grown, ["debian", "sport"]) == grown + ["[domain:sport]"]
    assert vocabulary_domains(grown) == ["news", "debian"]


def test_domain_text_cannot_produce_a_domain_token():
    tokenizer = WordPieceTokenizer(reserve_domain_tokens(BASE, ["news"]))
    news = domain_token_ids(tokenizer, ["news"])[0]
    assert news == len(BASE)
    ids = tokenizer.tokenize(tf.constant(["[domain:news] the goal"])).to_list()[0]
    assert news not in ids and ids[-2:] == [5, 6]


def test_conditioning_replaces_only_the_first_token():
    tokenizer = WordPieceTokenizer(reserve_domain_tokens(BASE, ["news", "debian"]))
    packed = Preprocessor(tokenizer, 6)(tf.constant(["the goal", "the package"]))["token_ids"]
    start = tf.constant(domain_token_ids(tokenizer, ["debian"]) + [tokenizer.cls_token_id])
    assert condition_on_domains(packed, start).numpy().tolist() == [[9, 5, 6, 3, 0, 0], [2, 5, 7, 3, 0, 0]]


def test_bad_domains():
    with pytest.raises(XDomainError, match="without whitespace"):
        domain_token("two words")
    with pytest.raises(XDomainError, match="no domain token for sport"):
        domain_token_ids(WordPieceTokenizer(reserve_domain_tokens(BASE, ["news"])), ["news", "sport"])
