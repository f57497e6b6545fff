"""`xdomain-tf train --augment ...`: training batches are augmented, validation batches never;
bad augmentation options are one line and exit status 2."""
import json

import pytest

from xdomain_tf.cli.main import main
from xdomain_tf.training import classifier_training


@pytest.fixture
def dataset_calls(monkeypatch):
    """The keyword arguments of every `make_dataset` call of the training run."""
    calls = []
    make_dataset = classifier_training.make_dataset

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return make_dataset(*args, **kwargs)

    monkeypatch.setattr(classifier_training, "make_dataset", spy)
    return calls


def write_pairs(path, fixtures):
    """Pairs whose source texts are the first English training texts (German: made up)."""
    texts = [json.loads(line)["text"] for line in (fixtures / "train.jsonl").read_text().splitlines()[:3]]
    path.write_text("".join(json.dumps({"text": text, "text_pair": f"Übersetzung {index}", "lang": "de",
                                        "domain": "news"}) + "\n" for index, text in enumerate(texts)))
    return path


def test_train_with_augmentation_runs_end_to_end(tmp_path, capsys, dataset_calls, tiny_train_args, multidomain_fixtures):
    pairs = write_pairs(tmp_path / "pairs.jsonl", multidomain_fixtures)
    out = tmp_path / "run"
    code = main(["train", *tiny_train_args, "--steps", "2", "--augment", "mask:0.1,delete:0.1",
                 "--augment-pairs", str(pairs), "--augment-seed", "7", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert (out / "model.keras").is_file()
    calls = {call["training"]: call for call in dataset_calls}
    train_call, valid_call = calls[True], calls[False]
    assert [type(step).__name__ for step in train_call["augment"]] == ["TranslateTrain", "TokenMasking", "TokenDeletion"]
    assert train_call["augment_seed"] == 7
    assert "augment" not in valid_call  # validation batches are never augmented
    assert "augmentation of the training batches: TranslateTrain(3 translations), TokenMasking(0.1), " \
           "TokenDeletion(0.1)" in captured.out


@pytest.mark.parametrize("flags, message", [
    (["--augment", "mask:0.1,blur:0.2"],
     "--augment entry 'blur:0.2': unknown augmentation 'blur'; known: mask, delete, mlm_replace"),
    (["--augment", "delete:1.5"], "--augment entry 'delete:1.5': the rate must be a number in (0, 1), got 1.5"),
    (["--augment", "mlm_replace:0.15"],
     "--augment mlm_replace needs --augment-mlm (the masked LM: a pretrain run directory)"),
    (["--augment-mlm", "runs/mlm"],
     "--augment-mlm runs/mlm is used by mlm_replace only: add e.g. mlm_replace:0.15 to --augment"),
    (["--augment-pairs", "no/pairs.jsonl"], "--augment-pairs no/pairs.jsonl: no such file"),
])
def test_bad_augmentation_options_are_one_line(tmp_path, monkeypatch, capsys, flags, message):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--train", "a.jsonl", "--out", "run", *flags]) == 2
    assert capsys.readouterr().err == f"xdomain-tf train: error: {message}\n"
    assert not (tmp_path / "run").exists()


@pytest.fixture
def masked_lm_folder(tmp_path, multidomain_fixtures):
    """A Hugging Face BERT folder with a (random) masked-LM head, on the fixtures' words."""
    import keras

    from xdomain_tf.checkpoints import save_hf_bert
    from xdomain_tf.models import EncoderConfig, MaskedLM, build_encoder

    words = sorted({word.strip(".,").lower() for line in (multidomain_fixtures / "train.jsonl").read_text().splitlines()
                    for word in json.loads(line)["text"].split()})
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", *words]
    keras.utils.set_random_seed(0)
    encoder = build_encoder(EncoderConfig(vocab_size=len(vocabulary), hidden_size=16, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=32))
    masked_lm = MaskedLM(encoder)
    return save_hf_bert(encoder, vocabulary, tmp_path / "mlm", mlm_head_weights=masked_lm.mlm_head)


def test_mlm_replace_uses_the_masked_lm_of_augment_mlm(tmp_path, capsys, dataset_calls, tiny_train_args, masked_lm_folder):
    args = [flag if flag != "bert_tiny" else str(masked_lm_folder) for flag in tiny_train_args]
    code = main(["train", *args, "--steps", "1", "--augment", "mlm_replace:0.2",
                 "--augment-mlm", str(masked_lm_folder), "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    step, = {call["training"]: call for call in dataset_calls}[True]["augment"]
    assert repr(step) == "ContextualReplacement(0.2, sample=True)"
    assert type(step.masked_lm).__name__ == "MaskedLM"


def test_augment_mlm_needs_a_head_and_the_classifier_vocabulary(tmp_path, masked_lm_folder):
    from xdomain_tf.checkpoints import load_hf_bert, save_hf_bert
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    loaded = load_hf_bert(masked_lm_folder)
    same = Preprocessor(loaded.tokenizer, 16)
    assert type(classifier_training._augment_masked_lm(masked_lm_folder, same)).__name__ == "MaskedLM"
    other = Preprocessor(WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "x"]), 16)
    with pytest.raises(XDomainError, match="has another vocabulary than the classifier"):
        classifier_training._augment_masked_lm(masked_lm_folder, other)
    headless = save_hf_bert(loaded.encoder, loaded.tokenizer, tmp_path / "headless")
    with pytest.raises(XDomainError, match="has no masked-LM head"):
        classifier_training._augment_masked_lm(headless, same)
