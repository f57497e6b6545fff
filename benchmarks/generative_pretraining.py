"""Cross-domain generative pretraining, measured end to end on the quickstart corpora (BBC News
topics and Debian package descriptions), at a CPU-feasible size.

One WordPiece vocabulary is learnt from the training text of both domains (with the reserved
`[domain:debian]` / `[domain:news]` tokens) and shared by every model, so perplexities compare
token for token. Then:

1. Domain-conditioned causal LM (CLM) on both domains (`--unconditioned-rate` of the texts
   start with `[CLS]` instead of their domain token): held-out perplexity of each domain
   (validation split) conditioned on its own domain, on the other one, and on none.
2. Zero-shot domains: for each domain, a CLM pretrained on the other domain only (same steps),
   scored on it (unconditioned: it has no token for it), against the CLM that saw it.
3. CLM vs masked LM (MLM, same architecture, steps and text) vs no pretraining, as the start of
   a classifier with a head per domain, fine-tuned on the capped training split (the
   quickstart's 150 examples per label) and scored on the test split (macro-F1 per domain).
   The CLM encoder is fine-tuned causal with `last` and `mean` pooling, and converted to
   bidirectional attention with `mean` pooling.
4. Domain-conditioned generation samples.
5. The CLI on the saved CLM: `xdomain-tf pretrain-eval --objective clm` must give the numbers
   of step 1, and `xdomain-tf generate` a sample.
6. `transfer` stage: classification on a domain left out of pretraining, with the library's
   transfer machinery (`transfer_experiment`, i.e. `xdomain-tf transfer --init MODEL.keras`)
   from random weights, the CLM of all domains and the CLM pretrained without the domain.
7. `mlm-matched` stage: the MLM pretrained for `--mlm-steps-factor` (3) times the CLM's steps,
   about the CLM's compute (an MLM step costs about a third of a CLM step), fine-tuned as in 3.

Stages 1-5 are the `main` stage; it saves `clm.keras`, `clm_without_DOMAIN.keras` and
`vocab.txt` in OUT, which `transfer` reuses when run alone (it pretrains what is missing, with
the same settings). Writes `OUT/results.json` (a stage run alone adds to it) and prints
markdown tables for the README.

    nice -n 5 python benchmarks/generative_pretraining.py --out runs/generative_pretraining
    nice -n 5 python benchmarks/generative_pretraining.py --stages transfer,mlm-matched --held-out news
    python benchmarks/generative_pretraining.py --tables runs/generative_pretraining/results.json
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time

PROMPTS = ("the", "this package", "the government")
STAGES = ("main", "mlm-matched", "transfer")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/generative_pretraining")
    parser.add_argument("--preset", default="bert_tiny", help="encoder architecture (default: bert_tiny)")
    parser.add_argument("--vocab-size", type=int, default=4000)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--pretrain-steps", type=int, default=400)
    parser.add_argument("--pretrain-learning-rate", type=float, default=1e-3)
    parser.add_argument("--unconditioned-rate", type=float, default=0.2)
    parser.add_argument("--held-out", default="debian,news", help="domains to hold out of pretraining, in turn")
    parser.add_argument("--per-label", type=int, default=150, help="fine-tuning examples per label")
    parser.add_argument("--fine-tune-epochs", type=int, default=3)
    parser.add_argument("--fine-tune-learning-rate", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-cli", action="store_true", help="do not run the CLI check")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"comma-separated stages to run (default: all): {', '.join(STAGES)}; a later stage "
                        "run alone reuses OUT/vocab.txt and the models an earlier run saved, and adds to its results.json")
    parser.add_argument("--transfer-seeds", default="0",
                        help="transfer stage: comma-separated fine-tuning seeds (default: 0); the reports of "
                        "seeds run earlier are kept")
    parser.add_argument("--mlm-steps-factor", type=float, default=3.0,
                        help="mlm-matched stage: MLM steps = this times --pretrain-steps (default: 3)")
    parser.add_argument("--tables", metavar="RESULTS", help="only print the tables of a results.json")
    args = parser.parse_args()
    if args.tables:
        print(markdown(json.loads(pathlib.Path(args.tables).read_text(encoding="utf-8"))))
        return

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stages = [name for name in args.stages.split(",") if name]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown or not stages:
        parser.error(f"--stages: unknown {', '.join(unknown) or 'empty list'}; known: {', '.join(STAGES)}")
    started = time.perf_counter()
    results_path = out / "results.json"
    if "main" in stages or not results_path.exists():
        results = {}
    else:  # a later stage run alone adds to the results of the earlier run
        results = json.loads(results_path.read_text(encoding="utf-8"))
    bench = _Benchmark(args, out, results, fresh_vocabulary="main" in stages)
    earlier_seconds = results.get("seconds", {})
    for stage, run_stage in (("main", _main_stages), ("transfer", _transfer_stage), ("mlm-matched", _mlm_matched_stage)):
        if stage in stages:
            run_stage(bench)
            # Written after each stage, so a later stage that fails keeps the earlier ones.
            results["seconds"] = {**earlier_seconds, **bench.timings}
            results["seconds"][f"total ({'+'.join(stages)})"] = round(time.perf_counter() - started, 1)
            results_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))


class _Benchmark:
    """The data, shared vocabulary and pretraining helper every stage uses, and the results."""

    def __init__(self, args, out, results, fresh_vocabulary):
        from xdomain_tf.data.readers import read_records
        from xdomain_tf.quickstart_data import _capped, quickstart_data
        from xdomain_tf.text import Preprocessor, WordPieceTokenizer
        from xdomain_tf.training.pretraining.corpus import PretrainingCorpus

        self.args, self.out, self.results, self.timings = args, out, results, {}
        self.paths = quickstart_data(out / "data", max_train_per_label=100_000, log=print)
        self.train = list(read_records(self.paths["train"]))
        self.corpus = PretrainingCorpus.from_records(self.train)
        self.domains = self.corpus.text_groups
        self.vocabulary = self._vocabulary(fresh_vocabulary)
        self.preprocessor = Preprocessor(WordPieceTokenizer(self.vocabulary), args.seq_len)
        self.pretrain = _Pretraining(args, self.corpus, self.preprocessor, self.vocabulary)
        self.fine_tune = _capped([r for r in self.train if r["domain"] == "news"], args.per_label, 0) + _capped(
            [r for r in self.train if r["domain"] != "news"], args.per_label, 0
        )
        self.test = list(read_records(self.paths["test"]))
        self.valid = [str(self.paths["valid"])]
        print(f"{len(self.train)} training texts ({self.corpus.sizes()}), vocabulary {len(self.vocabulary)}")

    def _vocabulary(self, fresh):
        """One WordPiece vocabulary for every model, kept as OUT/vocab.txt (next to the saved models,
        where `--init MODEL.keras` finds it); a later stage reuses it."""
        from xdomain_tf.text import reserve_domain_tokens, train_wordpiece_vocabulary

        path = self.out / "vocab.txt"
        if not fresh and path.exists():
            return path.read_text(encoding="utf-8").splitlines()
        if not fresh and (self.out / "clm.keras").exists():  # a run from before vocab.txt was written
            vocabulary = list(self.load_clm("clm.keras").preprocessor.tokenizer.vocabulary)
        else:
            vocabulary = reserve_domain_tokens(
                train_wordpiece_vocabulary([r["text"] for r in self.train], self.args.vocab_size), self.domains
            )
        path.write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
        return vocabulary

    def load_clm(self, name):
        from xdomain_tf.tasks import load_causal_lm

        return load_causal_lm(str(self.out / name))

    def timed(self, name, function, *arguments, **keywords):
        begin = time.perf_counter()
        value = function(*arguments, **keywords)
        self.timings[name] = round(time.perf_counter() - begin, 1)
        print(f"{name}: {self.timings[name]} s")
        return value

    def saved_clm(self, domains):
        """The CLM pretrained on `domains`: loaded from OUT when an earlier run saved it, else
        pretrained now (same settings) and saved. Returns `(file name, model)`."""
        name = "clm.keras" if set(domains) == set(self.domains) else _without_name(
            [d for d in self.domains if d not in domains]
        )
        if (self.out / name).exists():
            print(f"reusing {self.out / name}")
            return name, self.load_clm(name)
        what = "all domains" if name == "clm.keras" else f"without {', '.join(d for d in self.domains if d not in domains)}"
        model = self.timed(f"pretrain clm ({what})", self.pretrain.causal_lm, domains)
        model.save(self.out / name)
        return name, model


def _without_name(held_out):
    return f"clm_without_{'_'.join(held_out)}.keras"


def _main_stages(bench):
    """Stages 1-5 of the module docstring."""
    from xdomain_tf.training.pretraining.clm_evaluation import evaluate_clm

    args, out, results, domains, pretrain, timed = (
        bench.args, bench.out, bench.results, bench.domains, bench.pretrain, bench.timed
    )
    results.update({"settings": vars(args), "training_texts": bench.corpus.sizes(),
                    "vocabulary_size": len(bench.vocabulary)})

    # 1. Per-domain perplexity of the CLM with own / wrong / no conditioning.
    clm = timed("pretrain clm (all domains)", pretrain.causal_lm, domains)
    valid = bench.valid
    scores = {
        "own": evaluate_clm(clm, valid, batch_size=64),
        "none": evaluate_clm(clm, valid, batch_size=64, unconditioned=True),
        **{f"domain:{d}": evaluate_clm(clm, valid, batch_size=64, domain=d) for d in domains},
    }
    perplexity = {}
    for domain in domains:
        wrong = [d for d in domains if d != domain]
        perplexity[domain] = {
            "own": scores["own"]["groups"][domain]["perplexity"],
            "wrong": min(scores[f"domain:{d}"]["groups"][domain]["perplexity"] for d in wrong),
            "none": scores["none"]["groups"][domain]["perplexity"],
            "tokens": scores["own"]["groups"][domain]["tokens"],
            "texts": scores["own"]["groups"][domain]["texts"],
        }
    results["clm_perplexity"] = perplexity
    results["clm_scores"] = scores

    # 2. Held-out domains: pretrained without them (saved for the transfer stage).
    held_out = {}
    for domain in [name for name in args.held_out.split(",") if name]:
        others = [d for d in domains if d != domain]
        model = timed(f"pretrain clm without {domain}", pretrain.causal_lm, others)
        model.save(out / _without_name([domain]))
        report = evaluate_clm(model, valid, batch_size=64)
        held_out[domain] = {
            "pretrained_without": report["groups"][domain]["perplexity"],
            "conditioned_texts": report["groups"][domain]["conditioned"],
            "pretrained_with_own": perplexity[domain]["own"],
            "pretrained_with_none": perplexity[domain]["none"],
            "other_domains_without": {d: report["groups"][d]["perplexity"] for d in others},
        }
        del model
    results["held_out_perplexity"] = held_out

    # 3. CLM vs MLM vs none as the start of per-domain heads.
    mlm = timed("pretrain mlm (all domains)", pretrain.masked_lm, domains)
    variants = {
        "none (random init), mean": (pretrain.fresh_encoder(causal=False), "mean"),
        "MLM, mean": (pretrain.copy(mlm.encoder, causal=False), "mean"),
        "MLM, cls": (pretrain.copy(mlm.encoder, causal=False), "cls"),
        "CLM causal, last": (pretrain.copy(clm.encoder, causal=True), "last"),
        "CLM causal, mean": (pretrain.copy(clm.encoder, causal=True), "mean"),
        "CLM made bidirectional, mean": (pretrain.copy(clm.encoder, causal=False), "mean"),
    }
    classification = {}
    for name, (encoder, pooling) in variants.items():
        classification[name] = timed(
            f"fine-tune {name}", _fine_tune, encoder, pooling, bench.preprocessor, bench.fine_tune, bench.test, args
        )
        print(name, classification[name])
    results["fine_tuning_examples"] = len(bench.fine_tune)
    results["classification"] = classification

    # 4. Generation samples.
    samples = []
    for prompt in PROMPTS:
        for domain in [*domains, None]:
            for strategy in ("greedy", "top_p"):
                text = clm.generate(prompt, domain=domain, strategy=strategy, max_new_tokens=24, seed=args.seed)
                samples.append({"prompt": prompt, "domain": domain, "strategy": strategy, "text": text})
    results["samples"] = samples

    # 5. The CLI on the saved model.
    clm.save(out / "clm.keras")
    if not args.skip_cli:
        results["cli"] = _cli_check(out, valid, scores["own"], domains)


def _mlm_matched_stage(bench):
    """6. The MLM pretrained for `--mlm-steps-factor` times the CLM's steps (an MLM step costs about
    a third of a CLM step: the loss reads 15% of the positions, not all), fine-tuned as in stage 3."""
    args, pretrain = bench.args, bench.pretrain
    steps = round(args.pretrain_steps * args.mlm_steps_factor)
    seconds_before = dict(bench.timings)
    mlm = bench.timed(f"pretrain mlm ({steps} steps)", pretrain.masked_lm, bench.domains, steps=steps)
    pretrain_seconds = bench.timings[f"pretrain mlm ({steps} steps)"]
    classification = {}
    for pooling in ("mean", "cls"):
        name = f"MLM, {steps} steps (matched compute), {pooling}"
        classification[name] = bench.timed(
            f"fine-tune {name}", _fine_tune, pretrain.copy(mlm.encoder, causal=False), pooling,
            bench.preprocessor, bench.fine_tune, bench.test, args,
        )
        print(name, classification[name])
    earlier = {**bench.results.get("seconds", {}), **seconds_before}
    bench.results["mlm_matched"] = {
        "steps": steps,
        "steps_factor": args.mlm_steps_factor,
        "pretrain_seconds": pretrain_seconds,
        "clm_pretrain_seconds": earlier.get("pretrain clm (all domains)"),
        "mlm_400_step_seconds": earlier.get("pretrain mlm (all domains)"),
        "final_training_metrics": pretrain.last_metrics,
        "classification": classification,
    }


def _transfer_stage(bench):
    """7. Classification on a domain the encoder never saw in pretraining, with the library's
    transfer machinery (`transfer_experiment`, as `xdomain-tf transfer --init MODEL.keras`):
    from each start (random weights, the CLM of all domains, the CLM pretrained without a
    domain), one classifier per domain fine-tuned on that domain's capped training split and
    scored on every domain with the same label set (test split).

    The quickstart domains have disjoint label sets (Debian sections, BBC topics), so the
    transfer matrix has its diagonal only and the all-but-one (zero-shot classification) runs
    have nothing to score: the held-out question is whether pretraining that never saw a
    domain still helps its in-domain fine-tuning. The `--init` path loads the encoder as a
    plain bidirectional one, so this matches stage 3's `CLM made bidirectional, mean`.
    """
    import shutil

    from xdomain_tf.data.writers import write_jsonl
    from xdomain_tf.training.train_options import TrainOptions
    from xdomain_tf.training.transfer_study import transfer_experiment

    args, out, domains = bench.args, bench.out, bench.domains
    held_out = [name for name in args.held_out.split(",") if name]
    folder = out / "transfer"
    write_jsonl(bench.fine_tune, folder / "fine_tune.jsonl")

    def random_encoder():
        bench.pretrain.fresh_encoder(causal=False).save(out / "encoder_random.keras")
        return "encoder_random.keras"

    # Callables, so a model is pretrained (when no earlier run saved it) just before its runs.
    starts = {"random init": random_encoder, "CLM, all domains": lambda: bench.saved_clm(domains)[0]}
    for domain in held_out:
        starts[f"CLM without {domain}"] = lambda domain=domain: bench.saved_clm([d for d in domains if d != domain])[0]
    seeds = [int(seed) for seed in args.transfer_seeds.split(",") if seed]
    earlier = bench.results.get("transfer") or {}
    same_setup = earlier.get("fine_tuning_examples") == len(bench.fine_tune) and earlier.get("pooling") == "mean"
    runs = earlier.get("runs", {}) if same_setup else {}  # the reports of other seeds are kept
    for start, make_start in starts.items():
        file_name = make_start()
        reports = runs.setdefault(start, {"init": file_name, "reports": {}})["reports"]
        for seed in seeds:
            run_folder = folder / file_name.removesuffix(".keras") / f"seed{seed}"
            shutil.rmtree(run_folder, ignore_errors=True)  # a finished run would be resumed, not retrained
            options = TrainOptions(
                train=[str(folder / "fine_tune.jsonl")], valid=[str(bench.paths["test"])], out=str(run_folder),
                init=str(out / file_name), pooling="mean", epochs=args.fine_tune_epochs,
                learning_rate=args.fine_tune_learning_rate, batch_size=args.batch_size, seq_len=args.seq_len,
                seed=seed, verbose=0,
            )
            reports[str(seed)] = bench.timed(
                f"transfer from {start}, seed {seed}", transfer_experiment, options, all_but_one=True,
                log=lambda line: print(line) if line.startswith("==") else None,
            )
            print(start, seed, reports[str(seed)]["matrix"])
    bench.results["transfer"] = {
        "held_out": sorted(set(earlier.get("held_out", []) if same_setup else []) | set(held_out)),
        "pooling": "mean",
        "fine_tuning_examples": len(bench.fine_tune),
        "runs": runs,
    }


class _Pretraining:
    """Builds and pretrains encoders of one architecture on one vocabulary."""

    def __init__(self, args, corpus, preprocessor, vocabulary):
        from xdomain_tf.models import EncoderConfig

        self.args, self.corpus, self.preprocessor = args, corpus, preprocessor
        self.config = EncoderConfig.preset(
            args.preset, vocab_size=len(vocabulary), max_position_embeddings=max(512, args.seq_len)
        )

    def fresh_encoder(self, causal):
        import keras

        from xdomain_tf.models import TransformerEncoder

        keras.utils.set_random_seed(self.args.seed)
        return TransformerEncoder(self.config, causal=causal, name="encoder")

    def copy(self, encoder, causal):
        from xdomain_tf.models import TransformerEncoder

        copy = TransformerEncoder.from_config({**encoder.get_config(), "causal": causal})
        copy.set_weights(encoder.get_weights())
        return copy

    def _sub_corpus(self, domains):
        from xdomain_tf.training.pretraining.corpus import PretrainingCorpus

        return PretrainingCorpus({d: self.corpus.texts[d] for d in domains})

    def _fit(self, trainer, dataset, steps=None):
        import keras

        from xdomain_tf.optimizers import WarmupLinearDecay

        steps = steps or self.args.pretrain_steps
        schedule = WarmupLinearDecay(self.args.pretrain_learning_rate, steps, steps // 10)
        trainer.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01))
        history = trainer.fit(dataset.take(steps), epochs=1, steps_per_epoch=steps, verbose=0)
        self.last_metrics = {key: float(values[-1]) for key, values in history.history.items()}
        return self.last_metrics

    def causal_lm(self, domains):
        from xdomain_tf.tasks import MultiDomainCausalLM
        from xdomain_tf.text import domain_token_ids
        from xdomain_tf.training.pretraining.input_pipelines import causal_lm_dataset
        from xdomain_tf.training.pretraining.trainer import PretrainingTrainer

        encoder = self.fresh_encoder(causal=True)
        encoder.pooler.trainable = False  # nothing reads [CLS] in pretraining
        lm = MultiDomainCausalLM(encoder, self.preprocessor, domains=domains)
        trainer = PretrainingTrainer(causal_lm=lm, groups=domains)
        dataset = causal_lm_dataset(
            self._sub_corpus(domains), self.preprocessor, self.args.batch_size, domains, seed=self.args.seed,
            domain_token_ids=domain_token_ids(self.preprocessor.tokenizer, domains),
            unconditioned_rate=self.args.unconditioned_rate,
        )
        print("  final training metrics:", self._fit(trainer, dataset.map(lambda batch: {"clm": batch})))
        encoder.pooler.trainable = True
        return lm

    def masked_lm(self, domains, steps=None):
        import math

        from xdomain_tf.models import MaskedLM
        from xdomain_tf.training.pretraining.input_pipelines import lm_masker, masked_lm_dataset
        from xdomain_tf.training.pretraining.trainer import PretrainingTrainer

        encoder = self.fresh_encoder(causal=False)
        encoder.pooler.trainable = False
        model = MaskedLM(encoder)
        trainer = PretrainingTrainer(masked_lm=model, groups=domains)
        masker = lm_masker(self.preprocessor.tokenizer, 0.15, math.ceil(self.args.seq_len * 0.15))
        dataset = masked_lm_dataset(
            self._sub_corpus(domains), self.preprocessor, masker, self.args.batch_size, domains, seed=self.args.seed
        )
        print("  final training metrics:", self._fit(trainer, dataset.map(lambda batch: {"mlm": batch}), steps))
        encoder.pooler.trainable = True
        return model


def _fine_tune(encoder, pooling, preprocessor, train, test, args):
    import keras

    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report
    from xdomain_tf.tasks import MultiDomainTextClassifier
    from xdomain_tf.training.record_classification import classify_records, evaluate_rows

    labels = LabelSpace.from_records(train)
    keras.utils.set_random_seed(args.seed)
    classifier = MultiDomainTextClassifier(
        encoder, {d: list(labels.labels(d)) for d in labels.domains},
        preprocessor=preprocessor.with_options(pad_to="longest"), pooling=pooling,
        learning_rate=args.fine_tune_learning_rate,
    )
    classifier.fit(train, epochs=args.fine_tune_epochs, batch_size=args.batch_size, verbose=0, seed=args.seed)
    report = evaluation_report(evaluate_rows(classify_records(classifier, test), classifier.domains))
    return {
        **{domain: round(scores["macro_f1"], 4) for domain, scores in report["domains"].items()},
        "overall_macro_f1": round(report["overall"]["macro_f1"], 4),
        "accuracy": round(report["overall"]["accuracy"], 4),
    }


def _cli_check(out, valid, python_report, domains):
    """Runs the two commands on the saved model; returns what they printed."""
    command = [sys.executable, "-m", "xdomain_tf"]
    scores = out / "cli_pretrain_eval.json"
    evaluation = subprocess.run(
        [*command, "pretrain-eval", "--objective", "clm", "--model", str(out / "clm.keras"), "--data", *valid,
         "--batch-size", "64", "--json", str(scores)],
        capture_output=True, text=True, check=True,
    )
    cli_report = json.loads(scores.read_text(encoding="utf-8"))
    generation = subprocess.run(
        [*command, "generate", "--model", str(out / "clm.keras"), "--prompt", "the", "--domain", domains[-1],
         "--strategy", "top_k", "--seed", "0", "--max-new-tokens", "16"],
        capture_output=True, text=True, check=True,
    )
    return {
        "pretrain_eval_overall": cli_report["overall"],
        "pretrain_eval_equals_python": abs(cli_report["overall"]["loss"] - python_report["overall"]["loss"]) < 1e-6,
        "pretrain_eval_table": evaluation.stdout.strip().splitlines()[:len(domains) + 2],
        "generate": [json.loads(line) for line in generation.stdout.strip().splitlines()],
    }


def markdown(results):
    """The README tables of `results`."""
    lines = ["Held-out perplexity of the domain-conditioned causal LM (validation split):", ""]
    lines += ["| domain | own domain | wrong domain | no domain | tokens |", "|---|---|---|---|---|"]
    for domain, row in results["clm_perplexity"].items():
        lines.append(f"| {domain} | {row['own']:.1f} | {row['wrong']:.1f} | {row['none']:.1f} | {row['tokens']:,} |")
    if results["held_out_perplexity"]:
        lines += ["", "Zero-shot domains: perplexity on a domain left out of pretraining (same steps):", ""]
        lines += [
            "| held-out domain | pretrained without it | pretrained with it (no domain) | with it (own domain) "
            "| the model without it, on its own domain(s) |",
            "|---|---|---|---|---|",
        ]
        for domain, row in results["held_out_perplexity"].items():
            others = ", ".join(f"{name} {value:.1f}" for name, value in row["other_domains_without"].items())
            lines.append(
                f"| {domain} | {row['pretrained_without']:.1f} | {row['pretrained_with_none']:.1f} | "
                f"{row['pretrained_with_own']:.1f} | {others} |"
            )
    domains = [key for key in next(iter(results["classification"].values())) if key not in ("overall_macro_f1", "accuracy")]
    settings = results["settings"]
    lines += ["", f"Per-domain heads fine-tuned from each start ({results['fine_tuning_examples']:,} examples, "
              f"{settings['fine_tune_epochs']} epochs, learning rate {settings['fine_tune_learning_rate']:g}; "
              "test macro-F1):", ""]
    lines += ["| start, pooling | " + " | ".join(domains) + " | mean |", "|---" * (len(domains) + 2) + "|"]
    matched = results.get("mlm_matched", {}).get("classification", {})
    for name, row in {**results["classification"], **matched}.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[d]:.3f}" for d in domains) + f" | {row['overall_macro_f1']:.3f} |")
    if matched:
        lines += ["", _mlm_matched_note(results["mlm_matched"], settings["pretrain_steps"])]
    if results.get("transfer"):
        lines += ["", *_transfer_table(results["transfer"])]
    lines += ["", "Samples (seed 0, 24 new tokens at most):", ""]
    lines += ["| prompt | domain | strategy | text |", "|---|---|---|---|"]
    for sample in results["samples"]:
        lines.append(f"| {sample['prompt']} | {sample['domain'] or '-'} | {sample['strategy']} | {sample['text']} |")
    return "\n".join(lines)


def _mlm_matched_note(matched, clm_steps):
    metrics = matched.get("final_training_metrics") or {}
    accuracy = metrics.get("mlm_accuracy")  # over both domains
    parts = [f"The matched-compute MLM ran {matched['steps']:,} steps ({matched['steps_factor']:g} x the CLM's "
             f"{clm_steps:,}) in {matched['pretrain_seconds']:.0f} s"]
    if matched.get("clm_pretrain_seconds"):
        parts.append(f"; the CLM's {clm_steps:,} took {matched['clm_pretrain_seconds']:.0f} s and the "
                     f"{clm_steps:,}-step MLM {matched['mlm_400_step_seconds']:.0f} s")
    if accuracy is not None:
        parts.append(f"; its final masked-token training accuracy was {accuracy:.3f}")
    return "".join(parts) + "."


def _diagonal(report, domain):
    """The score of the classifier trained on `domain` alone, on `domain`'s test split."""
    if domain not in report["train_domains"] or domain not in report["eval_domains"]:
        return None
    return report["matrix"][report["train_domains"].index(domain)][report["eval_domains"].index(domain)]


