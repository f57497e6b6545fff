"""Reserved domain tokens (`[domain:news]`): the control codes a causal LM is conditioned on.

A conditioned sequence starts with its domain's token where an unconditioned one starts
with `[CLS]` (`[domain:news] text [SEP]` against `[CLS] text [SEP]`), so both have the same
length and positions, every later position sees the domain token under the causal mask,
and the encoder graph, its key/value-cache decoding and its checkpoints stay as they are:
the domain signal is one more row of the token embedding.
"""
import re

import tensorflow as tf

from xdomain_tf.errors import XDomainError

DOMAIN_TOKEN_FORMAT = "[domain:{}]"
_DOMAIN_TOKEN = re.compile(r"^\[domain:(.+)\]$")
_UNUSED_TOKEN = re.compile(r"^\[unused\d+\]$")


def domain_token(domain):
    """The reserved token of `domain`.

    Args:
        domain: a domain (or group) name without whitespace.

    Example:

    >>> domain_token("news")
    '[domain:news]'
    """
    domain = str(domain)
    if not domain or any(character.isspace() for character in domain):
        raise XDomainError(f"domain {domain!r} cannot have a domain token: use a non-empty name without whitespace")
    return DOMAIN_TOKEN_FORMAT.format(domain)


def token_domain(token):
    """The domain a reserved token stands for, or None for any other token.

    Example:

    >>> token_domain("[domain:news]"), token_domain("[CLS]")
    ('news', None)
    """
    match = _DOMAIN_TOKEN.match(str(token))
    return match.group(1) if match else None


def vocabulary_domains(tokens):
    """The domains whose reserved token is in the vocabulary, in id order.

    Example:

    >>> vocabulary_domains(["[PAD]", "[UNK]", "[domain:news]", "goal", "[domain:debian]"])
    ['news', 'debian']
    """
    return [domain for domain in map(token_domain, tokens) if domain is not None]


def reserve_domain_tokens(tokens, domains):
    """The vocabulary `tokens` with a reserved token for each of `domains`.

    A token already present keeps its id. Missing ones take the place of `[unusedN]`
    tokens (BERT vocabularies have hundreds: the vocabulary size, hence a pretrained
    embedding matrix, stays as it is) or, when there are none left, are appended (grow the
    embedding to match: a fresh vocabulary does that by building the encoder after).

    Args:
        tokens: the vocabulary, in id order.
        domains: domain names.

    Returns:
        A new token list.

    Example:

    >>> reserve_domain_tokens(["[PAD]", "[UNK]", "[unused0]", "goal"], ["news", "debian"])
    ['[PAD]', '[UNK]', '[domain:news]', 'goal', '[domain:debian]']
    """
    tokens = list(tokens)
    present = set(tokens)
    missing = [domain_token(domain) for domain in domains if domain_token(domain) not in present]
    unused = [index for index, token in enumerate(tokens) if _UNUSED_TOKEN.match(token)]
    for token in missing:
        if unused:
            tokens[unused.pop(0)] = token
        else:
            tokens.append(token)
    return tokens


def domain_token_ids(tokenizer, domains):
    """The ids of `domains`' reserved tokens in `tokenizer`'s vocabulary.

    Args:
        tokenizer: a `WordPieceTokenizer` (or a `Preprocessor`).
        domains: domain names.

    Returns:
        A list of ints, one per domain.

    Raises:
        XDomainError: a domain has no token in the vocabulary.

    Example:

    >>> from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[domain:news]", "goal"])
    >>> domain_token_ids(tokenizer, ["news"])
    [3]
    """
    tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
    vocabulary = set(tokenizer.vocabulary)
    missing = [str(domain) for domain in domains if domain_token(domain) not in vocabulary]
    if missing:
        raise XDomainError(f"the vocabulary has no domain token for {', '.join(missing)} (reserve_domain_tokens)")
    return [tokenizer.token_to_id(domain_token(domain)) for domain in domains]


def condition_on_domains(token_ids, start_ids):
    """Packed sequences with their first token (`[CLS]`) replaced by `start_ids`.

    Args:
        token_ids: int `[batch, seq]` packed as `[CLS] text [SEP]`.
        start_ids: int `[batch]`, each row's first token: its domain token, or `[CLS]`
            to leave the row unconditioned.

    Returns:
        int32 `[batch, seq]`.

    Example:

    >>> condition_on_domains(tf.constant([[2, 7, 3], [2, 8, 3]]), tf.constant([9, 2])).numpy().tolist()
    [[9, 7, 3], [2, 8, 3]]
    """
    token_ids = tf.cast(token_ids, tf.int32)
    start_ids = tf.cast(tf.reshape(start_ids, [-1, 1]), tf.int32)
    return tf.concat([start_ids, token_ids[:, 1:]], axis=1)
