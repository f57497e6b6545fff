"""`xdomain-tf distill`: a smaller student classifier learns from a trained teacher."""
import json

from xdomain_tf.cli.flag_types import output_folder, positive_int
from xdomain_tf.cli.training_flags import ManualFormatter

# Kept equal to `xdomain_tf.tasks.student_spec.DEFAULT_STUDENT` (a test checks it); not
# imported here, so `xdomain-tf --help` does not load TensorFlow.
DEFAULT_STUDENT_HELP = "layers=2,vocab=trim"

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
    parser = subparsers.add_parser(
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
        epilog=EXAMPLES,
        formatter_class=ManualFormatter,
    )
    # dest: not "teacher" / "student", words the error messages use in their plain sense.
    parser.add_argument("--teacher", required=True, metavar="RUN|MODEL", dest="teacher_model",
                        help="the teacher: a classifier run directory or a .keras classifier")
    parser.add_argument("--student", default=None, metavar="SPEC", dest="student_spec",
                        help=f"the student (see below; default: {DEFAULT_STUDENT_HELP}: from a fine-tuned MiniLM on the "
                             "quickstart's domains, the same macro-F1, 3x faster at batch 1, 0.45x the TFLite file)")
    parser.add_argument("--train", required=True, nargs="+", metavar="FILE",
                        help="training records (a record without a label gets the teacher's soft labels only)")
    parser.add_argument("--unlabelled", nargs="+", metavar="FILE",
                        help="more in-domain records; their labels, if any, are ignored")
    parser.add_argument("--valid", required=True, nargs="+", metavar="FILE",
                        help="labelled records scored each epoch; the best epoch is kept")
    parser.add_argument("--out", required=True, type=output_folder, metavar="DIR", help="the run directory to write")
    loss = parser.add_argument_group("losses")
    loss.add_argument("--temperature", type=float, default=2.0, help="T of the soft labels, > 0 (default: 2)")
    loss.add_argument("--alpha", type=float, default=0.5,
                      help="weight of the hard-label loss in [0, 1]; the soft loss gets 1 - alpha (default: 0.5)")
    loss.add_argument("--hidden-loss", type=float, default=0.0,
                      help="weight of the hidden-state MSE (through a learned projection when the widths differ); "
                           "default 0: off")
    loss.add_argument("--attention-loss", type=float, default=0.0,
                      help="weight of the attention KL (needs as many heads as the teacher); default 0: off")
    optimisation = parser.add_argument_group("optimisation")
    optimisation.add_argument("--epochs", type=positive_int, default=3, help="passes over the examples (default: 3)")
    optimisation.add_argument("--batch-size", type=positive_int, default=32, help="examples per step (default: 32)")
    optimisation.add_argument("--learning-rate", type=float, default=None,
                              help="peak learning rate (default: 1e-4 for a student cut from the teacher, "
                                   "1e-3 for fresh weights)")
    optimisation.add_argument("--seed", type=int, default=0, help="initialisation, dropout and order (default: 0)")
    parser.set_defaults(run=run)


def run(args):
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
