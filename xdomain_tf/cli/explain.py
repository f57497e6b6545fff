"""`xdomain-tf explain`: why a classifier gave each text its label, word by word.

    xdomain-tf explain --model RUN_DIR|FILE.keras --text T --domain D [--html OUT.html]
    xdomain-tf explain --model ... --data FILE.jsonl [--domain D] [--out OUT.jsonl] [--steps N]

Prints one JSON line per text, in input order: {"domain", "label", "score", "words":
[{"text", "start", "end", "attribution"}], "completeness": {"sum", "score_difference",
"error"}} (plus "id" when the record has one, "pair_words" for text pairs).
"""
import dataclasses
import json
import typing

from xdomain_tf.cli.flag_types import output_file
from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.training.option_fields import option_field
from xdomain_tf.utils.storage import storage_path

DESCRIPTION = """\
Explain each prediction with integrated gradients on the input token embeddings:
how much each word of the text raised (+) or lowered (-) the predicted label's
score (its softmax probability in the text's own domain head), against a
baseline where every word piece is [PAD] (--baseline). Prints one JSON line
per text; "start"/"end" are character offsets into the text. "completeness"
checks the method: the attributions sum to the score minus the baseline's
score, up to "error" (more --steps, smaller error). Words past the sequence
length were not seen: attribution 0 and "truncated": true."""

EXAMPLES = """\
examples:
  xdomain-tf explain --model runs/quickstart --text "A late goal won the cup" --domain news
  xdomain-tf explain --model runs/quickstart --data test.jsonl --out why.jsonl --html why.html"""


@dataclasses.dataclass
class ExplainOptions:
    """The flags of `xdomain-tf explain`: the classifier, the texts and the method's settings.

    Example:

    >>> ExplainOptions(model="runs/news", text=["a goal"], domain="news").steps
    50
    """

    model: str = option_field(None, "a classifier run directory or a .keras classifier file", metavar="MODEL")
    text: typing.List[str] = option_field(None, "a text to explain (repeatable)", metavar="TEXT")
    data: typing.List[str] = option_field(None, "data files (labels optional)", metavar="FILE")
    text_pair: typing.List[str] = option_field(None, "second segment for each --text (repeatable)",
                                               metavar="TEXT_PAIR")
    domain: str = option_field(None, "the domain of every --text; with --data, of records that have none",
                               metavar="DOMAIN")
    steps: int = option_field(50, "Riemann steps of the path integral", check=lambda v: v >= 1,
                              what="a positive integer", metavar="N")
    baseline: str = option_field("pad", "what replaces the words at the path's start",
                                 choices=("pad", "mask", "zero"))
    out: str = option_field(None, "write the JSON lines here instead of stdout", metavar="FILE")
    html: str = option_field(None, "also write a heatmap page: the texts with their words coloured by attribution",
                             metavar="FILE")


def add_parser(subparsers):
    parser = manual_parser(
        subparsers,
        "explain",
        help="explain predictions: word attributions (integrated gradients) as JSON lines and HTML",
        description=DESCRIPTION,
        examples=EXAMPLES,
    )
    add_option_flags(parser, ExplainOptions, flags={
        "model": dict(required=True),
        "text": dict(action="append", exclusive="!source"),
        "data": dict(exclusive="!source"),
        "text_pair": dict(action="append"),
        "out": dict(type=output_file),
        "html": dict(type=output_file),
    })
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.data.record_schema import normalize_record
    from xdomain_tf.errors import XDomainError

    for index, pair in enumerate(args.text_pair or (), 1):  # undecodable argv bytes fail as in a data file
        normalize_record({"text": "-", "text_pair": pair, "domain": "-"}, require_label=False, path="--text-pair",
                         line=index)
    if args.text is not None:
        if not args.domain:
            raise XDomainError("--text needs --domain")
        texts, pairs, ids = args.text, args.text_pair, None
        domains = [args.domain] * len(texts)
        if pairs is not None and len(pairs) != len(texts):
            raise XDomainError(f"{len(texts)} --text but {len(pairs)} --text-pair")
        for index, text in enumerate(texts, 1):  # as a data file's records are checked
            normalize_record({"text": text, "domain": args.domain}, require_label=False, path="--text", line=index)
    else:
        from xdomain_tf.data.readers import read_records

        records = list(read_records(args.data, default_domain=args.domain, require_label=False))
        if not records:
            raise XDomainError(f"{', '.join(args.data)}: no records")
        texts = [record["text"] for record in records]
        domains = [record["domain"] for record in records]
        ids = [record.get("id") for record in records]
        with_pairs = [record for record in records if "text_pair" in record]
        pairs = [record.get("text_pair", "") for record in records] if with_pairs else None
    model = storage_path(args.model)
    if model.suffix == ".tflite" or (model.is_dir() and not (model / "model.keras").exists()
                                     and not (model / "run.json").exists()):
        raise XDomainError(
            f"{args.model}: explanations need a classifier run directory or a .keras file (exported SavedModels "
            "and TFLite files hold no gradients)"
        )
    from xdomain_tf.tasks import load_classifier

    classifier, _ = load_classifier(str(model))
    explanations = classifier.explain(texts, domains, pairs, steps=args.steps, baseline=args.baseline)
    lines = []
    for index, explanation in enumerate(explanations):
        if ids is not None and ids[index] is not None:
            explanation = {"id": ids[index], **explanation}
        lines.append(json.dumps(explanation, ensure_ascii=False))
    if args.out:
        from xdomain_tf.utils.atomic import write_text_atomic

        write_text_atomic(args.out, "".join(line + "\n" for line in lines))
    else:
        for line in lines:
            print(line)
    if args.html:
        from xdomain_tf.evaluation.attribution_html import write_attribution_page

        write_attribution_page(args.html, explanations, texts, pairs, title=f"Why these labels: {model.name}")
    return 0
