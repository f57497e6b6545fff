"""Cross-lingual zero-shot: a section classifier trained on English Debian descriptions, tested on other languages.

    python benchmarks/cross_lingual_zero_shot.py --out runs/cross_lingual
    python benchmarks/cross_lingual_zero_shot.py --languages de,fr,es,it,pt_BR,ru --encoders minilm,recommended \\
        --in-language minilm,recommended --out runs/cross_lingual_6
    python benchmarks/cross_lingual_zero_shot.py --languages de,fr,es,it \\
        --encoders minilm,extended,align,full,recommended --in-language minilm,recommended --frozen none

The target languages are `--languages` (Debian translation languages, default de,fr).
Encoders, all starting from all-MiniLM-L6-v2 (English vocabulary):

- `minilm`: the checkpoint as it is;
- `mlm`: masked-LM pretraining on the English and target-language sides of the Debian
  translation pairs (`xdomain-tf pretrain --objective mlm`);
- `align`: the same text and steps with translation-pair alignment added
  (`--objective mlm,contrastive`: in-batch contrastive loss between a description and its
  translation);
- `contrastive` (only with `--encoders ...,contrastive`): the alignment loss alone
  (`--objective contrastive`), no masked LM;
- `extended` (only with `--encoders ...,extended`): vocabulary extension alone: the
  vocabulary extended with `--extend-add` WordPieces learned on the target languages'
  training text (`xdomain-tf vocab extend`, new embeddings the mean of their old pieces),
  no pretraining;
- `aux` (only with `--encoders ...,aux`): auxiliary alignment alone: MiniLM as it is,
  fine-tuned with the translation pairs of every target language as a second stream
  (`xdomain-tf train --align-pairs`);
- `full` (only with `--encoders ...,full`): all three: `extended`, then `align`'s
  pretraining from the extended model, then fine-tuning with `aux`'s auxiliary alignment;
- `recommended`: the README's recipe, the best of these measured zero-shot on de, fr, es and it:
  `aux` (its runs are `aux`'s: `aux-en`, `aux-de`, ...).

Each encoder is fine-tuned on English only and evaluated on the English and target-language
test splits (zero-shot for the targets), once fully and, for the `--frozen` encoders, once with
the encoder frozen (a head on the pretrained features: what the pretraining alone carried
over); the upper bound is in-language supervised training (fine-tuning on each target
language, with the same fine-tuning settings) from the `--in-language` encoders. Every step is one CLI command,
printed before it runs; a step whose output exists is skipped, so an interrupted run
continues. Translation pairs come from training-split packages only, and splits are drawn
by source package, so no test package or its translation is seen in pretraining. Prints a
table and writes `results.json` under `--out`, with a `summary`:
`{encoder: {"zero_shot": {lang: macro_f1}, "in_language": {lang: macro_f1}}}`.
"""
import argparse
import collections
import json
import pathlib
import random
from typing import NamedTuple

from cli_steps import evaluate_once, train_once, xdomain_tf

SECTIONS = ["games", "graphics", "mail", "math", "net", "science", "sound", "text"]
SOURCE_LANGUAGE = "en"
BASE_MODEL = "all-minilm-l6-v2"


class Recipe(NamedTuple):
    """How an encoder is made and fine-tuned."""

    extended: bool  # starts from the vocabulary-extended base model
    objective: str = None  # pretraining objective (None: no pretraining)
    aux_align: bool = False  # fine-tuned with the translation pairs as an auxiliary task


ENCODERS = {
    "minilm": Recipe(False),
    "mlm": Recipe(False, "mlm"),
    "align": Recipe(False, "mlm,contrastive"),
    "contrastive": Recipe(False, "contrastive"),
    "extended": Recipe(True),
    "aux": Recipe(False, aux_align=True),
    "full": Recipe(True, "mlm,contrastive", aux_align=True),
}
# The README's recipe: auxiliary alignment beat MiniLM on all four languages measured and
# beat `full` on three (extension plus pretraining helped German only).
RECOMMENDED = "aux"


def recipe_name(name):
    """The encoder whose recipe (and run directories) `name` uses: `recommended` is an alias."""
    return RECOMMENDED if name == "recommended" else name


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/cross_lingual")
    parser.add_argument("--languages", default="de,fr",
                        help="comma-separated target languages: Debian translation languages, e.g. de,fr,es,it,pt_BR,ru")
    parser.add_argument("--per-section", type=int, default=150, help="training descriptions per language and section")
    parser.add_argument("--pretrain-steps", type=int, default=250)
    parser.add_argument("--pretrain-lr", default="1e-4")
    parser.add_argument("--extend-add", type=int, default=4000,
                        help="WordPieces the extended and full encoders add for the target languages")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--learning-rate", default="1e-4")
    parser.add_argument("--encoders", default="minilm,mlm,align",
                        help=f"any of {', '.join(ENCODERS)}, recommended (= {RECOMMENDED})")
    parser.add_argument("--in-language", default="minilm,align,recommended",
                        help="encoders (of --encoders) also fine-tuned on each target language")
    parser.add_argument("--frozen", default="all",
                        help="encoders (of --encoders) also fine-tuned with the encoder frozen: names, all "
                             "(those without auxiliary alignment, which trains the encoder) or none")
    return parser


