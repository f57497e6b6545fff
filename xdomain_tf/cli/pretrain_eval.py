"""`xdomain-tf pretrain-eval`: held-out masked-LM or causal-LM loss and perplexity per domain or
language."""
import json

from xdomain_tf.cli.flag_types import output_file
from xdomain_tf.cli.training_flags import add_option_flags, manual_parser

EXAMPLES = """\
examples:
  # masked LM: the same masked tokens for a model before and after pretraining
  xdomain-tf pretrain-eval --model runs/dapt --data heldout.jsonl --json mlm.json

  # causal LM: each text conditioned on its own domain, on a wrong one, on none
  xdomain-tf pretrain-eval --objective clm --model runs/clm --data heldout.jsonl --json own.json
  xdomain-tf pretrain-eval --objective clm --model runs/clm --data heldout.jsonl --domain news --json news.json
  xdomain-tf pretrain-eval --objective clm --model runs/clm --data heldout.jsonl --unconditioned

--json writes {"objective", "groups": {GROUP: {"loss", "perplexity", "accuracy", "tokens", ...}},
"overall": {...}}; loss is the mean cross-entropy per predicted token (natural log) and
perplexity exp(loss)."""


def add_parser(subparsers):
    from xdomain_tf.training.pretraining.evaluation_options import PretrainEvalOptions

    parser = manual_parser(
        subparsers,
        "pretrain-eval",
        help="held-out masked-LM or causal-LM loss/perplexity of a model, per domain or language",
        description="""\
Score held-out record files per domain (or language).

--objective mlm (default): masked-LM loss, accuracy and perplexity with masks
fixed by --mask-seed, so a model before and after (domain-adaptive)
pretraining is scored on the same masked tokens; an encoder without a
masked-LM head (e.g. all-minilm-l6-v2) gets a new, untrained one.

--objective clm: next-token loss and perplexity of a causal LM (xdomain-tf
pretrain --objective clm), each text conditioned on its own domain token
(texts of a domain the model has no token for: unconditioned), on
--domain D, or on none (--unconditioned).""",
        examples=EXAMPLES,
    )
    add_option_flags(parser, PretrainEvalOptions, flags={
        "model": dict(required=True),
        "data": dict(required=True),
        "domain": dict(exclusive="conditioning"),
        "unconditioned": dict(action="store_true", exclusive="conditioning"),
        "whole_word": dict(action="store_true"),
        "json": dict(type=output_file),
    })
    parser.set_defaults(run=run, python_names={"init": "--model"})


def run(args):
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.utils.atomic import write_json_atomic

    languages = [name.strip() for name in args.languages.split(",")] if args.languages else None
    common = dict(
        batch_size=args.batch_size, group_by=args.group_by, languages=languages, default_domain=args.default_domain
    )
    if args.objective == "clm":
        from xdomain_tf.training.pretraining.clm_evaluation import evaluate_clm

        report = evaluate_clm(
            args.model, args.data, domain=args.domain, unconditioned=args.unconditioned, seq_len=args.seq_len,
            **common,
        )
    else:
        if args.domain is not None or args.unconditioned:
            raise XDomainError("--domain and --unconditioned condition a causal LM: use them with --objective clm")
        from xdomain_tf.training.pretraining.mlm_evaluation import evaluate_mlm

        report = evaluate_mlm(
            args.model,
            args.data,
            seq_len=args.seq_len or 128,
            mask_rate=args.mask_rate,
            max_predictions=args.max_predictions,
            whole_word=args.whole_word,
            mask_seed=args.mask_seed,
            **common,
        )
    print(f"{'group':<20}{'loss':>10}{'accuracy':>10}{'perplexity':>12}{'tokens':>10}")
    for name, scores in {**report["groups"], "overall": report["overall"]}.items():
        print(
            f"{name:<20}{scores['loss']:>10.4f}{scores['accuracy']:>10.4f}{scores['perplexity']:>12.2f}"
            f"{scores['tokens']:>10}"
        )
    if args.json:
        write_json_atomic(args.json, report)
    print(json.dumps({"overall": report["overall"]}))
    return 0
