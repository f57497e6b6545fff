"""Options of `xdomain-tf pretrain`: the shared training options plus the objectives'."""
import dataclasses
import math
import typing

from xdomain_tf.errors import XDomainError
from xdomain_tf.training.option_fields import document_options, option_field
from xdomain_tf.training.train_options import TrainOptions

OBJECTIVES = ("mlm", "clm", "contrastive", "sop", "nsp")
GROUP_BY = ("domain", "lang", "domain_lang")
# Fine-tuning options that mean nothing for pretraining (not offered as pretrain flags).
FINE_TUNING_ONLY = (
    "adapters", "adapter_reduction", "adversarial", "adversarial_weight", "unfreeze", "pooling",
    "dropout", "loss_weighting", "domain_weights", "class_weights", "label_sampling",
    "augment", "augment_mlm", "augment_pairs", "augment_seed", "align_pairs", "align_weight", "align_temperature",
)


@document_options
@dataclasses.dataclass
class PretrainOptions(TrainOptions):
    """`TrainOptions` plus the pretraining objectives' options.

    Example:

    >>> PretrainOptions(train=["a.jsonl"], out="run", objective="mlm,sop").objectives
    ['mlm', 'sop']
    """

    objective: str = option_field(
        "mlm", "comma-separated objectives: mlm (masked LM), clm (causal LM; alone, since the causal mask is "
        "part of the encoder graph), contrastive (translation-pair InfoNCE, on records with text_pair), "
        "sop / nsp (sentence order / next sentence, with mlm); e.g. mlm,sop or mlm,contrastive",
        group="objectives", metavar="LIST")
    mask_rate: float = option_field(0.15, "fraction of tokens masked-LM predicts", group="objectives",
                                    check=lambda v: 0 < v < 1, what="in (0, 1)", metavar="X")
    max_predictions: int = option_field(
        None, "predictions per sequence (default: `seq_len` * `mask_rate`, rounded up)", group="objectives",
        check=lambda v: v >= 1, what="a positive integer", metavar="N")
    whole_word: bool = option_field(False, "mask whole words (all WordPiece pieces of a word together)",
                                    group="objectives")
    mask_seed: int = option_field(
        0, "seed of the held-out masks (same seed, same masked tokens: scores of two models compare)",
        group="objectives", metavar="N")
    temperature: float = option_field(0.05, "InfoNCE softmax temperature (the initial value when learned)",
                                      group="objectives", check=lambda v: 0.001 <= v <= 10,
                                      what="in [0.001, 10]", metavar="X")
    learn_temperature: bool = option_field(True, "learn the contrastive temperature", group="objectives")
    objective_weights: typing.Dict[str, float] = option_field(
        None, "weight of each objective's loss in the sum, e.g. {\"mlm\": 1, \"contrastive\": 0.5} (default: 1 each)",
        group="objectives", metavar="JSON")
    unconditioned_rate: float = option_field(
        0.2, "clm: the fraction of training texts not conditioned on their domain token (the rest start with "
        "[domain:NAME] instead of [CLS]), so generation and scoring also work without a domain; 1 trains "
        "without domain tokens", group="objectives", check=lambda v: 0 <= v <= 1, what="in [0, 1]", metavar="X")
    group_by: str = option_field(
        "domain", "what the temperature sampler mixes and the per-group metrics report", group="domains",
        choices=GROUP_BY)
    languages: str = option_field(None, "comma-separated languages to keep, e.g. en (default: all)",
                                  group="data", metavar="LIST")
    pair_source_lang: str = option_field("en", "the language of text in translation-pair records",
                                         group="data", metavar="LANG")
    report_before: bool = option_field(
        False, "also score the validation data before training (held-out masked-LM loss and accuracy per "
        "group, before and after)", group="output")

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
        used = [name for name in FINE_TUNING_ONLY if getattr(self, name) != TrainOptions.__dataclass_fields__[name].default]
        if used:
            raise XDomainError(f"option(s) {', '.join(used)} apply to fine-tuning (xdomain-tf train), not to pretraining")

    @property
    def objectives(self):
        return [name.strip() for name in str(self.objective).split(",") if name.strip()]

    @property
    def domain_conditioned(self):
        """True when a causal LM trains with domain tokens."""
        return "clm" in self.objectives and self.unconditioned_rate < 1

    @property
    def sentence_objective(self):
        return next((name for name in self.objectives if name in ("sop", "nsp")), None)

    @property
    def language_list(self):
        return [name.strip() for name in self.languages.split(",") if name.strip()] if self.languages else None

    @property
    def predictions_per_sequence(self):
        return self.max_predictions or max(1, math.ceil(self.seq_len * self.mask_rate))
