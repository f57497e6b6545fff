import numpy as np
import pytest

from xdomain_tf.errors import XDomainError
from xdomain_tf.models import EncoderConfig, TransformerEncoder
from xdomain_tf.models.structured_pruning import importance, pruned_encoder, pruning_plan

CONFIG = EncoderConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=12)
KEPT_HEADS = [[0, 2], [3]]
KEPT_UNITS = [[1, 4, 5, 11], [0, 2, 3, 6, 7, 8, 9]]


def random_encoder(**options):
    """An encoder whose every weight (biases and LayerNorms included) is random, so that a
    weight copied to the wrong place changes the outputs."""
    encoder = TransformerEncoder(CONFIG, **options)
    generator = np.random.default_rng(0)
    for variable in encoder.weights:
        variable.assign(generator.normal(scale=0.3, size=variable.shape).astype("float32"))
    return encoder


def inputs():
    ids = np.array([[2, 5, 9, 11, 3, 0], [2, 7, 3, 0, 0, 0]], "int32")
    return {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": (ids > 0).astype("int32")}


def masked_copy(encoder, kept_heads, kept_units):
    """The same encoder with the removed heads' attention-output rows and the removed units'
    output rows set to zero: what masking them computes."""
    copy = TransformerEncoder.from_config(encoder.get_config())
    copy.set_weights(encoder.get_weights())
    for block, heads, units in zip(copy.transformer_layers, kept_heads, kept_units):
        size = block.attention.head_size
        kernel = block.attention.output_dense.kernel.numpy()
        for head in set(range(block.attention.num_heads)) - set(heads):
            kernel[head * size : (head + 1) * size] = 0
        block.attention.output_dense.kernel.assign(kernel)
        kernel = block.output_dense.kernel.numpy()
        kernel[sorted(set(range(block.intermediate_size)) - set(units))] = 0
        block.output_dense.kernel.assign(kernel)
    return copy


@pytest.mark.parametrize("options", [{}, {"lora_rank": 2}, {"num_adapters": 2}])
def test_pruned_encoder_equals_the_masked_original(options):
    encoder = random_encoder(**options)
    features = inputs()
    if options.get("num_adapters"):
        features["adapter_index"] = np.array([0, 1], "int32")
    pruned = pruned_encoder(encoder, KEPT_HEADS, KEPT_UNITS)
    expected = masked_copy(encoder, KEPT_HEADS, KEPT_UNITS)(features)
    actual = pruned(features)
    mask = features["padding_mask"][:, :, None].astype(bool)
    np.testing.assert_allclose(
        np.where(mask, actual["sequence_output"], 0), np.where(mask, expected["sequence_output"], 0), atol=2e-5
    )
    np.testing.assert_allclose(actual["pooled_output"], expected["pooled_output"], atol=2e-5)
    # And the original (unmasked) encoder is unchanged and differs.
    assert not np.allclose(encoder(features)["pooled_output"], actual["pooled_output"], atol=1e-3)


def test_kernels_shrink_and_the_config_records_the_counts():
    encoder = random_encoder()
    pruned = pruned_encoder(encoder, KEPT_HEADS, KEPT_UNITS)
    config = pruned.encoder_config
    assert config.layer_attention_heads == [2, 1] and config.layer_intermediate_sizes == [4, 7]
    first, second = pruned.transformer_layers
    assert first.attention.qkv.kernel.shape == (16, 3 * 2 * 4)
    assert first.attention.output_dense.kernel.shape == (8, 16)
    assert second.attention.qkv.kernel.shape == (16, 3 * 1 * 4)
    assert first.intermediate.kernel.shape == (16, 4) and first.output_dense.kernel.shape == (4, 16)
    assert second.intermediate.kernel.shape == (16, 7)
    # 16 -> 8 and 16 -> 4 attention columns of the 3 projections and output, 8 and 5 units.
    removed = (3 * 16 + 3 + 16) * (8 + 12) + (16 + 1 + 16) * (8 + 5)
    assert encoder.count_params() - pruned.count_params() == removed
    # The kept heads' columns are the original ones, in order (query block of layer 0).
    np.testing.assert_array_equal(
        first.attention.qkv.kernel.numpy()[:, :8],
        np.concatenate([encoder.transformer_layers[0].attention.qkv.kernel.numpy()[:, i * 4 : i * 4 + 4] for i in (0, 2)], 1),
    )


def test_pruned_encoder_round_trips_through_a_keras_file(tmp_path):
    import keras

    pruned = pruned_encoder(random_encoder(), KEPT_HEADS, KEPT_UNITS)
    pruned.save(tmp_path / "encoder.keras")
    reloaded = keras.saving.load_model(tmp_path / "encoder.keras", safe_mode=True)
    assert reloaded.encoder_config == pruned.encoder_config
    np.testing.assert_allclose(reloaded(inputs())["pooled_output"], pruned(inputs())["pooled_output"], atol=1e-6)


def test_pruning_again_indexes_the_current_blocks():
    twice = pruned_encoder(pruned_encoder(random_encoder(), KEPT_HEADS, KEPT_UNITS), [[1], [0]], [[0], [6]])
    assert twice.encoder_config.layer_attention_heads == [1, 1]
    assert twice.encoder_config.layer_intermediate_sizes == [1, 1]


def test_bad_plans_are_one_line_errors():
    encoder = random_encoder()
    with pytest.raises(XDomainError, match="layer 1: pruning would remove every head; keep at least one"):
        pruned_encoder(encoder, [[0], []], KEPT_UNITS)
    with pytest.raises(XDomainError, match=r"layer 0: feed-forward unit indices must be distinct and in \[0, 12\)"):
        pruned_encoder(encoder, KEPT_HEADS, [[12], [0]])
    with pytest.raises(XDomainError, match="the plan has 1 head and 2 unit lists for an encoder of 2 layers"):
        pruned_encoder(encoder, [[0]], KEPT_UNITS)


def loss_of(encoder):
    def loss_fn(batch):
        import keras

        return keras.ops.sum(encoder(batch)["pooled_output"] * np.linspace(-1, 1, 16, dtype="float32"))

    return loss_fn


def test_importance_is_the_mask_gradient():
    """Scaling a head's (unit's) contribution by (1 + eps) changes the loss by eps times
    its importance: checked by finite differences on the output rows."""
    encoder = random_encoder()
    loss_fn = loss_of(encoder)
    heads, units = importance(encoder, loss_fn, [inputs()])
    block = encoder.transformer_layers[1]
    original = block.attention.output_dense.kernel.numpy()

    def scaled_loss(rows, factor, kernel_variable, kernel):
        changed = kernel.copy()
        changed[rows] *= factor
        kernel_variable.assign(changed)
        value = float(loss_fn(inputs()))
        kernel_variable.assign(kernel)
        return value

    eps = 1e-2
    rows = slice(2 * 4, 3 * 4)  # head 2
    difference = scaled_loss(rows, 1 + eps, block.attention.output_dense.kernel, original) - scaled_loss(
        rows, 1 - eps, block.attention.output_dense.kernel, original
    )
    assert heads[1][2] == pytest.approx(abs(difference) / (2 * eps), rel=1e-2)
    output = block.output_dense.kernel.numpy()
    difference = scaled_loss([5], 1 + eps, block.output_dense.kernel, output) - scaled_loss(
        [5], 1 - eps, block.output_dense.kernel, output
    )
    assert units[1][5] == pytest.approx(abs(difference) / (2 * eps), rel=1e-2)
    # Absolute values summed over batches: two copies of the batch give twice the scores.
    twice, _ = importance(encoder, loss_fn, [inputs(), inputs()])
    np.testing.assert_allclose(twice[1], 2 * heads[1], rtol=1e-5)


def test_a_head_that_contributes_nothing_is_pruned_first():
    encoder = random_encoder()
    block = encoder.transformer_layers[0]
    kernel = block.attention.output_dense.kernel.numpy()
    kernel[4:8] = 0  # head 1 of layer 0 adds nothing
    block.attention.output_dense.kernel.assign(kernel)
    heads, units = importance(encoder, loss_of(encoder), [inputs()])
    assert heads[0][1] == 0 and sum(score == 0 for layer in heads for score in layer) == 1
    plan = pruning_plan(heads, units, heads=1 / 8)
    assert plan["heads"] == [[0, 2, 3], [0, 1, 2, 3]]


def test_plan_ranks_globally_after_normalising_each_layer_and_keeps_one_per_layer():
    # Layer 1's raw scores are 100x layer 0's: normalised, its head 0 is the least important.
    heads = [np.array([3.0, 4.0]), np.array([100.0, 500.0, 500.0])]
    plan = pruning_plan(heads, [np.ones(3), np.ones(3)], heads=0.2)
    assert plan["heads"] == [[0, 1], [1, 2]]
    assert plan["units"] == [[0, 1, 2], [0, 1, 2]]
    # 0.9 of 5 heads rounds to 4, but each layer keeps its best head.
    plan = pruning_plan(heads, [np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])], heads=0.9, ffn=0.5)
    assert plan["heads"] == [[1], [1]]
    assert plan["units"] == [[1, 2], [0]]


