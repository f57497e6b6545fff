import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "export"))

from export_fixtures import classifier_run  # noqa: E402,F401

from xdomain_tf.cli.main import main  # noqa: E402


def explain(capsys, *args):
    assert main(["explain", *args]) == 0, capsys.readouterr().err
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def check_words(text, words):
    assert words, text
    for word in words:
        assert text[word["start"] : word["end"]] == word["text"]
    assert "".join(text.split()) == "".join(word["text"] for word in words)


def test_text_flags_print_one_line_per_text_in_order(classifier_run, capsys):
    texts = ["Über café: MATRIX solver", "a puzzle game with a high score"]
    lines = explain(capsys, "--model", str(classifier_run), "--text", texts[0], "--text", texts[1],
                    "--domain", "software", "--steps", "32")
    assert main(["predict", "--model", str(classifier_run), "--text", texts[0], "--text", texts[1],
                 "--domain", "software"]) == 0
    predictions = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["label"], line["domain"]) for line in lines] == [("math", "software"), ("games", "software")]
    for text, line, prediction in zip(texts, lines, predictions):
        assert set(line) == {"domain", "label", "score", "words", "completeness"}
        assert line["label"] == prediction["label"]
        assert line["score"] == pytest.approx(prediction["score"], abs=1e-5)
        check_words(text, line["words"])
        assert set(line["words"][0]) == {"text", "start", "end", "attribution"}
        assert line["completeness"]["error"] < 1e-3
    # The label's own topic words carry it.
    top = max(lines[0]["words"], key=lambda word: word["attribution"])
    assert top["text"] in ("MATRIX", "solver")


def test_data_file_to_out_and_html(classifier_run, tmp_path, capsys):
    records = [
        {"id": "r1", "text": "The match <b>goal</b> & cup victory", "domain": "news"},
        {"text": "algebra matrix equation", "domain": "software"},
        {"id": 7, "text": "Minister wins the election vote", "domain": "news"},
    ]
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    out, page = tmp_path / "out" / "why.jsonl", tmp_path / "why.html"
    # The .keras file inside the run directory works as the run does.
    assert explain(capsys, "--model", str(classifier_run / "model.keras"), "--data", str(data),
                   "--steps", "8", "--out", str(out), "--html", str(page)) == []
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line.get("id") for line in lines] == ["r1", None, "7"]  # ids are strings in the schema
    assert [line["label"] for line in lines] == ["sport", "math", "politics"]
    for record, line in zip(records, lines):
        check_words(record["text"], line["words"])
    same = explain(capsys, "--model", str(classifier_run), "--data", str(data), "--steps", "8")
    assert [line["words"] for line in same] == [line["words"] for line in lines]

    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http" not in html
    assert "&lt;" in html and "&gt;" in html and "&amp;" in html and "<b>" not in html and "</b>" not in html
    assert html.count('<section class="explanation">') == 3
    for line in lines:
        assert f'label <span class="label">{line["label"]}</span>' in html
        assert f"score {line['score']:.3f}" in html
    assert not list(tmp_path.glob(".why*"))  # written atomically: no temporary left


def test_bad_input_exits_2_with_one_line(classifier_run, tmp_path, capsys):
    def error(*args):
        assert main(["explain", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        return err

    run = str(classifier_run)
    assert 'field "domain": unknown domain; known domains: news, software' in error(
        "--model", run, "--text", "x", "--domain", "weather")
    assert "--text needs --domain" in error("--model", run, "--text", "x")
    assert '--text:1: field "text"' in error("--model", run, "--text", "  ", "--domain", "news")
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "a goal", "domain": "news"}\n{"domain": "news"}\n', encoding="utf-8")
    assert f'{data}:2: field "text"' in error("--model", run, "--data", str(data))
    tflite = tmp_path / "model.tflite"
    tflite.write_bytes(b"\0")
    assert "explanations need a classifier run directory or a .keras file" in error(
        "--model", str(tflite), "--text", "x", "--domain", "news")
    assert "explanations need a classifier run directory" in error(
        "--model", str(tmp_path), "--text", "x", "--domain", "news")
    with pytest.raises(SystemExit) as exit_info:  # a bad flag value: argparse's usage and error
        main(["explain", "--model", run, "--text", "x", "--domain", "news", "--steps", "0"])
    assert exit_info.value.code == 2
    assert "argument --steps: must be a positive integer, got '0'" in capsys.readouterr().err
