from xdomain_tf.datasets.corpus_statistics import corpus_stats, format_stats, word_percentiles


def test_word_percentiles_nearest_rank():
    values = list(range(1, 101))
    result = word_percentiles(values)
    assert result == {"min": 1, "p5": 5, "p25": 25, "p50": 50, "p75": 75, "p95": 95, "p99": 99, "max": 100, "mean": 50.5}
    assert word_percentiles([]) == {}


def test_corpus_stats_counts():
    records = [
        {"text": "one two three", "label": "games", "domain": "debian", "lang": "en"},
        {"text": "eins zwei", "label": "games", "domain": "debian", "lang": "de"},
        {"text": "x", "label": "tech", "domain": "news", "lang": "en", "text_pair": "a b c d"},
    ]
    stats = corpus_stats(records)
    assert stats["examples"] == 3
    assert stats["domains"] == {"debian": 2, "news": 1}
    assert stats["labels"] == {"games": 2, "tech": 1}
    assert stats["langs"] == {"en": 2, "de": 1}
    assert stats["labels_by_lang"] == {"de": {"games": 1}, "en": {"games": 1, "tech": 1}}
    assert (stats["words"]["min"], stats["words"]["max"], stats["words"]["p50"]) == (1, 3, 2)
    assert stats["pair_words"]["max"] == 4
    text = format_stats({"train": stats})
    assert "== train: 3 examples" in text
    assert "labels (2): games 2, tech 1" in text
