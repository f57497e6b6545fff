"""`xdomain-tf distill`: a smaller student classifier learns from a trained teacher."""
import json

from xdomain_tf.cli.flag_types import output_folder, positive_int
from xdomain_tf.cli.training_flags import add_option_flags, options_parser
from xdomain_tf.training.distillation_options import DEFAULT_STUDENT as DEFAULT_STUDENT_HELP  # noqa: F401

EXAMPLES = """\
examples:
  # the default student: 2 of the teacher's layers, its vocabulary trimmed to the data
  xdomain-tf distill --teacher runs/minilm --train train.jsonl \\
      --unlabelled more.jsonl --valid valid.jsonl --out runs/student

  # a bert_tiny student (fresh weights, the teacher's tokenizer), labels mattering less
  xdomain-tf distill --teacher runs/minilm --student bert_tiny,vocab=trim \\
      --alpha 0.2 --epochs 6 --train train.jsonl --valid valid.jsonl --out runs/tiny

  # 2 of the teacher's layers, also matching its hidden states and attention
  xdomain-tf distill --teacher model.keras --student layers=2 --hidden-loss 1 \\
      --attention-loss 1 --train train.jsonl --valid valid.jsonl --out runs/l2

student SPEC (comma-separated):
  ARCHITECTURE          bert_tiny, bert_mini, bert_small, bert_medium, bert_base,
                        minilm_l6_h384: fresh weights, the teacher's tokenizer
  layers=K              alone: keep K of the teacher's layers, evenly spaced from
                        the first (0, 2, 4 of 6), initialised from them (DistilBERT);
                        after an ARCHITECTURE: its number of layers
  hidden=H, heads=A, intermediate=F
                        an architecture's width, attention heads, feed-forward width
  vocab=trim            keep only the WordPieces of --train/--unlabelled text within
                        the sequence length (the same tokens on it; fewer embedding
                        rows, a smaller file)
  vocab=N               at most N tokens: special tokens, single characters, then the
                        most frequent pieces (rarer words split into shorter pieces)"""


def add_parser(subparsers):
    from xdomain_tf.training.distillation_options import DistillOptions

    parser = options_parser(
        subparsers,
        "distill",
        help="train a smaller student classifier from a trained teacher (knowledge distillation)",
        description="""\
Knowledge distillation: the student learns each example's own domain head from the
teacher's soft labels (KL at --temperature, times T^2) mixed with the hard labels
(--alpha is the weight of the labels' cross-entropy); records without a label
(all of --unlabelled) learn from the teacher alone. The teacher runs once over
the examples and its outputs are cached. The student has the teacher's domains
and labels; --out is a classifier run directory, like `xdomain-tf train --out`,
for `evaluate`, `export` and `predict`.""",
        examples=EXAMPLES,
        usage="--teacher RUN|MODEL --train FILE [FILE ...]\n"
              "                          --valid FILE [FILE ...] --out DIR [OPTION ...]",
        config=False,
    )
    # dest: not "teacher" / "student", words the error messages use in their plain sense. The
    # numbers are checked by `DistillOptions` in `run` (one-line errors, as `distill` gives them);
    # counts and --out while parsing, as before.
    add_option_flags(parser, DistillOptions, checked=False, flags={
        "teacher": dict(required=True, dest="teacher_model"),
        "student": dict(dest="student_spec"),
        "train": dict(required=True),
        "valid": dict(required=True),
        "out": dict(required=True, type=output_folder),
        "epochs": dict(type=positive_int),
        "batch_size": dict(type=positive_int),
    })
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.training.distillation_options import DistillOptions

    names = {"teacher": "teacher_model", "student": "student_spec"}
    # Checked before TensorFlow loads, with distill's messages: bad flags fail fast.
    DistillOptions(**{name: getattr(args, names.get(name, name)) for name in DistillOptions.__dataclass_fields__})
    from xdomain_tf.training.distillation import distill

    result = distill(
        args.teacher_model,
        args.student_spec,
        args.train,
        unlabelled=args.unlabelled,
        valid=args.valid,
        temperature=args.temperature,
        alpha=args.alpha,
        hidden_loss=args.hidden_loss,
        attention_loss=args.attention_loss,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        out=args.out,
        log=print,
    )
    print(json.dumps({"run_dir": args.out, **result.summary, "last_epoch": result.history[-1]}))
    return 0
