import keras
import numpy as np
import pytest

from pretraining_fixtures import VOCABULARY, tiny_config, write_corpus, write_pairs
from xdomain_tf.models import build_causal_lm, build_contrastive, build_encoder, build_masked_lm
from xdomain_tf.text.preprocessor import Preprocessor
from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
from xdomain_tf.training.pretraining.corpus import PretrainingCorpus
from xdomain_tf.training.pretraining.input_pipelines import causal_lm_dataset, contrastive_dataset, masked_lm_dataset
from xdomain_tf.training.pretraining.input_pipelines import lm_masker
from xdomain_tf.training.pretraining.trainer import PretrainingTrainer

TOKENIZER = WordPieceTokenizer(VOCABULARY)
PREPROCESSOR = Preprocessor(TOKENIZER, sequence_length=24)
GROUPS = ["pets", "tech"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return PretrainingCorpus.from_files([write_corpus(folder / "c.jsonl", count=64), write_pairs(folder / "p.jsonl", count=48)])


def _evaluate(trainer, dataset):
    return trainer.evaluate(dataset, verbose=0, return_dict=True)


def test_masked_lm_with_sentence_order_learns_and_reports_per_group(corpus):
    keras.utils.set_random_seed(0)
    masker = lm_masker(TOKENIZER, mask_rate=0.25, max_predictions=5)
    trainer = PretrainingTrainer(masked_lm=build_masked_lm(build_encoder(tiny_config()), "sop"), groups=GROUPS)
    trainer.compile(optimizer=keras.optimizers.Adam(3e-3))
    train = masked_lm_dataset(corpus, PREPROCESSOR, masker, 16, GROUPS, sentence_objective="sop").map(lambda b: {"mlm": b})
    held_out = masked_lm_dataset(corpus, PREPROCESSOR, masker, 16, GROUPS, training=False, sentence_objective="sop").map(lambda b: {"mlm": b})
    before = _evaluate(trainer, held_out)
    history = trainer.fit(train, steps_per_epoch=20, epochs=3, verbose=0).history
    after = _evaluate(trainer, held_out)
    assert after["mlm_loss"] < before["mlm_loss"] - 1.0
    assert history["mlm_loss"][-1] < history["mlm_loss"][0]
    for group in GROUPS:
        assert after[f"{group}_mlm_loss"] < before[f"{group}_mlm_loss"]
        assert 0 <= after[f"{group}_mlm_accuracy"] <= 1
    assert {"sop_loss", "sop_accuracy"} <= set(after)
    # The overall loss is the prediction-weighted mean of the group losses.
    assert min(after["pets_mlm_loss"], after["tech_mlm_loss"]) <= after["mlm_loss"] <= max(after["pets_mlm_loss"], after["tech_mlm_loss"])


def test_causal_lm_learns(corpus):
    keras.utils.set_random_seed(0)
    trainer = PretrainingTrainer(causal_lm=build_causal_lm(build_encoder(tiny_config(), causal=True)), groups=GROUPS)
    trainer.compile(optimizer=keras.optimizers.Adam(3e-3))
    train = causal_lm_dataset(corpus, PREPROCESSOR, 16, GROUPS).map(lambda b: {"clm": b})
    held_out = causal_lm_dataset(corpus, PREPROCESSOR, 16, GROUPS, training=False).map(lambda b: {"clm": b})
    before = _evaluate(trainer, held_out)
    trainer.fit(train, steps_per_epoch=25, epochs=1, verbose=0)
    after = _evaluate(trainer, held_out)
    assert after["clm_loss"] < before["clm_loss"] - 1.0
    assert after["clm_accuracy"] > before["clm_accuracy"]
    assert "mlm_loss" not in after and "pets_clm_loss" in after


def test_contrastive_alignment_raises_in_batch_retrieval(corpus):
    keras.utils.set_random_seed(0)
    model = build_contrastive(build_encoder(tiny_config()), temperature=0.1)
    trainer = PretrainingTrainer(contrastive=model, groups=GROUPS)
    trainer.compile(optimizer=keras.optimizers.Adam(3e-3))
    train = contrastive_dataset(corpus, PREPROCESSOR, 12, seed=0).map(lambda b: {"contrastive": b})
    held_out = contrastive_dataset(corpus, PREPROCESSOR, 12, training=False).map(lambda b: {"contrastive": b})
    before = _evaluate(trainer, held_out)
    trainer.fit(train, steps_per_epoch=30, epochs=1, verbose=0)
    after = _evaluate(trainer, held_out)
    assert after["contrastive_loss"] < before["contrastive_loss"]
    assert after["retrieval_accuracy"] >= before["retrieval_accuracy"] + 0.3
    assert after["temperature"] != pytest.approx(0.1)  # learned


def test_objectives_share_one_encoder_and_weights_sum(corpus):
    encoder = build_encoder(tiny_config())
    mlm, aligner = build_masked_lm(encoder), build_contrastive(encoder)
    trainer = PretrainingTrainer(masked_lm=mlm, contrastive=aligner, groups=GROUPS, objective_weights={"contrastive": 0.5})
    trainer.compile(optimizer="adam")
    trainer(trainer.dummy_batch())
    ids = {id(w) for w in trainer.weights}
    assert len(ids) == len({id(w) for w in encoder.weights}) + 5 + 1  # + MLM head + log_scale
    masker = lm_masker(TOKENIZER, 0.15, max_predictions=4)
    batch = next(iter(masked_lm_dataset(corpus, PREPROCESSOR, masker, 8, GROUPS, training=False)))
    pairs = next(iter(contrastive_dataset(corpus, PREPROCESSOR, 8, training=False)))
    both = _evaluate(trainer, _single({"mlm": batch, "contrastive": pairs}))
    assert both["loss"] == pytest.approx(both["mlm_loss"] + 0.5 * both["contrastive_loss"], rel=1e-5)
    with pytest.raises(ValueError, match="objective_weights"):
        PretrainingTrainer(masked_lm=mlm, objective_weights={"clm": 1.0})


def _single(batch):
    import tensorflow as tf

    return tf.data.Dataset.from_tensors(batch)
