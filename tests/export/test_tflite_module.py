import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from xdomain_tf.export.tflite import tflite
from xdomain_tf.export.tflite_module import (
    TFLiteModule,
    bounded_mask_attention,
    matmul_variance_layer_norm,
)
from xdomain_tf.layers import multi_head_attention
from xdomain_tf.training.run_directory import RunDirectory

FIXTURE = pathlib.Path(__file__).parents[1] / "fixtures" / "multidomain"


def attention_inputs(seed=0, scale=4.0):
    generator = np.random.default_rng(seed)
    # Large scores: a softmax that is far from uniform.
    return [(scale * generator.normal(size=(3, 5, 2, 8))).astype("float32") for _ in range(3)]


@pytest.mark.parametrize(
    "mask",
    [
        np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool)[:, None, None, :],
        np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, 1, 0, 1]], bool)[:, None, None, :],  # a row with no key
        np.tril(np.ones((5, 5), bool))[None, None],  # per query
    ],
)
def test_bounded_mask_attention_equals_keras(mask):
    query, key, value = attention_inputs()
    expected = keras.ops.dot_product_attention(query, key, value, mask=mask, scale=0.35)
    actual = bounded_mask_attention(query, key, value, mask=mask, scale=0.35)
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_bounded_mask_attention_passes_other_calls_to_keras():
    query, key, value = attention_inputs(seed=1)
    for options in ({}, {"is_causal": True}, {"bias": np.ones((1, 1, 5, 5), "float32")}):
        np.testing.assert_allclose(
            bounded_mask_attention(query, key, value, **options),
            keras.ops.dot_product_attention(query, key, value, **options),
            atol=1e-6,
        )


def test_bounded_mask_attention_keeps_masked_scores_near_the_real_ones():
    query, key, value = attention_inputs(seed=2)
    mask = np.array([[1, 1, 1, 0, 0]] * 3, bool)[:, None, None, :]
    graph = tf.function(lambda q, k, v: bounded_mask_attention(q, k, v, mask=mask, scale=0.35))
    graph_def = graph.get_concrete_function(query, key, value).graph.as_graph_def()
    constants = [
        abs(float(value))
        for node in graph_def.node
        if node.op == "Const" and node.attr["dtype"].type == tf.float32.as_datatype_enum
        for value in tf.make_ndarray(node.attr["value"].tensor).ravel()
    ]
    assert constants and max(constants) <= 20.0  # no -1e9 or -3.4e38 fill value


def test_matmul_variance_layer_norm_equals_keras_with_outlier_features():
    generator = np.random.default_rng(3)
    x = generator.normal(size=(2, 7, 16)).astype("float32")
    x[..., 5] *= 100.0  # a BERT-style outlier feature
    layer = keras.layers.LayerNormalization(epsilon=1e-12)
    layer.build(x.shape)
    layer.set_weights([generator.normal(size=16).astype("float32") for _ in range(2)])
    np.testing.assert_allclose(
        matmul_variance_layer_norm(x, layer.gamma, layer.beta, 1e-12), layer(x), atol=1e-5, rtol=1e-5
    )
    plain = keras.layers.LayerNormalization(center=False, scale=False, epsilon=1e-3)
    np.testing.assert_allclose(matmul_variance_layer_norm(x, epsilon=1e-3), plain(x), atol=1e-5)


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
    # 2 blocks: one bounded mask each; 5 layer norms (embeddings + 2 per block).
    assert graph_ops.count("Min") == 2
    assert (graph_ops.count("SquaredDifference"), graph_ops.count("BatchMatMulV2")) == ((0, 5) if for_int8 else (5, 0))

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
    from xdomain_tf.models import EncoderConfig, build_encoder, build_multi_domain_classifier
    from xdomain_tf.models.build_multi_domain_classifier import multi_domain_targets
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.train_wordpiece_vocabulary import train_wordpiece_vocabulary
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    keras.utils.set_random_seed(0)
    train = [json.loads(line) for line in (FIXTURE / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [record["text"] for record in train]
    vocabulary = train_wordpiece_vocabulary(texts, 200, min_frequency=1)
    preprocessor = Preprocessor(WordPieceTokenizer(vocabulary), sequence_length)
    label_space = LabelSpace.from_records(train)
    config = EncoderConfig.preset(
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
    model = build_multi_domain_classifier(encoder, domains, dropout=0.0, pooling="mean")
    encoded = [label_space.encode(record) for record in train]
    features = {name: value.numpy() for name, value in preprocessor(tf.constant(texts)).items()}
    features["domain_id"] = np.array([domain_id for domain_id, _ in encoded], "int32")
    targets = multi_domain_targets([label_id for _, label_id in encoded], features["domain_id"], label_space.domains)
    # One epoch over repeated data: `steps` batches of 16 without per-epoch overhead.
    repeats = steps * 16 // len(train)
    features = {name: np.concatenate([value] * repeats) for name, value in features.items()}
    targets = {name: np.concatenate([value.numpy()] * repeats) for name, value in targets.items()}
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss={domain: keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1) for domain in domains},
    )
    model.fit(features, targets, batch_size=16, epochs=1, verbose=0, shuffle=True)
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