def parse_args(argv=None):
    """The flags, with `languages`, `encoders` and `in_language` as checked lists; a bad
    value stops the script with one line."""
    args = build_parser().parse_args(argv)
    args.languages = target_languages(args.languages)
    args.encoders = _names(args.encoders, "--encoders")
    args.in_language = [name for name in _names(args.in_language, "--in-language") if name in args.encoders]
    if args.frozen.strip() == "all":
        args.frozen = [name for name in args.encoders if not ENCODERS[recipe_name(name)].aux_align]
    elif args.frozen.strip() == "none":
        args.frozen = []
    else:
        args.frozen = [name for name in _names(args.frozen, "--frozen") if name in args.encoders]
        kept = [name for name in args.frozen if ENCODERS[recipe_name(name)].aux_align]
        if kept:
            raise SystemExit(f"--frozen: {', '.join(kept)} fine-tune(s) with auxiliary alignment, which trains "
                             "the encoder: it cannot be frozen")
    return args


def target_languages(text):
    """The target languages of `--languages` (comma-separated Debian language codes such as
    de, fr, es, it, pt_BR, ru), in order, duplicates dropped; a bad code or the source
    language stops the script with one line. Whether Debian has descriptions in a language
    is checked when its Translation lists are read (`prepare_data`)."""
    from xdomain_tf.datasets.debian_corpus import parse_languages
    from xdomain_tf.errors import XDomainError

    try:
        languages = list(parse_languages(text))
    except XDomainError as error:
        raise SystemExit(f"--languages: {error}") from None
    if SOURCE_LANGUAGE in languages:
        raise SystemExit(f"--languages: {SOURCE_LANGUAGE} is the training language; give the target languages only")
    return languages


def _names(text, flag):
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if recipe_name(name) not in ENCODERS]
    if unknown or not names:
        known = ", ".join([*ENCODERS, "recommended"])
        raise SystemExit(f"{flag}: unknown encoder(s) {', '.join(unknown) or '(none given)'}; known: {known}")
    return names


def capped_split(path, per_section, out_dir, languages, seed=0):
    """Per-language files of at most `per_section` records per section (a seeded subset)."""
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.writers import write_jsonl

    groups = collections.defaultdict(list)
    for record in read_records(path):
        groups[record["lang"], record["label"]].append(record)
    rng = random.Random(seed)
    paths = {}
    for lang in languages:
        kept = []
        for section in SECTIONS:
            records = groups[lang, section]
            kept += rng.sample(records, min(per_section, len(records))) if per_section else records
        if not kept:
            raise SystemExit(f"{path}: no {lang} descriptions in sections {', '.join(SECTIONS)}")
        rng.shuffle(kept)
        paths[lang] = out_dir / f"{lang}.jsonl"
        write_jsonl(kept, paths[lang])
    return paths


def prepare_data(args, out):
    from xdomain_tf.datasets import debian_descriptions, debian_parallel_pairs
    from xdomain_tf.errors import XDomainError

    languages = [SOURCE_LANGUAGE, *args.languages]
    try:
        build = debian_descriptions(languages=languages, sections=SECTIONS, verbose=False)
    except XDomainError as error:  # e.g. no Translation file for a language
        raise SystemExit(f"--languages: {error}") from None
    train = capped_split(build.paths["train"], args.per_section, out / "data" / "train", languages)
    test = capped_split(build.paths["test"], 0, out / "data" / "test", languages)
    pairs = []
    for lang in args.languages:
        path = out / "data" / f"pairs-{SOURCE_LANGUAGE}-{lang}.jsonl"
        if not path.exists():
            debian_parallel_pairs(lang, out=path)
        pairs.append(path)
    return train, test, [str(path) for path in pairs]


def all_pairs(pairs, out):
    """One file of every target language's translation pairs (`--align-pairs` takes one)."""
    path = out / "data" / f"pairs-{SOURCE_LANGUAGE}-all.jsonl"
    if not path.exists():
        from xdomain_tf.utils.atomic import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_text("".join(pathlib.Path(part).read_text(encoding="utf-8") for part in pairs), encoding="utf-8")
    return str(path)


