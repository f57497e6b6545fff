"""Word attributions as a self-contained HTML heatmap page (no scripts, no external files)."""
import html

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.atomic import write_text_atomic
from xdomain_tf.utils.storage import storage_path

# Words that raised the score are green, words that lowered it red.
POSITIVE_RGB = (22, 163, 74)
NEGATIVE_RGB = (220, 38, 38)

# Every rule is scoped to the wrapper: the page can be embedded (a notebook output).
_STYLE = """
.xdomain-attributions { font-family: system-ui, sans-serif; max-width: 60em; color: #1f2937; }
.xdomain-attributions h1 { font-size: 1.3em; }
.xdomain-attributions .explanation { border-top: 1px solid #d1d5db; padding: 0.8em 0; }
.xdomain-attributions .meta { font-size: 0.85em; color: #4b5563; margin-bottom: 0.4em; }
.xdomain-attributions .label { font-weight: 600; color: #111827; }
.xdomain-attributions .text { line-height: 1.9; white-space: pre-wrap; }
.xdomain-attributions .text span { border-radius: 3px; padding: 0.1em 0; }
.xdomain-attributions .truncated { color: #9ca3af; text-decoration: underline dashed; }
.xdomain-attributions .pair { margin-top: 0.3em; }
.xdomain-attributions .legend span { padding: 0.1em 0.4em; border-radius: 3px; }
"""


def attribution_page(explanations, texts, text_pairs=None, title="Word attributions", standalone=True):
    """An HTML page (a string) showing each text with its words shaded by attribution.

    Each word's background is green (it raised the predicted label's score) or red (it
    lowered it), its opacity the attribution relative to the text's largest in absolute
    value; hovering shows the value. Words past the sequence length are grey and
    underlined. Above each text: its number, domain, label, score and the completeness
    error. All text is HTML-escaped; the page has no scripts and loads nothing.

    Args:
        explanations: what `MultiDomainTextClassifier.explain` returns: one dict per
            text with `label`, `score`, `words` (`text`, `start`, `end`, `attribution`)
            and optionally `domain`, `completeness`, `pair_words`.
        texts: the explained texts, in the same order (the words' offsets point into them).
        text_pairs: None, or the second segments (for `pair_words`).
        title: the page's title.
        standalone: a whole document; False gives a `<div>` (with its scoped style) to
            embed, e.g. in a notebook with `IPython.display.HTML`.

    Example:

    >>> explanation = {"label": "sport", "score": 0.9, "words": [
    ...     {"text": "Goal", "start": 0, "end": 4, "attribution": 0.5},
    ...     {"text": "<b>", "start": 5, "end": 8, "attribution": -0.25}]}
    >>> page = attribution_page([explanation], ["Goal <b>"])
    >>> "rgba(22, 163, 74, 1.000)" in page, "&lt;b&gt;" in page, "<b>" in page
    (True, True, False)
    """
    explanations, texts = list(explanations), list(texts)
    if len(explanations) != len(texts):
        raise XDomainError(f"{len(explanations)} explanations but {len(texts)} texts")
    if text_pairs is not None and len(text_pairs) != len(texts):
        raise XDomainError(f"{len(text_pairs)} text pairs but {len(texts)} texts")
    sections = []
    for index, (explanation, text) in enumerate(zip(explanations, texts), 1):
        words = list(explanation.get("words", []))
        pair_words = list(explanation.get("pair_words", []))
        largest = max((abs(float(word["attribution"])) for word in words + pair_words), default=0.0)
        body = f'<div class="text">{_shaded_text(text, words, largest, index)}</div>'
        if pair_words:
            if text_pairs is None:
                raise XDomainError(f"explanation {index} has pair_words: give text_pairs")
            body += f'<div class="text pair">{_shaded_text(text_pairs[index - 1], pair_words, largest, index)}</div>'
        sections.append(f'<section class="explanation">\n<div class="meta">{_meta(index, explanation)}</div>\n'
                        f"{body}\n</section>")
    legend = (
        f'<p class="legend"><span style="background: rgba{(*POSITIVE_RGB, 0.6)}">raised the score</span> '
        f'<span style="background: rgba{(*NEGATIVE_RGB, 0.6)}">lowered it</span> '
        '<span class="truncated">past the sequence length</span> (opacity: relative to the text\'s '
        "largest attribution; hover a word for its value)</p>"
    )
    content = (
        f'<style>{_STYLE}</style>\n<div class="xdomain-attributions">\n<h1>{html.escape(title)}</h1>\n{legend}\n'
        + "\n".join(sections) + "\n</div>\n"
    )
    if not standalone:
        return content
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{content}</body>\n</html>\n"
    )


def write_attribution_page(path, explanations, texts, text_pairs=None, title="Word attributions"):
    """Writes `attribution_page(...)` to `path` atomically (UTF-8) and returns the path.

    Args:
        path: the .html file.
        explanations: see `attribution_page`.
        texts: see `attribution_page`.
        text_pairs: see `attribution_page`.
        title: the page's title.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "why.html"
    >>> explanation = {"label": "sport", "score": 0.9, "words": [
    ...     {"text": "Goal", "start": 0, "end": 4, "attribution": 0.5}]}
    >>> write_attribution_page(path, [explanation], ["Goal!"]).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    path = storage_path(path)
    write_text_atomic(path, attribution_page(explanations, texts, text_pairs, title))
    return path


def _meta(index, explanation):
    parts = [f"#{index}"]
    if explanation.get("domain") is not None:
        parts.append(f"domain {html.escape(str(explanation['domain']))}")
    parts.append(f'label <span class="label">{html.escape(str(explanation["label"]))}</span>')
    parts.append(f"score {float(explanation['score']):.3f}")
    completeness = explanation.get("completeness")
    if completeness:
        parts.append(
            f"attributions sum {float(completeness['sum']):+.4f}, score difference to the baseline "
            f"{float(completeness['score_difference']):+.4f} (error {float(completeness['error']):.1e})"
        )
    return " · ".join(parts)


def _shaded_text(text, words, largest, index):
    pieces, position = [], 0
    for word in sorted(words, key=lambda word: word["start"]):
        start, end = int(word["start"]), int(word["end"])
        if not position <= start < end <= len(text):
            raise XDomainError(f"explanation {index}: word offsets {start}:{end} do not fit its text")
        pieces.append(html.escape(text[position:start]))
        attribution = float(word["attribution"])
        shown = html.escape(text[start:end])
        if word.get("truncated"):
            pieces.append(f'<span class="truncated" title="past the sequence length: not seen">{shown}</span>')
        else:
            rgb = POSITIVE_RGB if attribution >= 0 else NEGATIVE_RGB
            opacity = abs(attribution) / largest if largest > 0 else 0.0
            pieces.append(f'<span style="background: rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {opacity:.3f})" '
                          f'title="{attribution:+.6f}">{shown}</span>')
        position = end
    pieces.append(html.escape(text[position:]))
    return "".join(pieces)
