"""The encoder and preprocessor a training run starts from."""
import dataclasses

from xdomain_tf.models.encoder_config import EncoderConfig


@dataclasses.dataclass
class PreparedEncoder:
    """What `prepare_encoder` returns.

    Args:
        encoder: the encoder (with adapters / LoRA when asked).
        preprocessor: the `Preprocessor` (tokenizer included).
        config: its `EncoderConfig`.
        pretrained: True when the weights came from a checkpoint or a run.

    Example:

    >>> prepared = prepare_encoder("all-minilm-l6-v2", run, texts, 8000, 128)  # doctest: +SKIP
    >>> prepared.pretrained, prepared.config.hidden_size  # doctest: +SKIP
    (True, 384)
    """

    encoder: object
    preprocessor: object
    config: EncoderConfig
    pretrained: bool


def prepare_encoder(
    init,
    run,
    texts,
    vocab_size,
    seq_len,
    num_adapters=0,
    adapter_reduction_factor=16,
    lora_rank=0,
    causal=False,
    log=print,
):
    """Builds the encoder and preprocessor for `init`.

    A preset name builds a fresh encoder on a WordPiece vocabulary trained from `texts`
    (kept in the run directory, so a resumed run tokenizes identically). Anything else
    (`all-minilm-l6-v2`, a Hugging Face folder, a run directory) goes through
    `xdomain_tf.checkpoints.resolve_init` and keeps its own tokenizer. Adapters, LoRA or a
    causal mask rebuild the encoder with those options and copy every pretrained weight
    across by name.

    Args:
        init: a preset name, `all-minilm-l6-v2`, a Hugging Face BERT folder or a run directory.
        run: the `RunDirectory` being written.
        texts: a function returning an iterable of training texts (for a new vocabulary).
        vocab_size: size of a new vocabulary.
        seq_len: the preprocessor's sequence length.
        num_adapters: per-domain adapters in each block.
        adapter_reduction_factor: adapter bottleneck reduction.
        lora_rank: LoRA rank on the attention projections.
        causal: causal self-attention (causal LM).
        log: where progress lines go.

    Example (trains a vocabulary on the texts, or fetches the checkpoint):

    >>> from xdomain_tf.runs.run_directory import RunDirectory
    >>> prepared = prepare_encoder("bert_tiny", RunDirectory("runs/demo"),
    ...                            lambda: ["some training text"] * 100, 500, 64)  # doctest: +SKIP
    >>> prepared.pretrained, prepared.preprocessor.seq_len  # doctest: +SKIP
    (False, 64)
    """
    from xdomain_tf.models import build_encoder
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer
    from xdomain_tf.text.wordpiece_trainer import train_wordpiece_vocabulary

    options = dict(
        num_adapters=num_adapters, adapter_reduction_factor=adapter_reduction_factor, lora_rank=lora_rank, causal=causal
    )
    if init in EncoderConfig.preset_names():
        if run.vocab_path.exists():
            vocabulary = run.vocab_path.read_text(encoding="utf-8").splitlines()
        else:
            log(f"training a WordPiece vocabulary of {vocab_size} tokens on the training text")
            vocabulary = train_wordpiece_vocabulary(texts(), vocab_size)
            run.path.mkdir(parents=True, exist_ok=True)
            from xdomain_tf.utils.atomic import write_text_atomic

            write_text_atomic(run.vocab_path, "\n".join(vocabulary) + "\n")
        config = EncoderConfig.preset(
            init, vocab_size=len(vocabulary), max_position_embeddings=max(512, seq_len)
        )
        tokenizer = WordPieceTokenizer(vocabulary)
        encoder = build_encoder(config, **options)
        pretrained = False
    else:
        from xdomain_tf.checkpoints import resolve_init

        initialized = resolve_init(init)
        config, tokenizer, source = initialized.config, initialized.tokenizer, initialized.encoder
        if seq_len > config.max_position_embeddings:
            from xdomain_tf.errors import XDomainError

            raise XDomainError(
                f"--seq-len {seq_len} is longer than {init}'s {config.max_position_embeddings} positions"
            )
        log(f"initialised from {initialized.source}")
        if any(options.values()):
            encoder = build_encoder(config, **options)
            copy_weights_by_path(source, encoder)
        else:
            encoder = source
        pretrained = True
    preprocessor = Preprocessor(tokenizer, sequence_length=seq_len)
    return PreparedEncoder(encoder, preprocessor, config, pretrained)


def copy_weights_by_path(source, target):
    """Assigns each of `target`'s weights from the `source` weight with the same path
    relative to the model (adapter and LoRA weights, absent from the source, keep their
    initial values). Returns the number of weights copied.

    Example:

    >>> from xdomain_tf.models import EncoderConfig, build_encoder
    >>> config = EncoderConfig.preset("bert_tiny", vocab_size=50)
    >>> plain, with_lora = build_encoder(config), build_encoder(config, lora_rank=2)
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
        from xdomain_tf.errors import XDomainError

        raise XDomainError(f"copied {copied} of {len(source.weights)} encoder weights: the layouts differ")
    return copied
