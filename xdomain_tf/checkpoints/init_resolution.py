"""Resolves an `init` value (an architecture name, a named checkpoint, a Hugging Face folder, a run or
a `.keras` file) into an encoder and its tokenizer."""
import dataclasses
import logging

from xdomain_tf.errors import DamagedFileError, XDomainError
from xdomain_tf.models.encoder_config import EncoderConfig
from xdomain_tf.utils.storage import local_copy, storage_path

_LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class InitializedEncoder:
    """What `resolve_init` returns.

    Attributes:
        encoder: a plain encoder (no adapters, no LoRA, not causal) with pretrained
            weights, or None for an architecture name (build it with `TransformerEncoder(config)`).
        tokenizer: the `WordPieceTokenizer` that goes with the weights, or None for a
            name (train a vocabulary first).
        config: the `EncoderConfig`.
        source: a human-readable description of where the encoder came from.
        mlm_head_weights: masked-LM head weights (Keras layout) when the checkpoint has
            them, else None.

    Example:

    >>> initialized = resolve_init("bert_mini", vocab_size=500)
    >>> initialized.config.num_hidden_layers, initialized.tokenizer
    (4, None)
    """

    encoder: object
    tokenizer: object
    config: EncoderConfig
    source: str
    mlm_head_weights: dict = None


def resolve_init(init, **architecture_overrides):
    """Turns an `init` value (the CLI's `--init`) into an encoder, its tokenizer and its config.

    Accepted forms, tried in this order:

    1. An architecture name (`EncoderConfig.architecture_names()`, e.g. `bert_mini`): only
       the config (with `architecture_overrides`); no weights, no tokenizer.
    2. A named pretrained checkpoint (`all-minilm-l6-v2`): fetched once into the cache
       (`fetch_minilm`), then loaded as a Hugging Face folder.
    3. A Hugging Face BERT folder: `config.json` + `model.safetensors` (+ `vocab.txt`),
       see `load_hf_bert`.
    4. An xdomain_tf run directory. The minimal contract: `encoder_config.json` (an
       `EncoderConfig`), `encoder.weights.h5` (`encoder.save_weights` of the encoder
       `TransformerEncoder(config)` builds) and `vocab.txt` (optionally `tokenizer_config.json`
       with `do_lower_case`); a `preprocessor.json` (written by training runs) is
       preferred for the tokenizer. When the weights do not fit a plain encoder (the run
       trained adapters or LoRA), the encoder is taken from the run's full model
       (`model.keras`). A training run that has not finished (no `run.json`) is refused.
    5. A `.keras` file (or a folder holding only `model.keras` / `encoder.keras`): the
       encoder inside the saved model (the model itself, its `.encoder`, or its only
       `TransformerEncoder` layer); the tokenizer from a `vocab.txt` next to it.

    A run's or saved model's LoRA updates are merged into the weights and its adapters
    dropped, so the result is always a plain encoder.

    Args:
        init: the value (a string or a path).
        **architecture_overrides: `EncoderConfig` fields for an architecture name (e.g.
            `vocab_size`).

    Returns:
        An `InitializedEncoder`.

    Raises:
        XDomainError: unknown value (the message lists the accepted forms), or a broken
            checkpoint.

    Example:

    >>> result = resolve_init("bert_tiny", vocab_size=1000)
    >>> result.encoder is None, result.config.hidden_size, result.source
    (True, 128, 'architecture bert_tiny')
    """
    from xdomain_tf.checkpoints.named_checkpoints import NAMED_CHECKPOINTS, fetch_named_checkpoint

    init = str(init)
    if init in EncoderConfig.architecture_names():
        config = EncoderConfig.architecture(init, **architecture_overrides)
        return InitializedEncoder(None, None, config, f"architecture {init}")
    if init in NAMED_CHECKPOINTS:
        folder = fetch_named_checkpoint(init)
        return _from_hf_folder(folder, f"{init} ({folder})")
    path = storage_path(init).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file() and (path / "model.safetensors").is_file():
            return _from_hf_folder(path, f"Hugging Face BERT folder {path}")
        if (path / "encoder_config.json").is_file():
            return _from_run_directory(path)
        for name in ("encoder.keras", "model.keras"):
            if (path / name).is_file():
                return _from_keras_file(path / name)
        if (path / "config.json").is_file():
            raise XDomainError(
                f"{path}: has config.json but no model.safetensors (a Hugging Face BERT folder needs both)"
            )
    elif path.is_file() and path.suffix == ".keras":
        return _from_keras_file(path)
    raise XDomainError(_unknown_message(init, path))


def _unknown_message(init, path):
    from xdomain_tf.checkpoints.named_checkpoints import NAMED_CHECKPOINTS

    what = "is not a folder or .keras file" if not path.exists() else "is not a checkpoint xdomain_tf can read"
    return (
        f"init {init!r} {what}. Accepted: an architecture name ({', '.join(EncoderConfig.architecture_names())}); "
        f"a pretrained checkpoint name ({', '.join(sorted(NAMED_CHECKPOINTS))}); a Hugging Face BERT "
        "folder (config.json + model.safetensors + vocab.txt); an xdomain_tf run directory "
        "(encoder_config.json + encoder.weights.h5 + vocab.txt); or a saved .keras model"
    )


