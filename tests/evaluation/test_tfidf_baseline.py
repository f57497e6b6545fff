import random

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.evaluation.classification_metrics import classification_report
from xdomain_tf.evaluation.tfidf_baseline import TfidfBaseline

# Two domains with their own label sets; "match" and "player" mean different labels in each.
TOPICS = {
    "news": {
        "sport": ["goal", "match", "striker", "league", "coach", "player"],
        "business": ["shares", "market", "profit", "bank", "investors", "economy"],
        "tech": ["software", "internet", "chip", "phone", "computer", "network"],
    },
    "debian": {
        "games": ["player", "puzzle", "arcade", "level", "score", "match"],
        "sound": ["audio", "mixer", "synthesizer", "midi", "speaker", "codec"],
    },
}
FILLER = "the a of and to in is for with on this that it new from by".split()


def _records(count_per_label, seed):
    rng = random.Random(seed)
    records = []
    for domain, topics in TOPICS.items():
        for label, keywords in topics.items():
            for _ in range(count_per_label):
                words = rng.choices(FILLER, k=8) + rng.sample(keywords, 2)
                rng.shuffle(words)
                records.append({"text": " ".join(words), "label": label, "domain": domain})
    rng.shuffle(records)
    return records


@pytest.fixture(scope="module")
def fitted():
    return TfidfBaseline().fit(_records(20, seed=0))


def test_high_accuracy_on_both_domains(fitted):
    report = fitted.evaluate(_records(15, seed=1))
    assert set(report["domains"]) == {"news", "debian"}
    for domain in ("news", "debian"):
        assert report["domains"][domain]["accuracy"] >= 0.95
        assert report["domains"][domain]["macro_f1"] >= 0.95
    assert report["domains"]["news"]["n"] == 45 and report["domains"]["debian"]["n"] == 30
    assert report["overall"]["n"] == 75


def test_labels_per_domain_and_domain_specific_predictions(fitted):
    assert fitted.labels_ == {"news": ["business", "sport", "tech"], "debian": ["games", "sound"]}
    same_text = "the match and the player"
    predictions = fitted.predict(
        [{"text": same_text, "domain": "news"}, {"text": same_text, "domain": "debian"}]
    )
    assert predictions == ["sport", "games"]


def test_predict_keeps_input_order(fitted):
    records = _records(3, seed=2)
    predictions = fitted.predict(records)
    one_by_one = [fitted.predict([record])[0] for record in records]
    assert predictions == one_by_one
    assert all(isinstance(p, str) for p in predictions)


def test_evaluate_equals_classification_report_of_predict(fitted):
    records = _records(5, seed=3)
    report = fitted.evaluate(iter(records))
    news = [r for r in records if r["domain"] == "news"]
    expected = classification_report(
        [r["label"] for r in news], fitted.predict(news), ["business", "sport", "tech"]
    )
    assert report["domains"]["news"] == expected


def test_deterministic():
    train = _records(10, seed=4)
    test = _records(10, seed=5)
    first = TfidfBaseline().fit(train)
    second = TfidfBaseline().fit(train)
    assert first.predict(test) == second.predict(test)
    for domain in TOPICS:
        assert (first._models[domain][1].coef_ == second._models[domain][1].coef_).all()


def test_test_only_label_is_scored_as_missed(fitted):
    records = [
        {"text": "goal striker league", "label": "sport", "domain": "news"},
        {"text": "weather rain", "label": "weather", "domain": "news"},
    ]
    report = fitted.evaluate(records)["domains"]["news"]
    assert report["labels"] == ["business", "sport", "tech", "weather"]
    assert report["per_label"]["weather"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["accuracy"] == 0.5


def test_text_pair_is_used():
    train = [
        {"text": "question", "text_pair": "yes indeed", "label": "yes", "domain": "qa"},
        {"text": "question", "text_pair": "no never", "label": "no", "domain": "qa"},
    ] * 3
    model = TfidfBaseline().fit(train)
    assert model.predict([{"text": "question", "text_pair": "never no", "domain": "qa"}]) == ["no"]


def test_single_label_domain_and_errors():
    model = TfidfBaseline().fit([{"text": "only one", "label": "x", "domain": "solo"}])
    assert model.predict([{"text": "anything", "domain": "solo"}]) == ["x"]
    with pytest.raises(XDomainError, match="domain 'other' was not in the training data; known: solo"):
        model.predict([{"text": "anything", "domain": "other"}])
    with pytest.raises(XDomainError, match="not fitted"):
        TfidfBaseline().predict([{"text": "a", "domain": "solo"}])
    with pytest.raises(XDomainError, match="no training records"):
        TfidfBaseline().fit([])
    with pytest.raises(XDomainError, match="has no label"):
        TfidfBaseline().fit([{"text": "a", "domain": "d"}])
