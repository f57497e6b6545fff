import pytest

from text_fixtures import CORPUS


@pytest.fixture(scope="session")
def vocab_file(tmp_path_factory):
    """A vocab.txt learned from the fixture corpus (uncased, exact normalization)."""
    from xdomain_tf.text import train_wordpiece_vocabulary

    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    train_wordpiece_vocabulary(CORPUS, 400, output_path=path, min_frequency=1)
    return path


@pytest.fixture(scope="session")
def cased_vocab_file(tmp_path_factory):
    from xdomain_tf.text import train_wordpiece_vocabulary

    path = tmp_path_factory.mktemp("vocab_cased") / "vocab.txt"
    train_wordpiece_vocabulary(CORPUS, 500, lowercase=False, output_path=path, min_frequency=1)
    return path
