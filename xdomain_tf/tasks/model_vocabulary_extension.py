"""A pretrained encoder whose vocabulary grew new WordPieces for a new language, each new
embedding started at the mean of the embeddings of the pieces it replaces."""
import dataclasses
import io
import os

import numpy as np

from xdomain_tf.errors import XDomainError
from xdomain_tf.utils.storage import storage_path

TOKEN_EMBEDDING = "embeddings/token_embedding/embeddings"
REPORT_FILE = "vocabulary_extension.json"
HEAD_FILE = "mlm_head.npz"  # as `xdomain_tf.training.pretraining.head_weights` reads it
ALL_TEXTS = "all"
PREPROCESSOR_OPTIONS = ("sequence_length", "truncation", "pad_to", "pad_to_multiple_of")


@dataclasses.dataclass
class ExtendedModel:
    """What `extend_model_vocabulary` returns.

    Args:
        encoder: the plain `TransformerEncoder` over the extended vocabulary.
        preprocessor: a `Preprocessor` over the extended tokenizer.
        extension: the `xdomain_tf.text.vocabulary_extension.VocabularyExtension`.
        mlm_head_weights: the masked-LM head weights (Keras layout), its output bias
            grown like the embedding, or None when the source had no head.
        classifier: the extended `MultiDomainTextClassifier` when one was given, else None.
        report: `{"source", "old_vocabulary_size", "vocabulary_size", "added",
            "pieces_per_word": {language: {"before", "after", ...}}}`.

    Example:

    >>> ExtendedModel(None, None, None, None, None, {"added": 0}).report
    {'added': 0}
    """

    encoder: object
    preprocessor: object
    extension: object
    mlm_head_weights: dict
    classifier: object
    report: dict

    def save(self, out, options=None):
        """Writes a run directory that `pretrain --init`, `train --init` and
        `pretrain-eval --model` take (`kind="pretrain"`): `model.keras` (a `MaskedLM`),
        `encoder.weights.h5`, `encoder_config.json`, `preprocessor.json`, `vocab.txt`,
        `mlm_head.npz` (when the source had a head) and `vocabulary_extension.json`
        (the report). An extended classifier is saved as a classifier run instead
        (`model.keras` is the classifier, also what `export` takes).

        Args:
            out: the folder; it must be new or empty.
            options: what to record as the run's options (e.g. the command's flags).

        Returns:
            The folder, a `pathlib.Path` (a `StoragePath` for a URL).
        """
        from xdomain_tf.models import MaskedLM
        from xdomain_tf.runs.run_directory import RunDirectory
        from xdomain_tf.utils.atomic import atomic_path, write_json_atomic

        run = RunDirectory(out)
        if run.is_complete:
            raise XDomainError(f"{run.path}: already holds a run; write the extended model to a new out folder")
        lock = run.claim(dict(options or {}), data_options=())
        try:
            if self.mlm_head_weights is not None:
                from xdomain_tf.checkpoints.mlm_head_weights import check_mlm_head_keys

                check_mlm_head_keys(self.mlm_head_weights)
                buffer = io.BytesIO()
                np.savez(buffer, **self.mlm_head_weights)
                with atomic_path(run.path / HEAD_FILE) as tmp:
                    tmp.write_bytes(buffer.getvalue())
            write_json_atomic(run.path / REPORT_FILE, self.report)
            common = dict(
                encoder=self.encoder, encoder_config=self.encoder.encoder_config, preprocessor=self.preprocessor,
                options=dict(options or {}), extra={"vocabulary_extension": self.report},
            )
            if self.classifier is not None:
                from xdomain_tf.data.label_space import LabelSpace

                label_space = LabelSpace({domain: list(labels) for domain, labels in self.classifier.domains.items()})
                run.save(kind="classifier", model=self.classifier, label_space=label_space, **common)
            else:
                model = MaskedLM(self.encoder, mlm_head_weights=self.mlm_head_weights, name="masked_lm")
                run.save(kind="pretrain", model=model, **common)
        finally:
            lock.release()
        return run.path


