"""Multi-domain fine-tuning on real data: ours vs TF-IDF, joint vs single-domain, adapters/LoRA vs full.

    python benchmarks/multi_domain_results.py --out runs/multi_domain [--experiments vs_tfidf,small_domain,peft]
    python benchmarks/multi_domain_results.py --out runs/multi_domain --experiments augmentation
    python benchmarks/multi_domain_results.py --out runs/multi_domain --experiments imbalance

Every model starts from all-MiniLM-L6-v2 (mean pooling). Experiments:

- `vs_tfidf`: the quickstart's two-domain task (BBC News 5 topics + Debian descriptions 8
  sections, 150 training examples per label) at 256 tokens, 3 epochs; test macro-F1 per
  domain next to TF-IDF + logistic regression trained on the same files (`evaluate --baseline`).
- `vs_tfidf_all_news`: the same with every BBC training article (1,701; Debian stays at 150
  per section), 2 epochs.
- `small_domain`: German Debian descriptions with only 200 training examples (25 per
  section), trained alone vs jointly with 1,200 English ones as a second domain with its
  own head (temperature sampling α 0.5); test macro-F1 on the German test split.
- `augmentation`: `small_domain`'s joint run (the same data) with each training-data
  augmentation alone, then the best combination, vs none: token masking (`mask:0.1`),
  deletion (`delete:0.1`), masked-LM replacement (`mlm_replace:0.15`, the masked LM a
  200-step `pretrain --objective mlm` of MiniLM on the training text) and translate-train
  (`--augment-pairs`: English <-> German pairs of training-split packages from `data pairs
  debian`; an English example's translation trains with its domain and label, i.e. through
  the English head and the shared encoder). The combination joins the augmentations that
  beat none alone (the two best when fewer did). German test macro-F1 of each.
- `peft`: the quickstart task at 128 tokens, 2 epochs: full fine-tuning vs per-domain
  bottleneck adapters vs LoRA (rank 8) on the attention projections, both with the encoder
  frozen; test macro-F1 per domain and trainable parameters.
- `imbalance`: every Debian section with at least 100 English descriptions (packaging
  sections left out), a seeded `IMBALANCE_FRACTION` of each section's English training
  descriptions, so the natural long tail stays (the largest section has tens of times the
  smallest's examples); trained as is, with `--class-weights balanced` and with
  `--label-sampling balanced` (64 tokens, 3 epochs, the same learning rate); macro-F1,
  accuracy and the worst label's F1 on the test split (at most `IMBALANCE_TEST_CAP`
  descriptions per section: macro-F1 weighs every label alike anyway).

Each step is one CLI command, printed before it runs and skipped when its output exists.
Writes `results.json` under `--out` and prints tables.
"""
import argparse
import collections
import json
import pathlib
import random

from cli_steps import evaluate_once, train_once, xdomain_tf

MINILM = ["--init", "all-minilm-l6-v2", "--pooling", "mean", "--batch-size", 32, "--verbose", 2]
SECTIONS = ["games", "graphics", "mail", "math", "net", "science", "sound", "text"]
# `augmentation`: run name -> its `--augment` entry (translate-train is `--augment-pairs`).
AUGMENT_SPECS = {"mask": "mask:0.1", "delete": "delete:0.1", "mlm_replace": "mlm_replace:0.15", "translate": None}
AUGMENT_MLM_STEPS = 200
IMBALANCE_FRACTION = 0.03
IMBALANCE_TEST_CAP = 40
IMBALANCE_RUNS = {"none": [], "class_weights": ["--class-weights", "balanced"],
                  "balanced_sampling": ["--label-sampling", "balanced"]}


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/multi_domain")
    parser.add_argument("--experiments", default="vs_tfidf,small_domain,peft",
                        help="comma-separated: vs_tfidf, vs_tfidf_all_news, small_domain, augmentation, peft, "
                             "imbalance")
    return parser


def quickstart_task(out):
    from xdomain_tf.quickstart_data import quickstart_data

    data_dir = out / "data" / "quickstart"
    if not (data_dir / "test.jsonl").exists():
        quickstart_data(data_dir, max_train_per_label=150)
    return {split: data_dir / f"{split}.jsonl" for split in ("train", "valid", "test")}


def per_domain(report):
    return {domain: {key: scores[key] for key in ("macro_f1", "accuracy", "n")} for domain, scores in report.items()}


