"""`xdomain-tf pretrain-eval`: held-out masked-LM loss and accuracy per domain or language."""
import json

from xdomain_tf.cli.flag_types import fraction, output_file, positive_int, sequence_length


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "pretrain-eval",
        help="held-out masked-LM loss/accuracy of an encoder, per domain or language",
        description="Scores masked-LM loss, accuracy and perplexity on record files with masks fixed by "
        "--mask-seed, so a model before and after (domain-adaptive) pretraining is scored on the same masked "
        "tokens. An encoder without a masked-LM head (e.g. all-minilm-l6-v2) gets a new, untrained one.",
    )
    parser.add_argument("--model", required=True, help="a run directory, a Hugging Face BERT folder or all-minilm-l6-v2")
    parser.add_argument("--data", required=True, nargs="+", metavar="FILE", help="record files (labels not needed)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="default: 32")
    parser.add_argument("--seq-len", type=sequence_length, default=128, help="maximum tokens per example (default: 128)")
    parser.add_argument("--mask-rate", type=fraction, default=0.15, help="fraction of tokens masked (default: 0.15)")
    parser.add_argument("--max-predictions", type=positive_int, default=None,
                        help="predictions per sequence (default: seq-len * mask-rate, rounded up)")
    parser.add_argument("--whole-word", action="store_true", help="mask whole words")
    parser.add_argument("--mask-seed", type=int, default=0, help="seed of the masks (default: 0)")
    parser.add_argument("--group-by", choices=("domain", "lang", "domain_lang"), default="domain",
                        help="scores per domain, language or both (default: domain)")
    parser.add_argument("--languages", help="comma-separated languages to keep, e.g. en")
    parser.add_argument("--default-domain", help="the domain of records without one")
    parser.add_argument("--json", type=output_file, metavar="OUT.json", help="also write the scores as JSON")
    parser.set_defaults(run=run, python_names={"init": "--model"})


def run(args):
    from xdomain_tf.training.pretraining.mlm_evaluation import evaluate_mlm
    from xdomain_tf.utils.atomic import write_json_atomic

    report = evaluate_mlm(
        args.model,
        args.data,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        mask_rate=args.mask_rate,
        max_predictions=args.max_predictions,
        whole_word=args.whole_word,
        mask_seed=args.mask_seed,
        group_by=args.group_by,
        languages=[name.strip() for name in args.languages.split(",")] if args.languages else None,
        default_domain=args.default_domain,
    )
    print(f"{'group':<20}{'loss':>10}{'accuracy':>10}{'perplexity':>12}")
    for name, scores in {**report["groups"], "overall": report["overall"]}.items():
        print(f"{name:<20}{scores['loss']:>10.4f}{scores['accuracy']:>10.4f}{scores['perplexity']:>12.2f}")
    if args.json:
        write_json_atomic(args.json, report)
    print(json.dumps({"overall": report["overall"]}))
    return 0
