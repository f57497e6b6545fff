import keras
import numpy as np
import pytest
import tensorflow as tf
from layer_test_case import run_fit_step_test, run_model_saving_test, run_serialization_test

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import (
    EncoderConfig,
    MaskedSparseCategoricalAccuracy,
    MultiDomainClassifier,
    TransformerEncoder,
    build_multi_domain_classifier,
)

DOMAINS = {"news": ["business", "sport"], "software": ["games", "math", "net"]}
RNG = np.random.default_rng(0)
TOKENS = RNG.integers(4, 60, size=(8, 6)).astype("int32")
PADDING = np.ones_like(TOKENS)
PADDING[::2, 4:] = 0
TOKENS *= PADDING
DOMAIN_IDS = np.array([0, 1, 0, 1, 1, 0, 1, 1], "int32")
LABELS = np.array([1, 2, 0, 0, 1, 1, 2, 0], "int32")
FEATURES = {
    "token_ids": TOKENS,
    "segment_ids": np.zeros_like(TOKENS),
    "padding_mask": PADDING,
    "domain_id": DOMAIN_IDS,
}


def _encoder(**options):
    config = EncoderConfig(
        vocab_size=60,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=48,
        max_position_embeddings=8,
    )
    return TransformerEncoder(config, **options)


def _losses():
    return {
        name: keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
        for name in DOMAINS
    }


def _numpy_targets():
    """Each domain's label where the example is of that domain, -1 elsewhere."""
    return {name: np.where(DOMAIN_IDS == index, LABELS, -1).astype("int32") for index, name in enumerate(DOMAINS)}


def _own_domain_cross_entropy(logits, domain_index, domain_ids=DOMAIN_IDS, labels=LABELS):
    own = domain_ids == domain_index
    if not own.any():
        return 0.0
    chosen = logits[own]
    log_probabilities = chosen - np.log(np.exp(chosen).sum(-1, keepdims=True))
    return float(-log_probabilities[np.arange(own.sum()), labels[own]].mean())


def test_predict_returns_float32_logits_per_domain():
    model = MultiDomainClassifier(_encoder(), DOMAINS)
    logits = model.predict(FEATURES, verbose=0)
    assert {name: value.shape for name, value in logits.items()} == {
        "news": (8, 2),
        "software": (8, 3),
    }
    assert all(value.dtype == np.float32 for value in logits.values())
    assert model.domain_names == ["news", "software"]
    assert model.label_names("software") == ["games", "math", "net"]


def test_each_domain_loss_is_the_mean_over_its_own_examples_only():
    model = MultiDomainClassifier(_encoder(), DOMAINS, dropout=0.0)
    metrics = {name: [MaskedSparseCategoricalAccuracy()] for name in DOMAINS}
    # Eager keeps the test fast; the graph path runs in the distribution-strategy test.
    model.compile(loss=_losses(), metrics=metrics, run_eagerly=True)
    logits = {name: value.numpy() for name, value in model(FEATURES).items()}
    result = model.evaluate(FEATURES, _numpy_targets(), batch_size=8, verbose=0, return_dict=True)
    per_domain = [_own_domain_cross_entropy(logits[name], i) for i, name in enumerate(DOMAINS)]
    assert result["news_loss"] == pytest.approx(per_domain[0], rel=1e-5)
    assert result["software_loss"] == pytest.approx(per_domain[1], rel=1e-5)
    assert result["loss"] == pytest.approx(sum(per_domain), rel=1e-5)
    predicted = logits["news"][DOMAIN_IDS == 0].argmax(-1)
    assert result["news_accuracy"] == pytest.approx(np.mean(predicted == LABELS[DOMAIN_IDS == 0]))
    # A batch without any news example adds nothing for news (no division by zero).
    software_only = {k: v[DOMAIN_IDS == 1] for k, v in FEATURES.items()}
    targets = {k: v[DOMAIN_IDS == 1] for k, v in _numpy_targets().items()}
    result = model.evaluate(software_only, targets, batch_size=8, verbose=0, return_dict=True)
    assert result["news_loss"] == 0.0
    expected = _own_domain_cross_entropy(
        logits["software"][DOMAIN_IDS == 1], 1, DOMAIN_IDS[DOMAIN_IDS == 1], LABELS[DOMAIN_IDS == 1]
    )
    assert result["loss"] == pytest.approx(expected, rel=1e-5)


def test_fit_on_a_mixed_domain_batch_lowers_the_loss():
    keras.utils.set_random_seed(1)
    model = MultiDomainClassifier(_encoder(), DOMAINS, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=_losses(), run_eagerly=True)
    history = model.fit(FEATURES, _numpy_targets(), epochs=8, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]


def test_keras_round_trip_of_a_two_domain_classifier():
    model = MultiDomainClassifier(
        _encoder(num_adapters=2), DOMAINS, freeze_encoder="base", pooling="mean", name="clf"
    )
    for variable in model.encoder.parameter_efficient_weights:
        variable.assign(np.full(variable.shape, 0.03, "float32"))
    assert run_serialization_test(model).domains == DOMAINS
    reloaded = run_model_saving_test(model, FEATURES)
    assert reloaded.name == "clf" and reloaded.domains == DOMAINS
    assert (reloaded.freeze_encoder, reloaded.pooling) == ("base", "mean")
    assert reloaded.encoder.num_adapters == 2
    assert {w.path for w in reloaded.trainable_weights} == {w.path for w in model.trainable_weights}