def vs_tfidf(out):
    data = quickstart_task(out)
    run_dir = out / "vs-tfidf"
    train_once(run_dir, [*MINILM, "--train", data["train"], "--seq-len", 256, "--epochs", 3, "--learning-rate", 1e-4])
    report = evaluate_once(run_dir, [data["test"]], "test", baseline=True)
    return {"ours": per_domain(report["domains"]), "tfidf": per_domain(report["baseline"]["domains"])}


def vs_tfidf_all_news(out):
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.writers import write_jsonl
    from xdomain_tf.datasets import bbc_news

    data = quickstart_task(out)
    train = out / "data" / "all_news" / "train.jsonl"
    if not train.exists():
        debian = [r for r in read_records(data["train"]) if r["domain"] == "debian"]
        news = list(read_records(bbc_news(verbose=False).paths["train"]))
        records = debian + news
        random.Random(0).shuffle(records)
        write_jsonl(records, train)
    run_dir = out / "vs-tfidf-all-news"
    train_once(run_dir, [*MINILM, "--train", train, "--seq-len", 256, "--epochs", 2, "--learning-rate", 1e-4])
    report = evaluate_once(run_dir, [data["test"]], "test", baseline=True)
    return {"ours": per_domain(report["domains"]), "tfidf": per_domain(report["baseline"]["domains"])}


def small_domain_data(out):
    """`{"de-200", "en-1200", "de-test"}` JSONL paths: German and English Debian
    descriptions as the domains `debian-de` and `debian-en`."""
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.writers import write_jsonl
    from xdomain_tf.datasets import debian_descriptions

    data_dir = out / "data" / "small_domain"
    paths = {name: data_dir / f"{name}.jsonl" for name in ("de-200", "en-1200", "de-test")}
    if not all(path.exists() for path in paths.values()):
        build = debian_descriptions(languages=["en", "de"], sections=SECTIONS, verbose=False)
        groups = collections.defaultdict(list)
        for record in read_records(build.paths["train"]):
            groups[record["lang"], record["label"]].append({**record, "domain": f"debian-{record['lang']}"})
        rng = random.Random(0)
        for name, lang, per_section in (("de-200", "de", 25), ("en-1200", "en", 150)):
            kept = [r for section in SECTIONS for r in rng.sample(groups[lang, section], per_section)]
            rng.shuffle(kept)
            write_jsonl(kept, paths[name])
        test = [{**r, "domain": "debian-de"} for r in read_records(build.paths["test"]) if r["lang"] == "de"]
        write_jsonl(test, paths["de-test"])
    return paths


def small_domain_runs(paths):
    """`small_domain`'s runs: name -> `train` options."""
    common = [*MINILM, "--seq-len", 64, "--learning-rate", 1e-4]
    return {
        # 200 examples: 10 epochs give the single-domain run as many passes over them as it can use.
        "alone": [*common, "--train", paths["de-200"], "--epochs", 10],
        "joint": [*common, "--train", paths["de-200"], paths["en-1200"], "--epochs", 3, "--alpha", 0.5],
    }


def german_scores(run_dir, paths, options):
    """Trains `run_dir` (once) and returns its German test scores."""
    train_once(run_dir, options)
    report = evaluate_once(run_dir, [paths["de-test"]], "de-test")
    return per_domain(report["domains"])["debian-de"]


def small_domain(out):
    paths = small_domain_data(out)
    return {name: german_scores(out / f"small-domain-{name}", paths, options)
            for name, options in small_domain_runs(paths).items()}


def augmentation_flags(names, augment_mlm, pairs):
    """The `train` flags of the augmentations `names` (keys of `AUGMENT_SPECS`), in that
    table's order: one `--augment` spec, `--augment-mlm` for `mlm_replace`, `--augment-pairs`
    for `translate`.

    >>> augmentation_flags(["translate", "mask", "mlm_replace"], "runs/mlm", "pairs.jsonl")
    ['--augment', 'mask:0.1,mlm_replace:0.15', '--augment-mlm', 'runs/mlm', '--augment-pairs', 'pairs.jsonl']
    """
    names = [name for name in AUGMENT_SPECS if name in names]
    specs = [AUGMENT_SPECS[name] for name in names if AUGMENT_SPECS[name]]
    flags = ["--augment", ",".join(specs)] if specs else []
    if "mlm_replace" in names:
        flags += ["--augment-mlm", augment_mlm]
    if "translate" in names:
        flags += ["--augment-pairs", pairs]
    return flags


