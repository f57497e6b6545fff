"""Every option of `xdomain-tf train` / `pretrain`, from flags or a YAML file, validated."""
import dataclasses
import pathlib
import typing

import yaml

from xdomain_tf.data.augmentation import parse_augment_spec
from xdomain_tf.data.class_weights import check_class_weights_spec
from xdomain_tf.data.data_service import is_service_address
from xdomain_tf.errors import XDomainError
from xdomain_tf.training.option_fields import check_options, document_options, option_field
from xdomain_tf.utils.storage import is_url, storage_path

_POSITIVE = dict(check=lambda v: v >= 1, what="a positive integer", metavar="N")


def _fraction(low, high, closed_high=False):
    """`option_field` keywords of a number in `[low, high)` (or `[low, high]`)."""
    return dict(check=(lambda v: low <= v <= high) if closed_high else (lambda v: low <= v < high),
                what=f"in [{low}, {high}{']' if closed_high else ')'}", metavar="X")


@document_options
@dataclasses.dataclass
class TrainOptions:
    """Options shared by `train` and `pretrain` (plus the fine-tuning ones).

    Every field can come from a flag (`--batch-size` for `batch_size`) or from the YAML
    file given with `--config`; flags win over the file. An unknown key in the file is
    an error, not silently ignored. Each field's help, group, choices and check are
    declared once with `option_field`: they make this docstring's `Args:`, the checks
    and the `--help` of `xdomain-tf train`.

    Example:

    >>> TrainOptions(train=["a.jsonl"], out="run", batch_size=8).batch_size
    8
    """

    train: typing.List[str] = option_field(
        help="training data files: JSONL, CSV/TSV or TFRecord in the record schema (required)",
        group="data", factory=list, what="a list of data file paths", metavar="FILE")
    valid: typing.List[str] = option_field(
        help="validation data files, scored after every epoch", group="data", factory=list,
        what="a list of data file paths", metavar="FILE")
    out: str = option_field(
        help="the run directory to write (required); run the same command again to resume",
        group="output", what="a folder path", metavar="DIR")
    init: str = option_field(
        "bert_tiny", "where the encoder starts: an architecture (bert_tiny, bert_mini, bert_small, bert_medium, "
        "bert_base, minilm_l6_h384; random weights, a WordPiece vocabulary trained on `train`), a run directory, "
        "a Hugging Face BERT folder, or all-minilm-l6-v2 (downloaded)",
        group="model", metavar="NAME|DIR")
    epochs: int = option_field(
        3, "passes over the training data (an epoch is as many steps as the largest domain needs, after "
        "temperature sampling)", group="optimisation", **_POSITIVE)
    steps: int = option_field(
        None, "total training steps; when given, it overrides `epochs` * steps per epoch",
        group="optimisation", **_POSITIVE)
    batch_size: int = option_field(32, "the global batch size (split across replicas)", group="optimisation",
                                   **_POSITIVE)
    seq_len: int = option_field(128, "maximum tokens per example", group="data",
                                check=lambda v: v >= 8, what="an integer >= 8", metavar="N")
    learning_rate: float = option_field(
        None, "peak learning rate (default: 5e-5 for pretrained weights, 1e-3 from an architecture)",
        group="optimisation", check=lambda v: 0 < v < 1, what="in (0, 1)", metavar="X")
    warmup_ratio: float = option_field(0.1, "fraction of the steps spent in linear warmup, before linear decay",
                                       group="optimisation", **_fraction(0, 1))
    weight_decay: float = option_field(0.01, "AdamW decoupled weight decay", group="optimisation",
                                       check=lambda v: v >= 0, what="a number >= 0", metavar="X")
    layerwise_decay: float = option_field(
        1.0, "layer-wise learning-rate decay: each lower encoder layer learns this factor slower (1: off)",
        group="optimisation", check=lambda v: 0 < v <= 1, what="in (0, 1]", metavar="X")
    alpha: float = option_field(
        1.0, "temperature-sampling exponent over domain sizes (1: in proportion to size, 0: uniform)",
        group="domains", **_fraction(0, 1, closed_high=True))
    domain_weights: typing.Dict[str, float] = option_field(
        None, 'static per-domain loss weights, e.g. {"news": 2.0} (with `loss_weighting` static)',
        group="domains", metavar="JSON")
    loss_weighting: str = option_field(
        "equal", "how the domains' losses are summed: equal, static (`domain_weights`) or uncertainty "
        "(learned, Kendall et al. 2018)", group="domains", choices=("equal", "static", "uncertainty"))
    class_weights: str = option_field(
        "none", "label weights in each domain's loss against class imbalance: none, balanced (a label weighs "
        "n_domain / (n_labels * count), as scikit-learn's compute_class_weight) or a JSON file "
        '{"domain": {"label": weight}} (labels left out weigh 1)', group="domains", metavar="balanced|none|FILE")
    label_sampling: str = option_field(
        "natural", "how training draws a domain's examples: natural, or balanced (each label of the domain equally "
        "often; minority examples repeat)", group="domains", choices=("natural", "balanced"))
    augment: str = option_field(
        None, "augmentations of the training batches (never of validation data): comma-separated name:rate, "
        "applied in the order given: mask (tokens become [MASK]), delete (tokens dropped), mlm_replace (tokens "
        "replaced by what the masked LM `augment_mlm` predicts there); e.g. mask:0.1,delete:0.1",
        group="data", metavar="LIST")
    augment_mlm: str = option_field(
        None, "the masked LM of mlm_replace: a run directory of xdomain-tf pretrain (or a Hugging Face BERT folder "
        "with its masked-LM head) sharing the classifier's vocabulary, e.g. the run given as `init`",
        group="data", metavar="DIR")
    augment_pairs: str = option_field(
        None, "translate-train: a file of translation pairs (text, text_pair, lang, as xdomain-tf data pairs "
        "writes them); a training record whose text is a pair's text also trains as its translation, with the "
        "same domain and label", group="data", metavar="FILE")
    augment_seed: int = option_field(None, "seed of the augmentations (default: `seed`)", group="data",
                                     metavar="N")
    precision: str = option_field("fp32", "compute precision (mixed precision for bf16 and fp16)",
                                  group="distribution", choices=("fp32", "bf16", "fp16"))
    strategy: str = option_field(
        "auto", "tf.distribute strategy; auto picks tpu (TPU_NAME set), multi_worker (TF_CONFIG lists several "
        "workers), mirrored (several GPUs), one_device (one GPU) or default (CPU)", group="distribution",
        choices=("auto", "default", "one_device", "mirrored", "multi_worker", "tpu"))
    jit_compile: str = option_field("auto", "XLA compilation of the train step", group="distribution",
                                    choices=("on", "off", "auto"))
    data_service: str = option_field(
        None, "run the training input pipeline (reading, sampling, bucketing, tokenization) on a tf.data service, "
        "given by its dispatcher's address (see xdomain-tf data-service); validation data stays local",
        group="distribution", check=is_service_address, what="a grpc://HOST:PORT address", metavar="grpc://HOST:PORT")
    vocab_size: int = option_field(8000, "WordPiece vocabulary size trained when `init` is an architecture",
                                   group="model", **_POSITIVE)
    adapters: bool = option_field(False, "train a bottleneck adapter per domain with the encoder frozen",
                                  group="peft")
    adapter_reduction: int = option_field(16, "adapter bottleneck width = hidden size / this", group="peft",
                                          **_POSITIVE)
    lora_rank: int = option_field(
        0, "LoRA rank on the attention projections (0: off); freezes the rest of the encoder", group="peft",
        check=lambda v: v >= 0, what="an integer >= 0", metavar="N")
    adversarial: bool = option_field(
        False, "domain-adversarial training: a domain classifier behind gradient reversal", group="domains")
    adversarial_weight: float = option_field(0.1, "weight of the domain classifier's loss", group="domains",
                                             check=lambda v: v >= 0, what="a number >= 0", metavar="X")
    align_pairs: str = option_field(
        None, "keep languages aligned while fine-tuning: a file of translation pairs (text, text_pair, lang, as "
        "xdomain-tf data pairs writes them); every step also encodes a batch of pairs with the classifier's "
        "encoder and adds `align_weight` x pretraining's contrastive (InfoNCE) loss, reported as align_loss",
        group="domains", metavar="FILE")
    align_weight: float = option_field(1.0, "weight of the alignment loss of `align_pairs` (0: off)",
                                       group="domains", check=lambda v: v >= 0, what="a number >= 0", metavar="X")
    align_temperature: float = option_field(
        0.05, "softmax temperature of the alignment loss", group="domains", check=lambda v: 0.001 <= v <= 10,
        what="in [0.001, 10]", metavar="X")
    freeze_encoder: bool = option_field(False, "feature extraction: train the heads only", group="peft")
    unfreeze: str = option_field(
        "none", "gradual: unfreeze the top encoder layer first, one more each epoch", group="peft",
        choices=("none", "gradual"))
    pooling: str = option_field(
        "cls", "sentence vector: cls (the BERT pooler), mean of the tokens, or last (the last token: for an encoder "
        "pretrained as a causal LM)", group="model", choices=("cls", "mean", "last"))
    dropout: float = option_field(0.1, "classifier-head dropout", group="model", **_fraction(0, 1))
    patience: int = option_field(
        None, "stop after this many epochs without a better validation score (default: never stop early)",
        group="optimisation", **_POSITIVE)
    checkpoint_every: int = option_field(200, "steps between resumable checkpoints", group="output",
                                         **_POSITIVE)
    seed: int = option_field(0, "seed of shuffling, sampling and initialisation", group="optimisation",
                             metavar="N")
    on_error: str = option_field("raise", "a bad record stops the run (raise) or is skipped and reported (skip)",
                                 group="data", choices=("raise", "skip"))
    default_domain: str = option_field(None, "the domain of records that have none", group="data",
                                       metavar="DOMAIN")
    verbose: int = option_field(1, "progress output: 1 a progress bar, 2 one line per epoch, 0 silent",
                                group="output", choices=(0, 1, 2))

    def __post_init__(self):
        check_options(self)
        if self.loss_weighting == "static" and not self.domain_weights:
            raise XDomainError("loss_weighting static needs domain_weights (e.g. {news: 2})")
        check_class_weights_spec(self.class_weights)
        _check_augmentation(self)
        _check_alignment(self)
        if self.adapters and self.lora_rank:
            raise XDomainError("choose either adapters or lora_rank, not both")
        if not self.train:
            raise XDomainError("train needs at least one data file")
        if not self.out:
            raise XDomainError("out (the run directory) is required")
        _require_folder("out", self.out)

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
    path = storage_path(path)
    if not path.is_file():
        raise XDomainError(f"{path}: {'a folder, not a YAML file' if path.is_dir() else 'no such file'}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        before = error.object[: error.start]
        line, column = before.count(b"\n") + 1, error.start - before.rfind(b"\n")
        raise XDomainError(f"{path}:{line}: not UTF-8 text (byte {error.object[error.start]:#04x} at column {column})") from None
    try:
        values = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise XDomainError(f"{path}: not valid YAML ({_yaml_problem(error)})") from None
    if not isinstance(values, dict):
        raise XDomainError(f"{path}: not a mapping of option: value (the file holds a {type(values).__name__})")
    values = {str(key).replace("-", "_"): value for key, value in values.items()}
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise XDomainError(f"{path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
    for key in ("train", "valid"):
        if isinstance(values.get(key), str):
            values[key] = [values[key]]
    return values


def _yaml_problem(error):
    """A YAML error in one line: what is wrong and where (PyYAML's own text spans lines)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem


def _check_augmentation(options):
    """Refuses a bad `augment` spec, an `augment_mlm` without mlm_replace (or the
    reverse) and a missing `augment_pairs` file, before anything is read or loaded."""
    uses_mlm = any(name == "mlm_replace" for name, _ in parse_augment_spec(options.augment))
    if uses_mlm and not options.augment_mlm:
        raise XDomainError("augment mlm_replace needs augment_mlm (the masked LM: a pretrain run directory)")
    if options.augment_mlm and not uses_mlm:
        raise XDomainError(f"augment_mlm {options.augment_mlm} is used by mlm_replace only: add e.g. "
                           "mlm_replace:0.15 to augment")
    if options.augment_pairs is not None:
        _require_file("augment_pairs", options.augment_pairs)


def _check_alignment(options):
    """Refuses a missing `align_pairs` file and an encoder that alignment cannot train."""
    if options.align_pairs is None:
        return
    _require_file("align_pairs", options.align_pairs)
    frozen = "freeze_encoder" if options.freeze_encoder else "adapters" if options.adapters else None
    if frozen:
        raise XDomainError(f"align_pairs trains the shared encoder: it does not combine with {frozen}")


def _require_file(name, path):
    """An option naming an input file must name an existing file."""
    path = storage_path(path)
    if not path.is_file():
        raise XDomainError(f"{name} {path}: {'a folder, not a file' if path.is_dir() else 'no such file'}")


def _require_folder(name, path):
    """An option naming a folder to create must not name a file (or a path under one)."""
    if is_url(path):
        storage_path(path).exists()  # a bad scheme, host or credentials: one line now
        return
    for candidate in (pathlib.Path(path), *pathlib.Path(path).parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise XDomainError(f"{name} must be a folder, but {candidate} is a file")
            return