def extend_model_vocabulary(
    model_or_run, texts, add, heldout=None, mlm_head_weights=None, sequence_length=None, min_frequency=2, log=None
):
    """Adds up to `add` WordPieces learned on `texts` to a pretrained model's vocabulary.

    The pieces come from `xdomain_tf.text.vocabulary_extension.extend_vocabulary`: old
    tokens keep their ids and embeddings, and each new token's embedding row is the mean
    of the rows of the pieces the old tokenizer split it into (`[UNK]`'s row when the
    old vocabulary could not spell it), so the encoder first sees a new token about as
    it saw its pieces. The masked-LM head stays tied to the grown embedding; its output
    bias grows the same way (mean of the pieces' biases). Pieces per word are measured
    before and after, per language, on `heldout` (default: `texts`).

    Args:
        model_or_run: an `--init` value with a tokenizer (`all-minilm-l6-v2`, a Hugging
            Face BERT folder, a run directory, a `.keras` file; see
            `xdomain_tf.checkpoints.resolve_init`) or a `MultiDomainTextClassifier`
            (whose heads are kept; adapters and LoRA are merged or dropped, as in
            `plain_encoder`).
        texts: the new language's texts: a list of strings, or `{language: [texts]}`.
        add: how many new pieces at most.
        heldout: texts to measure pieces per word on, of the same kinds as `texts`.
        mlm_head_weights: the source's masked-LM head (Keras layout), when it is not found
            with the source (a Hugging Face folder's `cls.predictions.*` or a run's
            `mlm_head.npz` are).
        sequence_length: the preprocessor's (default: a classifier's, else 128; a
            classifier's other preprocessing options are kept).
        min_frequency: a pair of pieces seen fewer times is never merged.
        log: where progress lines go (None: nowhere).

    Returns:
        An `ExtendedModel`; `.save(out)` writes it as a run directory.

    Example:

    >>> from xdomain_tf.tasks import MultiDomainTextClassifier
    >>> vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "d", "e", "i", "r", "##d", "##e", "##i", "##r"]
    >>> classifier = MultiDomainTextClassifier.from_preset(
    ...     "bert_tiny", domains={"news": ["a", "b"]}, sequence_length=16, vocabulary=vocabulary)
    >>> extended = extend_model_vocabulary(classifier, {"de": ["der die der die der"]}, add=2, min_frequency=1)
    >>> extended.extension.added, extended.encoder.encoder_config.vocab_size
    (['##er', 'der'], 15)
    >>> extended.report["pieces_per_word"]["de"]["before"], extended.report["pieces_per_word"]["de"]["after"]
    (3.0, 1.8)
    """
    from xdomain_tf.checkpoints.init_resolution import plain_encoder
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.vocabulary_extension import extend_vocabulary

    log = log or (lambda line: None)
    groups = _grouped(texts, "texts")
    measured = _grouped(heldout, "heldout") if heldout is not None else groups
    source, classifier = _source(model_or_run)
    if source.tokenizer is None:
        raise XDomainError(
            f"{source.source}: has no tokenizer to extend (an architecture name starts from a new vocabulary: "
            "train one on all the languages instead)"
        )
    if mlm_head_weights is None:
        mlm_head_weights = source.mlm_head_weights
    learn = [text for values in groups.values() for text in values]
    log(f"learning up to {add} new WordPieces on {len(learn):,} texts ({', '.join(groups)})")
    extension = extend_vocabulary(source.tokenizer, learn, add, min_frequency=min_frequency)
    if len(extension.added) < add:
        log(f"the texts gave only {len(extension.added)} new pieces (no pair is seen {min_frequency} times any more)")
    encoder = _grown_encoder(plain_encoder(source.encoder), extension)
    if mlm_head_weights is not None:
        mlm_head_weights = dict(mlm_head_weights)
        mlm_head_weights["output_bias"] = grown_rows(np.asarray(mlm_head_weights["output_bias"]), extension)
    options = dict(source.preprocessor_options or {"sequence_length": 128})
    if sequence_length:
        options["sequence_length"] = sequence_length
    preprocessor = Preprocessor(extension.tokenizer, **options)
    report = {
        "source": source.source,
        "old_vocabulary_size": extension.old_size,
        "vocabulary_size": extension.tokenizer.vocabulary_size,
        "added": len(extension.added),
        "pieces_per_word": pieces_per_word_change(source.tokenizer, extension.tokenizer, measured),
    }
    if classifier is not None:
        classifier = _grown_classifier(classifier, encoder, preprocessor)
    return ExtendedModel(encoder, preprocessor, extension, mlm_head_weights, classifier, report)


def pieces_per_word_change(old_tokenizer, new_tokenizer, texts):
    """Pieces per word (and `[UNK]` rate) of two tokenizers, per language.

    Args:
        old_tokenizer: the tokenizer before.
        new_tokenizer: the tokenizer after.
        texts: `{language: [texts]}`, or a list (reported as `"all"`).

    Returns:
        `{language: {"before", "after", "unknown_before", "unknown_after", "words"}}`.

    Example:

    >>> from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
    >>> old = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "gut", "##en"])
    >>> new = WordPieceTokenizer(old.vocabulary + ["guten"])
    >>> pieces_per_word_change(old, new, {"de": ["guten gut"]})
    {'de': {'before': 1.5, 'after': 1.0, 'unknown_before': 0.0, 'unknown_after': 0.0, 'words': 2}}
    """
    from xdomain_tf.text.vocabulary_extension import pieces_per_word

    result = {}
    for language, values in _grouped(texts, "texts").items():
        before, after = pieces_per_word(old_tokenizer, values), pieces_per_word(new_tokenizer, values)
        result[language] = {
            "before": round(before["pieces_per_word"], 4),
            "after": round(after["pieces_per_word"], 4),
            "unknown_before": round(before["unknown_rate"], 6),
            "unknown_after": round(after["unknown_rate"], 6),
            "words": before["words"],
        }
    return result


