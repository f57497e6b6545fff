"""Where an encoder and its tokenizer come from: a pretrained checkpoint or an architecture
with a vocabulary."""
import dataclasses
import os

from xdomain_tf.errors import XDomainError
from xdomain_tf.models.encoder_config import EncoderConfig

SPECIAL_TOKEN_MARKERS = ("[UNK]", "[CLS]")


@dataclasses.dataclass
class EncoderPreset:
    """What `load_encoder_preset` returns.

    Args:
        encoder: the `TransformerEncoder` (with adapters / LoRA / a causal mask when asked).
        tokenizer: its `WordPieceTokenizer`.
        config: the `EncoderConfig`.
        pretrained: True when the weights came from a checkpoint or a run.
        source: where the encoder came from, in words.

    Example:

    >>> preset = load_encoder_preset("bert_tiny", vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"])
    >>> preset.pretrained, preset.config.vocab_size, preset.source
    (False, 6, 'architecture bert_tiny')
    """

    encoder: object
    tokenizer: object
    config: EncoderConfig
    pretrained: bool
    source: str


def load_encoder_preset(
    preset,
    vocabulary=None,
    vocabulary_size=8000,
    sequence_length=128,
    num_adapters=0,
    adapter_reduction_factor=16,
    lora_rank=0,
    causal=False,
    log=None,
):
    """Builds the encoder and tokenizer that `preset` names.

    Args:
        preset: an architecture (`EncoderConfig.preset_names()`, e.g. `"bert_tiny"`: fresh
            weights, needs `vocabulary`), a pretrained checkpoint name
            (`"all-minilm-l6-v2"`), a Hugging Face BERT folder, an xdomain_tf run
            directory or a `.keras` file (see `xdomain_tf.checkpoints.resolve_init`).
        vocabulary: for an architecture: a vocab.txt path, a list of tokens (it holds
            `[UNK]` and `[CLS]`), or a list of texts to train a WordPiece vocabulary of
            `vocabulary_size` tokens on.
        vocabulary_size: the size of a vocabulary trained from texts.
        sequence_length: the longest input; an architecture gets at least 512 positions.
        num_adapters: bottleneck adapters per block (0 = none).
        adapter_reduction_factor: adapter bottleneck reduction.
        lora_rank: LoRA rank on the attention projections (0 = none).
        causal: causal self-attention.
        log: a function taking one line of progress.

    Returns:
        An `EncoderPreset`; pretrained weights are copied into an encoder rebuilt with
        adapters, LoRA or a causal mask when those are asked for.

    Example:

    >>> texts = ["a goal in the final", "shares fell sharply"] * 20
    >>> preset = load_encoder_preset("bert_tiny", vocabulary=texts, vocabulary_size=60, lora_rank=2)
    >>> preset.encoder.lora_rank, preset.tokenizer.vocabulary_size <= 60
    (2, True)
    """
    from xdomain_tf.models.transformer_encoder import TransformerEncoder
    from xdomain_tf.text import WordPieceTokenizer

    log = log or (lambda line: None)
    options = dict(
        num_adapters=num_adapters,
        adapter_reduction_factor=adapter_reduction_factor,
        lora_rank=lora_rank,
        causal=causal,
    )
    preset = str(preset) if isinstance(preset, os.PathLike) else preset
    if not isinstance(preset, str) or not preset:
        raise XDomainError(f"preset must be a name or a path, got {preset!r}")
    if preset in EncoderConfig.preset_names():
        tokens = architecture_vocabulary(vocabulary, vocabulary_size, preset, log)
        config = EncoderConfig.preset(
            preset, vocab_size=len(tokens), max_position_embeddings=max(512, int(sequence_length))
        )
        tokenizer = WordPieceTokenizer(tokens)
        encoder = TransformerEncoder(config, name="encoder", **options)
        return EncoderPreset(encoder, tokenizer, config, False, f"architecture {preset}")
    if vocabulary is not None:
        raise XDomainError(f"vocabulary= is for an architecture preset; {preset!r} brings its own tokenizer")
    from xdomain_tf.checkpoints import resolve_init
    from xdomain_tf.tasks.multi_domain_text_classifier import _saved_classifier

    classifier = _saved_classifier(preset)
    if classifier is not None:
        from xdomain_tf.checkpoints import plain_encoder

        encoder = plain_encoder(classifier.encoder)
        config, tokenizer = encoder.encoder_config, classifier.preprocessor.tokenizer
        source = f"classifier {preset}"
    else:
        initialized = resolve_init(preset)
        config, tokenizer, encoder = initialized.config, initialized.tokenizer, initialized.encoder
        source = initialized.source
    if tokenizer is None:
        raise XDomainError(f"{preset}: no vocab.txt beside the model, so there is no tokenizer")
    if sequence_length > config.max_position_embeddings:
        raise XDomainError(
            f"sequence_length {sequence_length} is longer than {preset}'s "
            f"{config.max_position_embeddings} positions"
        )
    log(f"initialised from {source}")
    if any(options.values()):
        rebuilt = TransformerEncoder(config, name=encoder.name, **options)
        copy_weights_by_path(encoder, rebuilt)
        encoder = rebuilt
    return EncoderPreset(encoder, tokenizer, config, True, source)


def architecture_vocabulary(vocabulary, vocabulary_size, preset, log):
    """The token list for a fresh encoder: read, taken as is, or trained from texts.

    Example:

    >>> architecture_vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hi"], 10, "bert_tiny", print)[-1]
    'hi'
    """
    from xdomain_tf.text import read_vocabulary, train_wordpiece_vocabulary

    if vocabulary is None:
        raise XDomainError(
            f"the architecture {preset!r} has no tokenizer: pass vocabulary= (a vocab.txt, a token "
            "list, or texts to train one from)"
        )
    if isinstance(vocabulary, (str, os.PathLike)):
        return read_vocabulary(vocabulary)
    items = list(vocabulary)
    if not items or not all(isinstance(item, str) for item in items):
        raise XDomainError("vocabulary must be a vocab.txt path or a non-empty list of strings")
    if all(marker in items for marker in SPECIAL_TOKEN_MARKERS):
        return items
    log(f"training a WordPiece vocabulary of {vocabulary_size} tokens on {len(items)} texts")
    return train_wordpiece_vocabulary(items, vocabulary_size)


def copy_weights_by_path(source, target):
    """Assigns each of `target`'s weights from the `source` weight with the same path
    relative to the model (adapter and LoRA weights, absent from the source, keep their
    initial values). Returns the number of weights copied.

    Example:

    >>> from xdomain_tf.models import EncoderConfig, TransformerEncoder
    >>> config = EncoderConfig.preset("bert_tiny", vocab_size=50)
    >>> plain, with_lora = TransformerEncoder(config), TransformerEncoder(config, lora_rank=2)
    >>> copy_weights_by_path(plain, with_lora), len(with_lora.weights)
    (31, 39)
    """
    prefix_source, prefix_target = f"{source.name}/", f"{target.name}/"
    by_path = {w.path.removeprefix(prefix_source): w for w in source.weights}
    copied = 0
    for weight in target.weights:
        match = by_path.get(weight.path.removeprefix(prefix_target))
        if match is not None:
            weight.assign(match.value)
            copied += 1
    if copied != len(source.weights):
        raise XDomainError(f"copied {copied} of {len(source.weights)} encoder weights: the layouts differ")
    return copied