@pytest.mark.parametrize("value", [1.0, 1, -0.1, 1.5, "0.5", True, None])
def test_fractions_outside_zero_one_are_refused(value):
    with pytest.raises(XDomainError, match=r"heads must be a fraction in \[0, 1\)"):
        pruning_plan([np.ones(2)], [np.ones(2)], heads=value)


def test_pruned_config_fields_are_checked_and_absent_by_default():
    assert "layer_attention_heads" not in CONFIG.to_dict() and not CONFIG.is_pruned
    with pytest.raises(ValueError, match="layer_attention_heads must be a list of 2 positive integers of at most 4"):
        EncoderConfig.from_dict({**CONFIG.to_dict(), "layer_attention_heads": [5, 1]})
    with pytest.raises(ValueError, match="layer_intermediate_sizes must be a list of 2 positive integers"):
        EncoderConfig.from_dict({**CONFIG.to_dict(), "layer_intermediate_sizes": [4]})
    # A config saved before the fields existed loads unpruned.
    assert TransformerEncoder(CONFIG.to_dict()).transformer_layers[0].attention.num_heads == 4


def test_a_pruned_encoder_with_lora_merges_into_a_plain_one():
    from xdomain_tf.checkpoints.init_resolution import plain_encoder

    pruned = pruned_encoder(random_encoder(lora_rank=2), KEPT_HEADS, KEPT_UNITS)
    plain = plain_encoder(pruned)
    assert plain.lora_rank == 0 and plain.encoder_config.layer_attention_heads == [2, 1]
    features = inputs()
    mask = features["padding_mask"][:, :, None].astype(bool)
    expected, actual = pruned(features), plain(features)
    np.testing.assert_allclose(
        np.where(mask, actual["sequence_output"], 0), np.where(mask, expected["sequence_output"], 0), atol=2e-5
    )
    np.testing.assert_allclose(actual["pooled_output"], expected["pooled_output"], atol=2e-5)