def claim_out(out, languages):
    """Records the target languages of `out`: the pretraining there depends on them, so a
    rerun with other languages must use another folder."""
    marker = out / "languages.json"
    if marker.exists() and json.loads(marker.read_text()) != languages:
        raise SystemExit(
            f"{out} holds runs for --languages {','.join(json.loads(marker.read_text()))}: use another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(languages))


def extended_model(args, out, train):
    """`xdomain-tf vocab extend` of the base model on the target languages' training text."""
    run_dir = out / "vocab-extended"
    if not (run_dir / "model.keras").exists():
        texts = [str(train[lang]) for lang in args.languages]
        xdomain_tf(["vocab", "extend", "--init", BASE_MODEL, "--texts", *texts, "--add", args.extend_add,
                    "--seq-len", args.seq_len, "--out", run_dir])
    return str(run_dir)


def encoder_paths(args, out, pairs, train):
    paths = {}
    for name in args.encoders:
        recipe = ENCODERS[recipe_name(name)]
        init = extended_model(args, out, train) if recipe.extended else BASE_MODEL
        objective = recipe.objective
        if objective is None:
            paths[name] = init
            continue
        run_dir = out / f"pretrain-{recipe_name(name)}"
        if not (run_dir / "model.keras").exists():
            xdomain_tf(["pretrain", "--init", init, "--objective", objective, "--train", *pairs,
                 "--group-by", "lang", "--steps", str(args.pretrain_steps), "--batch-size", "16",
                 "--seq-len", str(args.seq_len), "--learning-rate", args.pretrain_lr, "--out", str(run_dir),
                 "--verbose", "2"])
        paths[name] = str(run_dir)
    return paths


def fine_tune_and_score(args, out, init, name, train_path, test, frozen=False, align_pairs=None):
    run_dir = out / name
    mode = ["--freeze-encoder", "--learning-rate", "1e-3"] if frozen else ["--learning-rate", args.learning_rate]
    if align_pairs:
        mode += ["--align-pairs", align_pairs]
    counts = train_once(run_dir, ["--init", init, "--train", train_path, "--epochs", args.epochs, "--batch-size", 32,
                                  "--seq-len", args.seq_len, "--pooling", "mean", "--verbose", 2, *mode])
    scores = {}
    for lang, path in test.items():
        (domain_scores,) = evaluate_once(run_dir, [path], lang)["domains"].values()
        scores[lang] = {key: domain_scores[key] for key in ("macro_f1", "accuracy", "n")}
    return {**scores, **counts}


def summary(results, languages):
    """`{encoder: {"zero_shot": {lang: macro_f1}, "in_language": {lang: macro_f1}}}` of the
    target languages: zero-shot from the full English fine-tuning, in-language only for the
    encoders fine-tuned in-language."""
    table = {}
    for name, scores in results["trained_on_en"].items():
        table[name] = {"zero_shot": {lang: scores[lang]["macro_f1"] for lang in languages if lang in scores}}
        own = results["in_language"].get(name)
        if own:
            table[name]["in_language"] = {lang: own[lang]["macro_f1"] for lang in languages if lang in own}
    return table


def main(argv=None):
    args = parse_args(argv)
    out = pathlib.Path(args.out)
    languages = [SOURCE_LANGUAGE, *args.languages]
    claim_out(out, args.languages)
    train, test, pairs = prepare_data(args, out)
    encoders = encoder_paths(args, out, pairs, train)
    aligned = {name: all_pairs(pairs, out) if ENCODERS[recipe_name(name)].aux_align else None for name in encoders}
    results = {"languages": args.languages, "trained_on_en": {}, "trained_on_en_frozen": {}, "in_language": {}}
    for name, init in encoders.items():
        results["trained_on_en"][name] = fine_tune_and_score(
            args, out, init, f"{recipe_name(name)}-en", train["en"], test, align_pairs=aligned[name])
        if name in args.frozen:
            results["trained_on_en_frozen"][name] = fine_tune_and_score(
                args, out, init, f"{recipe_name(name)}-en-frozen", train["en"], test, frozen=True)
    for name in args.in_language:
        for lang in args.languages:
            scores = fine_tune_and_score(args, out, encoders[name], f"{recipe_name(name)}-{lang}", train[lang],
                                         {lang: test[lang]}, align_pairs=aligned[name])
            results["in_language"].setdefault(name, {})[lang] = scores[lang]
    results["summary"] = summary(results, args.languages)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\n{'encoder':<12}{'train':<8}" + "".join(f"{lang:>8}" for lang in languages) + "   (test macro-F1)")
    for mode in ("trained_on_en", "trained_on_en_frozen"):
        for name, scores in results[mode].items():
            train_mode = "en" if mode == "trained_on_en" else "en,frz"
            print(f"{name:<12}{train_mode:<8}" + "".join(f"{scores[lang]['macro_f1']:>8.3f}" for lang in languages))
    for name, scores in results["in_language"].items():
        print(f"{name:<12}{'own':<8}{'':>8}" + "".join(f"{scores[lang]['macro_f1']:>8.3f}" for lang in args.languages))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