def _transfer_table(transfer):
    """Rows = the encoder's start, columns = the domain fine-tuned and tested on (`transfer`'s diagonal)."""
    runs = transfer["runs"]
    domains = next(iter(next(iter(runs.values()))["reports"].values()))["eval_domains"]
    seeds = sorted({seed for run in runs.values() for seed in run["reports"]}, key=int)
    lines = [
        f"Classification on a domain left out of pretraining (`transfer` from each start, `--init MODEL.keras "
        f"--pooling mean`; one classifier per domain, fine-tuned on that domain's part of the capped "
        f"training split ({transfer['fine_tuning_examples']:,} examples in all); test macro-F1, mean over "
        f"fine-tuning seeds {', '.join(seeds)} (each seed in brackets); * = the domain was held out of that "
        "start's pretraining):",
        "",
        "| start | " + " | ".join(domains) + " |",
        "|---" * (len(domains) + 1) + "|",
    ]
    for start, run in runs.items():
        cells = []
        for domain in domains:
            values = [_diagonal(report, domain) for _, report in sorted(run["reports"].items(), key=lambda kv: int(kv[0]))]
            values = [value for value in values if value is not None]
            held = "*" if start.endswith(f"without {domain}") else ""
            each = f" ({', '.join(f'{value:.3f}' for value in values)})" if len(values) > 1 else ""
            cells.append(f"{sum(values) / len(values):.3f}{held}{each}" if values else "-")
        lines.append(f"| {start} | " + " | ".join(cells) + " |")
    reports = [report for run in runs.values() for report in run["reports"].values()]
    off_diagonal = [
        value for report in reports for i, row in enumerate(report["matrix"]) for j, value in enumerate(row)
        if value is not None and report["train_domains"][i] != report["eval_domains"][j]
    ]
    if not off_diagonal and not any(report["all_but_one"] for report in reports):
        lines += ["", "The domains' label sets are disjoint, so `transfer` scores no cross-domain cell and no "
                  "all-but-one (zero-shot classification) run: only pretraining can carry over."]
    return lines


if __name__ == "__main__":
    main()
