import keras
import numpy as np
import pytest
import tensorflow as tf

from task_fixtures import DOMAINS, fixture_records
from xdomain_tf.errors import XDomainError
from xdomain_tf.tasks import MultiDomainTextClassifier
from xdomain_tf.tasks.student_spec import DEFAULT_STUDENT, StudentSpec, build_student, cut_layers


@pytest.fixture(scope="module")
def teacher():
    """A 4-layer teacher whose vocabulary is larger than the fixture text needs."""
    keras.utils.set_random_seed(3)
    texts = [r["text"] for r in fixture_records() + fixture_records("valid")]
    return MultiDomainTextClassifier.from_preset(
        "bert_mini", domains=DOMAINS, vocabulary=texts, vocabulary_size=160, sequence_length=24, pooling="mean",
    )


def _weights(layer):
    return [np.asarray(w) for w in layer.get_weights()]


def _train_texts(split="train"):
    return [r["text"] for r in fixture_records(split)]


def test_parse_and_str_round_trip():
    assert StudentSpec.parse("layers=3,vocab=trim") == StudentSpec(layers=3, vocabulary="trim")
    assert StudentSpec.parse("bert_mini, hidden=192, heads=3, vocab=5000") == StudentSpec(
        architecture="bert_mini", hidden=192, heads=3, vocabulary=5000
    )
    for text in ("bert_tiny", "layers=2", "bert_tiny,layers=4,intermediate=256,vocab=trim", DEFAULT_STUDENT):
        assert str(StudentSpec.parse(text)) == text


@pytest.mark.parametrize("spec, message", [
    ("bert_huge", "student 'bert_huge': unknown architecture; known: bert_base, .*bert_tiny"),
    ("layers=0", "layers must be a positive integer, got '0'"),
    ("layers=two", "layers must be a positive integer, got 'two'"),
    ("bert_tiny,depth=3", "unknown option 'depth=3'"),
    ("layers=2,vocab=half", "vocab must be full, trim or a number of tokens, got 'half'"),
    ("layers=2,hidden=64", "a student cut from the teacher keeps its hidden; name an architecture"),
    ("vocab=trim", "name an architecture, or layers=K"),
    ("", "student must be a SPEC"),
])
def test_bad_specs_are_one_line_errors(spec, message):
    with pytest.raises(XDomainError, match=message) as error:
        StudentSpec.parse(spec)
    assert "\n" not in str(error.value)


def test_cut_layers_are_evenly_spaced_from_the_first():
    assert cut_layers(6, 3) == [0, 2, 4]
    assert cut_layers(12, 6) == [0, 2, 4, 6, 8, 10]  # DistilBERT's
    assert cut_layers(4, 1) == [0]
    for bad in (0, 5, -1):
        with pytest.raises(XDomainError, match=f"layers={bad}: the teacher has 4 layers; K must be between 1 and 4"):
            cut_layers(4, bad)


def test_layers_k_copies_the_chosen_teacher_layers(teacher):
    student = build_student(teacher, "layers=2")
    assert student.teacher_layers == [0, 2] and student.layer_map == [0, 1, 3]
    encoder, source = student.classifier.encoder, teacher.encoder
    assert encoder.encoder_config.num_hidden_layers == 2
    for index, layer in enumerate(student.teacher_layers):
        for got, expected in zip(_weights(encoder.transformer_layers[index]), _weights(source.transformer_layers[layer])):
            np.testing.assert_array_equal(got, expected)
    # Not the other teacher layers: the copy follows the map.
    assert not np.array_equal(
        _weights(encoder.transformer_layers[1])[0], _weights(source.transformer_layers[1])[0]
    )
    for name in ("embeddings", "pooler"):
        for got, expected in zip(_weights(getattr(encoder, name)), _weights(getattr(source, name))):
            np.testing.assert_array_equal(got, expected)
    for got_head, teacher_head in zip(student.classifier.heads, teacher.heads):
        for got, expected in zip(_weights(got_head), _weights(teacher_head)):
            np.testing.assert_array_equal(got, expected)
    assert student.classifier.domains == teacher.domains and student.classifier.pooling == "mean"
    with pytest.raises(XDomainError, match="layers=5: the teacher has 4 layers"):
        build_student(teacher, "layers=5")


def test_vocab_trim_keeps_the_training_tokens_and_gathers_embedding_rows(teacher):
    texts = _train_texts()
    student = build_student(teacher, "layers=4,vocab=trim", texts=texts)
    tokenizer = student.classifier.preprocessor.tokenizer
    full = teacher.preprocessor.tokenizer
    assert tokenizer.vocabulary_size < full.vocabulary_size
    kept = np.array([full.token_to_id(token) for token in tokenizer.vocabulary])
    embeddings = student.classifier.encoder.embeddings.token_embedding.embeddings.numpy()
    np.testing.assert_array_equal(embeddings, teacher.encoder.embeddings.token_embedding.embeddings.numpy()[kept])
    ours = student.classifier.features(tf.constant(texts))
    theirs = teacher.features(tf.constant(texts))
    np.testing.assert_array_equal(kept[ours["token_ids"].numpy()], theirs["token_ids"].numpy())
    # All the teacher's layers over the trimmed vocabulary: the same function on that text.
    domain_id = tf.constant([teacher.domain_names.index(r["domain"]) for r in fixture_records()])
    got = student.classifier({**ours, "domain_id": domain_id})
    expected = teacher({**theirs, "domain_id": domain_id})
    for domain in DOMAINS:
        np.testing.assert_allclose(got[domain], expected[domain], atol=1e-5)
    capped = build_student(teacher, "layers=1,vocab=60", texts=texts)
    assert capped.classifier.preprocessor.tokenizer.vocabulary_size == 60
    with pytest.raises(XDomainError, match="vocab=trim needs the training texts"):
        build_student(teacher, "layers=1,vocab=trim")


def test_an_architecture_student_uses_the_teachers_tokenizer(teacher):
    student = build_student(teacher, "bert_tiny,hidden=64,heads=4")
    config = student.classifier.encoder.encoder_config
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.intermediate_size) == (
        2, 64, 4, 256
    )
    assert config.vocab_size == teacher.encoder.encoder_config.vocab_size
    assert student.classifier.preprocessor.tokenizer.vocabulary == teacher.preprocessor.tokenizer.vocabulary
    assert student.classifier.preprocessor.sequence_length == 24
    assert student.layer_map == [0, 2, 4] and student.teacher_layers is None
    assert student.classifier.learning_rate == 1e-3
    with pytest.raises(XDomainError, match="hidden_size 64 is not divisible by num_attention_heads 3"):
        build_student(teacher, "bert_tiny,hidden=64,heads=3")
    with pytest.raises(XDomainError, match="the teacher must be a MultiDomainTextClassifier"):
        build_student(teacher.encoder, "bert_tiny")
