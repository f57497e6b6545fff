"""`xdomain-tf predict`: label texts with a run directory, a SavedModel or a TFLite file.

    xdomain-tf predict --model RUN_DIR|export/NAME[/<version>]|FILE.tflite --text T --domain D
    xdomain-tf predict --model ... --data FILE.jsonl [--domain D]

Prints one JSON line per text: {"domain": ..., "label": ..., "score": ...} (plus "id" when
the record has one).
"""
import json

from xdomain_tf.cli.flag_types import positive_int


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="label texts with a run directory, an exported SavedModel or a TFLite file",
        description="Label texts; prints JSON lines {\"domain\", \"label\", \"score\"}.",
    )
    parser.add_argument("--model", required=True,
                        help="a run directory, a SavedModel version folder, an export folder (latest version) "
                             "or a .tflite file")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", action="append", help="a text to label (repeatable)")
    source.add_argument("--data", nargs="+", metavar="FILE", help="data files (labels optional)")
    parser.add_argument("--text-pair", action="append", default=None, help="second segment for each --text")
    parser.add_argument("--domain", default=None,
                        help="the domain of every --text; with --data, of records that have none")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="texts per model call (default: 64)")
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
