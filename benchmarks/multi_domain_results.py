"""Multi-domain fine-tuning on real data: ours vs TF-IDF, joint vs single-domain, adapters/LoRA vs full.

    python benchmarks/multi_domain_results.py --out runs/multi_domain [--experiments vs_tfidf,small_domain,peft]

Every model starts from all-MiniLM-L6-v2 (mean pooling). Experiments:

- `vs_tfidf`: the quickstart's two-domain task (BBC News 5 topics + Debian descriptions 8
  sections, 150 training examples per label) at 256 tokens, 3 epochs; test macro-F1 per
  domain next to TF-IDF + logistic regression trained on the same files (`evaluate --baseline`).
- `vs_tfidf_all_news`: the same with every BBC training article (1,701; Debian stays at 150
  per section), 2 epochs.
- `small_domain`: German Debian descriptions with only 200 training examples (25 per
  section), trained alone vs jointly with 1,200 English ones as a second domain with its
  own head (temperature sampling α 0.5); test macro-F1 on the German test split.
- `peft`: the quickstart task at 128 tokens, 2 epochs: full fine-tuning vs per-domain
  bottleneck adapters vs LoRA (rank 8) on the attention projections, both with the encoder
  frozen; test macro-F1 per domain and trainable parameters.

Each step is one CLI command, printed before it runs and skipped when its output exists.
Writes `results.json` under `--out` and prints tables.
"""
import argparse
import collections
import json
import pathlib
import random

from cli_steps import evaluate_once, train_once

MINILM = ["--init", "all-minilm-l6-v2", "--pooling", "mean", "--batch-size", 32, "--verbose", 2]
SECTIONS = ["games", "graphics", "mail", "math", "net", "science", "sound", "text"]


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/multi_domain")
    parser.add_argument("--experiments", default="vs_tfidf,small_domain,peft")
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


def small_domain(out):
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
    common = [*MINILM, "--seq-len", 64, "--learning-rate", 1e-4]
    runs = {
        # 200 examples: 10 epochs give the single-domain run as many passes over them as it can use.
        "alone": ["--train", paths["de-200"], "--epochs", 10],
        "joint": ["--train", paths["de-200"], paths["en-1200"], "--epochs", 3, "--alpha", 0.5],
    }
    results = {}
    for name, options in runs.items():
        train_once(out / f"small-domain-{name}", [*common, *options])
        report = evaluate_once(out / f"small-domain-{name}", [paths["de-test"]], "de-test")
        results[name] = per_domain(report["domains"])["debian-de"]
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


def main():
    args = build_parser().parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    experiments = {"vs_tfidf": vs_tfidf, "vs_tfidf_all_news": vs_tfidf_all_news, "small_domain": small_domain, "peft": peft}
    for name in args.experiments.split(","):
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
    if "peft" in results:
        print(f"\n{'mode':<10}{'trainable':>12}{'fraction':>10}" + "".join(
            f"{domain:>10}" for domain in next(iter(results["peft"].values()))["domains"]))
        for name, run in results["peft"].items():
            print(f"{name:<10}{run['trainable_parameters']:>12,}{run['trainable_parameters'] / run['parameters']:>10.2%}"
                  + "".join(f"{scores['macro_f1']:>10.3f}" for scores in run["domains"].values()))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
