"""Compression of the quickstart's fine-tuned MiniLM: distilled students and any other
TFLite file (pruned, quantized), measured side by side.

Steps (each a sub-command; the README's table comes from `table`):

    # 1. the quickstart recipe's training sample (150 per label, seed 0), the rest of the
    #    corpora's training records without labels, and the validation and test splits
    python benchmarks/compression.py data --out /tmp/compression/data

    # 2. the teacher as a float32 TFLite file
    python benchmarks/compression.py export --model /tmp/compression/teacher.keras \\
        --data /tmp/compression/data --out /tmp/compression/tflite/teacher.tflite

    # 3. students: distilled (with the unlabelled text) or trained on the labels alone;
    #    each is a run directory and a float32 TFLite file; the teacher's outputs on the
    #    examples are cached in --teacher-cache and reused by the next student
    python benchmarks/compression.py distill --teacher /tmp/compression/teacher.keras \\
        --data /tmp/compression/data --out /tmp/compression --name default \\
        --student layers=3,vocab=trim --unlabelled --epochs 2
    python benchmarks/compression.py distill ... --name tiny_labels --student bert_tiny,vocab=trim --labels-only

    # 4. untrained students of several SPECs as TFLite files: their size and speed (the
    #    graph, not the weights, decides them), to choose the default student
    python benchmarks/compression.py candidates --teacher /tmp/compression/teacher.keras \\
        --data /tmp/compression/data --out /tmp/compression/candidates --specs layers=2,vocab=trim layers=3,vocab=trim

    # 5. the table: every file timed in one process, interleaved, one interpreter thread
    python benchmarks/compression.py table --test /tmp/compression/data/test.jsonl \\
        --rows teacher=/tmp/compression/tflite/teacher.tflite default=/tmp/compression/tflite/default.tflite \\
        --json /tmp/compression/table.json

Table columns: parameters (elements of the file's constant buffers: weights, embedding
tables, counted once however many signatures share them), file size, macro-F1 per domain
on the test split (the file's own predictions, through `TFLitePredictor`), and the
interpreter's median time per call at batch 1 and at batch 32 (ai-edge-litert, one
thread): token ids packed beforehand (ids-in files; a file with the tokenizer inside gets
text), each batch split over the length-bucket signatures as `TFLitePredictor` does, all
files in turn in each round (order rotated), the median over rounds.
"""
import argparse
import collections
import json
import os
import pathlib
import random
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def log(line):
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


# --- data ---


def write_data(args):
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.data.writers import write_jsonl
    from xdomain_tf.quickstart_data import _capped, quickstart_data

    out = pathlib.Path(args.out)
    paths = quickstart_data(pathlib.Path(args.source), max_train_per_label=100_000, log=log)
    every = list(read_records(paths["train"]))
    # As benchmarks/quickstart_recipe.py samples the teacher's training set.
    train = _capped([r for r in every if r["domain"] == "news"], args.per_label, 0) + _capped(
        [r for r in every if r["domain"] != "news"], args.per_label, 0
    )
    kept = {r["id"] for r in train}
    unlabelled = [{key: value for key, value in r.items() if key != "label"} for r in every if r["id"] not in kept]
    out.mkdir(parents=True, exist_ok=True)
    for name, records in (("train", train), ("unlabelled", unlabelled)):
        write_jsonl(records, out / f"{name}.jsonl")
    for split in ("valid", "test"):
        write_jsonl(list(read_records(paths[split])), out / f"{split}.jsonl")
    counts = {name: sum(1 for _ in open(out / f"{name}.jsonl")) for name in ("train", "unlabelled", "valid", "test")}
    log(f"wrote {out}: {counts}")


# --- exports ---


def export_tflite(model, path, data):
    from xdomain_tf.export import tflite

    report = tflite(model, path, quantize="none", check_data=[str(pathlib.Path(data) / "valid.jsonl")],
                    check_examples=200, log=log)
    return {key: report[key] for key in ("path", "size_bytes", "agreement", "latency_ms_batch1")}