def augmentation_runs(joint, augment_mlm, pairs):
    """`augmentation`'s single runs: name -> `(run folder name, train options)`; `none` is
    `small_domain`'s joint run itself (the same options, trained once)."""
    runs = {"none": ("small-domain-joint", list(joint))}
    for name in AUGMENT_SPECS:
        runs[name] = (f"augment-{name}", [*joint, *augmentation_flags([name], augment_mlm, pairs)])
    return runs


def best_combination(macro_f1):
    """The augmentations to combine, from each one's German macro-F1 alone (`macro_f1`:
    name -> score, `none` included): those that beat `none`, or the two best when fewer
    than two did.

    >>> best_combination({"none": 0.70, "mask": 0.72, "delete": 0.69, "mlm_replace": 0.71, "translate": 0.75})
    ['mask', 'mlm_replace', 'translate']
    >>> best_combination({"none": 0.70, "mask": 0.68, "delete": 0.69, "mlm_replace": 0.71, "translate": 0.60})
    ['delete', 'mlm_replace']
    """
    singles = {name: score for name, score in macro_f1.items() if name in AUGMENT_SPECS}
    helped = [name for name in AUGMENT_SPECS if name in singles and singles[name] > macro_f1["none"]]
    if len(helped) >= 2:
        return helped
    best = sorted(singles, key=lambda name: -singles[name])[:2]
    return [name for name in AUGMENT_SPECS if name in best]


def augmentation(out):
    paths = small_domain_data(out)
    pairs = paths["de-test"].parent / "pairs-en-de.jsonl"
    if not pairs.exists():
        xdomain_tf(["data", "pairs", "debian", "--language", "de", "--out", pairs])
    augment_mlm = out / "augment-mlm"
    if not (augment_mlm / "model.keras").exists():
        xdomain_tf(["pretrain", "--init", "all-minilm-l6-v2", "--objective", "mlm",
                    "--train", paths["de-200"], paths["en-1200"], "--steps", AUGMENT_MLM_STEPS, "--batch-size", 16,
                    "--seq-len", 64, "--learning-rate", 2e-4, "--out", augment_mlm, "--verbose", 2])
    joint = small_domain_runs(paths)["joint"]
    results = {}
    for name, (folder, options) in augmentation_runs(joint, augment_mlm, pairs).items():
        results[name] = german_scores(out / folder, paths, options)
    combined = best_combination({name: scores["macro_f1"] for name, scores in results.items()})
    options = [*joint, *augmentation_flags(combined, augment_mlm, pairs)]
    results["combined"] = {**german_scores(out / f"augment-{'+'.join(combined)}", paths, options),
                           "augmentations": combined}
    return results


def peft(out):
    data = quickstart_task(out)
    runs = {
        "full": ["--learning-rate", 1e-4],
        "adapters": ["--adapters", "--adapter-reduction", 8, "--learning-rate", 1e-3],
        "lora": ["--lora-rank", 8, "--learning-rate", 1e-3],
    }
    results = {}
    for name, options in runs.items():
        run_dir = out / f"peft-{name}"
        counts = train_once(run_dir, [*MINILM, "--train", data["train"], "--seq-len", 128, "--epochs", 2, *options])
        report = evaluate_once(run_dir, [data["test"]], "test")
        results[name] = {"domains": per_domain(report["domains"]), **counts}
    return results


def long_tail(records, fraction, cap=None, seed=0):
    """A seeded `fraction` of each label's records (at least one), at most `cap` per label,
    shuffled: the labels keep their natural proportions (or are capped).

    Example:

    >>> records = [{"label": "a"}] * 40 + [{"label": "b"}] * 4
    >>> kept = long_tail(records, 0.25)
    >>> sorted(collections.Counter(r["label"] for r in kept).items())
    [('a', 10), ('b', 1)]
    >>> len(long_tail(records, 1.0, cap=5))
    9
    """
    groups = collections.defaultdict(list)
    for record in records:
        groups[record["label"]].append(record)
    rng = random.Random(seed)
    kept = []
    for label in sorted(groups):
        count = max(1, round(len(groups[label]) * fraction))
        kept += rng.sample(groups[label], min(count, cap or count))
    rng.shuffle(kept)
    return kept


