"""Options of `xdomain-tf pretrain`: the shared training options plus the objectives'."""
import dataclasses
import math
import typing

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.train_options import TrainOptions, _require

OBJECTIVES = ("mlm", "clm", "contrastive", "sop", "nsp")
GROUP_BY = ("domain", "lang", "domain_lang")
# Fine-tuning options that mean nothing for pretraining (not offered as pretrain flags).
FINE_TUNING_ONLY = (
    "adapters", "adapter_reduction", "adversarial", "adversarial_weight", "unfreeze", "pooling",
    "dropout", "loss_weighting", "domain_weights",
)


@dataclasses.dataclass
class PretrainOptions(TrainOptions):
    """`TrainOptions` plus the pretraining objectives' options.

    Args:
        objective: comma-separated objectives: `mlm` (masked LM), `clm` (causal LM; alone,
            since the causal mask is part of the encoder graph), `contrastive`
            (translation-pair InfoNCE, on records with `text_pair`), `sop` / `nsp`
            (sentence order / next sentence, with `mlm`). E.g. `mlm,sop` or
            `mlm,contrastive`.
        mask_rate: fraction of tokens masked-LM predicts.
        max_predictions: predictions per sequence (default `ceil(seq_len * mask_rate)`).
        whole_word: mask whole words (all WordPiece pieces of a word together).
        mask_seed: seed of the held-out masks (same seed, same masked tokens: scores of
            two models on the same data compare).
        temperature: InfoNCE softmax temperature (initial value when learned).
        learn_temperature: learn the temperature.
        objective_weights: `{objective: weight}` of each loss in the sum (default 1).
        group_by: what the temperature sampler mixes and per-group metrics report:
            `domain`, `lang` or `domain_lang`.
        languages: comma-separated languages to keep (e.g. `en`); None keeps all.
        pair_source_lang: the language of `text` in translation-pair records.
        report_before: score the validation data before training too (held-out
            masked-LM loss/accuracy per group before and after).
        **TrainOptions fields.

    Example:

    >>> PretrainOptions(train=["a.jsonl"], out="run", objective="mlm,sop").objectives
    ['mlm', 'sop']
    """

    objective: str = "mlm"
    mask_rate: float = 0.15
    max_predictions: int = None
    whole_word: bool = False
    mask_seed: int = 0
    temperature: float = 0.05
    learn_temperature: bool = True
    objective_weights: typing.Dict[str, float] = None
    group_by: str = "domain"
    languages: str = None
    pair_source_lang: str = "en"
    report_before: bool = False

    def __post_init__(self):
        super().__post_init__()
        objectives = self.objectives
        unknown = [name for name in objectives if name not in OBJECTIVES]
        if not objectives or unknown:
            raise XDomainError(f"objective: unknown {unknown or 'empty'}; choose from {', '.join(OBJECTIVES)} (comma-separated)")
        if len(set(objectives)) != len(objectives):
            raise XDomainError(f"objective lists an objective twice: {self.objective}")
        if ("sop" in objectives or "nsp" in objectives) and "mlm" not in objectives:
            raise XDomainError("objective sop/nsp trains with mlm on the same inputs: use e.g. mlm,sop")
        if "sop" in objectives and "nsp" in objectives:
            raise XDomainError("objective: choose sop or nsp, not both")
        if "clm" in objectives and len(objectives) > 1:
            raise XDomainError(
                "objective clm cannot be combined with other objectives in one run (the causal mask is part of "
                "the encoder); run them one after the other with --init RUN_DIR"
            )
        _require("mask_rate", self.mask_rate, lambda v: 0 < v < 1, "in (0, 1)")
        if self.max_predictions is not None:
            _require("max_predictions", self.max_predictions, lambda v: isinstance(v, int) and v >= 1, "a positive integer")
        _require("temperature", self.temperature, lambda v: 0.001 <= v <= 10, "in [0.001, 10]")
        if self.group_by not in GROUP_BY:
            raise XDomainError(f"group_by must be one of {', '.join(GROUP_BY)}, got {self.group_by!r}")
        used = [name for name in FINE_TUNING_ONLY if getattr(self, name) != TrainOptions.__dataclass_fields__[name].default]
        if used:
            raise XDomainError(f"option(s) {', '.join(used)} apply to fine-tuning (xdomain-tf train), not to pretraining")

    @property
    def objectives(self):
        return [name.strip() for name in str(self.objective).split(",") if name.strip()]

    @property
    def sentence_objective(self):
        return next((name for name in self.objectives if name in ("sop", "nsp")), None)

    @property
    def language_list(self):
        return [name.strip() for name in self.languages.split(",") if name.strip()] if self.languages else None

    @property
    def predictions_per_sequence(self):
        return self.max_predictions or max(1, math.ceil(self.seq_len * self.mask_rate))