def test_one_training_step_moves_every_trainable_weight():
    model = MultiDomainClassifier(_encoder(), DOMAINS, dropout=0.0)
    _, unchanged = run_fit_step_test(model, FEATURES, _numpy_targets(), loss=_losses(), run_eagerly=True)
    assert unchanged == []


def test_older_name():
    model = build_multi_domain_classifier(_encoder(), DOMAINS, pooling="mean")
    assert type(model) is MultiDomainClassifier and model.name == "multi_domain_classifier"
    assert model.pooling == "mean" and model.domains == DOMAINS


def test_frozen_encoder_is_a_fixed_feature_extractor():
    model = MultiDomainClassifier(_encoder(), DOMAINS, dropout=0.0, freeze_encoder=True)
    assert {w.path.split("/")[0] for w in model.trainable_weights} == {"news_head", "software_head"}
    assert len(model.trainable_weights) == 4
    # The encoder's dropout (0.1) stays off even in training mode.
    np.testing.assert_allclose(
        model(FEATURES, training=True)["news"], model(FEATURES, training=False)["news"], atol=1e-6
    )


def test_adapters_follow_domain_id_and_train_alone_with_the_heads():
    model = MultiDomainClassifier(
        _encoder(num_adapters=2), DOMAINS, freeze_encoder="base", dropout=0.0
    )
    trainable = {w.path for w in model.trainable_weights}
    assert all("adapter" in path or "_head/" in path for path in trainable)
    assert len(trainable) == 2 * 2 * 4 + 4
    model.heads[0].logits_dense.kernel.assign(np.random.default_rng(2).normal(size=(32, 2)))
    before = model(FEATURES)["news"].numpy()
    rng = np.random.default_rng(3)
    for variable in model.encoder.parameter_efficient_weights:
        values = np.zeros(variable.shape, "float32")
        values[1] = rng.normal(size=variable.shape[1:])  # adapter 1 only
        variable.assign(values)
    after = model(FEATURES)["news"].numpy()
    np.testing.assert_allclose(after[DOMAIN_IDS == 0], before[DOMAIN_IDS == 0], atol=1e-6)
    assert np.abs(after[DOMAIN_IDS == 1] - before[DOMAIN_IDS == 1]).max() > 1e-2


def test_mean_pooling_averages_real_positions():
    model = MultiDomainClassifier(_encoder(), DOMAINS, dropout=0.0, pooling="mean")
    sequence = model.encoder({k: v for k, v in FEATURES.items() if k != "domain_id"})
    sequence = sequence["sequence_output"].numpy()
    mask = PADDING[:, :, None]
    pooled = (sequence * mask).sum(1) / mask.sum(1)
    head = model.heads[1].logits_dense
    np.testing.assert_allclose(
        model(FEATURES)["software"], pooled @ head.kernel.numpy() + head.bias.numpy(), atol=1e-5
    )
    assert not model.encoder.pooler.trainable


def test_last_pooling_reads_the_last_real_token_of_a_causal_encoder():
    model = MultiDomainClassifier(_encoder(causal=True), DOMAINS, dropout=0.0, pooling="last")
    sequence = model.encoder({k: v for k, v in FEATURES.items() if k != "domain_id"})["sequence_output"].numpy()
    last = PADDING.sum(axis=1) - 1
    pooled = sequence[np.arange(len(last)), last]
    head = model.heads[1].logits_dense
    np.testing.assert_allclose(
        model(FEATURES)["software"], pooled @ head.kernel.numpy() + head.bias.numpy(), atol=1e-5
    )
    # Under the causal mask the last token depends on every token before it, the first on none.
    changed = dict(FEATURES, token_ids=FEATURES["token_ids"].copy())
    changed["token_ids"][:, 1] = np.where(FEATURES["token_ids"][:, 1] == 5, 6, 5)
    assert np.abs(model(changed)["software"] - model(FEATURES)["software"]).min() > 1e-6
    assert not model.encoder.pooler.trainable
    with pytest.raises(XDomainError, match="causal encoder's \\[CLS\\] sees only itself"):
        MultiDomainClassifier(_encoder(causal=True), DOMAINS, pooling="cls")


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_float32_logits(policy):
    keras.config.set_dtype_policy(policy)
    try:
        model = MultiDomainClassifier(_encoder(), DOMAINS)
        model.compile(optimizer="adam", loss=_losses(), run_eagerly=True)
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.heads[0].compute_dtype == policy.split("_")[1]
    loss = model.train_on_batch(FEATURES, _numpy_targets())
    assert np.all(np.isfinite(loss))
    logits = model(FEATURES)
    assert all(value.dtype == "float32" for value in logits.values())
    if policy == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_builds_and_fits_inside_a_distribution_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = MultiDomainClassifier(_encoder(num_adapters=2), DOMAINS)
        model.compile(optimizer="adam", loss=_losses())
    dataset = tf.data.Dataset.from_tensor_slices((FEATURES, _numpy_targets())).batch(4)
    history = model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])
    assert isinstance(model.encoder.pooler.kernel.value, tf.distribute.DistributedValues)


def test_bad_arguments():
    encoder = _encoder()
    with pytest.raises(XDomainError, match="non-empty dict"):
        MultiDomainClassifier(encoder, ["news"])
    with pytest.raises(XDomainError, match="duplicate label names"):
        MultiDomainClassifier(encoder, {"news": ["a", "a"]})
    with pytest.raises(XDomainError, match="pooling must be one of"):
        MultiDomainClassifier(encoder, DOMAINS, pooling="max")
    with pytest.raises(XDomainError, match="3 adapters but there are 2 domains"):
        MultiDomainClassifier(_encoder(num_adapters=3), DOMAINS)
