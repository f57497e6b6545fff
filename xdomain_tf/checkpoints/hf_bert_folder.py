"""Reads and checks a Hugging Face BERT folder (config.json, model.safetensors, vocab.txt)."""
import dataclasses
import json
import pathlib

import numpy as np

from xdomain_tf.checkpoints.hf_bert_layout import hf_bert_mlm_head_shapes, hf_bert_tensor_shapes
from xdomain_tf.errors import XDomainError
from xdomain_tf.layers.activations import activation_from_hf, hf_activation_names
from xdomain_tf.models.encoder_config import EncoderConfig

_BERT_ARCHITECTURES = (
    "BertModel",
    "BertForMaskedLM",
    "BertForPreTraining",
    "BertForSequenceClassification",
    "BertForTokenClassification",
    "BertForNextSentencePrediction",
    "BertForMultipleChoice",
    "BertForQuestionAnswering",
    "BertLMHeadModel",
)
# Tensors that belong to task heads other than the masked-LM head: dropped on load.
_IGNORED_PREFIXES = ("cls.seq_relationship.", "classifier.", "qa_outputs.")
_BUFFERS = ("embeddings.position_ids",)
_MLM_PREFIX = "cls.predictions."


@dataclasses.dataclass
class HFBertFolder:
    """The checked contents of a Hugging Face BERT folder.

    Attributes:
        path: the folder.
        config: the `EncoderConfig` read from config.json.
        tensors: encoder tensors by HF name (no `bert.` prefix), PyTorch layout, float32.
        mlm_head_tensors: `cls.predictions.*` tensors by HF name, or None.
        vocab_path: `vocab.txt`, or None when the folder has none.
        lowercase: the tokenizer's `do_lower_case` (True when unknown).
        strip_accents: the tokenizer's `strip_accents` (None: follows `lowercase`).
        has_pooler: whether the file holds `pooler.dense.*`.
        ignored_tensors: names of other task heads' tensors that were dropped.

    Example:

    >>> folder = read_hf_bert_folder("path/to/bert")  # doctest: +SKIP
    >>> folder.has_pooler, sorted(folder.tensors)[0]  # doctest: +SKIP
    (True, 'embeddings.LayerNorm.bias')
    """

    path: pathlib.Path
    config: EncoderConfig
    tensors: dict
    mlm_head_tensors: dict
    vocab_path: pathlib.Path
    lowercase: bool
    strip_accents: bool
    has_pooler: bool
    ignored_tensors: list


def read_hf_bert_config(path):
    """Reads a HF BERT `config.json` into an `EncoderConfig`, refusing other architectures.

    Args:
        path: the folder or the config.json file.

    Example:

    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "config.json").write_text(json.dumps({"model_type": "bert",
    ...     "architectures": ["BertModel"], "hidden_size": 64, "num_attention_heads": 2,
    ...     "num_hidden_layers": 2, "vocab_size": 100, "hidden_act": "gelu"}))
    >>> read_hf_bert_config(folder).hidden_size
    64
    """
    path = pathlib.Path(path)
    config_path = path / "config.json" if path.is_dir() else path
    if not config_path.is_file():
        raise XDomainError(f"{config_path}: no config.json (a Hugging Face BERT folder needs one)")
    values = _read_json_object(config_path)
    model_type = values.get("model_type")
    architectures = values.get("architectures") or []
    unknown_architectures = [name for name in architectures if name not in _BERT_ARCHITECTURES]
    if (model_type is not None and model_type != "bert") or unknown_architectures:
        shown = model_type if model_type not in (None, "bert") else ", ".join(unknown_architectures)
        raise XDomainError(
            f"{config_path}: architecture {shown!r} is not BERT; only Hugging Face BERT checkpoints "
            f"(model_type 'bert', architectures {', '.join(_BERT_ARCHITECTURES[:3])}, ...) can be loaded"
        )
    if model_type is None and not architectures:
        raise XDomainError(f"{config_path}: neither model_type nor architectures says this is a BERT model")
    position_type = values.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise XDomainError(
            f"{config_path}: position_embedding_type {position_type!r} is not supported (only 'absolute')"
        )
    act = values.get("hidden_act", "gelu")
    if activation_from_hf(act) is None:
        raise XDomainError(
            f"{config_path}: hidden_act {act!r} is not supported; supported: {', '.join(hf_activation_names())}"
        )
    values = dict(values, hidden_act=activation_from_hf(act))
    try:
        return EncoderConfig.from_dict(values, ignore_unknown=True)
    except (TypeError, ValueError) as error:
        raise XDomainError(f"{config_path}: {error}") from error