def export_model(args):
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    print(json.dumps(export_tflite(args.model, args.out, args.data)))


def candidates(args):
    """Untrained students of each SPEC, exported: their size and speed for the table."""
    import keras

    from xdomain_tf.data.readers import read_records
    from xdomain_tf.tasks import load_classifier
    from xdomain_tf.tasks.student_spec import build_student

    teacher, _ = load_classifier(args.teacher)
    data = pathlib.Path(args.data)
    texts = [r["text"] for name in ("train", "unlabelled") for r in read_records([data / f"{name}.jsonl"], require_label=False)]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for spec in args.specs:
        keras.utils.set_random_seed(0)
        student = build_student(teacher, spec, texts=texts)
        name = spec.replace(",", "_").replace("=", "")
        report = export_tflite(student.classifier, out / f"{name}.tflite", args.data)
        log(f"{spec}: {student.classifier.count_params():,} parameters, {report['size_bytes'] / 1e6:.1f} MB")


# --- students ---


def load_cache(path, examples):
    import numpy as np

    from xdomain_tf.training.distillation import TeacherCache

    if path is None or not pathlib.Path(path).exists():
        return None
    saved = np.load(path)
    cache = TeacherCache(saved["logits"], saved["lengths"], fingerprint=str(saved["fingerprint"]),
                         seconds=float(saved["seconds"]))
    log(f"teacher cache {path}: {cache.size} examples, computed in {cache.seconds:.1f} s")
    return cache if cache.size == examples else None


def save_cache(path, cache):
    import numpy as np

    if path is None or cache is None or pathlib.Path(path).exists():
        return
    np.savez(path, logits=cache.logits, lengths=cache.lengths, fingerprint=cache.fingerprint, seconds=cache.seconds)


def distill_student(args):
    import keras

    from xdomain_tf.training.distillation import distill

    data = pathlib.Path(args.data)
    out = pathlib.Path(args.out)
    train = [str(data / "train.jsonl")]
    unlabelled = [str(data / "unlabelled.jsonl")] if args.unlabelled else None
    examples = sum(1 for _ in open(train[0])) + (sum(1 for _ in open(unlabelled[0])) if unlabelled else 0)
    labels_only = args.labels_only
    cache = None if labels_only else load_cache(args.teacher_cache, examples)
    keras.utils.set_random_seed(args.seed)
    started = time.perf_counter()
    result = distill(
        args.teacher, args.student, train, unlabelled=unlabelled, valid=[str(data / "valid.jsonl")],
        temperature=args.temperature, alpha=1.0 if labels_only else args.alpha, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed, teacher_cache=cache,
        out=out / "runs" / args.name, log=log,
    )
    seconds = time.perf_counter() - started
    if not labels_only:
        save_cache(args.teacher_cache, result.teacher_cache)
    export = export_tflite(result.student, out / "tflite" / f"{args.name}.tflite", args.data)
    row = {
        "name": args.name, "student": args.student, "labels_only": labels_only, "unlabelled": bool(unlabelled),
        "alpha": 1.0 if labels_only else args.alpha, "temperature": args.temperature, "epochs": args.epochs,
        "seconds": round(seconds, 1), **result.summary, "history": result.history, "tflite": export,
    }
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "students.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
    log(json.dumps({key: value for key, value in row.items() if key != "history"}))


# --- the table ---


