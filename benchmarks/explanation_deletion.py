"""The deletion test of `MultiDomainTextClassifier.explain` on real data: removing each test
text's 3 most-attributed words should lower the predicted label's score more than removing
3 random words.

The classifier is all-MiniLM-L6-v2 fine-tuned on the quickstart's two domains (BBC News,
Debian descriptions) as `benchmarks/quickstart_recipe.py` does, or an already trained one
(`--model`, a `.keras` file or run directory). For each sampled test text:

1. `explain` gives the predicted label, its score `p` (softmax probability of the text's
   own head) and word attributions (integrated gradients, `--steps`, [PAD] baseline).
2. Candidate words: words the model saw (not past the sequence length) with at least one
   letter or digit (punctuation alone is never picked, by either arm).
3. top-3: the 3 candidates with the largest attribution; random-3: 3 candidates drawn with
   `random.Random(seed + index)`. Each set is cut out of the text (its character spans
   removed, runs of spaces then collapsed).
4. drop = `p` minus the probability of the same label for the cut text.

Texts with fewer than 6 candidate words are skipped (cutting 3 of them would leave little
to compare); their count is reported. The test split has 213 news and 513 Debian texts; a
seeded sample of `--per-domain` texts per domain keeps the run short: 100 per domain at 50
steps took 18 minutes on 2 shared CPU cores (5.5 s per text: each explanation is `--steps`
forward and backward passes of MiniLM at up to 128 tokens).

Prints and writes (`--out`) JSON: per domain and overall, the mean top-3 and random-3
drops, the fraction of texts where top-3 drops more, the fraction whose label score falls
from >= 0.5 to under 0.5 with each cut, the mean completeness error and the mean |score
difference to the baseline| it is relative to.

    python benchmarks/explanation_deletion.py --model runs/quickstart_recipe/model.keras
    python benchmarks/explanation_deletion.py --per-domain 100 --steps 50   # trains first
"""
import argparse
import json
import pathlib
import random
import re
import time

TOP_K = 3
MIN_CANDIDATES = 6


def cut(text, words):
    """`text` without the character spans of `words`, runs of spaces collapsed."""
    pieces, position = [], 0
    for word in sorted(words, key=lambda word: word["start"]):
        pieces.append(text[position : word["start"]])
        position = word["end"]
    pieces.append(text[position:])
    return re.sub(r"[ \t]{2,}", " ", "".join(pieces)).strip()


def trained_classifier(args, train):
    import keras

    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.tasks import MultiDomainTextClassifier

    labels = LabelSpace.from_records(train)
    keras.utils.set_random_seed(args.seed)
    clf = MultiDomainTextClassifier.from_preset(
        "all-minilm-l6-v2", domains={d: list(labels.labels(d)) for d in labels.domains},
        sequence_length=args.seq_len, learning_rate=args.learning_rate,
    )
    clf.fit(train, epochs=args.epochs, batch_size=32, verbose=2, seed=args.seed)
    if args.save:
        clf.save(args.save)
    return clf


def label_probabilities(clf, texts, domains, label_ids):
    outputs = clf.predict({"text": texts, "domain": domains}, batch_size=32, verbose=0)
    return [float(outputs["probabilities"][i, label]) for i, label in enumerate(label_ids)]


