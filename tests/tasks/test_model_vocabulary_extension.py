import json
import pathlib
import sys

import keras
import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "checkpoints"))
from checkpoint_fixtures import TINY_VOCAB, random_hf_tensors, tiny_config, write_hf_folder  # noqa: E402
from task_fixtures import DOMAINS, fixture_records, tiny_classifier  # noqa: E402

from xdomain_tf.errors import XDomainError  # noqa: E402
from xdomain_tf.tasks.model_vocabulary_extension import extend_model_vocabulary  # noqa: E402

# "German" made of the tiny vocabulary's letters: its words shatter into single characters.
GERMAN = [
    "der hund und die katze sitzen auf der matte",
    "die katze und der hund laufen",
    "der hund sitzt und die katze liegt auf der matte",
    "hunde und katzen sitzen",
] * 3
OLD_WORDS = "the cat sat on the mat hello world"
EMBEDDING = "embeddings/token_embedding/embeddings"


@pytest.fixture(scope="module")
def mlm_folder(tmp_path_factory):
    """A tiny Hugging Face BERT folder with a masked-LM head; its embedding has 3 rows
    more than its vocabulary, as some real checkpoints do."""
    config = tiny_config()
    folder = tmp_path_factory.mktemp("hf") / "tiny_mlm"
    return write_hf_folder(folder, config, random_hf_tensors(config, mlm_head=True))


@pytest.fixture(scope="module")
def source(mlm_folder):
    from xdomain_tf.checkpoints import resolve_init

    return resolve_init(mlm_folder)


@pytest.fixture(scope="module")
def extended(mlm_folder):
    return extend_model_vocabulary(str(mlm_folder), {"de": GERMAN}, add=12, min_frequency=2)


def _by_path(model):
    return {weight.path.removeprefix(model.name + "/"): weight.numpy() for weight in model.weights}


def test_old_rows_and_other_weights_are_unchanged(source, extended):
    old, new = _by_path(source.encoder), _by_path(extended.encoder)
    assert sorted(old) == sorted(new)
    size = len(TINY_VOCAB)
    assert new[EMBEDDING].shape == (size + len(extended.extension.added), old[EMBEDDING].shape[1])
    np.testing.assert_array_equal(new[EMBEDDING][:size], old[EMBEDDING][:size])
    for path in old:
        if path != EMBEDDING:
            np.testing.assert_array_equal(new[path], old[path], err_msg=path)


def test_new_rows_are_the_mean_of_their_old_pieces(source, extended):
    extension = extended.extension
    assert len(extension.added) == 12
    assert "katze" in extension.added or "##atze" in extension.added
    rows = _by_path(source.encoder)[EMBEDDING]
    new_rows = _by_path(extended.encoder)[EMBEDDING][extension.old_size:]
    for index, (token, sources) in enumerate(zip(extension.added, extension.sources)):
        expected_pieces = source.tokenizer.tokenize([token.removeprefix("##")]).to_list()[0]
        if not token.startswith("##"):
            assert sources == expected_pieces
        assert len(sources) >= 2
        np.testing.assert_allclose(new_rows[index], rows[sources].mean(axis=0), rtol=1e-6, err_msg=token)


def test_old_vocabulary_text_tokenizes_and_encodes_as_before(source, extended):
    old_ids = source.tokenizer.tokenize([OLD_WORDS]).to_list()
    assert extended.preprocessor.tokenizer.tokenize([OLD_WORDS]).to_list() == old_ids
    assert max(extended.preprocessor.tokenizer.tokenize(GERMAN[:1]).to_list()[0]) >= extended.extension.old_size
    ids = np.array(old_ids, "int32")
    inputs = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}
    np.testing.assert_allclose(
        extended.encoder(inputs)["sequence_output"], source.encoder(inputs)["sequence_output"], atol=1e-6
    )


def test_mlm_head_stays_tied_and_grows(source, extended):
    from xdomain_tf.models import MaskedLM

    extension = extended.extension
    bias = extended.mlm_head_weights["output_bias"]
    old_bias = source.mlm_head_weights["output_bias"]
    assert bias.shape == (extension.tokenizer.vocabulary_size,)
    np.testing.assert_array_equal(bias[: extension.old_size], old_bias[: extension.old_size])
    expected = [old_bias[sources].mean() for sources in extension.sources]
    np.testing.assert_allclose(bias[extension.old_size:], expected, rtol=1e-6)
    for key in ("transform_kernel", "transform_bias", "layer_norm_gamma", "layer_norm_beta"):
        np.testing.assert_array_equal(extended.mlm_head_weights[key], source.mlm_head_weights[key])
    model = MaskedLM(extended.encoder, mlm_head_weights=extended.mlm_head_weights)
    assert model.mlm_head._embedding_matrix() is extended.encoder.embeddings.token_embedding_matrix
    ids = np.array([[2, 40, 4, 3]], "int32")
    logits = model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids,
                    "mask_positions": np.array([[2]], "int32")})["mlm_logits"]
    assert logits.shape == (1, 1, extension.tokenizer.vocabulary_size)


