import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.export.tflite_export import tflite
from xdomain_tf.errors import XDomainError
from xdomain_tf.export.tflite_module import TFLiteModule, export_twin
from xdomain_tf.layers import multi_head_attention
from xdomain_tf.layers.layer_normalization import MatmulVarianceLayerNormalization
from xdomain_tf.runs.run_directory import RunDirectory

FIXTURE = pathlib.Path(__file__).parents[1] / "fixtures" / "multidomain"


def small_classifier():
    from xdomain_tf.models import EncoderConfig, build_encoder
    from xdomain_tf.tasks import MultiDomainTextClassifier

    config = EncoderConfig(vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=32, max_position_embeddings=8)
    model = MultiDomainTextClassifier(build_encoder(config), {"news": ["a", "b", "c"], "software": ["x", "y"]},
                                      pooling="mean", freeze_encoder="base")
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.weights])
    return model


def classifier_inputs():
    ids = np.array([[2, 5, 7, 9, 3, 0, 0, 0], [2, 6, 3, 0, 0, 0, 0, 0], [2, 8, 8, 8, 8, 8, 8, 3]], "int32")
    return {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": (ids > 0).astype("int32"),
            "domain_id": np.array([0, 1, 0], "int32")}


def test_export_twin_computes_the_same_with_other_layers():
    model = small_classifier()
    twin = export_twin(model, attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    assert type(twin) is type(model) and twin is not model
    assert (twin.encoder.attention_mask_mode, twin.encoder.layer_norm_mode) == ("bounded", "matmul_variance")
    assert type(twin.encoder.embeddings.layer_norm) is MatmulVarianceLayerNormalization
    assert {block.attention.mask_mode for block in twin.encoder.transformer_layers} == {"bounded"}
    # The model is untouched.
    assert (model.encoder.attention_mask_mode, model.encoder.layer_norm_mode) == ("large_negative", "standard")
    assert type(model.encoder.embeddings.layer_norm) is keras.layers.LayerNormalization
    assert [w.path for w in twin.weights] == [w.path for w in model.weights]
    assert [w.trainable for w in twin.weights] == [w.trainable for w in model.weights]
    expected, actual = model(classifier_inputs()), twin(classifier_inputs())
    for domain in expected:
        np.testing.assert_allclose(actual[domain], expected[domain], atol=1e-5)


def test_export_twin_round_trips_through_a_keras_file(tmp_path):
    twin = export_twin(small_classifier(), attention_mask_mode="bounded", layer_norm_mode="matmul_variance")
    expected = twin.predict(classifier_inputs(), verbose=0)
    keras.saving.save_model(twin, tmp_path / "twin.keras")
    reloaded = keras.saving.load_model(tmp_path / "twin.keras", safe_mode=True)
    assert (reloaded.encoder.attention_mask_mode, reloaded.encoder.layer_norm_mode) == ("bounded", "matmul_variance")
    actual = reloaded.predict(classifier_inputs(), verbose=0)
    for domain in expected["logits"]:
        np.testing.assert_array_equal(actual["logits"][domain], expected["logits"][domain])
    np.testing.assert_array_equal(actual["probabilities"], expected["probabilities"])


def test_export_twin_needs_the_options_in_the_config():
    with pytest.raises(XDomainError, match="no mask_mode in its config"):
        export_twin(small_classifier(), mask_mode="bounded")


def global_state():
    """Every attribute of the modules and classes the old export patched, by identity."""
    return {
        "multi_head_attention": dict(vars(multi_head_attention)),
        "keras.ops": dict(vars(keras.ops)),
        "LayerNormalization": dict(vars(keras.layers.LayerNormalization)),
    }


def test_tracing_for_int8_leaves_keras_and_our_modules_alone():
    model = small_classifier()
    before = global_state()
    layer_norm_call = keras.layers.LayerNormalization.call

    class Packed:  # a preprocessor stand-in: the ids signature never calls it
        pad_to, sequence_length = "fixed", 8

    module = TFLiteModule(model, Packed(), for_int8=True)
    signature = module.signature()
    after = global_state()
    assert after.keys() == before.keys()
    for name in before:
        assert after[name].keys() == before[name].keys(), name
        changed = [key for key in before[name] if after[name][key] is not before[name][key]]
        assert not changed, (name, changed)
    assert keras.layers.LayerNormalization.call is layer_norm_call
    assert multi_head_attention.ops is keras.ops
    graph_ops = [node.op for node in signature.graph.as_graph_def().node]
    assert graph_ops.count("Min") == 2 and graph_ops.count("SquaredDifference") == 0
    # The module traced a twin; the model itself still computes with Keras' layers.
    assert type(model.encoder.embeddings.layer_norm) is keras.layers.LayerNormalization
    inputs = classifier_inputs()
    outputs = signature(**{name: tf.constant(value) for name, value in inputs.items()})
    logits = model(inputs)
    for row, domain_id in enumerate(inputs["domain_id"]):
        expected = tf.nn.softmax(logits[model.domain_names[domain_id]][row]).numpy()
        np.testing.assert_allclose(outputs["probabilities"][row, : len(expected)], expected, atol=1e-5)


@pytest.mark.parametrize("for_int8", [False, True])
def test_signature_equals_keras_and_leaves_the_layers_alone(classifier_run, valid_records, for_int8):
    run = RunDirectory(classifier_run)
    model, preprocessor = run.load_model(), run.load_preprocessor()
    layer_norm_call = keras.layers.LayerNormalization.call
    module = TFLiteModule(model, preprocessor, for_int8=for_int8)
    signature = module.signature()
    assert multi_head_attention.ops is keras.ops
    assert keras.layers.LayerNormalization.call is layer_norm_call
    graph_ops = [node.op for node in signature.graph.as_graph_def().node]
    # 2 blocks: one bounded mask each (its 2 einsums are matmuls); 5 layer norms (embeddings + 2 per block).
    assert graph_ops.count("Min") == 2
    assert (graph_ops.count("SquaredDifference"), graph_ops.count("BatchMatMulV2")) == ((0, 4 + 5) if for_int8 else (5, 4))

    records = valid_records[:30]
    features = {name: value.numpy() for name, value in module.preprocessor(tf.constant([r["text"] for r in records])).items()}
    features["domain_id"] = np.array([model.domain_names.index(r["domain"]) for r in records], np.int32)
    logits = model(features)
    outputs = signature(**{name: tf.constant(features[name]) for name in ("token_ids", "segment_ids", "padding_mask", "domain_id")})
    for row, record in enumerate(records):
        expected = tf.nn.softmax(logits[record["domain"]][row]).numpy()
        np.testing.assert_allclose(outputs["probabilities"][row, : len(expected)], expected, atol=1e-5)


def train_fixture_run(base, steps=300, sequence_length=64):
    """A small mean-pooling classifier trained on tests/fixtures/multidomain. With Keras'
    -2.4e38 attention mask in the graph its int8 TFLite file agreed on 85-96% of labels."""
    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.models import EncoderConfig, build_encoder
    from xdomain_tf.tasks import MultiDomainTextClassifier
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.wordpiece_trainer import train_wordpiece_vocabulary
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    keras.utils.set_random_seed(0)
    train = [json.loads(line) for line in (FIXTURE / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [record["text"] for record in train]
    vocabulary = train_wordpiece_vocabulary(texts, 200, min_frequency=1)
    preprocessor = Preprocessor(WordPieceTokenizer(vocabulary), sequence_length)
    label_space = LabelSpace.from_records(train)
    config = EncoderConfig.architecture(
        "bert_tiny",
        vocab_size=len(vocabulary),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=sequence_length,
    )
    encoder = build_encoder(config)
    domains = {domain: list(label_space.labels(domain)) for domain in label_space.domains}
    model = MultiDomainTextClassifier(encoder, domains, preprocessor=preprocessor, dropout=0.0, pooling="mean")
    # One epoch over repeated data: `steps` batches of 16 without per-epoch overhead.
    repeats = steps * 16 // len(train)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(train * repeats, batch_size=16, epochs=1, verbose=0, seed=0)
    run = RunDirectory(base / "run")
    run.save(
        kind="classifier",
        model=model,
        encoder=encoder,
        encoder_config=config,
        preprocessor=preprocessor,
        label_space=label_space,
        options={
            "train": [str(FIXTURE / "train.jsonl")],
            "valid": [str(FIXTURE / "valid.jsonl")],
            "seq_len": sequence_length,
            "default_domain": None,
        },
    )
    return run.path


def test_int8_export_of_a_trained_model_agrees(tmp_path):
    run_dir = train_fixture_run(tmp_path)
    check = [str(FIXTURE / "train.jsonl"), str(FIXTURE / "valid.jsonl")]
    report = tflite(run_dir, tmp_path / "int8.tflite", quantize="int8", check_data=check)
    assert report["check_examples"] == 192
    assert report["agreement"] >= 0.98
    assert report["max_abs_difference"] < 0.1
    assert (tmp_path / "int8.tflite").stat().st_size == report["size_bytes"]
