import json

import numpy as np
import pytest

from pretraining_fixtures import write_corpus, write_pairs
from xdomain_tf.checkpoints import resolve_init
from xdomain_tf.errors import XDomainError
from xdomain_tf.models import CausalLMGenerator, MaskedLM
from xdomain_tf.runs.run_directory import RunDirectory
from xdomain_tf.tasks import MultiDomainCausalLM, load_causal_lm
from xdomain_tf.training.pretraining.clm_evaluation import evaluate_clm
from xdomain_tf.training.pretraining.head_weights import mlm_head_weights_for
from xdomain_tf.training.pretraining.mlm_evaluation import evaluate_mlm
from xdomain_tf.training.pretraining.options import PretrainOptions
from xdomain_tf.training.pretraining_run import train_pretraining

COMMON = dict(batch_size=16, seq_len=32, vocab_size=120, verbose=0, learning_rate=3e-3, checkpoint_every=10)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    return {
        "train": str(write_corpus(folder / "train.jsonl", 120)),
        "valid": str(write_corpus(folder / "valid.jsonl", 32, seed=1)),
        "pairs": str(write_pairs(folder / "pairs.jsonl", 48)),
    }


@pytest.fixture(scope="module")
def mlm_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlm"
    options = PretrainOptions(
        train=[data["train"], data["pairs"]], valid=[data["valid"]], out=str(out), init="bert_tiny",
        objective="mlm,contrastive", steps=30, epochs=2, report_before=True, **COMMON,
    )
    return options, train_pretraining(options, log=lambda message: None)


def test_mlm_and_contrastive_run_writes_a_pretrain_run_directory(mlm_run):
    options, summary = mlm_run
    run = RunDirectory(options.out)
    assert run.run_info()["kind"] == "pretrain" and summary["steps"] == 30
    for name in ("model.keras", "encoder.weights.h5", "encoder_config.json", "preprocessor.json", "vocab.txt", "mlm_head.npz"):
        assert (run.path / name).is_file(), name
    assert summary["groups"] == ["pets", "tech"]
    assert summary["after"]["mlm_loss"] < summary["before"]["mlm_loss"] - 1.0
    for group in ("pets", "tech"):
        assert summary["after"][f"{group}_mlm_loss"] < summary["before"][f"{group}_mlm_loss"]
    last = json.loads(run.history_path.read_text())["epochs"][-1]
    assert {"pets_mlm_loss", "val_tech_mlm_accuracy", "contrastive_loss", "retrieval_accuracy"} <= set(last)
    assert isinstance(run.load_model(), MaskedLM)


def test_the_run_directory_is_an_init_for_encoders_heads_and_evaluation(mlm_run, data):
    options, summary = mlm_run
    initialized = resolve_init(options.out)
    model = RunDirectory(options.out).load_model()
    for saved, loaded in zip(model.encoder.weights, initialized.encoder.weights):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
    head = mlm_head_weights_for(options.out)
    np.testing.assert_array_equal(head["output_bias"], model.mlm_head.output_bias.numpy())
    # Same data, batch size, sequence length and mask seed: the very masks of the run's validation.
    report = evaluate_mlm(options.out, [data["valid"]], batch_size=16, seq_len=32)
    assert report["overall"]["loss"] == pytest.approx(summary["after"]["mlm_loss"], rel=1e-4)
    assert report["groups"]["pets"]["accuracy"] == pytest.approx(summary["after"]["pets_mlm_accuracy"], abs=1e-5)
    assert report == evaluate_mlm(options.out, [data["valid"]], batch_size=16, seq_len=32)


def test_continued_pretraining_starts_where_the_run_ended_and_resumes(mlm_run, data, tmp_path):
    options, summary = mlm_run
    follow_up = PretrainOptions(
        train=[data["train"]], valid=[data["valid"]], out=str(tmp_path / "dapt"), init=options.out,
        objective="mlm", steps=6, epochs=1, report_before=True, **COMMON,
    )
    second = train_pretraining(follow_up, log=lambda message: None)
    # The encoder and the masked-LM head both came from the first run.
    assert second["before"]["mlm_loss"] == pytest.approx(summary["after"]["mlm_loss"], rel=1e-4)
    again = train_pretraining(follow_up, log=lambda message: None)  # finished: nothing left to train
    assert again["steps"] == 6 and again["before"] == second["before"]


def test_causal_lm_run_generates_text(data, tmp_path):
    options = PretrainOptions(
        train=[data["train"]], valid=[data["valid"]], out=str(tmp_path / "clm"), init="bert_tiny", objective="clm",
        steps=40, epochs=1, **COMMON,
    )
    summary = train_pretraining(options, log=lambda message: None)
    run = RunDirectory(options.out)
    model = run.load_model()
    assert isinstance(model, MultiDomainCausalLM) and model.domain_names == ["pets", "tech"]
    assert run.run_info()["domains"] == ["pets", "tech"]
    assert model.preprocessor.tokenizer.vocabulary[-2:] == ["[domain:pets]", "[domain:tech]"]
    text = CausalLMGenerator(model, run.load_preprocessor()).generate("the cat", max_length=12, strategy="top_k", k=5, seed=0)
    assert text.startswith("the cat")
    assert load_causal_lm(options.out).generate("the", domain="tech", max_new_tokens=3).startswith("the")
    assert resolve_init(options.out).encoder.causal is False  # usable as a bidirectional init
    # Validation is conditioned on each text's own domain, which scores better than a wrong one or none.
    own = evaluate_clm(options.out, [data["valid"]], batch_size=16)
    assert own["overall"]["loss"] == pytest.approx(summary["after"]["clm_loss"], rel=1e-4)
    wrong = {"pets": evaluate_clm(options.out, [data["valid"]], domain="tech")["groups"]["pets"],
             "tech": evaluate_clm(options.out, [data["valid"]], domain="pets")["groups"]["tech"]}
    none = evaluate_clm(options.out, [data["valid"]], unconditioned=True)["groups"]
    for group in ("pets", "tech"):
        assert own["groups"][group]["perplexity"] < min(none[group]["perplexity"], wrong[group]["perplexity"])


def test_causal_lm_without_domain_tokens(data, tmp_path):
    options = PretrainOptions(
        train=[data["train"]], out=str(tmp_path / "plain"), init="bert_tiny", objective="clm", steps=2, epochs=1,
        unconditioned_rate=1.0, **COMMON,
    )
    train_pretraining(options, log=lambda message: None)
    model = load_causal_lm(options.out)
    assert model.domain_names == [] and not any(token.startswith("[domain:") for token in model.preprocessor.tokenizer.vocabulary)
    with pytest.raises(XDomainError, match="unknown domain 'pets'; known domains: none"):
        model.generate("the", domain="pets")


def test_option_errors(data, tmp_path):
    with pytest.raises(XDomainError, match="sop/nsp"):
        PretrainOptions(train=[data["train"]], out=str(tmp_path), objective="sop")
    with pytest.raises(XDomainError, match="clm cannot"):
        PretrainOptions(train=[data["train"]], out=str(tmp_path), objective="clm,mlm")
    with pytest.raises(XDomainError, match="fine-tuning"):
        PretrainOptions(train=[data["train"]], out=str(tmp_path), adversarial=True)
    with pytest.raises(XDomainError, match="translation pairs"):
        train_pretraining(PretrainOptions(train=[data["train"]], out=str(tmp_path / "c"), objective="contrastive"), log=lambda m: None)
