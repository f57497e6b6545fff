"""Every option of `xdomain-tf train` / `pretrain`, from flags or a YAML file, validated."""
import dataclasses
import pathlib
import typing

import yaml

from xdomain_tf.errors import XDomainError

_CHOICES = {
    "precision": ("fp32", "bf16", "fp16"),
    "strategy": ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu"),
    "jit_compile": ("on", "off", "auto"),
    "loss_weighting": ("equal", "static", "uncertainty"),
    "pooling": ("cls", "mean"),
    "unfreeze": ("none", "gradual"),
    "on_error": ("raise", "skip"),
}


@dataclasses.dataclass
class TrainOptions:
    """Options shared by `train` and `pretrain` (plus the fine-tuning ones).

    Every field can come from a flag (`--batch-size` for `batch_size`) or from the YAML
    file given with `--config`; flags win over the file. An unknown key in the file is
    an error, not silently ignored.

    Args:
        train: training data files (JSONL, CSV/TSV or TFRecord in the record schema).
        valid: validation data files.
        out: the run directory to write.
        init: an encoder preset name, a run directory, a Hugging Face BERT folder, or
            `all-minilm-l6-v2`.
        epochs: passes over the training data (an epoch is as many steps as the
            largest domain needs, after temperature sampling).
        steps: total training steps; overrides `epochs * steps_per_epoch` when set.
        batch_size: the global batch size (split across replicas).
        seq_len: maximum tokens per example.
        learning_rate: peak learning rate (None: 5e-5 for pretrained weights, 1e-3 from a preset).
        warmup_ratio: fraction of steps of linear warmup before linear decay.
        weight_decay: AdamW decoupled weight decay.
        layerwise_decay: layer-wise learning-rate decay factor (1.0: off).
        alpha: temperature-sampling exponent over domain sizes (1: proportional, 0: uniform).
        domain_weights: static per-domain loss weights, e.g. `{"news": 2.0}` (with
            `loss_weighting: static`).
        loss_weighting: `equal`, `static` or `uncertainty` (learned, Kendall et al. 2018).
        precision: `fp32`, `bf16` or `fp16`.
        strategy: a `xdomain_tf.training.distribution.strategies` kind.
        jit_compile: `on`, `off` or `auto`.
        vocab_size: WordPiece vocabulary size trained when starting from a preset.
        adapters: train a bottleneck adapter per domain with the encoder frozen.
        adapter_reduction: adapter bottleneck = hidden / this.
        lora_rank: LoRA rank on the attention projections (0: off; freezes the rest of the encoder).
        adversarial: domain-adversarial training (gradient reversal + domain classifier).
        adversarial_weight: weight of the domain classifier's loss.
        freeze_encoder: feature extraction: train the heads only.
        unfreeze: `gradual` unfreezes the top encoder layers first, one more each epoch.
        pooling: `cls` (BERT pooler) or `mean`.
        dropout: classifier-head dropout.
        patience: early-stopping patience in epochs (None: never stop early).
        checkpoint_every: steps between resumable checkpoints.
        seed: seed for shuffling, sampling and initialisation.
        on_error: `raise` on a bad record, or `skip` it and report it.
        default_domain: the domain of records that have none.
        verbose: Keras progress-bar setting (1 bar, 2 one line per epoch, 0 silent).

    Example:

    >>> TrainOptions(train=["a.jsonl"], out="run", batch_size=8).batch_size
    8
    """

    train: typing.List[str] = dataclasses.field(default_factory=list)
    valid: typing.List[str] = dataclasses.field(default_factory=list)
    out: str = None
    init: str = "bert_tiny"
    epochs: int = 3
    steps: int = None
    batch_size: int = 32
    seq_len: int = 128
    learning_rate: float = None
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    layerwise_decay: float = 1.0
    alpha: float = 1.0
    domain_weights: typing.Dict[str, float] = None
    loss_weighting: str = "equal"
    precision: str = "fp32"
    strategy: str = "auto"
    jit_compile: str = "auto"
    vocab_size: int = 8000
    adapters: bool = False
    adapter_reduction: int = 16
    lora_rank: int = 0
    adversarial: bool = False
    adversarial_weight: float = 0.1
    freeze_encoder: bool = False
    unfreeze: str = "none"
    pooling: str = "cls"
    dropout: float = 0.1
    patience: int = None
    checkpoint_every: int = 200
    seed: int = 0
    on_error: str = "raise"
    default_domain: str = None
    verbose: int = 1

    def __post_init__(self):
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise XDomainError(f"{name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        for name in ("epochs", "batch_size", "seq_len", "vocab_size", "adapter_reduction", "checkpoint_every"):
            _require(name, getattr(self, name), lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                     "a positive integer")
        for name in ("steps", "patience"):
            value = getattr(self, name)
            if value is not None:
                _require(name, value, lambda v: _is_count(v) and v >= 1, "a positive integer")
        _require("lora_rank", self.lora_rank, lambda v: _is_count(v) and v >= 0, "an integer >= 0")
        for name in ("train", "valid"):
            _require(name, getattr(self, name), lambda v: isinstance(v, (list, tuple)) and all(
                isinstance(item, str) and item for item in v), "a list of data file paths")
        _require("out", self.out, lambda v: v is None or isinstance(v, str), "a folder path")
        if self.learning_rate is not None:
            _require("learning_rate", self.learning_rate, lambda v: 0 < v < 1, "in (0, 1)")
        _require("warmup_ratio", self.warmup_ratio, lambda v: 0 <= v < 1, "in [0, 1)")
        _require("layerwise_decay", self.layerwise_decay, lambda v: 0 < v <= 1, "in (0, 1]")
        _require("alpha", self.alpha, lambda v: 0 <= v <= 1, "in [0, 1]")
        _require("dropout", self.dropout, lambda v: 0 <= v < 1, "in [0, 1)")
        if self.seq_len < 8:
            raise XDomainError(f"seq_len must be at least 8, got {self.seq_len}")
        if self.loss_weighting == "static" and not self.domain_weights:
            raise XDomainError("loss_weighting static needs domain_weights (e.g. {news: 2})")
        if self.adapters and self.lora_rank:
            raise XDomainError("choose either adapters or lora_rank, not both")
        if not self.train:
            raise XDomainError("train needs at least one data file")
        if not self.out:
            raise XDomainError("out (the run directory) is required")

    @classmethod
    def field_names(cls):
        return [field.name for field in dataclasses.fields(cls)]

    @classmethod
    def from_sources(cls, config_path=None, **flags):
        """Merges a YAML config file and flags (flags that are None do not override)."""
        values = {}
        if config_path:
            values.update(load_config_file(config_path, cls.field_names()))
        values.update({key: value for key, value in flags.items() if value is not None})
        return cls(**values)

    def to_dict(self):
        return dataclasses.asdict(self)


def load_config_file(path, allowed):
    """Reads a YAML mapping of options with `yaml.safe_load`; unknown keys are an error.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.yaml"
    >>> _ = path.write_text("batch-size: 16\\ntrain: a.jsonl\\n")
    >>> load_config_file(path, ["batch_size", "train"])
    {'batch_size': 16, 'train': ['a.jsonl']}
    """
    path = pathlib.Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise XDomainError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(values, dict):
        raise XDomainError(f"{path}: the config must be a mapping of option: value, got {type(values).__name__}")
    values = {str(key).replace("-", "_"): value for key, value in values.items()}
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise XDomainError(f"{path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
    for key in ("train", "valid"):
        if isinstance(values.get(key), str):
            values[key] = [values[key]]
    return values


def _is_count(value):
    """An int that is not a bool (YAML `true` must not mean 1 step)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _require(name, value, check, what):
    try:
        ok = check(value)
    except TypeError:
        ok = False
    if not ok:
        raise XDomainError(f"{name} must be {what}, got {value!r}")