def grown_rows(rows, extension):
    """`rows` (an array whose first axis is the old vocabulary: an embedding matrix or an
    output bias) with one appended row per new token: the mean of its sources' rows.

    Rows past the old vocabulary (padding of some checkpoints) are dropped: the new
    tokens take their ids.

    Example:

    >>> from xdomain_tf.text.vocabulary_extension import VocabularyExtension
    >>> extension = VocabularyExtension(None, ["ab", "c"], [[0, 1], [2]], old_size=3)
    >>> grown_rows(np.array([[1.0], [3.0], [5.0]]), extension).tolist()
    [[1.0], [3.0], [5.0], [2.0], [5.0]]
    """
    rows = np.asarray(rows)
    if rows.shape[0] < extension.old_size:
        raise XDomainError(
            f"the embedding has {rows.shape[0]} rows for a vocabulary of {extension.old_size} tokens"
        )
    rows = rows[: extension.old_size]
    new = [rows[sources].mean(axis=0) for sources in extension.sources]
    if not new:
        return rows.copy()
    return np.concatenate([rows, np.stack(new).astype(rows.dtype)], axis=0)


def _grouped(texts, name):
    if isinstance(texts, dict):
        groups = {str(language): list(values) for language, values in texts.items()}
    elif isinstance(texts, (str, bytes)):
        groups = {ALL_TEXTS: [texts]}
    else:
        groups = {ALL_TEXTS: list(texts)}
    groups = {language: values for language, values in groups.items() if values}
    if not groups:
        raise XDomainError(f"vocabulary extension: {name} holds no text")
    return groups


@dataclasses.dataclass
class _Source:
    encoder: object
    tokenizer: object
    mlm_head_weights: dict
    source: str
    preprocessor_options: dict = None


def _source(model_or_run):
    """The encoder, tokenizer and head of what is extended; and the classifier, if one."""
    from xdomain_tf.tasks.multi_domain_text_classifier import MultiDomainTextClassifier

    if isinstance(model_or_run, MultiDomainTextClassifier):
        preprocessor = model_or_run.preprocessor
        if preprocessor is None:
            raise XDomainError("the classifier has no preprocessor (tokenizer) to extend")
        options = {key: getattr(preprocessor, key) for key in PREPROCESSOR_OPTIONS}
        return (
            _Source(model_or_run.encoder, preprocessor.tokenizer, None, f"classifier {model_or_run.name}", options),
            model_or_run,
        )
    if not isinstance(model_or_run, (str, os.PathLike)):
        raise XDomainError(
            f"extend_model_vocabulary takes an --init value or a MultiDomainTextClassifier, got "
            f"{type(model_or_run).__name__}"
        )
    from xdomain_tf.checkpoints.init_resolution import resolve_init

    initialized = resolve_init(model_or_run)
    head = initialized.mlm_head_weights
    path = storage_path(str(model_or_run)).expanduser()
    if head is None and (path / HEAD_FILE).is_file():
        with np.load(io.BytesIO((path / HEAD_FILE).read_bytes())) as values:
            head = {key: values[key] for key in values.files}
    return _Source(initialized.encoder, initialized.tokenizer, head, initialized.source), None


def _grown_encoder(encoder, extension):
    """A copy of the plain `encoder` over the extended vocabulary (new rows: `grown_rows`)."""
    from xdomain_tf.models.transformer_encoder import build_encoder

    config = dataclasses.replace(encoder.encoder_config, vocab_size=extension.tokenizer.vocabulary_size)
    grown = build_encoder(config, name=encoder.name)
    by_path = {weight.path.removeprefix(f"{encoder.name}/"): weight for weight in encoder.weights}
    for weight in grown.weights:
        path = weight.path.removeprefix(f"{grown.name}/")
        value = np.asarray(by_path[path].numpy())
        if path == TOKEN_EMBEDDING:
            value = grown_rows(value, extension)
        weight.assign(value)
    return grown


def _grown_classifier(classifier, encoder, preprocessor):
    from xdomain_tf.tasks.multi_domain_text_classifier import MultiDomainTextClassifier

    grown = MultiDomainTextClassifier(
        encoder, classifier.domains, preprocessor=preprocessor, dropout=classifier.dropout, pooling=classifier.pooling,
    )
    for new_head, old_head in zip(grown.heads, classifier.heads):
        new_head.set_weights(old_head.get_weights())
    return grown
