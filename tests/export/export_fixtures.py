"""A tiny trained 2-domain classifier run directory, built through the public APIs, and
its exports; each is built once per test process and shared by tests/export, tests/serving
and tests/cli (import the fixtures from this module).
"""
import json
import random

import pytest

SEQUENCE_LENGTH = 32
# Label-specific words: the task is learnable in a few steps, so predictions have clear
# margins and quantized models can be checked for agreement.
WORDS = {
    "news": {
        "business": "market shares profit bank economy investors trade company stocks growth",
        "politics": "minister election parliament vote government party policy campaign law senate",
        "sport": "match goal team season coach league player football cup victory",
    },
    "software": {
        "games": "game player level puzzle arcade strategy multiplayer fun board score",
        "math": "algebra matrix equation numeric solver integral calculus vector theorem plot",
    },
}
COMMON = "the a of and with new for über café naïve today is to in 2024 — very"


def make_records(count_per_label, seed):
    generator = random.Random(seed)
    records = []
    common = COMMON.split()
    for domain, labels in WORDS.items():
        for label, words in labels.items():
            words = words.split()
            for _ in range(count_per_label):
                length = generator.randint(4, 18)
                text = [generator.choice(words if generator.random() < 0.45 else common) for _ in range(length)]
                text[generator.randrange(length)] = generator.choice(words)
                if generator.random() < 0.3:
                    text[0] = text[0].capitalize()
                records.append({"text": " ".join(text), "label": label, "domain": domain})
    generator.shuffle(records)
    return records


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def build_classifier_run(base):
    """Trains the tiny classifier and saves it with `RunDirectory.save`; returns the run path."""
    import keras

    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.models import EncoderConfig, TransformerEncoder
    from xdomain_tf.runs.run_directory import RunDirectory
    from xdomain_tf.tasks import MultiDomainTextClassifier
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
    from xdomain_tf.text.wordpiece_trainer import train_wordpiece_vocabulary

    keras.utils.set_random_seed(0)
    data = base / "data"
    data.mkdir(parents=True, exist_ok=True)
    train = make_records(60, seed=1)
    valid = make_records(20, seed=2)
    write_jsonl(data / "train.jsonl", train)
    write_jsonl(data / "valid.jsonl", valid)

    texts = [record["text"] for record in train]
    vocabulary = train_wordpiece_vocabulary(texts, 200, min_frequency=1)
    preprocessor = Preprocessor(WordPieceTokenizer(vocabulary), SEQUENCE_LENGTH)
    label_space = LabelSpace.from_records(train)
    config = EncoderConfig.architecture(
        "bert_tiny",
        vocab_size=len(vocabulary),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    encoder = TransformerEncoder(config, name="encoder")
    domains = {domain: list(label_space.labels(domain)) for domain in label_space.domains}
    model = MultiDomainTextClassifier(encoder, domains, preprocessor=preprocessor, dropout=0.0, pooling="mean")
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train, batch_size=16, epochs=4, verbose=0, seed=0)

    run = RunDirectory(base / "run")
    run.save(
        kind="classifier",
        model=model,
        encoder=encoder,
        encoder_config=config,
        preprocessor=preprocessor,
        label_space=label_space,
        options={
            "train": [str(data / "train.jsonl")],
            "valid": [str(data / "valid.jsonl")],
            "seq_len": SEQUENCE_LENGTH,
            "default_domain": None,
        },
    )
    return run.path


_CACHE = {}


def _cached(name, build):
    if name not in _CACHE:
        _CACHE[name] = build()
    return _CACHE[name]


@pytest.fixture(scope="session")
def classifier_run(tmp_path_factory):
    """The path of a finished tiny classifier run directory."""
    return _cached("run", lambda: build_classifier_run(tmp_path_factory.mktemp("classifier")))


@pytest.fixture(scope="session")
def exported_model(classifier_run, tmp_path_factory):
    """`(export base folder, version folder)` of the run's SavedModel export."""
    from xdomain_tf.export.saved_model_export import saved_model

    def build():
        base = tmp_path_factory.mktemp("export") / "xdomain"
        version_dir = saved_model(classifier_run, base, warmup_data=classifier_run.parent / "data" / "valid.jsonl")
        return base, version_dir

    return _cached("saved_model", build)


@pytest.fixture(scope="session")
def valid_records(classifier_run):
    path = classifier_run.parent / "data" / "valid.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def tflite_models(classifier_run, tmp_path_factory):
    """`{"ids": path, "text": path}`: unquantized TFLite files without and with the tokenizer."""
    from xdomain_tf.export.tflite_export import tflite

    def build():
        folder = tmp_path_factory.mktemp("tflite")
        return {
            "ids": tflite(classifier_run, folder / "ids.tflite")["path"],
            "text": tflite(classifier_run, folder / "text.tflite", with_tokenizer=True)["path"],
        }

    return _cached("tflite", build)
