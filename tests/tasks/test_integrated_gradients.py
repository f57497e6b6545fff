import keras
import numpy as np
import pytest
import tensorflow as tf

from task_fixtures import DOMAINS, fixture_records, tiny_classifier
from xdomain_tf.errors import XDomainError
from xdomain_tf.tasks.integrated_gradients import IntegratedGradients

# Fixture words whose word pieces in the tiny vocabulary are all different.
PLAIN = "a goal in the league match"


@pytest.fixture(scope="module")
def trained():
    """The tiny classifier after a short fit: its scores are far from uniform."""
    keras.utils.set_random_seed(3)
    clf = tiny_classifier(learning_rate=3e-3)
    records = fixture_records()
    clf.fit(
        {"text": [r["text"] for r in records], "domain": [r["domain"] for r in records]},
        [r["label"] for r in records], epochs=4, batch_size=16, verbose=0,
    )
    return clf


def brute_force_attributions(clf, text, domain, steps, baseline="pad"):
    """Integrated gradients through the Keras model itself, one Riemann step at a time:
    the rows of the text's token ids in the embedding table are moved along the path and
    the gradient is taken with respect to the table (each id occurs once in the text, so a
    row's gradient is its position's). Returns the attributions of the words (the sums of
    their pieces') and the label id."""
    tokenizer = clf.preprocessor.tokenizer
    features = clf.features(tf.constant([text]))
    inputs = {**features, "domain_id": tf.constant([clf.domain_names.index(domain)])}
    specials = {tokenizer.cls_token_id, tokenizer.sep_token_id}
    ids = [int(i) for i, m in zip(features["token_ids"][0].numpy(), features["padding_mask"][0].numpy())
           if m and int(i) not in specials]
    assert len(set(ids)) == len(ids) and tokenizer.pad_token_id not in ids
    table = clf.encoder.embeddings.token_embedding.embeddings
    original = table.numpy()
    base = original[tokenizer.pad_token_id] if baseline == "pad" else np.zeros_like(original[0])
    label = int(np.argmax(tf.nn.softmax(clf(inputs, training=False)[domain])[0]))
    totals = dict.fromkeys(ids, 0.0)
    try:
        for k in range(steps):
            moved = original.copy()
            moved[ids] = base + (k + 0.5) / steps * (original[ids] - base)
            table.assign(moved)
            with tf.GradientTape() as tape:
                target = tf.nn.softmax(clf(inputs, training=False)[domain])[0, label]
            gradient = tf.convert_to_tensor(tape.gradient(target, table)).numpy()
            for token_id in ids:
                totals[token_id] += float(gradient[token_id] @ (original[token_id] - base)) / steps
    finally:
        table.assign(original)
    words = []
    for token_id, total in totals.items():
        if tokenizer.id_to_token(token_id).startswith("##"):
            words[-1] += total
        else:
            words.append(total)
    return words, label


@pytest.mark.parametrize("baseline", ["pad", "zero"])
def test_attributions_equal_a_brute_force_riemann_sum(trained, baseline):
    clf = trained
    expected, label = brute_force_attributions(clf, PLAIN, "news", steps=8, baseline=baseline)
    [result] = clf.explain([PLAIN], "news", steps=8, baseline=baseline)
    assert result["label"] == DOMAINS["news"][label]
    assert [word["text"] for word in result["words"]] == PLAIN.split()
    got = [word["attribution"] for word in result["words"]]
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-6)
    assert max(abs(value) for value in got) > 1e-3  # the comparison is not between zeros


def test_completeness_and_score_agree_with_classify(trained):
    clf = trained
    texts = [PLAIN, "physics simulation software for science", "A new puzzle game, with big levels!"]
    domains = ["news", "software", "software"]
    results = clf.explain(texts, domains, steps=64)
    predictions = clf.classify(texts, domains)
    for result, prediction in zip(results, predictions):
        assert (result["label"], result["domain"]) == (prediction["label"], prediction["domain"])
        assert result["score"] == pytest.approx(prediction["score"], abs=1e-5)
        completeness = result["completeness"]
        assert completeness["sum"] == pytest.approx(sum(word["attribution"] for word in result["words"]), abs=1e-6)
        assert completeness["error"] == pytest.approx(abs(completeness["sum"] - completeness["score_difference"]))
        assert completeness["error"] < 2e-4
    assert max(abs(r["completeness"]["score_difference"]) for r in results) > 0.5
    # The midpoint rule's error shrinks with the steps: the check measures something.
    coarse = clf.explain(texts, domains, steps=1)
    assert sum(r["completeness"]["error"] for r in coarse) > 10 * sum(r["completeness"]["error"] for r in results)


def test_word_offsets_cover_the_input_exactly():
    clf = tiny_classifier(sequence_length=64)
    texts = [
        "The GREATEST!",
        "Straße, Café\u200b naïve ÉLECTION\t(2024)...  日本語 über-fast",
        "  leading and trailing spaces  ",
    ]
    results = clf.explain(texts, "news", steps=2)
    assert [(w["text"], w["start"], w["end"]) for w in results[0]["words"]] == [
        ("The", 0, 3), ("GREATEST", 4, 12), ("!", 12, 13)
    ]
    assert [w["text"] for w in results[1]["words"]] == [
        "Straße", ",", "Café\u200b", "naïve", "ÉLECTION", "(", "2024", ")", ".", ".", ".", "日", "本", "語",
        "über", "-", "fast",
    ]
    for text, result in zip(texts, results):
        covered = np.zeros(len(text), bool)
        previous_end = 0
        for word in result["words"]:
            assert text[word["start"] : word["end"]] == word["text"]
            assert word["start"] >= previous_end and word["end"] > word["start"]
            previous_end = word["end"]
            covered[word["start"] : word["end"]] = True
            assert "truncated" not in word
        assert all(covered[i] == (not text[i].isspace()) for i in range(len(text))), text