def summary(rows):
    count = len(rows)
    if not count:
        return {"n": 0}
    mean = lambda key: sum(row[key] for row in rows) / count  # noqa: E731
    return {
        "n": count,
        "mean_score": mean("score"),
        "mean_top3_drop": mean("top_drop"),
        "mean_random3_drop": mean("random_drop"),
        "top3_beats_random3": sum(row["top_drop"] > row["random_drop"] for row in rows) / count,
        "top3_score_under_half": sum(row["top_under_half"] for row in rows) / count,
        "random3_score_under_half": sum(row["random_under_half"] for row in rows) / count,
        "mean_completeness_error": mean("completeness_error"),
        "mean_abs_score_difference": mean("abs_score_difference"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a trained classifier (.keras or run directory); else train one")
    parser.add_argument("--per-domain", type=int, default=100, help="test texts sampled per domain (0: all)")
    parser.add_argument("--steps", type=int, default=50, help="integrated-gradients Riemann steps")
    parser.add_argument("--seed", type=int, default=0, help="sample, random-word and training seed")
    parser.add_argument("--data", default="runs/quickstart_recipe/data")
    parser.add_argument("--out", default="runs/explanation_deletion/results.json")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--per-label", type=int, default=150, help="training examples per label (training only)")
    parser.add_argument("--save", default=None, help="save the trained classifier here (.keras)")
    args = parser.parse_args()

    from xdomain_tf.data.readers import read_records
    from xdomain_tf.quickstart_data import _capped, quickstart_data
    from xdomain_tf.tasks import load_classifier

    paths = quickstart_data(pathlib.Path(args.data), max_train_per_label=100_000, log=print)
    if args.model:
        clf, _ = load_classifier(args.model)
    else:
        every = list(read_records(paths["train"]))
        train = _capped([r for r in every if r["domain"] == "news"], args.per_label, 0) + _capped(
            [r for r in every if r["domain"] != "news"], args.per_label, 0
        )
        clf = trained_classifier(args, train)

    test = list(read_records(paths["test"]))
    sample = []
    for domain in clf.domain_names:
        records = [record for record in test if record["domain"] == domain]
        if args.per_domain and len(records) > args.per_domain:
            records = random.Random(args.seed).sample(records, args.per_domain)
        sample += records
    texts, domains = [r["text"] for r in sample], [r["domain"] for r in sample]

    started = time.perf_counter()
    explanations = []
    for start in range(0, len(texts), 10):  # progress every 10 texts
        explanations += clf.explain(texts[start : start + 10], domains[start : start + 10], steps=args.steps)
        elapsed = time.perf_counter() - started
        print(f"explained {len(explanations)}/{len(texts)} texts in {elapsed:.0f} s", flush=True)
    explain_seconds = time.perf_counter() - started

    kept, skipped = [], 0
    for index, (text, explanation) in enumerate(zip(texts, explanations)):
        candidates = [w for w in explanation["words"] if not w.get("truncated") and re.search(r"\w", w["text"])]
        if len(candidates) < MIN_CANDIDATES:
            skipped += 1
            continue
        top = sorted(candidates, key=lambda w: w["attribution"], reverse=True)[:TOP_K]
        drawn = random.Random(args.seed + index).sample(candidates, TOP_K)
        kept.append((index, cut(text, top), cut(text, drawn), [w["text"] for w in top]))

    label_ids = [clf.domains[domains[i]].index(explanations[i]["label"]) for i, *_ in kept]
    kept_domains = [domains[i] for i, *_ in kept]
    after_top = label_probabilities(clf, [row[1] for row in kept], kept_domains, label_ids)
    after_random = label_probabilities(clf, [row[2] for row in kept], kept_domains, label_ids)
    rows = []
    for (index, _, _, top_words), top_score, random_score in zip(kept, after_top, after_random):
        explanation = explanations[index]
        score = explanation["score"]
        rows.append({
            "domain": domains[index], "score": score, "top_drop": score - top_score,
            "random_drop": score - random_score, "top_under_half": top_score < 0.5 <= score,
            "random_under_half": random_score < 0.5 <= score,
            "completeness_error": explanation["completeness"]["error"],
            "abs_score_difference": abs(explanation["completeness"]["score_difference"]),
            "top_words": top_words,
        })
    result = {
        "model": args.model or "trained: all-minilm-l6-v2, quickstart recipe",
        "steps": args.steps, "baseline": "pad", "per_domain": args.per_domain, "seed": args.seed,
        "skipped_fewer_than_6_words": skipped, "explain_seconds": round(explain_seconds),
        "seconds_per_text": round(explain_seconds / max(1, len(texts)), 2),
        "domains": {domain: summary([row for row in rows if row["domain"] == domain]) for domain in clf.domain_names},
        "overall": summary(rows),
        "examples": [
            {"domain": row["domain"], "top_words": row["top_words"], "top_drop": round(row["top_drop"], 4),
             "random_drop": round(row["random_drop"], 4)}
            for row in rows[:: max(1, len(rows) // 6)][:6]
        ],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