def test_saved_run_is_an_init_that_loads_and_trains(source, extended, tmp_path):
    from xdomain_tf.checkpoints import resolve_init
    from xdomain_tf.models import MaskedLM
    from xdomain_tf.runs.run_directory import RunDirectory
    from xdomain_tf.training.pretraining.head_weights import mlm_head_weights_for

    out = extended.save(tmp_path / "extended", options={"add": 12})
    assert RunDirectory(out).run_info()["kind"] == "pretrain"
    report = json.loads((out / "vocabulary_extension.json").read_text())
    assert report["added"] == 12 and report["vocabulary_size"] == len(TINY_VOCAB) + 12
    assert report["pieces_per_word"]["de"]["after"] < report["pieces_per_word"]["de"]["before"]

    loaded = resolve_init(out)
    assert loaded.tokenizer.vocabulary == extended.extension.tokenizer.vocabulary
    assert loaded.config.vocab_size == len(TINY_VOCAB) + 12
    for path, value in _by_path(extended.encoder).items():
        np.testing.assert_array_equal(_by_path(loaded.encoder)[path], value, err_msg=path)
    head = mlm_head_weights_for(str(out))
    np.testing.assert_array_equal(head["output_bias"], extended.mlm_head_weights["output_bias"])

    model = MaskedLM(loaded.encoder, mlm_head_weights=head)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss={"mlm_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)})
    ids = loaded.tokenizer.tokenize(GERMAN[:2]).to_list()
    width = max(map(len, ids))
    token_ids = np.array([row + [0] * (width - len(row)) for row in ids], "int32")
    new_id = len(TINY_VOCAB)
    before = model.mlm_head.output_bias.numpy()[new_id]
    targets = np.full((2, 1), new_id, "int32")
    batch = {"token_ids": token_ids, "segment_ids": 0 * token_ids, "padding_mask": (token_ids > 0).astype("int32"),
             "mask_positions": np.ones((2, 1), "int32")}
    loss = model.train_on_batch(batch, {"mlm_logits": targets})
    assert np.isfinite(loss)
    assert model.mlm_head.output_bias.numpy()[new_id] > before  # the new token's logit learns


def test_extended_run_is_a_train_init(extended, tmp_path):
    from xdomain_tf.training.encoder_preparation import prepare_encoder
    from xdomain_tf.runs.run_directory import RunDirectory

    out = extended.save(tmp_path / "init", options={})
    prepared = prepare_encoder(str(out), RunDirectory(tmp_path / "train"), texts=None, vocab_size=None, seq_len=16,
                               log=lambda line: None)
    assert prepared.pretrained
    assert prepared.preprocessor.tokenizer.vocabulary == extended.extension.tokenizer.vocabulary


def test_classifier_keeps_heads_and_predictions_on_old_words(tmp_path):
    classifier = tiny_classifier()
    texts = [record["text"] for record in fixture_records()]
    extended = extend_model_vocabulary(classifier, {"en": texts}, add=10, min_frequency=1)
    grown = extended.classifier
    assert grown.domains == classifier.domains == DOMAINS
    assert grown.preprocessor.tokenizer.vocabulary_size == classifier.preprocessor.tokenizer.vocabulary_size + 10
    old_words = [token for token in classifier.preprocessor.tokenizer.vocabulary if token.isalpha()][:12]
    sample = [" ".join(old_words)]
    features = classifier.features(sample)
    grown_features = grown.features(sample)
    np.testing.assert_array_equal(grown_features["token_ids"], features["token_ids"])
    for domain in DOMAINS:
        x = {"text": sample, "domain": [domain]}
        np.testing.assert_allclose(grown.predict(x, verbose=0)["logits"][domain],
                                   classifier.predict(x, verbose=0)["logits"][domain], atol=1e-5)
    out = extended.save(tmp_path / "classifier_run")
    from xdomain_tf.tasks import MultiDomainTextClassifier

    reloaded = MultiDomainTextClassifier.from_preset(str(out))
    assert reloaded.preprocessor.tokenizer.vocabulary == grown.preprocessor.tokenizer.vocabulary


def test_a_name_without_tokenizer_and_a_bad_add_are_refused(mlm_folder):
    with pytest.raises(XDomainError, match="no tokenizer to extend"):
        extend_model_vocabulary("bert_tiny", ["some text"], add=3)
    with pytest.raises(XDomainError, match="positive integer"):
        extend_model_vocabulary(str(mlm_folder), ["der hund"], add=0)
    with pytest.raises(XDomainError, match="holds no text"):
        extend_model_vocabulary(str(mlm_folder), {"de": []}, add=3)


def test_an_extended_classifier_exports_to_tflite_with_its_tokenizer(tmp_path):
    from xdomain_tf.export import tflite
    from xdomain_tf.serving import TFLitePredictor

    classifier = tiny_classifier()
    texts = [record["text"] for record in fixture_records()]
    grown = extend_model_vocabulary(classifier, {"en": texts}, add=10, min_frequency=1).classifier
    path = tmp_path / "extended.tflite"
    tflite(grown, path, quantize="none", with_tokenizer=True)
    predictor = TFLitePredictor(path)
    # The on-device tokenizer holds the new WordPieces: the file's probabilities equal Keras's.
    sample = texts[:4]
    domains = [list(DOMAINS)[index % len(DOMAINS)] for index in range(len(sample))]
    domain_id = np.array([list(DOMAINS).index(domain) for domain in domains], np.int32)
    outputs = predictor.classify(sample, domain_id)
    expected = grown.predict({"text": sample, "domain": domains}, verbose=0)["probabilities"]
    np.testing.assert_allclose(outputs["probabilities"], np.asarray(expected)[:, : outputs["probabilities"].shape[1]],
                               atol=1e-5)
    new_ids = set(range(classifier.preprocessor.tokenizer.vocabulary_size, grown.preprocessor.tokenizer.vocabulary_size))
    assert new_ids & set(grown.features(sample)["token_ids"].numpy().ravel().tolist())
