import json
import math

import keras
import numpy as np
import pytest

from pretraining_fixtures import VOCABULARY, tiny_config, write_corpus
from xdomain_tf.errors import XDomainError
from xdomain_tf.models import CausalLM, TransformerEncoder
from xdomain_tf.tasks import MultiDomainCausalLM
from xdomain_tf.text import Preprocessor, WordPieceTokenizer, reserve_domain_tokens
from xdomain_tf.training.pretraining.clm_evaluation import evaluate_clm

TOKENS = reserve_domain_tokens(VOCABULARY, ["pets", "tech"])


@pytest.fixture(scope="module")
def lm():
    keras.utils.set_random_seed(0)
    preprocessor = Preprocessor(WordPieceTokenizer(TOKENS), sequence_length=10)  # cuts every text
    encoder = TransformerEncoder(tiny_config(vocab_size=len(TOKENS)), causal=True)
    return MultiDomainCausalLM(encoder, preprocessor, domains=["pets", "tech"])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clm_data")
    path = write_corpus(folder / "valid.jsonl", count=10, seed=2)
    with open(path, "a", encoding="utf-8") as handle:  # a domain the model has no token for
        handle.write(json.dumps({"text": "the cow eats grass .", "domain": "farm"}) + "\n")
    return path


def _numpy_scores(lm, path, start):
    """Per group: summed next-token cross-entropy and token count, computed with numpy."""
    sums = {}
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        ids = lm.preprocessor([record["text"]])["token_ids"].numpy()[0]
        ids = ids[ids != 0]
        ids[0] = start(record["domain"])
        logits = lm({"token_ids": ids[None, :-1], "segment_ids": 0 * ids[None, :-1],
                     "padding_mask": 1 + 0 * ids[None, :-1]}).numpy()[0].astype("float64")
        top = logits.max(-1, keepdims=True)
        log_probabilities = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
        losses = -log_probabilities[np.arange(len(ids) - 1), ids[1:]]
        total, count = sums.get(record["domain"], (0.0, 0))
        sums[record["domain"]] = (total + losses.sum(), count + len(losses))
    return sums


@pytest.mark.parametrize("conditioning", ["own", "none", "tech"])
def test_perplexity_is_the_exp_of_the_numpy_cross_entropy(lm, data, conditioning):
    cls, token = 2, {"pets": len(VOCABULARY), "tech": len(VOCABULARY) + 1}
    if conditioning == "own":
        report, start = evaluate_clm(lm, [data], batch_size=4), lambda domain: token.get(domain, cls)
    elif conditioning == "none":
        report, start = evaluate_clm(lm, [data], batch_size=4, unconditioned=True), lambda domain: cls
    else:
        report, start = evaluate_clm(lm, [data], batch_size=4, domain="tech"), lambda domain: token["tech"]
    expected = _numpy_scores(lm, data, start)
    assert report["conditioning"] == ("domain:tech" if conditioning == "tech" else conditioning)
    assert set(report["groups"]) == {"farm", "pets", "tech"}
    for group, (total, count) in expected.items():
        scores = report["groups"][group]
        assert scores["tokens"] == count
        assert scores["loss"] == pytest.approx(total / count, rel=1e-5)
        assert scores["perplexity"] == pytest.approx(math.exp(total / count), rel=1e-5)
    all_total, all_count = (sum(values) for values in zip(*expected.values()))
    assert report["overall"]["perplexity"] == pytest.approx(math.exp(all_total / all_count), rel=1e-5)
    conditioned = {group: scores["conditioned"] for group, scores in report["groups"].items()}
    expected_conditioned = {"own": {"farm": 0, "pets": 5, "tech": 5}, "none": {"farm": 0, "pets": 0, "tech": 0},
                            "tech": {"farm": 1, "pets": 5, "tech": 5}}[conditioning]
    assert conditioned == expected_conditioned


def test_a_plain_causal_lm_is_scored_unconditioned(lm, data):
    plain = CausalLM(lm.encoder)
    plain.lm_head.set_weights(lm.lm_head.get_weights())
    report = evaluate_clm(plain, [data], preprocessor=lm.preprocessor, batch_size=4)
    assert report["overall"] == evaluate_clm(lm, [data], batch_size=4, unconditioned=True)["overall"]


def test_bad_arguments(lm, data):
    with pytest.raises(XDomainError, match="unknown domain 'farm'; known domains: pets, tech"):
        evaluate_clm(lm, [data], domain="farm")
    with pytest.raises(XDomainError, match="not both"):
        evaluate_clm(lm, [data], domain="pets", unconditioned=True)
    with pytest.raises(XDomainError, match="longer than the model's 64 positions"):
        evaluate_clm(lm, [data], seq_len=100)
    with pytest.raises(XDomainError, match="pass the preprocessor"):
        evaluate_clm(CausalLM(lm.encoder), [data])
