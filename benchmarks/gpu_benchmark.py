"""Accelerator throughput: training bert_base (bf16, XLA off and on) vs keras-hub, and SavedModel inference.

    python benchmarks/gpu_benchmark.py --json gpu.json               # bert_base, seq 128, batch 256
    python benchmarks/gpu_benchmark.py --peak-tflops 989             # MFU against a datasheet peak too
    python benchmarks/gpu_benchmark.py --small                       # CPU, a toy size, seconds

Training: our `TransformerEncoder` with a classification head and keras-hub's `BertBackbone`
with a Dense head, the same configuration (bert_base: 12 layers, hidden 768; keras-hub's
tanh GELU for both), `mixed_bfloat16`, AdamW, random ids filling every position, each
compiled with `jit_compile=False` and `True`. The four models train in one process: each
first `--warmup` steps (tracing and XLA compilation), then `--rounds` rounds in which each
model times `--steps` steps (the loss read back after every step, so a step's time is its
device time); the table shows each model's median round. MFU (model FLOPs utilization) =
examples/s x training FLOPs per example (3 x the forward matmul FLOPs, embeddings and head
left out) / peak, where the peak is a bf16 matmul measured here and, with `--peak-tflops`,
the given one too.

Inference: our classifier (the same encoder, a random head) exported with
`xdomain_tf.export.saved_model`, called through `predict_ids` (packed ids, batch of
`--batch-size` full-length rows: the network alone) and `serving_default` (raw texts of
`--seq-len` tokens: tokenization on the CPU included), and keras-hub's classifier exported
with `model.export` on the same ids; rounds interleaved, median shown.

Needs keras-hub (`pip install keras-hub`); without it only our rows are measured. Data are
synthetic (random ids; texts of words from a generated vocabulary), so nothing is
downloaded.
"""
import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

NUM_LABELS = 4
_STARTED = time.perf_counter()


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CPU, a 1-layer hidden-64 model, seconds")
    parser.add_argument("--preset", help="encoder architecture (default bert_base)")
    parser.add_argument("--batch-size", type=int, help="default 256; --small 8")
    parser.add_argument("--seq-len", type=int, help="default 128; --small 32")
    parser.add_argument("--rounds", type=int, help="default 3; --small 1")
    parser.add_argument("--steps", type=int, help="timed steps per round (default 20; --small 3)")
    parser.add_argument("--warmup", type=int, help="steps before timing (default 5; --small 2)")
    parser.add_argument("--infer-batches", type=int, help="batches per inference round (default 10; --small 2)")
    parser.add_argument("--peak-tflops", type=float, help="the device's bf16 peak, for a second MFU column")
    parser.add_argument("--json", help="also write the results to this JSON file")
    return parser


def resolved(args):
    defaults = {"preset": ("bert_base", "bert_tiny"), "batch_size": (256, 8), "seq_len": (128, 32),
                "rounds": (3, 1), "steps": (20, 3), "warmup": (5, 2), "infer_batches": (10, 2)}
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if args.small else full)
    return args


def log(line):
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {line}", file=sys.stderr, flush=True)


def encoder_config(args):
    from xdomain_tf.checkpoints.keras_hub_interop import KERAS_HUB_BERT_ACTIVATION
    from xdomain_tf.models import EncoderConfig

    if args.small:
        return EncoderConfig.architecture(args.preset, vocab_size=1000, hidden_size=64, intermediate_size=256,
                                          num_hidden_layers=1, hidden_act=KERAS_HUB_BERT_ACTIVATION)
    return EncoderConfig.architecture(args.preset, vocab_size=30522, hidden_act=KERAS_HUB_BERT_ACTIVATION)


def bf16_matmul_peak(size, repeats=10, tries=3):
    """FLOP/s of a chain of bf16 matmuls on the default device (best of `tries`)."""
    import tensorflow as tf

    a = tf.cast(tf.random.normal((size, size)) / size**0.5, tf.bfloat16)

    @tf.function
    def chain():
        out = a
        for _ in range(repeats):
            out = tf.matmul(out, a)
        return tf.reduce_sum(tf.cast(out[:1, :1], tf.float32))

    chain().numpy()
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        chain().numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 * repeats / best


def device_name():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", gpus[0].name)


# --- training ---


