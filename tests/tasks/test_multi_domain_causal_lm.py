import json

import keras
import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import EncoderConfig, TransformerEncoder
from xdomain_tf.tasks import MultiDomainCausalLM, load_causal_lm
from xdomain_tf.text import Preprocessor, WordPieceTokenizer, reserve_domain_tokens

WORDS = ["the", "goal", "match", "package", "library", "install", "a", "new", "team", "tool"]
VOCABULARY = reserve_domain_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS, ["news", "debian"])
CONFIG = EncoderConfig(
    vocab_size=len(VOCABULARY), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
    max_position_embeddings=20, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
)
SEP = 3
PROMPTS = ["the goal", "install a new library", "the"]


def _lm(seed=0):
    keras.utils.set_random_seed(seed)
    preprocessor = Preprocessor(WordPieceTokenizer(VOCABULARY), sequence_length=16)
    return MultiDomainCausalLM(TransformerEncoder(CONFIG, causal=True), preprocessor, domains=["news", "debian"])


@pytest.fixture(scope="module")
def lm():
    return _lm()


def _logits(lm, texts, domains):
    features = lm.features(texts, domains)
    return features["token_ids"].numpy(), lm(features).numpy()


def test_domain_conditioning_changes_the_logits_of_every_position(lm):
    texts = ["the goal", "install the tool"]
    plain_ids, plain = _logits(lm, texts, None)
    news_ids, news = _logits(lm, texts, "news")
    mixed_ids, mixed = _logits(lm, texts, ["debian", None])
    assert plain_ids[:, 0].tolist() == [2, 2] and news_ids[:, 0].tolist() == [15, 15] and mixed_ids[:, 0].tolist() == [16, 2]
    np.testing.assert_array_equal(news_ids[:, 1:], plain_ids[:, 1:])
    real = plain_ids != 0
    assert np.abs(news - plain).max(axis=-1)[real].min() > 1e-4  # every real position sees the domain
    assert np.abs(mixed[0] - news[0]).max(axis=-1)[real[0]].min() > 1e-4
    np.testing.assert_array_equal(mixed[1], plain[1])


def test_seeded_generation_is_reproducible_and_varies_with_the_seed(lm):
    for strategy in ("top_k", "top_p"):
        first = lm.generate(PROMPTS, domain="news", strategy=strategy, k=8, p=0.95, temperature=3.0, seed=7)
        assert first == lm.generate(PROMPTS, domain="news", strategy=strategy, k=8, p=0.95, temperature=3.0, seed=7)
        assert all(text.startswith(prompt) for text, prompt in zip(first, PROMPTS))
        others = [lm.generate(PROMPTS, domain="news", strategy=strategy, k=8, p=0.95, temperature=3.0, seed=s)
                  for s in (8, 9)]
        assert any(other != first for other in others)
    greedy = lm.generate("the goal", domain="debian")
    assert isinstance(greedy, str) and greedy == lm.generate("the goal", domain="debian", strategy="top_k", k=1, seed=3)


def test_generation_stops_at_sep_or_after_max_new_tokens():
    lm = _lm(seed=1)
    bias = lm.lm_head.output_bias
    values = np.zeros(bias.shape, "float32")
    values[SEP] = 100.0  # the model ends every text at once
    bias.assign(values)
    rows = lm.generate_details(PROMPTS, domain="news", strategy="top_k", seed=0, max_new_tokens=5)
    assert [(row["stop"], row["new_tokens"]) for row in rows] == [("sep", 1)] * 3
    assert [row["text"] for row in rows] == PROMPTS
    values[SEP] = -100.0  # ... or never
    bias.assign(values)
    rows = lm.generate_details(PROMPTS, strategy="top_p", seed=0, max_new_tokens=5)
    assert [(row["stop"], row["new_tokens"]) for row in rows] == [("max_new_tokens", 5)] * 3
    assert [len(row["text"].split()) - len(prompt.split()) for row, prompt in zip(rows, PROMPTS)] == [5, 5, 5]
    # 20 positions: [CLS] + 4 prompt tokens leave 15 to generate.
    row = lm.generate_details(PROMPTS[1], max_new_tokens=50)[0]
    assert (row["stop"], row["new_tokens"]) == ("max_length", 15)


def test_keras_round_trip_keeps_domains_vocabulary_and_outputs(lm, tmp_path):
    path = tmp_path / "clm.keras"
    lm.save(path)
    for loaded in (keras.saving.load_model(path, safe_mode=True), load_causal_lm(path)):
        assert isinstance(loaded, MultiDomainCausalLM) and loaded.domain_names == ["news", "debian"]
        assert loaded.preprocessor.tokenizer.vocabulary == VOCABULARY
        np.testing.assert_allclose(_logits(loaded, ["the match"], "debian")[1], _logits(lm, ["the match"], "debian")[1], atol=1e-5)
        assert loaded.generate(PROMPTS, domain="news", strategy="top_k", seed=2) == lm.generate(
            PROMPTS, domain="news", strategy="top_k", seed=2)


def test_domains_default_to_the_vocabulary_domain_tokens():
    preprocessor = Preprocessor(WordPieceTokenizer(VOCABULARY), sequence_length=16)
    assert MultiDomainCausalLM(TransformerEncoder(CONFIG), preprocessor).domain_names == ["news", "debian"]
    with pytest.raises(XDomainError, match="no domain token for sport"):
        MultiDomainCausalLM(TransformerEncoder(CONFIG), preprocessor, domains=["sport"]).generate("the", domain="sport")


def test_bad_inputs_are_one_line_errors(lm, tmp_path):
    cases = [
        (lambda: lm.generate("the", domain="sport"), "unknown domain 'sport'; known domains: news, debian"),
        (lambda: lm.generate(["the", "x"], domain=["news"]), "2 texts but 1 domains"),
        (lambda: lm.generate(""), "prompt 1 is empty"),
        (lambda: lm.generate(["the", "  "]), "prompt 2 is empty"),
        (lambda: lm.generate([]), "no prompt given"),
        (lambda: lm.generate("the", max_new_tokens=0), "max_new_tokens must be a positive integer, got 0"),
        (lambda: lm.generate("the", strategy="beam"), "strategy must be one of greedy, top_k, top_p, got 'beam'"),
    ]
    for call, message in cases:
        with pytest.raises(XDomainError) as info:
            call()
        assert str(info.value) == message and "\n" not in str(info.value)


def test_a_classifier_is_not_a_causal_lm(tmp_path):
    from task_fixtures import tiny_classifier

    classifier = tiny_classifier()
    with pytest.raises(XDomainError, match="a MultiDomainTextClassifier is not a causal LM"):
        load_causal_lm(classifier)
    classifier.save(tmp_path / "clf.keras")
    with pytest.raises(XDomainError, match="clf.keras: holds a MultiDomainTextClassifier, not a causal LM"):
        load_causal_lm(tmp_path / "clf.keras")
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"kind": "classifier"}))
    with pytest.raises(XDomainError, match="run: a classifier run, not a causal LM"):
        load_causal_lm(run)
    (run / "run.json").write_text(json.dumps({"kind": "pretrain", "objectives": ["mlm", "sop"]}))
    with pytest.raises(XDomainError, match="run: a pretraining run of mlm\\+sop, not a causal LM"):
        load_causal_lm(run)
    with pytest.raises(XDomainError, match="no such causal LM"):
        load_causal_lm(tmp_path / "missing")
