"""`xdomain-tf pretrain`: masked LM, causal LM and translation-pair contrastive pretraining."""
import json

from xdomain_tf.cli.training_flags import add_training_flags, options_from_args, options_parser

EXAMPLES = """\
examples:
  # masked-LM pretraining of a bert_tiny encoder from scratch on two domains
  xdomain-tf pretrain --train corpus.jsonl --valid heldout.jsonl --out runs/mlm

  # domain-adaptive pretraining of all-MiniLM-L6-v2, scored before and after
  xdomain-tf pretrain --train debian.jsonl --valid heldout.jsonl \\
      --init all-minilm-l6-v2 --objective mlm,sop --report-before --out runs/dapt

  # align languages on translation pairs (xdomain-tf data pairs debian ...)
  xdomain-tf pretrain --train pairs.jsonl --init runs/dapt \\
      --objective mlm,contrastive --group-by lang --out runs/aligned

  # then fine-tune a classifier from the pretrained encoder
  xdomain-tf train --train train.jsonl --init runs/aligned --out runs/clf"""


def add_parser(subparsers):
    from xdomain_tf.training.pretraining.options import FINE_TUNING_ONLY, PretrainOptions

    parser = options_parser(
        subparsers,
        "pretrain",
        help="pretrain or continue pretraining an encoder (mlm, clm, contrastive, sop/nsp)",
        description="""\
Pretrain an encoder from an architecture, or continue pretraining one
(--init all-minilm-l6-v2, a Hugging Face BERT folder or a run directory) on
unlabelled record files with --objective mlm, mlm,sop, mlm,nsp, clm,
contrastive or mlm,contrastive (records with text_pair are translation pairs).
Domains or languages (--group-by) are mixed by temperature sampling (--alpha).
The run directory is accepted by --init of train and pretrain. Run the same
command again to resume an interrupted run.""",
        examples=EXAMPLES,
    )
    add_training_flags(parser, PretrainOptions, skip=FINE_TUNING_ONLY)
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.training.pretraining.options import PretrainOptions

    options = options_from_args(PretrainOptions, args)  # checked before TensorFlow loads: bad flags fail fast
    from xdomain_tf.training.pretraining_run import train_pretraining

    summary = train_pretraining(options)
    if "after" in summary:
        print_before_after(summary.get("before"), summary["after"], summary["groups"])
    print(json.dumps(summary))
    return 0


def print_before_after(before, after, groups):
    """A table of held-out masked/causal LM loss and accuracy per group, before and after.

    Example:

    >>> print_before_after({"mlm_loss": 5.0, "mlm_accuracy": 0.1},
    ...                    {"mlm_loss": 3.25, "mlm_accuracy": 0.4}, groups=[])
    group                 loss before  acc before  loss after  acc after
    overall                    5.0000      0.1000      3.2500     0.4000
    """
    prefix = "mlm" if "mlm_loss" in after else "clm"
    rows = [(group, f"{group}_{prefix}") for group in groups] + [("overall", prefix)]
    header = f"{'group':<20}" + (f"{'loss before':>13}{'acc before':>12}" if before else "") + f"{'loss after':>12}{'acc after':>11}"
    print(header)
    for name, key in rows:
        if f"{key}_loss" not in after:
            continue
        line = f"{name:<20}"
        if before:
            line += f"{before.get(f'{key}_loss', float('nan')):>13.4f}{before.get(f'{key}_accuracy', float('nan')):>12.4f}"
        line += f"{after[f'{key}_loss']:>12.4f}{after.get(f'{key}_accuracy', float('nan')):>11.4f}"
        print(line)
