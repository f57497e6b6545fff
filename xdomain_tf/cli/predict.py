"""`xdomain-tf predict`: label texts with a run directory, a SavedModel or a TFLite file.

    xdomain-tf predict --model RUN_DIR|export/NAME[/<version>]|FILE.tflite --text T --domain D
    xdomain-tf predict --model ... --data FILE.jsonl [--domain D]

Prints one JSON line per text: {"domain": ..., "label": ..., "score": ...} (plus "id" when
the record has one).
"""
import dataclasses
import json
import typing

from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.training.option_fields import option_field

EXAMPLES = """\
examples:
  # one text of the news domain, with a run directory
  xdomain-tf predict --model runs/news --text "A late goal won" --domain news

  # every record of a file (each its own domain), with an exported SavedModel
  xdomain-tf predict --model export/news --data unlabelled.jsonl

  # the TFLite file of xdomain-tf export --tflite
  xdomain-tf predict --model news.tflite --text "shares fell" --domain news"""


@dataclasses.dataclass
class PredictOptions:
    """The flags of `xdomain-tf predict`: the model and the texts to label.

    Example:

    >>> PredictOptions(model="runs/news", text=["a goal"], domain="news").batch_size
    64
    """

    model: str = option_field(
        None, "a run directory, a SavedModel version folder, an export folder (latest version) or a .tflite file",
        metavar="MODEL")
    text: typing.List[str] = option_field(None, "a text to label (repeatable)", metavar="TEXT")
    data: typing.List[str] = option_field(None, "data files (labels optional)", metavar="FILE")
    text_pair: typing.List[str] = option_field(None, "second segment for each --text (repeatable)",
                                               metavar="TEXT_PAIR")
    domain: str = option_field(None, "the domain of every --text; with --data, of records that have none",
                               metavar="DOMAIN")
    batch_size: int = option_field(64, "texts per model call", check=lambda v: v >= 1, what="a positive integer",
                                   metavar="N")


def add_parser(subparsers):
    parser = manual_parser(
        subparsers,
        "predict",
        help="label texts with a run directory, an exported SavedModel or a TFLite file",
        description="Label texts; prints JSON lines {\"domain\", \"label\", \"score\"} (plus \"id\" when the\n"
                    "record has one).",
        examples=EXAMPLES,
    )
    add_option_flags(parser, PredictOptions, flags={
        "model": dict(required=True),
        "text": dict(action="append", exclusive="!source"),
        "data": dict(exclusive="!source"),
        "text_pair": dict(action="append"),
    })
    parser.set_defaults(run=run)


def run(args):
    from xdomain_tf.data.record_schema import normalize_record
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.serving.predictor_loader import load_predictor

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
            normalize_record({"text": text, "domain": args.domain}, require_label=False,
                             path="--text", line=index)
    else:
        from xdomain_tf.data.readers import read_records

        records = list(read_records(args.data, default_domain=args.domain, require_label=False))
        texts = [record["text"] for record in records]
        domains = [record["domain"] for record in records]
        ids = [record.get("id") for record in records]
        with_pairs = [record for record in records if "text_pair" in record]
        pairs = [record.get("text_pair", "") for record in records] if with_pairs else None
    predictor = load_predictor(args.model, batch_size=args.batch_size)
    for index, result in enumerate(predictor.predict(texts, domains, pairs)):
        if ids is not None and ids[index] is not None:
            result["id"] = ids[index]
        print(json.dumps(result, ensure_ascii=False))
    return 0
