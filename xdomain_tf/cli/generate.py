"""`xdomain-tf generate`: continue prompts with a causal LM, steered by a domain or not.

    xdomain-tf generate --model RUN --prompt TEXT [--prompt TEXT ...] [--domain D]
        [--strategy greedy|top_k|top_p] [--max-new-tokens N] [--seed S]

Prints one JSON line per prompt, in order: {"prompt", "domain", "text", "new_tokens",
"stop"}: `text` is the prompt and its continuation as the tokenizer normalizes text
(lower-cased, punctuation spaced), `new_tokens` the tokens generated, `stop` why generation
ended ("sep": the model ended the text, "max_new_tokens", or "max_length": the model's
positions ran out). `--text-only` prints just each `text`, one a line.
"""
import json

from xdomain_tf.cli.flag_types import fraction, positive_int

EXAMPLES = """\
examples:
  xdomain-tf generate --model runs/clm --prompt "the government said" --domain news
  xdomain-tf generate --model runs/clm --prompt "a library for" --domain debian \\
      --strategy top_p --top-p 0.9 --seed 1 --max-new-tokens 40
  xdomain-tf generate --model runs/clm --prompt "the" --strategy top_k --seed 0   # no domain"""


def add_parser(subparsers):
    import argparse

    parser = subparsers.add_parser(
        "generate",
        help="continue prompts with a causal LM (pretrain --objective clm), steered by a domain",
        description="""\
Continue each --prompt with a causal LM until it ends the text ([SEP]) or
--max-new-tokens; prints one JSON line per prompt: {"prompt", "domain",
"text", "new_tokens", "stop"}. With --domain D every prompt starts with D's
domain token (the model's domains are those it was pretrained on); without,
none. Sampling with a --seed is reproducible.""",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, metavar="RUN",
                        help="a causal-LM pretraining run directory or a .keras file")
    parser.add_argument("--prompt", required=True, action="append", metavar="TEXT",
                        help="a text to continue (repeatable)")
    parser.add_argument("--domain", metavar="D", help="condition generation on domain D (default: no domain)")
    parser.add_argument("--strategy", choices=("greedy", "top_k", "top_p"), default="greedy",
                        help="greedy (default), top_k or top_p sampling")
    parser.add_argument("--max-new-tokens", type=positive_int, default=32, metavar="N",
                        help="most tokens generated per prompt, [SEP] included (default: 32)")
    parser.add_argument("--seed", type=int, default=None, metavar="S", help="seed of the sampling (default: random)")
    parser.add_argument("--top-k", type=positive_int, default=10, metavar="K",
                        help="top_k: sample among the K most likely (default: 10)")
    parser.add_argument("--top-p", type=fraction, default=0.9, metavar="P",
                        help="top_p: the probability mass kept (default: 0.9)")
    parser.add_argument("--temperature", type=float, default=1.0, metavar="T",
                        help="divides the logits before sampling (default: 1)")
    parser.add_argument("--text-only", action="store_true", help="print only the generated texts, one a line")
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