def read_hf_bert_folder(path):
    """Reads a HF BERT folder and checks every tensor against its config.

    Accepts tensor names with or without the `bert.` prefix, ignores the
    `embeddings.position_ids` buffer, keeps masked-LM head tensors (`cls.predictions.*`)
    apart and drops other task heads (`cls.seq_relationship.*`, `classifier.*`,
    `qa_outputs.*`). A missing pooler is allowed (`BertForMaskedLM` saves none).

    Args:
        path: a folder with `config.json`, `model.safetensors` and (optionally) `vocab.txt`.

    Returns:
        An `HFBertFolder`.

    Raises:
        XDomainError: naming the file or tensor at fault (not BERT, missing, unexpected
            or wrongly shaped tensor, unreadable file).

    Example:

    >>> folder = read_hf_bert_folder("path/to/bert")  # doctest: +SKIP
    >>> folder.config.num_hidden_layers  # doctest: +SKIP
    6
    """
    path = pathlib.Path(path)
    if not path.is_dir():
        raise XDomainError(f"{path}: not a folder (expected a Hugging Face BERT folder)")
    config = read_hf_bert_config(path)
    weights_path = path / "model.safetensors"
    if not weights_path.is_file():
        extra = " (pytorch_model.bin is not supported: convert it to safetensors)" if (
            path / "pytorch_model.bin"
        ).is_file() else ""
        raise XDomainError(f"{path}: no model.safetensors{extra}")
    raw = _load_safetensors(weights_path)

    tensors, mlm, ignored, unexpected = {}, {}, [], []
    for name, value in raw.items():
        short = name[len("bert.") :] if name.startswith("bert.") else name
        short = _canonical_layer_norm_name(short)
        if short in _BUFFERS:
            continue
        if short.startswith(_MLM_PREFIX):
            mlm[short] = value
        elif short.startswith(_IGNORED_PREFIXES):
            ignored.append(name)
        else:
            tensors[short] = value

    expected = hf_bert_tensor_shapes(config, pooler="pooler.dense.weight" in tensors)
    for name in tensors:
        if name not in expected:
            unexpected.append(name)
    if unexpected:
        raise XDomainError(
            f"{weights_path}: unexpected tensor(s) for a {config.num_hidden_layers}-layer BERT: "
            f"{', '.join(sorted(unexpected)[:5])}{' ...' if len(unexpected) > 5 else ''}"
        )
    missing = [name for name in expected if name not in tensors]
    if missing:
        raise XDomainError(
            f"{weights_path}: missing tensor(s): {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
        )
    for name, shape in expected.items():
        _check_shape(weights_path, name, tensors[name], shape)
    mlm_shapes = hf_bert_mlm_head_shapes(config)
    if mlm:
        for name, shape in mlm_shapes.items():
            if name not in mlm:
                raise XDomainError(f"{weights_path}: masked-LM head tensor {name} is missing")
            _check_shape(weights_path, name, mlm[name], shape)
        decoder = "cls.predictions.decoder.weight"
        for name in mlm:
            if name not in mlm_shapes and name not in (decoder, "cls.predictions.decoder.bias"):
                raise XDomainError(f"{weights_path}: unexpected masked-LM head tensor {name}")
        if decoder in mlm:
            _check_shape(weights_path, decoder, mlm[decoder], (config.vocab_size, config.hidden_size))

    vocab_path = path / "vocab.txt"
    if vocab_path.is_file():
        _check_vocab(vocab_path, config)
    else:
        vocab_path = None
    lowercase, strip_accents = read_tokenizer_options(path)
    return HFBertFolder(
        path=path,
        config=config,
        tensors=tensors,
        mlm_head_tensors=mlm or None,
        vocab_path=vocab_path,
        lowercase=lowercase,
        strip_accents=strip_accents,
        has_pooler="pooler.dense.weight" in tensors,
        ignored_tensors=sorted(ignored),
    )


def _load_safetensors(weights_path):
    from safetensors.numpy import load_file

    try:
        raw = load_file(str(weights_path))
    except Exception as error:  # safetensors raises its own error types
        raise XDomainError(f"{weights_path}: cannot read safetensors file ({error})") from error
    converted = {}
    for name, value in raw.items():
        if name in _BUFFERS or name == "bert." + _BUFFERS[0]:
            converted[name] = value
        elif not np.issubdtype(value.dtype, np.floating):
            raise XDomainError(f"{weights_path}: tensor {name} has dtype {value.dtype}, expected a float type")
        else:
            converted[name] = value.astype(np.float32, copy=False)
    return converted


def _canonical_layer_norm_name(name):
    if name.endswith("LayerNorm.gamma"):
        return name[: -len("gamma")] + "weight"
    if name.endswith("LayerNorm.beta"):
        return name[: -len("beta")] + "bias"
    return name


def _check_shape(weights_path, name, value, shape):
    if tuple(value.shape) != tuple(shape):
        raise XDomainError(
            f"{weights_path}: tensor {name} has shape {list(value.shape)}, config.json implies {list(shape)}"
        )


def _check_vocab(vocab_path, config):
    with open(vocab_path, encoding="utf-8") as handle:
        size = sum(1 for _ in handle)
    if size > config.vocab_size:
        raise XDomainError(
            f"{vocab_path}: {size} tokens, more than the model's vocab_size {config.vocab_size}"
        )


def read_tokenizer_options(path):
    """`(do_lower_case, strip_accents)` from a folder's tokenizer_config.json; `(True, None)` without one.

    Args:
        path: the folder.

    Example:

    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> read_tokenizer_options(folder)
    (True, None)
    >>> _ = (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    >>> read_tokenizer_options(folder)
    (False, None)
    """
    tokenizer_config = pathlib.Path(path) / "tokenizer_config.json"
    if not tokenizer_config.is_file():
        return True, None
    values = _read_json_object(tokenizer_config)
    strip_accents = values.get("strip_accents")
    return bool(values.get("do_lower_case", True)), None if strip_accents is None else bool(strip_accents)


def _read_json_object(path):
    """The JSON object (dict) in the file `path`; an XDomainError naming the file otherwise."""
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise XDomainError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(values, dict):
        raise XDomainError(f"{path}: expected a JSON object")
    return values