def _from_hf_folder(folder, source):
    from xdomain_tf.checkpoints.hf_bert_loader import load_hf_bert

    with local_copy(folder) as local:  # safetensors reads local files only
        loaded = load_hf_bert(local)
    return InitializedEncoder(loaded.encoder, loaded.tokenizer, loaded.config, source, loaded.mlm_head_weights)


def _from_run_directory(path):
    from xdomain_tf.models.transformer_encoder import build_encoder

    if not (path / "run.json").is_file() and ((path / "options.json").exists() or (path / "checkpoints").exists()):
        raise XDomainError(
            f"{path}: the run did not finish (no run.json); finish or resume it before using it as init"
        )
    config_path = path / "encoder_config.json"
    try:
        config = EncoderConfig.from_json(config_path)
    except (ValueError, TypeError) as error:
        raise XDomainError(f"{config_path}: {error}") from error
    weights_path = path / "encoder.weights.h5"
    encoder, failure = None, None
    if weights_path.is_file():
        encoder = build_encoder(config)
        try:
            encoder.load_weights(str(weights_path))
        except (ValueError, KeyError) as error:
            encoder, failure = None, error
    if encoder is None:
        if (path / "model.keras").is_file():
            encoder = plain_encoder(_encoder_in(path / "model.keras"))
        elif failure is not None:
            raise XDomainError(f"{weights_path}: does not fit the encoder of {config_path} ({failure})") from failure
        else:
            raise XDomainError(f"{path}: no encoder.weights.h5 (nor model.keras)")
    tokenizer = _run_tokenizer(path)
    return InitializedEncoder(encoder, tokenizer, encoder.encoder_config, f"run directory {path}")


def _run_tokenizer(path):
    if (path / "preprocessor.json").is_file() and (path / "run.json").is_file():
        try:
            from xdomain_tf.runs.run_directory import RunDirectory

            tokenizer = getattr(RunDirectory(path).load_preprocessor(), "tokenizer", None)
        except DamagedFileError:
            raise  # a damaged run is refused, not silently read another way
        except (ImportError, ValueError, TypeError, KeyError) as error:
            _LOG.warning("%s: could not read preprocessor.json (%s); using vocab.txt", path, error)
        else:
            if tokenizer is not None:
                return tokenizer
    if not (path / "vocab.txt").is_file():
        raise XDomainError(f"{path}: no vocab.txt (the run's WordPiece vocabulary)")
    return _vocab_tokenizer(path / "vocab.txt")


def _vocab_tokenizer(vocab_path):
    from xdomain_tf.checkpoints.hf_bert_folder import read_tokenizer_options
    from xdomain_tf.checkpoints.hf_bert_loader import tokenizer_from_vocab

    lowercase, strip_accents = read_tokenizer_options(vocab_path.parent)
    return tokenizer_from_vocab(vocab_path, lowercase=lowercase, strip_accents=strip_accents)


def _from_keras_file(keras_path):
    encoder = plain_encoder(_encoder_in(keras_path))
    vocab = keras_path.parent / "vocab.txt"
    tokenizer = _vocab_tokenizer(vocab) if vocab.is_file() else None
    return InitializedEncoder(encoder, tokenizer, encoder.encoder_config, f"saved model {keras_path}")


def _encoder_in(keras_path):
    import keras

    from xdomain_tf.models.transformer_encoder import TransformerEncoder

    try:
        model = keras.saving.load_model(str(keras_path), safe_mode=True)
    except Exception as error:  # Keras raises many types for a broken file
        raise XDomainError(f"{keras_path}: cannot load the saved model ({error})") from error
    if isinstance(model, TransformerEncoder):
        return model
    if isinstance(getattr(model, "encoder", None), TransformerEncoder):
        return model.encoder
    found = [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, TransformerEncoder)]
    if len(found) != 1:
        raise XDomainError(
            f"{keras_path}: expected one xdomain_tf TransformerEncoder in the model, found {len(found)}"
        )
    return found[0]


def plain_encoder(encoder):
    """A copy without adapters, LoRA (merged), causal mask or extra outputs; `encoder` if already plain.

    Args:
        encoder: a `TransformerEncoder`.

    Example:

    >>> from xdomain_tf.models import EncoderConfig, TransformerEncoder
    >>> with_lora = TransformerEncoder(EncoderConfig.architecture("bert_tiny", vocab_size=40), lora_rank=2)
    >>> plain_encoder(with_lora).lora_rank
    0
    """
    from xdomain_tf.checkpoints.hf_encoder_weights import assign_hf_tensors, encoder_to_hf_tensors
    from xdomain_tf.models.transformer_encoder import build_encoder

    extras = [
        getattr(encoder, name, 0) for name in ("num_adapters", "lora_rank", "causal", "output_hidden_states")
    ]
    if not any(extras):
        return encoder
    config = encoder.encoder_config
    if getattr(encoder, "num_adapters", 0):
        _LOG.warning("%s: dropping the encoder's %d adapters", encoder.name, encoder.num_adapters)
    plain = build_encoder(config, name=encoder.name)
    if not config.pre_layer_norm:
        assign_hf_tensors(plain, encoder_to_hf_tensors(encoder, config, drop_adapters=True), require_pooler=True)
        return plain
    if getattr(encoder, "lora_rank", 0):
        raise XDomainError("cannot merge LoRA weights of a pre-LayerNorm encoder")
    by_path = {w.path.removeprefix(encoder.name + "/"): w for w in encoder.weights}
    for weight in plain.weights:
        weight.assign(by_path[weight.path.removeprefix(plain.name + "/")].value)
    return plain
