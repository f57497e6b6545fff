"""`TFLitePredictor`: predictions of a TFLite file written by `xdomain-tf export --tflite`."""
import pathlib

from xdomain_tf.errors import XDomainError
from xdomain_tf.serving.predictor import Predictor


class TFLitePredictor(Predictor):
    """Labels texts with a TFLite file and its `.labels.json` (and `.vocab.txt`).

    A file without an in-graph tokenizer gets ids from a `Preprocessor` rebuilt from the
    vocabulary and the tokenizer options of the labels file, as an app would. Runs in
    ai-edge-litert's interpreter (with tensorflow-text's custom ops for a file with the
    tokenizer).

    Args:
        path: the .tflite file.
        batch_size: texts per interpreter call.
        num_threads: interpreter threads.

    Example:

        TFLitePredictor("model.tflite").predict(["A late goal won the cup"], "news")
    """

    kind = "tflite"

    def __init__(self, path, batch_size=64, num_threads=None):
        super().__init__(batch_size)
        from xdomain_tf.export.tflite_export import litert_interpreter, read_tflite_sidecar

        self.path = pathlib.Path(path)
        if not self.path.is_file():
            raise XDomainError(f"{self.path}: no such TFLite file")
        self.sidecar = read_tflite_sidecar(self.path)
        self.domains = {entry["name"]: list(entry["labels"]) for entry in self.sidecar["domains"]}
        self.with_tokenizer = bool(self.sidecar["with_tokenizer"])
        self.preprocessor = None
        if not self.with_tokenizer:
            self.preprocessor = _sidecar_preprocessor(self.path, self.sidecar)
        interpreter = litert_interpreter(self.path.read_bytes(), self.with_tokenizer, num_threads)
        self.runner = interpreter.get_signature_runner(self.sidecar.get("signature", "serving_default"))

    def _predict_batch(self, texts, domains, text_pairs):
        import numpy as np
        import tensorflow as tf

        if text_pairs is not None:
            raise XDomainError("TFLite files take single texts; text pairs need the SavedModel or run directory")
        names = list(self.domains)
        domain_id = np.array([names.index(domain) for domain in domains], np.int32)
        if self.with_tokenizer:
            outputs = self.runner(text=np.array([text.encode("utf-8") for text in texts], dtype=object), domain_id=domain_id)
        else:
            features = self.preprocessor(tf.constant(texts))
            outputs = self.runner(
                token_ids=features["token_ids"].numpy(),
                segment_ids=features["segment_ids"].numpy(),
                padding_mask=features["padding_mask"].numpy(),
                domain_id=domain_id,
            )
        labels = [self.domains[domain][int(index)] for domain, index in zip(domains, outputs["label_id"])]
        return labels, outputs["score"]


def _sidecar_preprocessor(path, sidecar):
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    options = sidecar["tokenizer"]
    vocabulary = pathlib.Path(path).with_name(options["vocabulary"])
    if not vocabulary.exists():
        raise XDomainError(f"{path}: its vocabulary {vocabulary} is missing")
    tokenizer = WordPieceTokenizer(
        str(vocabulary),
        lowercase=options["lowercase"],
        strip_accents=options["strip_accents"],
        normalization=options["normalization"],
        suffix_indicator=options["suffix_indicator"],
        max_bytes_per_word=options["max_bytes_per_word"],
    )
    return Preprocessor(tokenizer, sidecar["sequence_length"], truncation=options["truncation"], pad_to="fixed")
