"""`xdomain-tf vocab extend`: new WordPieces for a new language, appended to a pretrained
model's vocabulary, their embeddings started from the pieces they replace."""
import pathlib

from xdomain_tf.cli.flag_types import output_file, output_folder, positive_int, sequence_length

PAIR_SOURCE_LANGUAGE = "en"  # as `xdomain-tf data pairs` writes them

EXAMPLES = """\
examples:
  # 4000 German and French pieces for MiniLM, then pretrain and fine-tune from the result
  xdomain-tf vocab extend --init all-minilm-l6-v2 --texts de.jsonl fr.jsonl --add 4000 --out runs/minilm-defr
  xdomain-tf pretrain --init runs/minilm-defr --train de.jsonl fr.jsonl --out runs/dapt
  xdomain-tf train --init runs/minilm-defr --train train.jsonl --out runs/clf

--texts takes record files (JSONL, CSV/TSV, TFRecord: `text`, optional `text_pair`
and `lang`; pieces per word are reported per `lang`) or plain .txt files (one text a
line, the file name's stem as the language). The run directory holds the report as
vocabulary_extension.json."""


def add_parser(subparsers):
    import argparse

    parser = subparsers.add_parser(
        "vocab",
        help="extend a pretrained model's WordPiece vocabulary for new languages",
        description="Work on a model's WordPiece vocabulary.",
    )
    actions = parser.add_subparsers(dest="vocab_action", metavar="ACTION")
    actions.required = True
    extend = actions.add_parser(
        "extend",
        help="append WordPieces learned on new-language text; new embeddings start at their old pieces' mean",
        description="""\
Learn up to --add new WordPieces on --texts (the library's WordPiece learner,
with the model's own normalization), append those the vocabulary lacks (old
ids and embeddings unchanged), start each new embedding at the mean of the
embeddings of the pieces the old tokenizer split it into, and grow a masked-LM
head's output bias the same way (the head stays tied to the embeddings). The
result is a run directory that pretrain --init, train --init and pretrain-eval
--model take; pieces per word before and after are printed per language.""",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    extend.add_argument("--init", required=True, metavar="MODEL",
                        help="the model to extend: all-minilm-l6-v2, a Hugging Face BERT folder, a run directory "
                             "or a .keras file")
    extend.add_argument("--texts", required=True, nargs="+", metavar="FILE",
                        help="new-language text: record files or .txt files (one text a line)")
    extend.add_argument("--add", required=True, type=positive_int, metavar="N", help="how many new WordPieces at most")
    extend.add_argument("--out", required=True, type=output_folder, metavar="RUN", help="the run directory to write")
    extend.add_argument("--heldout", nargs="+", metavar="FILE",
                        help="texts to measure pieces per word on (default: --texts)")
    extend.add_argument("--min-frequency", type=positive_int, default=2,
                        help="a pair of pieces seen fewer times is never merged (default: 2)")
    extend.add_argument("--seq-len", type=sequence_length, default=None,
                        help="the preprocessor's sequence length (default: the model's, else 128)")
    extend.add_argument("--json", type=output_file, metavar="OUT.json", help="also write the report here")
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.tasks.model_vocabulary_extension import extend_model_vocabulary
    from xdomain_tf.utils.atomic import write_json_atomic

    texts = read_language_texts(args.texts)
    heldout = read_language_texts(args.heldout) if args.heldout else None
    extended = extend_model_vocabulary(
        args.init, texts, args.add, heldout=heldout, sequence_length=args.seq_len,
        min_frequency=args.min_frequency, log=print,
    )
    options = {
        "init": args.init, "texts": list(args.texts), "add": args.add, "heldout": args.heldout,
        "min_frequency": args.min_frequency, "seq_len": extended.preprocessor.sequence_length,
    }
    out = extended.save(args.out, options=options)
    report = extended.report
    print(f"added {report['added']} WordPieces: vocabulary {report['old_vocabulary_size']} -> {report['vocabulary_size']}")
    print(f"{'language':<10}{'words':>10}{'before':>9}{'after':>9}  (pieces per word)")
    for language, scores in report["pieces_per_word"].items():
        print(f"{language:<10}{scores['words']:>10}{scores['before']:>9.3f}{scores['after']:>9.3f}")
    if args.json:
        write_json_atomic(args.json, report)
    print(f"wrote {out}")
    return 0


def read_language_texts(paths):
    """`{language: [texts]}` of record files (grouped by their `lang`, `und` when absent;
    in a translation pair the `text_pair` is in `lang`, the `text` in English) and of
    .txt files (one text a line, grouped by the file name's stem).

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "de.txt"
    >>> _ = path.write_text("Guten Tag\\n\\nDanke\\n", encoding="utf-8")
    >>> read_language_texts([path])
    {'de': ['Guten Tag', 'Danke']}
    """
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.errors import XDomainError

    groups = {}
    for path in map(pathlib.Path, paths):
        if not path.is_file():
            raise XDomainError(f"{path}: {'a folder, not a text file' if path.is_dir() else 'no such file'}")
        if path.suffix == ".txt":
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except UnicodeDecodeError as error:
                raise XDomainError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
            groups.setdefault(path.stem, []).extend(line.strip() for line in lines if line.strip())
            continue
        for record in read_records([str(path)], default_domain="text", require_label=False):
            language = record.get("lang") or "und"
            if record.get("text_pair"):  # a translation pair: English text, its translation in `lang`
                groups.setdefault(PAIR_SOURCE_LANGUAGE, []).append(record["text"])
                groups.setdefault(language, []).append(record["text_pair"])
            else:
                groups.setdefault(language, []).append(record["text"])
    return {language: values for language, values in groups.items() if values}
