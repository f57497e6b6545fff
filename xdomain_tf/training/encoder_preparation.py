"""The encoder and preprocessor a training run starts from."""
import dataclasses

from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.text.domain_tokens import reserve_domain_tokens


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
    domain_tokens=(),
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
        domain_tokens: domain names whose reserved tokens (`[domain:NAME]`, see
            `xdomain_tf.text.domain_tokens`) the vocabulary must hold: appended to a new
            vocabulary, or put in place of `[unusedN]` tokens of a pretrained one.
        log: where progress lines go.

    Example (trains a vocabulary on the texts, or fetches the checkpoint):

    >>> from xdomain_tf.runs.run_directory import RunDirectory
    >>> prepared = prepare_encoder("bert_tiny", RunDirectory("runs/demo"),
    ...                            lambda: ["some training text"] * 100, 500, 64)  # doctest: +SKIP
    >>> prepared.pretrained, prepared.preprocessor.seq_len  # doctest: +SKIP
    (False, 64)
    """
    from xdomain_tf.tasks import load_encoder_preset
    from xdomain_tf.text.preprocessor import Preprocessor
    from xdomain_tf.text.vocabulary_file import write_vocabulary

    vocabulary = None
    if init in EncoderConfig.architecture_names():
        if run.vocab_path.exists():
            # A resumed run tokenizes with the vocabulary its first attempt trained.
            vocabulary = str(run.vocab_path)
        else:
            from xdomain_tf.text.wordpiece_trainer import train_wordpiece_vocabulary

            log(f"training a WordPiece vocabulary of {vocab_size} tokens on the training text")
            vocabulary = reserve_domain_tokens(train_wordpiece_vocabulary(texts(), vocab_size), domain_tokens)
            write_vocabulary(vocabulary, run.vocab_path)
    loaded = load_encoder_preset(
        init,
        vocabulary=vocabulary,
        sequence_length=seq_len,
        num_adapters=num_adapters,
        adapter_reduction_factor=adapter_reduction_factor,
        lora_rank=lora_rank,
        causal=causal,
        log=log,
    )
    tokenizer = _with_domain_tokens(loaded.tokenizer, domain_tokens, init)
    preprocessor = Preprocessor(tokenizer, sequence_length=seq_len)
    return PreparedEncoder(loaded.encoder, preprocessor, loaded.config, loaded.pretrained)


def _with_domain_tokens(tokenizer, domains, init):
    """`tokenizer`, or a copy whose vocabulary holds the domain tokens in `[unusedN]` places."""
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.text.word_piece_tokenizer import WordPieceTokenizer

    tokens = tokenizer.vocabulary
    reserved = reserve_domain_tokens(tokens, domains)
    if reserved == tokens:
        return tokenizer
    if len(reserved) != len(tokens):
        raise XDomainError(
            f"init {init}'s vocabulary has too few [unusedN] tokens left for the domain tokens of "
            f"{', '.join(domains)}; pretrain with unconditioned_rate=1 (no domain tokens)"
        )
    copy = WordPieceTokenizer.from_config(tokenizer.get_config())
    copy.set_vocabulary(reserved)
    return copy
