import keras
import numpy as np
import pytest
import tensorflow as tf

import xdomain_tf
from xdomain_tf.models import MaskedSparseCategoricalAccuracy
from xdomain_tf.training.callbacks.domain_adversary_schedule import DomainAdversarySchedule
from xdomain_tf.training.multi_domain_trainer import ADVERSARY_OUTPUT, MultiDomainTrainer

DOMAINS = {"a": ["x", "y"], "b": ["u", "v", "w"]}


def _data():
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 60, size=(16, 8)).astype("int32")
    domain_ids = np.array([0, 1] * 8, "int32")
    labels = np.array([i % 2 if d == 0 else i % 3 for i, d in enumerate(domain_ids)], "int32")
    x = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": np.ones_like(ids), "domain_id": domain_ids}
    y = {k: v.numpy() for k, v in _targets(labels, domain_ids, DOMAINS).items()}
    return x, y, labels, domain_ids


def _trainer(**kwargs):
    keras.utils.set_random_seed(0)
    config = xdomain_tf.EncoderConfig.architecture(
        "bert_tiny", vocab_size=60, hidden_size=32, intermediate_size=64, max_position_embeddings=16
    )
    classifier = xdomain_tf.build_multi_domain_classifier(xdomain_tf.build_encoder(config), DOMAINS)
    trainer = MultiDomainTrainer(classifier, list(DOMAINS), **kwargs)
    trainer.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        metrics={d: [MaskedSparseCategoricalAccuracy(name="accuracy")] for d in DOMAINS},
    )
    return trainer


def _reference_domain_losses(trainer, x, labels, domain_ids):
    logits = trainer.classifier.predict(x, verbose=0)
    losses = []
    for index, domain in enumerate(DOMAINS):
        rows = logits[domain][domain_ids == index].astype("float64")
        log_probs = rows - np.log(np.exp(rows).sum(-1, keepdims=True))
        own = labels[domain_ids == index]
        losses.append(-log_probs[np.arange(len(own)), own].mean())
    return losses


def test_each_example_counts_only_in_its_own_domain_with_static_weights():
    trainer = _trainer(loss_weighting="static", domain_weights={"a": 2.0})
    x, y, labels, domain_ids = _data()
    result = trainer.evaluate(x, y, verbose=0, return_dict=True, batch_size=16)
    loss_a, loss_b = _reference_domain_losses(trainer, x, labels, domain_ids)
    assert result["a_loss"] == pytest.approx(loss_a, rel=1e-4)
    assert result["b_loss"] == pytest.approx(loss_b, rel=1e-4)
    assert result["loss"] == pytest.approx(2.0 * loss_a + loss_b, rel=1e-4)


def test_uncertainty_weights_train_and_lower_the_loss():
    trainer = _trainer(loss_weighting="uncertainty")
    x, y, *_ = _data()
    history = trainer.fit(x, y, epochs=12, batch_size=8, verbose=0).history
    assert history["a_loss"][-1] < history["a_loss"][0] / 2
    weights = trainer.uncertainty_weights()
    assert set(weights) == {"a", "b"}
    assert all(w != pytest.approx(1.0, abs=1e-3) for w in weights.values())  # the log-variances moved


def test_adversarial_training_reports_domain_loss_and_lowers_task_loss():
    trainer = _trainer(adversarial=True, adversarial_weight=0.5)
    x, y, *_ = _data()
    schedule = DomainAdversarySchedule(trainer.reversal, total_steps=24)
    history = trainer.fit(x, y, epochs=12, batch_size=8, verbose=0, callbacks=[schedule]).history
    assert "adversary_loss" in history
    assert history["loss"][-1] < history["loss"][0]
    assert float(trainer.reversal.lambda_variable.numpy()) == pytest.approx(schedule.value_at(23), rel=1e-5)
    outputs = trainer(x)
    assert tuple(outputs[ADVERSARY_OUTPUT].shape) == (16, 2)


def test_unknown_domain_weight_is_an_error():
    with pytest.raises(ValueError, match="unknown domain.*'c'"):
        _trainer(loss_weighting="static", domain_weights={"c": 1.0})


def _targets(labels, domain_ids, domains):
    """Each domain's label where the example is of that domain, -1 elsewhere."""
    labels, domain_ids = np.asarray(labels, "int32"), np.asarray(domain_ids, "int32")
    return {name: tf.constant(np.where(domain_ids == index, labels, -1)) for index, name in enumerate(domains)}


def test_class_weights_scale_each_examples_loss():
    weights = {"a": [3.0, 0.5], "b": [1.0, 2.0, 0.0]}
    trainer = _trainer(class_weights=weights)
    x, y, labels, domain_ids = _data()
    result = trainer.evaluate(x, y, verbose=0, return_dict=True, batch_size=16)
    logits = trainer.classifier.predict(x, verbose=0)
    expected = []
    for index, domain in enumerate(DOMAINS):
        rows = logits[domain][domain_ids == index].astype("float64")
        own = labels[domain_ids == index]
        log_probs = rows - np.log(np.exp(rows).sum(-1, keepdims=True))
        losses = -log_probs[np.arange(len(own)), own] * np.array(weights[domain])[own]
        expected.append(losses.sum() / len(own))
    assert result["a_loss"] == pytest.approx(expected[0], rel=1e-4)
    assert result["b_loss"] == pytest.approx(expected[1], rel=1e-4)
    assert result["loss"] == pytest.approx(sum(expected), rel=1e-4)


def test_class_weights_of_an_unknown_domain_are_an_error():
    with pytest.raises(ValueError, match="class_weights name unknown domain.*'c'"):
        _trainer(class_weights={"c": [1.0]})
