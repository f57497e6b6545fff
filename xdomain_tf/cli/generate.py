"""`xdomain-tf generate`: continue prompts with a causal LM, steered by a domain or not.

    xdomain-tf generate --model RUN --prompt TEXT [--prompt TEXT ...] [--domain D]
        [--strategy greedy|top_k|top_p] [--max-new-tokens N] [--seed S]

Prints one JSON line per prompt, in order: {"prompt", "domain", "text", "new_tokens",
"stop"}: `text` is the prompt and its continuation as the tokenizer normalizes text
(lower-cased, punctuation spaced), `new_tokens` the tokens generated, `stop` why generation
ended ("sep": the model ended the text, "max_new_tokens", or "max_length": the model's
positions ran out). `--text-only` prints just each `text`, one a line.
"""
import dataclasses
import json
import typing

from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.training.option_fields import option_field

EXAMPLES = """\
examples:
  xdomain-tf generate --model runs/clm --prompt "the government said" --domain news
  xdomain-tf generate --model runs/clm --prompt "a library for" --domain debian \\
      --strategy top_p --top-p 0.9 --seed 1 --max-new-tokens 40
  xdomain-tf generate --model runs/clm --prompt "the" --strategy top_k --seed 0   # no domain"""


@dataclasses.dataclass
class GenerateOptions:
    """The flags of `xdomain-tf generate`: the causal LM, the prompts and the decoding.

    Example:

    >>> GenerateOptions(model="runs/clm", prompt=["the"]).strategy
    'greedy'
    """

    model: str = option_field(None, "a causal-LM pretraining run directory or a .keras file", metavar="RUN")
    prompt: typing.List[str] = option_field(None, "a text to continue (repeatable)", metavar="TEXT")
    domain: str = option_field(None, "condition generation on domain D (default: no domain)", metavar="D")
    strategy: str = option_field("greedy", "greedy decoding, top_k or top_p sampling",
                                 choices=("greedy", "top_k", "top_p"))
    max_new_tokens: int = option_field(32, "most tokens generated per prompt, [SEP] included",
                                       check=lambda v: v >= 1, what="a positive integer", metavar="N")
    seed: int = option_field(None, "seed of the sampling (default: random)", metavar="S")
    top_k: int = option_field(10, "top_k: sample among the K most likely", check=lambda v: v >= 1,
                              what="a positive integer", metavar="K")
    top_p: float = option_field(0.9, "top_p: the probability mass kept", check=lambda v: 0 < v < 1,
                                what="a number in (0, 1)", metavar="P")
    temperature: float = option_field(1.0, "divides the logits before sampling", metavar="T")
    text_only: bool = option_field(False, "print only the generated texts, one a line")


def add_parser(subparsers):
    parser = manual_parser(
        subparsers,
        "generate",
        help="continue prompts with a causal LM (pretrain --objective clm), steered by a domain",
        description="""\
Continue each --prompt with a causal LM until it ends the text ([SEP]) or
--max-new-tokens; prints one JSON line per prompt: {"prompt", "domain",
"text", "new_tokens", "stop"}. With --domain D every prompt starts with D's
domain token (the model's domains are those it was pretrained on); without,
none. Sampling with a --seed is reproducible.""",
        examples=EXAMPLES,
    )
    add_option_flags(parser, GenerateOptions, flags={
        "model": dict(required=True),
        "prompt": dict(required=True, action="append"),
        "text_only": dict(action="store_true"),
    })
    parser.set_defaults(run=run, python_names={"k": "--top-k", "p": "--top-p"})


def run(args):
    from xdomain_tf.data.record_schema import normalize_record
    from xdomain_tf.tasks.multi_domain_causal_lm import load_causal_lm

    for index, prompt in enumerate(args.prompt, 1):  # undecodable argv bytes fail as in a data file
        normalize_record({"text": prompt, "domain": "-"}, require_label=False, path="--prompt", line=index)
    lm = load_causal_lm(args.model)
    details = lm.generate_details(
        args.prompt, domain=args.domain, strategy=args.strategy, max_new_tokens=args.max_new_tokens, seed=args.seed,
        k=args.top_k, p=args.top_p, temperature=args.temperature,
    )
    for prompt, row in zip(args.prompt, details):
        print(row["text"] if args.text_only else json.dumps({"prompt": prompt, "domain": args.domain, **row}))
    return 0
