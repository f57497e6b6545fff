"""Small data and a tiny classifier for the task tests (built through the public API)."""
import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "multidomain"
DOMAINS = {"news": ["politics", "sport", "tech"], "software": ["games", "science"]}


def fixture_records(split="train"):
    from xdomain_tf.data import read_records

    return list(read_records([FIXTURES / f"{split}.jsonl"]))


def tiny_classifier(sequence_length=24, **kwargs):
    from xdomain_tf.tasks import MultiDomainTextClassifier

    texts = [record["text"] for record in fixture_records()]
    return MultiDomainTextClassifier.from_preset(
        "bert_tiny", domains=DOMAINS, vocabulary=texts, vocabulary_size=120, sequence_length=sequence_length, **kwargs
    )
