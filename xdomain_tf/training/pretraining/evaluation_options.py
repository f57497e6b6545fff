"""Options of `xdomain-tf pretrain-eval` (`evaluate_mlm`, `evaluate_clm`), declared once."""
import dataclasses
import typing

from xdomain_tf.training.option_fields import document_options, option_field
from xdomain_tf.training.pretraining.options import GROUP_BY

_POSITIVE = dict(check=lambda v: v >= 1, what="a positive integer", metavar="N")


@document_options
@dataclasses.dataclass
class PretrainEvalOptions:
    """What held-out masked-LM or causal-LM scoring is given: the model, the data, the
    objective and its settings.

    Example:

    >>> PretrainEvalOptions(model="runs/dapt", data=["heldout.jsonl"]).mask_rate
    0.15
    """

    model: str = option_field(
        None, "a run directory, a Hugging Face BERT folder or all-minilm-l6-v2 (clm: a causal-LM run directory or "
        ".keras file)", group="model", metavar="MODEL")
    objective: str = option_field("mlm", "masked LM or causal LM", group="objectives", choices=("mlm", "clm"))
    data: typing.List[str] = option_field(None, "record files (labels not needed)", group="data", metavar="FILE")
    seq_len: int = option_field(None, "maximum tokens per example (default: mlm 128, clm the model's)",
                                group="data", check=lambda v: v >= 8, what="an integer >= 8", metavar="N")
    languages: str = option_field(None, "comma-separated languages to keep, e.g. en (default: all)", group="data",
                                  metavar="LIST")
    default_domain: str = option_field(None, "the domain of records without one", group="data", metavar="DOMAIN")
    group_by: str = option_field("domain", "scores per domain, language or both", group="data", choices=GROUP_BY)
    batch_size: int = option_field(32, "examples per model call", group="data", **_POSITIVE)
    domain: str = option_field(None, "clm: condition every text on domain D (default: each text on its own)",
                               group="objectives", metavar="D")
    unconditioned: bool = option_field(False, "clm: condition no text on a domain", group="objectives")
    mask_rate: float = option_field(0.15, "mlm: fraction of tokens masked", group="objectives",
                                    check=lambda v: 0 < v < 1, what="a number in (0, 1)", metavar="X")
    max_predictions: int = option_field(
        None, "mlm: predictions per sequence (default: `seq_len` * `mask_rate`, rounded up)", group="objectives",
        **_POSITIVE)
    whole_word: bool = option_field(False, "mlm: mask whole words", group="objectives")
    mask_seed: int = option_field(0, "mlm: seed of the masks (same seed, same masked tokens)", group="objectives",
                                  metavar="N")
    json: str = option_field(None, "also write the scores as JSON", group="output", metavar="OUT.json")