def imbalance_data(out):
    """`{"train", "test"}` JSONL paths of `imbalance`'s long-tailed English Debian sections."""
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.writers import write_jsonl
    from xdomain_tf.datasets import debian_descriptions

    data_dir = out / "data" / "imbalance"
    paths = {split: data_dir / f"{split}.jsonl" for split in ("train", "test")}
    if not all(path.exists() for path in paths.values()):
        build = debian_descriptions(languages=["en"], sections="all", verbose=False)
        write_jsonl(long_tail(read_records(build.paths["train"]), IMBALANCE_FRACTION), paths["train"])
        write_jsonl(long_tail(read_records(build.paths["test"]), 1.0, cap=IMBALANCE_TEST_CAP), paths["test"])
    return paths


def imbalance(out):
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.evaluation import worst_label

    paths = imbalance_data(out)
    counts = collections.Counter(record["label"] for record in read_records(paths["train"]))
    results = {"train_counts": dict(counts.most_common())}
    for name, options in IMBALANCE_RUNS.items():
        run_dir = out / f"imbalance-{name}"
        train_once(run_dir, [*MINILM, "--train", paths["train"], "--seq-len", 64, "--epochs", 3,
                             "--learning-rate", 1e-4, *options])
        (scores,) = evaluate_once(run_dir, [paths["test"]], "test")["domains"].values()
        worst = worst_label(scores["per_label"])
        results[name] = {"macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"], "n": scores["n"],
                         "worst_label": worst["label"], "worst_label_f1": worst["f1"],
                         "per_label_f1": {label: row["f1"] for label, row in scores["per_label"].items()}}
    return results


def main(argv=None):
    args = build_parser().parse_args(argv)
    experiments = {
        "vs_tfidf": vs_tfidf, "vs_tfidf_all_news": vs_tfidf_all_news, "small_domain": small_domain,
        "augmentation": augmentation, "peft": peft, "imbalance": imbalance,
    }
    names = args.experiments.split(",")
    unknown = [name for name in names if name not in experiments]
    if unknown:
        raise SystemExit(f"--experiments: unknown {', '.join(unknown)}; known: {', '.join(experiments)}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for name in names:
        results[name] = experiments[name](out)
        results_path.write_text(json.dumps(results, indent=2))
    for name in ("vs_tfidf", "vs_tfidf_all_news"):
        if name in results:
            print(f"\n{name}\n{'domain':<10}{'ours':>8}{'tfidf':>8}   (test macro-F1)")
            for domain, scores in results[name]["ours"].items():
                print(f"{domain:<10}{scores['macro_f1']:>8.3f}{results[name]['tfidf'][domain]['macro_f1']:>8.3f}")
    if "small_domain" in results:
        print(f"\nGerman (200 training examples): alone {results['small_domain']['alone']['macro_f1']:.3f}, "
              f"joint with English {results['small_domain']['joint']['macro_f1']:.3f} (test macro-F1)")
    if "augmentation" in results:
        none = results["augmentation"]["none"]["macro_f1"]
        print(f"\n{'augmentation':<34}{'de_f1':>8}{'vs none':>9}   (German test macro-F1, joint with English)")
        for name, scores in results["augmentation"].items():
            label = f"combined: {'+'.join(scores['augmentations'])}" if name == "combined" else name
            print(f"{label:<34}{scores['macro_f1']:>8.3f}{scores['macro_f1'] - none:>+9.3f}")
    if "peft" in results:
        print(f"\n{'mode':<10}{'trainable':>12}{'fraction':>10}" + "".join(
            f"{domain:>10}" for domain in next(iter(results["peft"].values()))["domains"]))
        for name, run in results["peft"].items():
            print(f"{name:<10}{run['trainable_parameters']:>12,}{run['trainable_parameters'] / run['parameters']:>10.2%}"
                  + "".join(f"{scores['macro_f1']:>10.3f}" for scores in run["domains"].values()))
    if "imbalance" in results:
        counts = results["imbalance"]["train_counts"]
        print(f"\nimbalance: {len(counts)} sections, {sum(counts.values())} training examples "
              f"({max(counts.values())} to {min(counts.values())} per section)")
        print(f"{'training':<20}{'macro_f1':>10}{'accuracy':>10}{'worst label':>22}{'its f1':>8}")
        for name in IMBALANCE_RUNS:
            run = results["imbalance"][name]
            print(f"{name:<20}{run['macro_f1']:>10.3f}{run['accuracy']:>10.3f}{run['worst_label']:>22}"
                  f"{run['worst_label_f1']:>8.3f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
