import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tasks"))

from task_fixtures import fixture_records, tiny_classifier  # noqa: E402

from xdomain_tf.errors import XDomainError  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    import keras

    keras.utils.set_random_seed(0)
    clf = tiny_classifier()
    clf.fit(fixture_records(), epochs=2, batch_size=16, verbose=0, seed=0)
    return clf


def packed(clf, records):
    features = clf.features(np.array([record["text"] for record in records], dtype=object))
    features = {name: value.numpy() for name, value in features.items()}
    features["domain_id"] = np.array([clf.domain_names.index(record["domain"]) for record in records], "int32")
    return features


def masked(clf, plan):
    """A copy of `clf` whose removed heads and units have zero output rows (masked)."""
    from xdomain_tf.tasks import MultiDomainTextClassifier

    copy = MultiDomainTextClassifier.from_config(clf.get_config())
    copy.set_weights(clf.get_weights())
    for block, heads, units in zip(copy.encoder.transformer_layers, plan["heads"], plan["units"]):
        size = block.attention.head_size
        kernel = block.attention.output_dense.kernel.numpy()
        for head in set(range(block.attention.num_heads)) - set(heads):
            kernel[head * size : (head + 1) * size] = 0
        block.attention.output_dense.kernel.assign(kernel)
        kernel = block.output_dense.kernel.numpy()
        kernel[sorted(set(range(block.intermediate_size)) - set(units))] = 0
        block.output_dense.kernel.assign(kernel)
    return copy


def test_pruned_classifier_answers_as_the_masked_original_and_saves(trained, tmp_path):
    import keras

    from xdomain_tf.training import prune

    before = trained.get_weights()
    result = prune(trained, fixture_records(), heads=0.5, ffn=0.5, batch_size=16)
    pruned = result.classifier
    config = pruned.encoder.encoder_config
    # bert_tiny: 2 layers x 2 heads, 2 x 512 units.
    assert sum(config.layer_attention_heads) == 2 and sum(config.layer_intermediate_sizes) == 512
    assert [len(kept) for kept in result.plan["heads"]] == config.layer_attention_heads
    assert result.summary["importance_examples"] == 144
    assert result.summary["parameters"]["after"] == pruned.count_params() < trained.count_params()
    assert all(np.array_equal(a, b) for a, b in zip(before, trained.get_weights()))  # the input is unchanged

    features = packed(trained, fixture_records("valid"))
    expected = masked(trained, result.plan)(features, training=False)
    actual = pruned(features, training=False)
    for domain in trained.domain_names:
        np.testing.assert_allclose(actual[domain], expected[domain], atol=2e-5)
    assert not np.allclose(actual["news"], trained(features, training=False)["news"], atol=1e-4)

    pruned.save(tmp_path / "pruned.keras")
    reloaded = keras.saving.load_model(tmp_path / "pruned.keras", safe_mode=True)
    assert reloaded.encoder.encoder_config == config
    assert reloaded.classify(["a late goal"], "news") == pruned.classify(["a late goal"], "news")


def test_recovery_by_fine_tuning_trains_the_pruned_weights(trained):
    from xdomain_tf.training import prune

    records, valid = fixture_records(), fixture_records("valid")
    pruned = prune(trained, records, heads=0.5, ffn=0.9, batch_size=16).classifier
    tuned = prune(trained, records, heads=0.5, ffn=0.9, epochs=1, recovery="fine_tune", valid=valid, batch_size=16)
    summary = tuned.summary
    assert set(summary["macro_f1_before"]) == set(summary["macro_f1_pruned"]) == set(summary["macro_f1_recovered"]) == {
        "news", "software"
    }
    assert summary["recovery"]["kind"] == "fine_tune" and len(tuned.history) == 1 and "loss" in tuned.history[0]
    # Same plan (same data and seed), same shapes; the weights moved.
    assert tuned.classifier.encoder.encoder_config == pruned.encoder.encoder_config
    kernel = "transformer_layer_0/intermediate/kernel"
    before, after = (
        next(w.numpy() for w in model.encoder.weights if w.path.endswith(kernel)) for model in (pruned, tuned.classifier)
    )
    assert before.shape == after.shape and not np.allclose(before, after)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"heads": 1.0}, r"heads must be a fraction in \[0, 1\)"),
        ({"ffn": -0.5}, r"ffn must be a fraction in \[0, 1\)"),
        ({}, "nothing to prune: heads and ffn are both 0"),
        ({"heads": 0.5, "recovery": "magic"}, "recovery must be one of distill, fine_tune"),
        ({"heads": 0.5, "epochs": -1}, "epochs must be an integer >= 0"),
    ],
)
def test_bad_arguments_are_one_line_errors(trained, arguments, message):
    from xdomain_tf.training import prune

    with pytest.raises(XDomainError, match=message) as caught:
        prune(trained, fixture_records(), **arguments)
    assert "\n" not in str(caught.value)
