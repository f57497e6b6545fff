"""Loads a Hugging Face BERT folder into our encoder and tokenizer."""
import dataclasses
import logging
import pathlib

from xdomain_tf.errors import XDomainError
from xdomain_tf.models.encoder_config import EncoderConfig

_LOG = logging.getLogger(__name__)
# Fields that may differ from the checkpoint's config.json: they change no weight shape.
_OVERRIDABLE = ("hidden_dropout_prob", "attention_probs_dropout_prob")


@dataclasses.dataclass
class LoadedBert:
    """What `load_hf_bert` returns.

    Attributes:
        encoder: the encoder (a `TransformerEncoder`) with the weights.
        tokenizer: a `WordPieceTokenizer` on the folder's vocab.txt, or None without one.
        config: the `EncoderConfig`.
        mlm_head_weights: the masked-LM head in Keras layout (see
            `xdomain_tf.checkpoints.mlm_head_weights`), or None when the checkpoint has no
            `cls.predictions.*` tensors (a pretraining model then creates a head tied to
            the word embeddings).
        path: the folder.
        has_pooler: False when the checkpoint had no pooler (it keeps its initial weights).
        ignored_tensors: other task heads' tensors that were dropped.

    Example:

    >>> loaded = load_hf_bert("path/to/bert")  # doctest: +SKIP
    >>> loaded.config.hidden_size, loaded.has_pooler, loaded.mlm_head_weights is None  # doctest: +SKIP
    (384, True, True)
    """

    encoder: object
    tokenizer: object
    config: EncoderConfig
    mlm_head_weights: dict
    path: pathlib.Path
    has_pooler: bool = True
    ignored_tensors: list = dataclasses.field(default_factory=list)


def load_hf_bert(path, load_tokenizer=True, require_pooler=False, config_overrides=None, **build_options):
    """Loads a Hugging Face BERT checkpoint folder into an xdomain_tf encoder.

    The folder holds `config.json` (a BERT architecture), `model.safetensors` (tensor
    names with or without the `bert.` prefix) and `vocab.txt`, as written by
    `transformers`' `save_pretrained` or by `save_hf_bert`. PyTorch `[out, in]` weights are
    transposed into Keras kernels and query/key/value are fused into each block's `qkv`
    kernel. Every tensor is checked first: a non-BERT architecture, a missing, unexpected
    or misshaped tensor is an `XDomainError` naming it.

    Args:
        path: the folder.
        load_tokenizer: also build the `WordPieceTokenizer` from vocab.txt (lower-casing
            and accent stripping as the folder's tokenizer_config.json says; by default
            lower-cased).
        require_pooler: refuse a checkpoint without `pooler.dense.*` (e.g. a
            `BertForMaskedLM` save); otherwise the pooler keeps its random initialisation.
        config_overrides: dict of dropout rates to change (`hidden_dropout_prob`,
            `attention_probs_dropout_prob`).
        **build_options: passed to `TransformerEncoder` (`lora_rank`, `num_adapters`,
            `output_hidden_states`, `dtype`, `name`, ...).

    Returns:
        A `LoadedBert` (`.encoder`, `.tokenizer`, `.config`, `.mlm_head_weights`).

    Example:

    >>> from xdomain_tf.checkpoints import fetch_minilm
    >>> loaded = load_hf_bert(fetch_minilm())  # doctest: +SKIP
    >>> loaded.config.hidden_size, len(loaded.tokenizer.vocabulary)  # doctest: +SKIP
    (384, 30522)
    """
    from xdomain_tf.checkpoints.hf_bert_folder import read_hf_bert_folder
    from xdomain_tf.checkpoints.hf_encoder_weights import assign_hf_tensors
    from xdomain_tf.checkpoints.mlm_head_weights import mlm_head_weights_from_hf
    from xdomain_tf.models.transformer_encoder import build_encoder

    folder = read_hf_bert_folder(path)
    if require_pooler and not folder.has_pooler:
        raise XDomainError(f"{folder.path}: the checkpoint has no pooler (pooler.dense.*)")
    config = folder.config
    if config_overrides:
        unknown = sorted(set(config_overrides) - set(_OVERRIDABLE))
        if unknown:
            raise XDomainError(
                f"load_hf_bert: cannot override {', '.join(unknown)} (only {', '.join(_OVERRIDABLE)}: "
                "the other fields are fixed by the checkpoint's weights)"
            )
        config = dataclasses.replace(config, **config_overrides)
    encoder = build_encoder(config, **build_options)
    assign_hf_tensors(encoder, folder.tensors)
    if not folder.has_pooler:
        _LOG.warning("%s: no pooler in the checkpoint; pooled_output uses a freshly initialised pooler", folder.path)
    mlm = None
    if folder.mlm_head_tensors:
        mlm = mlm_head_weights_from_hf(
            folder.mlm_head_tensors, word_embeddings=folder.tensors["embeddings.word_embeddings.weight"]
        )
    tokenizer = None
    if load_tokenizer and folder.vocab_path is not None:
        tokenizer = tokenizer_from_vocab(
            folder.vocab_path, lowercase=folder.lowercase, strip_accents=folder.strip_accents
        )
    return LoadedBert(
        encoder=encoder,
        tokenizer=tokenizer,
        config=config,
        mlm_head_weights=mlm,
        path=folder.path,
        has_pooler=folder.has_pooler,
        ignored_tensors=folder.ignored_tensors,
    )


def tokenizer_from_vocab(vocab_path, lowercase=True, strip_accents=None):
    """A `WordPieceTokenizer` on a vocab.txt (one token a line, in id order).

    Args:
        vocab_path: the vocab.txt.
        lowercase: lower-case the text (uncased BERT vocabularies).
        strip_accents: remove accents; None follows `lowercase` (as Hugging Face).

    Example:

    >>> import tempfile, pathlib
    >>> vocab = pathlib.Path(tempfile.mkdtemp()) / "vocab.txt"
    >>> _ = vocab.write_text("[PAD]\\n[UNK]\\n[CLS]\\n[SEP]\\n[MASK]\\nhello\\nworld\\n")
    >>> tokenizer_from_vocab(vocab).tokenize(["Hello World"]).to_list()
    [[5, 6]]
    """
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    return WordPieceTokenizer(str(vocab_path), lowercase=lowercase, strip_accents=strip_accents)
