"""Cross-lingual zero-shot: a section classifier trained on English Debian descriptions, tested on German and French.

    python benchmarks/cross_lingual_zero_shot.py --out runs/cross_lingual

Three encoders, all starting from all-MiniLM-L6-v2 (English vocabulary):

- `minilm`: the checkpoint as it is;
- `mlm`: masked-LM pretraining on the English, German and French sides of the Debian
  translation pairs (`xdomain-tf pretrain --objective mlm`);
- `align`: the same text and steps with translation-pair alignment added
  (`--objective mlm,contrastive`: in-batch contrastive loss between a description and its
  translation);
- `contrastive` (only with `--encoders ...,contrastive`): the alignment loss alone
  (`--objective contrastive`), no masked LM.

Each encoder is fine-tuned on English only and evaluated on the English, German and French
test splits (zero-shot for de/fr), once fully and once with the encoder frozen (a head on
the pretrained features: what the pretraining alone carried over); the upper bound is in-language supervised training
(fine-tuning on German, on French) from the same encoders. Every step is one CLI command,
printed before it runs; a step whose output exists is skipped, so an interrupted run
continues. Translation pairs come from training-split packages only, and splits are drawn
by source package, so no test package or its translation is seen in pretraining. Prints a
table and writes `results.json` under `--out`.
"""
import argparse
import collections
import json
import pathlib
import random

from cli_steps import evaluate_once, train_once, xdomain_tf

SECTIONS = ["games", "graphics", "mail", "math", "net", "science", "sound", "text"]
LANGUAGES = ["en", "de", "fr"]


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/cross_lingual")
    parser.add_argument("--per-section", type=int, default=150, help="training descriptions per language and section")
    parser.add_argument("--pretrain-steps", type=int, default=250)
    parser.add_argument("--pretrain-lr", default="1e-4")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--learning-rate", default="1e-4")
    parser.add_argument("--encoders", default="minilm,mlm,align", help="also: contrastive")
    parser.add_argument("--in-language", default="minilm,align", help="encoders also fine-tuned on de and on fr")
    return parser


def capped_split(path, per_section, out_dir, seed=0):
    """Per-language files of at most `per_section` records per section (a seeded subset)."""
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.writers import write_jsonl

    groups = collections.defaultdict(list)
    for record in read_records(path):
        groups[record["lang"], record["label"]].append(record)
    rng = random.Random(seed)
    paths = {}
    for lang in LANGUAGES:
        kept = []
        for section in SECTIONS:
            records = groups[lang, section]
            kept += rng.sample(records, min(per_section, len(records))) if per_section else records
        rng.shuffle(kept)
        paths[lang] = out_dir / f"{lang}.jsonl"
        write_jsonl(kept, paths[lang])
    return paths


def prepare_data(args, out):
    from xdomain_tf.datasets import debian_descriptions, debian_parallel_pairs

    build = debian_descriptions(languages=LANGUAGES, sections=SECTIONS, verbose=False)
    train = capped_split(build.paths["train"], args.per_section, out / "data" / "train")
    test = capped_split(build.paths["test"], 0, out / "data" / "test")
    pairs = []
    for lang in LANGUAGES[1:]:
        path = out / "data" / f"pairs-en-{lang}.jsonl"
        if not path.exists():
            debian_parallel_pairs(lang, out=path)
        pairs.append(path)
    return train, test, [str(path) for path in pairs]


def encoder_paths(args, out, pairs):
    paths = {}
    for name in args.encoders.split(","):
        if name == "minilm":
            paths[name] = "all-minilm-l6-v2"
            continue
        objective = {"mlm": "mlm", "align": "mlm,contrastive", "contrastive": "contrastive"}[name]
        run_dir = out / f"pretrain-{name}"
        if not (run_dir / "model.keras").exists():
            xdomain_tf(["pretrain", "--init", "all-minilm-l6-v2", "--objective", objective, "--train", *pairs,
                 "--group-by", "lang", "--steps", str(args.pretrain_steps), "--batch-size", "16",
                 "--seq-len", str(args.seq_len), "--learning-rate", args.pretrain_lr, "--out", str(run_dir),
                 "--verbose", "2"])
        paths[name] = str(run_dir)
    return paths


def fine_tune_and_score(args, out, init, name, train_path, test, frozen=False):
    run_dir = out / name
    mode = ["--freeze-encoder", "--learning-rate", "1e-3"] if frozen else ["--learning-rate", args.learning_rate]
    counts = train_once(run_dir, ["--init", init, "--train", train_path, "--epochs", args.epochs, "--batch-size", 32,
                                  "--seq-len", args.seq_len, "--pooling", "mean", "--verbose", 2, *mode])
    scores = {}
    for lang, path in test.items():
        (domain_scores,) = evaluate_once(run_dir, [path], lang)["domains"].values()
        scores[lang] = {key: domain_scores[key] for key in ("macro_f1", "accuracy", "n")}
    return {**scores, **counts}


def main():
    args = build_parser().parse_args()
    out = pathlib.Path(args.out)
    train, test, pairs = prepare_data(args, out)
    encoders = encoder_paths(args, out, pairs)
    results = {"trained_on_en": {}, "trained_on_en_frozen": {}, "in_language": {}}
    for name, init in encoders.items():
        results["trained_on_en"][name] = fine_tune_and_score(args, out, init, f"{name}-en", train["en"], test)
        results["trained_on_en_frozen"][name] = fine_tune_and_score(
            args, out, init, f"{name}-en-frozen", train["en"], test, frozen=True)
    for name in args.in_language.split(","):
        if name in encoders:
            for lang in ("de", "fr"):
                scores = fine_tune_and_score(args, out, encoders[name], f"{name}-{lang}", train[lang], {lang: test[lang]})
                results["in_language"].setdefault(name, {})[lang] = scores[lang]
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\n{'encoder':<12}{'train':<8}" + "".join(f"{lang:>8}" for lang in LANGUAGES) + "   (test macro-F1)")
    for mode in ("trained_on_en", "trained_on_en_frozen"):
        for name, scores in results[mode].items():
            train_mode = "en" if mode == "trained_on_en" else "en,frz"
            print(f"{name:<12}{train_mode:<8}" + "".join(f"{scores[lang]['macro_f1']:>8.3f}" for lang in LANGUAGES))
    for name, scores in results["in_language"].items():
        print(f"{name:<12}{'own':<8}{'':>8}" + "".join(f"{scores[lang]['macro_f1']:>8.3f}" for lang in ("de", "fr")))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