class SyncedStepClock:
    """Stamps the end of each training step after reading its loss back (so the stamp
    follows the device's work, not the dispatch)."""

    def __init__(self, skip):
        import keras

        clock = self

        class Callback(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                float(logs["loss"])
                clock.stamps.append(time.perf_counter())

        self.skip = skip
        self.stamps = []
        self.callback = Callback()

    def seconds_per_step(self):
        stamps = self.stamps[self.skip :]
        return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def training_models(config, keras_hub_available):
    import keras

    from train_throughput import keras_hub_model, ours

    models = {}
    for jit in (False, True):
        builders = {"ours": ours}
        if keras_hub_available:
            builders["keras_hub"] = keras_hub_model
        for name, build in builders.items():
            model = build(config, NUM_LABELS)
            model.compile(
                optimizer=keras.optimizers.AdamW(1e-4),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                jit_compile=jit,
            )
            models[(name, jit)] = model
    return models


def train(models, dataset, args):
    """Seconds per step of each model: warm-up, then rounds in rotated order; medians."""
    skip = 1
    for key, model in models.items():
        log(f"warming up {key[0]} (XLA {'on' if key[1] else 'off'})")
        model.fit(dataset, steps_per_epoch=args.warmup, epochs=1, verbose=0)
    keys = list(models)
    times = {key: [] for key in keys}
    for round_index in range(args.rounds):
        shift = round_index % len(keys)
        for key in keys[shift:] + keys[:shift]:
            clock = SyncedStepClock(skip)
            models[key].fit(dataset, steps_per_epoch=skip + args.steps + 1, epochs=1, verbose=0,
                            callbacks=[clock.callback])
            times[key].append(clock.seconds_per_step())
    return times


# --- inference ---


def synthetic_vocabulary(size):
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{index}" for index in range(size - 5)]


def classifier(config, args):
    from xdomain_tf.models.transformer_encoder import build_encoder
    from xdomain_tf.tasks import MultiDomainTextClassifier
    from xdomain_tf.text import Preprocessor, WordPieceTokenizer

    vocabulary = synthetic_vocabulary(config.vocab_size)
    preprocessor = Preprocessor(WordPieceTokenizer(vocabulary), sequence_length=args.seq_len)
    return MultiDomainTextClassifier(
        build_encoder(config), {"bench": [f"label{index}" for index in range(NUM_LABELS)]},
        preprocessor=preprocessor, pooling="cls", dropout=0.0,
    )


def inference_systems(config, args, work, keras_hub_available):
    """name -> a function running one batch (its inputs made beforehand)."""
    import numpy as np
    import tensorflow as tf

    import xdomain_tf

    rng = np.random.default_rng(0)
    clf = classifier(config, args)
    words = rng.integers(5, config.vocab_size, size=(args.batch_size, args.seq_len - 2))
    texts = tf.constant([" ".join(f"w{index - 5}" for index in row) for row in words])
    ids = np.concatenate([np.full((args.batch_size, 1), 2), words, np.full((args.batch_size, 1), 3)], axis=1)
    packed = {"token_ids": tf.constant(ids, tf.int32), "segment_ids": tf.zeros(ids.shape, tf.int32),
              "padding_mask": tf.ones(ids.shape, tf.int32)}
    log("exporting our SavedModel")
    path = xdomain_tf.export.saved_model(clf, work / "ours", models_config=None)
    loaded = {"ours": tf.saved_model.load(str(path))}
    domains = tf.constant(["bench"] * args.batch_size)
    systems = {
        "ours predict_ids": lambda: loaded["ours"].signatures["predict_ids"](**packed)["bench"].numpy(),
        "ours serving_default": lambda: loaded["ours"].signatures["serving_default"](
            text=texts, domain=domains)["probabilities"].numpy(),
    }
    if keras_hub_available:
        from train_throughput import keras_hub_model

        log("exporting keras-hub's model")
        model = keras_hub_model(config, NUM_LABELS)
        model.export(str(work / "keras_hub"), verbose=False)
        loaded["keras_hub"] = tf.saved_model.load(str(work / "keras_hub"))
        systems["keras_hub serve"] = lambda: loaded["keras_hub"].serve(packed).numpy()
    return systems


def infer(systems, args):
    for run in systems.values():
        run()
        run()
    names = list(systems)
    times = {name: [] for name in names}
    for round_index in range(args.rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            for _ in range(args.infer_batches):
                systems[name]()
            times[name].append((time.perf_counter() - started) / args.infer_batches)
    return times


# --- report ---


def utilization(examples_per_s, flops, peak):
    return None if not peak else examples_per_s * flops / peak


def markdown(report):
    def cell(value, spec):
        return "" if value is None else format(value, spec)

    given = report["given_peak_tflops"]
    lines = [
        f"Device: {report['device']}; measured bf16 matmul peak {report['measured_peak_tflops']:.1f} TFLOP/s"
        + (f"; given peak {given:.1f} TFLOP/s" if given else ""),
        "",
        f"### Training: {report['preset']}, seq {report['seq_len']}, batch {report['batch_size']}, mixed_bfloat16",
        "",
        "| system | XLA | step ms | examples/s | MFU (measured peak) | MFU (given peak) | ours / keras_hub |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["train"]:
        lines.append(
            f"| {row['system']} | {'on' if row['jit_compile'] else 'off'} | {row['step_ms']:.1f} | "
            f"{row['examples_per_s']:.1f} | {cell(row['mfu_measured_peak'], '.1%')} | "
            f"{cell(row['mfu_given_peak'], '.1%')} | {cell(row.get('speedup_vs_keras_hub'), '.2f')} |"
        )
    lines += [
        "",
        f"### Inference (SavedModel), batch {report['batch_size']}, {report['seq_len']} tokens per example",
        "",
        "| system | batch ms | examples/s | MFU (measured peak) | MFU (given peak) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in report["inference"]:
        lines.append(
            f"| {row['system']} | {row['batch_ms']:.1f} | {row['examples_per_s']:.1f} | "
            f"{cell(row['mfu_measured_peak'], '.1%')} | {cell(row['mfu_given_peak'], '.1%')} |"
        )
    for note in report["notes"]:
        lines.append(f"\n{note}")
    return "\n".join(lines)


def main(argv=None):
    args = resolved(build_parser().parse_args(argv))
    if args.small:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before TensorFlow starts: CPU only
    import keras
    import numpy as np
    import tensorflow as tf

    from train_throughput import train_flops_per_example

    notes = []
    try:
        import keras_hub  # noqa: F401

        keras_hub_available = True
    except ImportError:
        keras_hub_available = False
        notes.append("keras_hub: skipped: keras-hub is not installed (pip install keras-hub)")
    device = device_name()
    if device == "CPU" and not args.small:
        notes.append("no GPU found: measured on the CPU")
    config = encoder_config(args)
    peak = bf16_matmul_peak(256 if device == "CPU" else 8192)
    given = args.peak_tflops * 1e12 if args.peak_tflops else None
    train_flops = train_flops_per_example(config, args.seq_len)

    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    rng = np.random.default_rng(0)
    ids = rng.integers(5, config.vocab_size, size=(args.batch_size, args.seq_len)).astype("int32")
    features = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    labels = rng.integers(0, NUM_LABELS, size=(args.batch_size,)).astype("int32")
    dataset = tf.data.Dataset.from_tensors((features, labels)).repeat()
    times = train(training_models(config, keras_hub_available), dataset, args)
    train_rows = []
    for (name, jit), values in times.items():
        seconds = statistics.median(values)
        examples = args.batch_size / seconds
        train_rows.append({
            "system": name, "jit_compile": jit, "step_ms": 1000 * seconds, "examples_per_s": examples,
            "mfu_measured_peak": utilization(examples, train_flops, peak),
            "mfu_given_peak": utilization(examples, train_flops, given), "round_seconds": values,
        })
    for row in train_rows:
        if row["system"] == "ours" and ("keras_hub", row["jit_compile"]) in times:
            row["speedup_vs_keras_hub"] = statistics.median(times[("keras_hub", row["jit_compile"])]) / (
                row["step_ms"] / 1000)

    with tempfile.TemporaryDirectory(prefix="xdomain-gpu-bench-") as work:
        systems = inference_systems(config, args, pathlib.Path(work), keras_hub_available)
        log("timing inference")
        inference_times = infer(systems, args)
    keras.mixed_precision.set_dtype_policy("float32")
    forward_flops = train_flops / 3
    inference_rows = []
    for name, values in inference_times.items():
        seconds = statistics.median(values)
        examples = args.batch_size / seconds
        inference_rows.append({
            "system": name, "batch_ms": 1000 * seconds, "examples_per_s": examples,
            "mfu_measured_peak": utilization(examples, forward_flops, peak),
            "mfu_given_peak": utilization(examples, forward_flops, given), "round_seconds": values,
        })
    report = {
        "benchmark": "gpu", "device": device, "preset": args.preset, "small": args.small,
        "batch_size": args.batch_size, "seq_len": args.seq_len, "rounds": args.rounds, "steps": args.steps,
        "measured_peak_tflops": peak / 1e12, "given_peak_tflops": args.peak_tflops,
        "train_flops_per_example": train_flops, "train": train_rows, "inference": inference_rows, "notes": notes,
    }
    print(markdown(report))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