def test_words_past_the_sequence_length_are_flagged(trained):
    clf = trained  # sequence length 24: 22 word pieces fit
    text = " ".join(["goal"] * 30)
    [result] = clf.explain([text], "news", steps=32)
    words = result["words"]
    assert len(words) == 30 and [w["start"] for w in words] == [5 * i for i in range(30)]
    assert [("truncated" in w) for w in words] == [False] * 22 + [True] * 8
    assert all(w["attribution"] == 0.0 for w in words[22:])
    assert all(w["attribution"] != 0.0 for w in words[:22])
    assert result["completeness"]["error"] < 1e-3
    # A word cut inside: its first piece ("l" of l ##ea ##g ##u ##e) was seen.
    [result] = clf.explain(["goal " * 21 + "league match"], "news", steps=4)
    league, match = result["words"][-2:]
    assert (league["text"], league.get("truncated"), match["text"], match.get("truncated")) == (
        "league", True, "match", True
    )
    assert league["attribution"] != 0.0 and match["attribution"] == 0.0


def test_text_pairs_get_pair_words(trained):
    clf = trained
    [result] = clf.explain(["Goal in the LEAGUE"], "news", text_pairs=["a striker, scored"], steps=32)
    assert [(w["text"], w["start"]) for w in result["words"]] == [("Goal", 0), ("in", 5), ("the", 8), ("LEAGUE", 12)]
    assert [(w["text"], w["start"], w["end"]) for w in result["pair_words"]] == [
        ("a", 0, 1), ("striker", 2, 9), (",", 9, 10), ("scored", 11, 17)
    ]
    total = sum(w["attribution"] for w in result["words"] + result["pair_words"])
    assert total == pytest.approx(result["completeness"]["sum"], abs=1e-6)
    assert result["completeness"]["error"] < 1e-3
    assert result["label"] == clf.classify(["Goal in the LEAGUE"], "news", ["a striker, scored"])[0]["label"]


def test_batches_keep_the_input_order(trained):
    clf = trained
    texts = ["a long text about the striker and the league goal", "goal", "game science", "the puzzle game level"]
    domains = ["news", "news", "software", "software"]
    together = IntegratedGradients(clf, rows=8).explain(texts, domains, steps=4)  # 2 texts per call
    alone = [clf.explain([text], domain, steps=4)[0] for text, domain in zip(texts, domains)]
    assert [r["words"][0]["text"] for r in together] == ["a", "goal", "game", "the"]
    for a, b in zip(together, alone):
        assert a["label"] == b["label"] and a["score"] == pytest.approx(b["score"], abs=1e-6)
        np.testing.assert_allclose([w["attribution"] for w in a["words"]], [w["attribution"] for w in b["words"]],
                                   atol=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda clf: clf.explain(["a goal"], "weather"), '<inputs>:1: field "domain": unknown domain'),
        (lambda clf: clf.explain(["a goal", "  "], "news"), '<inputs>:2: field "text": is empty'),
        (lambda clf: clf.explain(["a", "b"], ["news"]), "domain has 1 values but text has 2"),
        (lambda clf: clf.explain(["a goal"]), "the model has 2 domains: give domains="),
        (lambda clf: clf.explain([], "news"), "no texts given"),
        (lambda clf: clf.explain(["a goal"], "news", steps=0), "steps must be a positive integer, got 0"),
        (lambda clf: clf.explain(["a goal"], "news", steps=2.5), "steps must be a positive integer, got 2.5"),
        (lambda clf: clf.explain(["a goal"], "news", baseline="noise"), "baseline must be one of"),
    ],
)
def test_bad_input_is_one_line_error(trained, call, message):
    with pytest.raises(XDomainError) as error:
        call(trained)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_unsupported_pooling_is_refused(trained):
    trained_pooling = trained.pooling
    try:
        trained.pooling = "max"
        with pytest.raises(XDomainError, match=r"pooling with one of \('cls', 'mean', 'last'\), got 'max'"):
            IntegratedGradients(trained)
    finally:
        trained.pooling = trained_pooling


@pytest.mark.parametrize("pooling", ["cls", "last"])
def test_other_poolings_follow_the_model(pooling):
    keras.utils.set_random_seed(5)
    clf = tiny_classifier(pooling=pooling)
    texts = ["a goal in the league match", "the puzzle game"]
    results = clf.explain(texts, ["news", "software"], steps=64)
    for result, prediction in zip(results, clf.classify(texts, ["news", "software"])):
        assert result["label"] == prediction["label"]
        assert result["score"] == pytest.approx(prediction["score"], abs=1e-5)
        assert result["completeness"]["error"] < 1e-4


def test_a_classifier_saves_and_explains_alike_after_explaining(trained, tmp_path):
    before = trained.explain([PLAIN], "news", steps=4)
    trained.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert reloaded.explain([PLAIN], "news", steps=4) == before