def tflite_parameters(path):
    """Elements of the constant buffers of a TFLite file (each buffer counted once)."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema

    content = pathlib.Path(path).read_bytes()
    model = schema.Model.GetRootAsModel(content, 0)
    seen, total = set(), 0
    for index in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(index)
        for tensor_index in range(subgraph.TensorsLength()):
            tensor = subgraph.Tensors(tensor_index)
            buffer_index = tensor.Buffer()
            if buffer_index == 0 or buffer_index in seen:
                continue
            buffer = model.Buffers(buffer_index)
            if buffer.DataLength() == 0 and not buffer.Offset():
                continue
            seen.add(buffer_index)
            total += int(np.prod(tensor.ShapeAsNumpy())) if tensor.ShapeLength() else 1
    return total


class Row:
    """One TFLite file: its predictor, its inputs packed beforehand, and its runners."""

    def __init__(self, name, path, texts, domains):
        import numpy as np
        import tensorflow as tf

        from xdomain_tf.export.tflite_export import bucketed_inputs
        from xdomain_tf.serving.tflite_predictor import TFLitePredictor

        self.name, self.path = name, pathlib.Path(path)
        self.predictor = TFLitePredictor(path, batch_size=32, num_threads=1)
        names = list(self.predictor.domains)
        self.calls = {}
        for size in (1, 32):
            calls = []
            for start in range(0, len(texts) - size + 1, size):
                batch, batch_domains = texts[start : start + size], domains[start : start + size]
                domain_id = np.array([names.index(d) for d in batch_domains], np.int32)
                if self.predictor.with_tokenizer:
                    text = np.array([t.encode("utf-8") for t in batch], dtype=object)
                    calls.append([(self.predictor.runners[self.predictor.signature], {"text": text, "domain_id": domain_id})])
                    continue
                features = self.predictor.preprocessor(tf.constant(batch))
                inputs = {key: features[key].numpy() for key in ("token_ids", "segment_ids", "padding_mask")}
                parts = bucketed_inputs({**inputs, "domain_id": domain_id}, self.predictor.lengths)
                calls.append([(self.predictor.runners[signature], part) for signature, (_, part) in parts.items()])
            self.calls[size] = calls

    def time_calls(self, size):
        """Mean milliseconds per call over the batches of `size`."""
        started = time.perf_counter()
        for call in self.calls[size]:
            for runner, inputs in call:
                runner(**inputs)
        return 1000 * (time.perf_counter() - started) / len(self.calls[size])


def table(args):
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report

    rows = {}
    for item in args.rows:
        name, _, path = item.partition("=")
        if not path or not pathlib.Path(path).is_file():
            sys.exit(f"--rows: {item!r} is not NAME=FILE.tflite of an existing file")
        rows[name] = path
    test = list(read_records([args.test]))
    sample = random.Random(0).sample(test, min(args.latency_texts, len(test)))
    texts, domains = [r["text"] for r in sample], [r["domain"] for r in sample]
    results = {}
    loaded = {}
    for name, path in rows.items():
        log(f"{name}: loading" + ("" if args.no_scores else f", scoring {len(test)} test texts"))
        row = Row(name, path, texts, domains)
        loaded[name] = row
        results[name] = {"path": str(path), "parameters": tflite_parameters(path),
                         "size_bytes": pathlib.Path(path).stat().st_size, "macro_f1": {}}
        if args.no_scores:
            continue
        predictions = row.predictor.predict([r["text"] for r in test], [r["domain"] for r in test])
        per_domain = collections.OrderedDict()
        for record, prediction in zip(test, predictions):
            true, predicted, _ = per_domain.setdefault(record["domain"], ([], [], row.predictor.domains[record["domain"]]))
            true.append(record["label"])
            predicted.append(prediction["label"])
        report = evaluation_report(per_domain)
        results[name]["macro_f1"] = {domain: scores["macro_f1"] for domain, scores in report["domains"].items()}
    log(f"timing {len(rows)} files: {args.rounds} rounds, batch 1 ({len(texts)} calls) and 32")
    names = list(loaded)
    times = {name: {1: [], 32: []} for name in names}
    for name in names:  # warm-up: every signature once
        for size in (1, 32):
            loaded[name].time_calls(size)
    for round_index in range(args.rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            for size in (1, 32):
                times[name][size].append(loaded[name].time_calls(size))
    for name in names:
        results[name]["latency_ms_batch1"] = statistics.median(times[name][1])
        results[name]["latency_ms_batch32"] = statistics.median(times[name][32])
    report = {"rows": results, "test": args.test, "latency_texts": len(texts), "rounds": args.rounds,
              "reference": args.reference or names[0]}
    print(markdown(report))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def markdown(report):
    rows = report["rows"]
    reference = rows[report["reference"]]
    domains = list(reference["macro_f1"])
    header = ["model", "parameters", "file MB", *[f"{d} macro-F1" for d in domains], "batch 1 ms", "batch 32 ms",
              "size vs ref", "speed vs ref (b1)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in rows.items():
        f1 = [
            f"{row['macro_f1'][d]:.4f} ({row['macro_f1'][d] / reference['macro_f1'][d]:.1%})" if d in row["macro_f1"] else "-"
            for d in domains
        ]
        lines.append("| " + " | ".join([
            name, f"{row['parameters'] / 1e6:.2f}M", f"{row['size_bytes'] / 1e6:.1f}", *f1,
            f"{row['latency_ms_batch1']:.2f}", f"{row['latency_ms_batch32']:.1f}",
            f"{row['size_bytes'] / reference['size_bytes']:.2f}x",
            f"{reference['latency_ms_batch1'] / row['latency_ms_batch1']:.2f}x",
        ]) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="write the train / unlabelled / valid / test JSONL files")
    data.add_argument("--out", required=True)
    data.add_argument("--source", default="runs/quickstart_recipe/data", help="the quickstart data cache folder")
    data.add_argument("--per-label", type=int, default=150)
    data.set_defaults(run=write_data)

    export = commands.add_parser("export", help="a classifier (.keras or run) as a float32 TFLite file")
    export.add_argument("--model", required=True)
    export.add_argument("--data", required=True)
    export.add_argument("--out", required=True)
    export.set_defaults(run=export_model)

    student = commands.add_parser("distill", help="distil (or train on labels) one student, export it")
    student.add_argument("--teacher", required=True)
    student.add_argument("--data", required=True)
    student.add_argument("--out", required=True)
    student.add_argument("--name", required=True)
    student.add_argument("--student", default=None)
    student.add_argument("--unlabelled", action="store_true", help="add data/unlabelled.jsonl")
    student.add_argument("--labels-only", action="store_true", help="alpha=1: the hard labels alone, no teacher")
    student.add_argument("--alpha", type=float, default=0.5)
    student.add_argument("--temperature", type=float, default=2.0)
    student.add_argument("--epochs", type=int, default=3)
    student.add_argument("--batch-size", type=int, default=32)
    student.add_argument("--learning-rate", type=float, default=None)
    student.add_argument("--seed", type=int, default=0)
    student.add_argument("--teacher-cache", default=None, help="an .npz of the teacher's logits, reused if present")
    student.set_defaults(run=distill_student)

    candidate = commands.add_parser("candidates", help="untrained students of each SPEC as TFLite files")
    candidate.add_argument("--teacher", required=True)
    candidate.add_argument("--data", required=True)
    candidate.add_argument("--out", required=True)
    candidate.add_argument("--specs", nargs="+", required=True)
    candidate.set_defaults(run=candidates)

    timing = commands.add_parser("table", help="time and score TFLite files in one process")
    timing.add_argument("--rows", nargs="+", required=True, metavar="NAME=FILE.tflite")
    timing.add_argument("--test", required=True)
    timing.add_argument("--reference", default=None, help="the row others are compared with (default: the first)")
    timing.add_argument("--latency-texts", type=int, default=64, help="test texts timed (batch 1: each alone)")
    timing.add_argument("--rounds", type=int, default=5)
    timing.add_argument("--json", default=None)
    timing.add_argument("--no-scores", action="store_true", help="sizes and speed only (e.g. untrained candidates)")
    timing.set_defaults(run=table)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
