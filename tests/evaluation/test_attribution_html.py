import html
import re

import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.evaluation.attribution_html import attribution_page, write_attribution_page

TEXT = 'A <script>alert("x")</script> & Café\u200b  naïve'


def word(text, start, attribution, truncated=False):
    entry = {"text": text, "start": start, "end": start + len(text), "attribution": attribution}
    if truncated:
        entry["truncated"] = True
    return entry


def explanation_of(text):
    """Every maximal run of non-space characters is one word; attributions alternate in sign."""
    words = [word(m.group(), m.start(), (-1) ** i * (i + 1) / 10) for i, m in enumerate(re.finditer(r"\S+", text))]
    return {"domain": "news", "label": "tech & <science>", "score": 0.8766, "words": words,
            "completeness": {"sum": 0.5, "score_difference": 0.5001, "error": 1e-4}}


def spans(page):
    """(style or class, title, shown text) of each word span."""
    return re.findall(r'<span (style="[^"]*"|class="truncated") title="([^"]*)">([^<]*)</span>', page)


def test_words_are_coloured_by_sign_and_relative_size():
    explanation = {"label": "sport", "score": 0.9, "words": [word("goal", 0, 0.4), word("cup", 5, -0.1),
                                                               word("won", 9, 0.0)]}
    page = attribution_page([explanation], ["goal cup won"])
    assert spans(page) == [
        ('style="background: rgba(22, 163, 74, 1.000)"', "+0.400000", "goal"),
        ('style="background: rgba(220, 38, 38, 0.250)"', "-0.100000", "cup"),
        ('style="background: rgba(22, 163, 74, 0.000)"', "+0.000000", "won"),
    ]


def test_text_is_escaped_and_kept_whole():
    page = attribution_page([explanation_of(TEXT)], [TEXT])
    assert "<script>" not in page and "</script>" not in page and "<science>" not in page
    body = page[page.index('<div class="text">') : page.index("</section>")]
    shown = html.unescape(re.sub(r"<[^>]+>", "", body))
    assert shown.strip() == TEXT  # every character, the spaces between words and the removed ones included
    assert [html.unescape(text) for _, _, text in spans(page)] == TEXT.split()
    assert 'label <span class="label">tech &amp; &lt;science&gt;</span>' in page
    assert "domain news" in page and "score 0.877" in page and "(error 1.0e-04)" in page


def test_truncated_words_and_text_pairs():
    explanation = {
        "label": "sport", "score": 0.5,
        "words": [word("goal", 0, 0.2), word("late", 5, 0.0, truncated=True)],
        "pair_words": [word("cup", 0, -0.4)],
    }
    page = attribution_page([explanation], ["goal late"], ["cup"])
    assert ('class="truncated"', "past the sequence length: not seen", "late") in spans(page)
    # One scale per example, its pair included.
    assert ('style="background: rgba(22, 163, 74, 0.500)"', "+0.200000", "goal") in spans(page)
    assert '<div class="text pair"><span style="background: rgba(220, 38, 38, 1.000)"' in page
    with pytest.raises(XDomainError, match="explanation 1 has pair_words: give text_pairs"):
        attribution_page([explanation], ["goal late"])


def test_bad_input_is_refused():
    with pytest.raises(XDomainError, match="2 explanations but 1 texts"):
        attribution_page([explanation_of("a"), explanation_of("b")], ["a"])
    with pytest.raises(XDomainError, match="explanation 1: word offsets 0:5 do not fit its text"):
        attribution_page([{"label": "x", "score": 1.0, "words": [word("hello", 0, 1.0)]}], ["hey"])


def test_write_attribution_page_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "why.html"
    path.write_text("old", encoding="utf-8")
    assert write_attribution_page(path, [explanation_of(TEXT)], [TEXT], title="Why <these>?") == path
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>Why &lt;these&gt;?</title>" in page
    assert [p.name for p in tmp_path.iterdir()] == ["why.html"]


def test_embeddable_fragment_styles_only_its_own_wrapper():
    page = attribution_page([explanation_of("a goal")], ["a goal"], standalone=False)
    assert page.startswith("<style>") and page.rstrip().endswith("</div>") and "<body" not in page
    style = page[len("<style>") : page.index("</style>")]
    rules = [line for line in style.strip().splitlines()]
    assert rules and all(rule.startswith(".xdomain-attributions") for rule in rules)
    assert page in attribution_page([explanation_of("a goal")], ["a goal"])
