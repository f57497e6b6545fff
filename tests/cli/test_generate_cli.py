"""`xdomain-tf generate` and `xdomain-tf pretrain-eval --objective clm` on a tiny causal-LM run."""
import json

import pytest

from xdomain_tf.cli.main import main


@pytest.fixture(scope="module")
def clm_run(tmp_path_factory, multidomain_fixtures):
    out = tmp_path_factory.mktemp("runs") / "clm"
    status = main([
        "pretrain", "--objective", "clm", "--train", str(multidomain_fixtures / "train.jsonl"), "--init", "bert_tiny",
        "--vocab-size", "200", "--seq-len", "32", "--batch-size", "16", "--steps", "6", "--epochs", "1",
        "--learning-rate", "0.003", "--verbose", "0", "--out", str(out),
    ])
    assert status == 0
    return out


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]


def test_generate_prints_one_json_line_per_prompt_reproducibly(clm_run, capsys):
    args = ["generate", "--model", str(clm_run), "--prompt", "the striker", "--prompt", "a puzzle game",
            "--domain", "software", "--strategy", "top_k", "--seed", "3", "--max-new-tokens", "5"]
    assert main(args) == 0
    rows = _lines(capsys)
    assert [(row["prompt"], row["domain"]) for row in rows] == [("the striker", "software"), ("a puzzle game", "software")]
    for row in rows:
        assert row["text"].startswith(row["prompt"]) and 1 <= row["new_tokens"] <= 5
        assert row["stop"] == ("sep" if row["new_tokens"] < 5 else row["stop"])
        assert row["stop"] in ("sep", "max_new_tokens")
    assert main(args) == 0
    assert _lines(capsys) == rows
    assert main(["generate", "--model", str(clm_run), "--prompt", "the", "--max-new-tokens", "2", "--text-only"]) == 0
    assert capsys.readouterr().out.startswith("the")


def test_pretrain_eval_clm_scores_own_wrong_and_no_domain(clm_run, multidomain_fixtures, capsys, tmp_path):
    data = str(multidomain_fixtures / "valid.jsonl")
    reports = {}
    for name, extra in {"own": [], "news": ["--domain", "news"], "none": ["--unconditioned"]}.items():
        out = tmp_path / f"{name}.json"
        assert main(["pretrain-eval", "--objective", "clm", "--model", str(clm_run), "--data", data,
                     "--batch-size", "16", "--json", str(out), *extra]) == 0
        reports[name] = json.loads(out.read_text())
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["group", "loss", "accuracy", "perplexity", "tokens"]
    own, news, none = reports["own"], reports["news"], reports["none"]
    assert set(own["groups"]) == {"news", "software"} and own["conditioning"] == "own"
    for report in reports.values():
        for scores in [*report["groups"].values(), report["overall"]]:
            assert {"loss", "perplexity", "accuracy", "tokens", "texts", "conditioned"} <= set(scores)
            assert scores["perplexity"] == pytest.approx(2.718281828 ** scores["loss"], rel=1e-6)
    assert own["groups"]["software"]["conditioned"] == own["groups"]["software"]["texts"] > 0
    assert none["overall"]["conditioned"] == 0 and news["overall"]["conditioned"] == news["overall"]["texts"]
    # News texts get the same start either way; software texts a different one.
    assert news["groups"]["news"] == own["groups"]["news"]
    assert news["groups"]["software"]["loss"] != own["groups"]["software"]["loss"]
    assert own["overall"]["tokens"] == none["overall"]["tokens"] == news["overall"]["tokens"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--domain", "sport"], "unknown domain 'sport'; known domains: news, software"),
        (["--prompt", "  "], "--prompt:2: field \"text\": is empty (value '  ')"),
    ],
)
def test_generate_errors_are_one_line(clm_run, capsys, extra, message):
    assert main(["generate", "--model", str(clm_run), "--prompt", "the", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"xdomain-tf generate: error: {message}"


def test_generate_refuses_a_classifier_and_pretrain_eval_a_misplaced_domain(capsys, multidomain_fixtures, tmp_path):
    trained_run = tmp_path / "classifier"  # what load_causal_lm reads first: the run's kind
    trained_run.mkdir()
    (trained_run / "run.json").write_text(json.dumps({"kind": "classifier"}))
    assert main(["generate", "--model", str(trained_run), "--prompt", "the"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"xdomain-tf generate: error: {trained_run}: a classifier run, not a causal LM (pretrain one with --objective clm)"
    assert main(["pretrain-eval", "--model", str(trained_run), "--data", str(multidomain_fixtures / "valid.jsonl"),
                 "--domain", "news"]) == 2
    assert capsys.readouterr().err.strip() == (
        "xdomain-tf pretrain-eval: error: --domain and --unconditioned condition a causal LM: use them with --objective clm"
    )
