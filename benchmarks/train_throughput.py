"""Training throughput of our encoder vs keras-hub's BertBackbone, alternated in one process.

Cases (one JSON line each): fixed-length batches in fp32 and bf16 (random ids, every
position real), and real variable-length text (Debian package descriptions) through
each library's own input pipeline: ours tokenizes in the tf.data graph and buckets by
length; keras-hub's BertTextClassifierPreprocessor pads every example to `--seq-len`.
Also reports model FLOP/s as a fraction of a large matmul's FLOP/s measured here.

    python benchmarks/train_throughput.py --preset bert_mini --rounds 5 --steps 10

Needs the `hub` extra (keras-hub). Real text comes from `xdomain-tf data build debian`
(cached) unless `--text FILE.jsonl` is given.
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def matmul_peak(dtype, size=2048, repeats=10):
    import tensorflow as tf

    a = tf.random.normal((size, size), dtype=tf.float32)
    a = tf.cast(a, dtype)

    @tf.function
    def run():
        out = a
        for _ in range(repeats):
            out = tf.matmul(out, a)
        return out

    run()
    start = time.perf_counter()
    run().numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def train_flops_per_example(config, seq_len):
    h, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    per_token_layer = 2 * (4 * h * h + 2 * h * f) + 4 * seq_len * h
    return 3 * layers * seq_len * per_token_layer


def ours(config, num_labels):
    import keras

    import xdomain_tf
    from xdomain_tf.layers import ClassificationHead

    encoder = xdomain_tf.TransformerEncoder(config)
    logits = ClassificationHead(num_labels, name="head")(encoder.output["pooled_output"])
    return keras.Model(encoder.input, logits, name="ours")


def keras_hub_model(config, num_labels):
    import keras
    import keras_hub

    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=config.vocab_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size,
        dropout=config.hidden_dropout_prob,
        max_sequence_length=config.max_position_embeddings,
    )
    logits = keras.layers.Dense(num_labels, dtype="float32", name="head")(backbone.output["pooled_output"])
    return keras.Model(backbone.input, logits, name="keras_hub")


def compile_model(model):
    import keras

    model.compile(
        optimizer=keras.optimizers.AdamW(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=False,
    )
    return model


class _StepClock:
    """Times the steps of one `fit` call after its first `skip` (pipeline start-up excluded)."""

    def __init__(self, skip):
        import keras

        clock = self

        class Callback(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                clock.stamps.append(time.perf_counter())

        self.skip = skip
        self.stamps = []
        self.callback = Callback()

    def seconds_per_step(self):
        stamps = self.stamps[self.skip :]
        return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def alternate(datasets, models, rounds, steps, warmup=12, skip=2):
    """Seconds per training step for each model, rounds alternated; returns medians.

    Each model first trains `warmup` steps (every graph trace: a bucketed pipeline feeds
    several widths); each round's `fit` then times `steps` steps after its first `skip`,
    so neither tracing nor the start of a fresh input pipeline is counted.
    """
    times = {name: [] for name in models}
    for name, model in models.items():
        model.fit(datasets[name], steps_per_epoch=warmup, epochs=1, verbose=0)
    for _ in range(rounds):
        for name, model in models.items():
            clock = _StepClock(skip)
            model.fit(datasets[name], steps_per_epoch=skip + steps + 1, epochs=1, verbose=0, callbacks=[clock.callback])
            times[name].append(clock.seconds_per_step())
    return {name: statistics.median(values) for name, values in times.items()}


def fixed_case(config, precision, args, peak):
    import keras
    import numpy as np
    import tensorflow as tf

    keras.mixed_precision.set_dtype_policy({"fp32": "float32", "bf16": "mixed_bfloat16"}[precision])
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, config.vocab_size, size=(args.batch_size, args.seq_len)).astype("int32")
    features = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    labels = rng.integers(0, 4, size=(args.batch_size,)).astype("int32")
    dataset = tf.data.Dataset.from_tensors((features, labels)).repeat()
    models = {"ours": compile_model(ours(config, 4)), "keras_hub": compile_model(keras_hub_model(config, 4))}
    seconds = alternate({"ours": dataset, "keras_hub": dataset}, models, args.rounds, args.steps)
    keras.mixed_precision.set_dtype_policy("float32")
    flops = train_flops_per_example(config, args.seq_len)
    result = {"case": f"fixed_{precision}", "batch_size": args.batch_size, "seq_len": args.seq_len}
    for name, value in seconds.items():
        examples = args.batch_size / value
        result[name] = {
            "examples_per_s": round(examples, 2),
            "tokens_per_s": round(examples * args.seq_len, 1),
            "flops_utilization": round(examples * flops / peak, 4),
        }
    result["ratio"] = round(result["ours"]["examples_per_s"] / result["keras_hub"]["examples_per_s"], 3)
    result["matmul_peak_gflops"] = round(peak / 1e9, 1)
    return result


def real_text_case(config, vocabulary, texts, args):
    import keras_hub
    import numpy as np
    import tensorflow as tf

    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.data.pipeline import make_dataset
    from xdomain_tf.text import Preprocessor, WordPieceTokenizer

    records = [{"text": text, "label": "x", "domain": "d"} for text in texts]
    label_space = LabelSpace({"d": ["x"]})
    preprocessor = Preprocessor(WordPieceTokenizer(vocabulary), sequence_length=args.seq_len)
    encoder_inputs = ("token_ids", "segment_ids", "padding_mask")
    ours_data = (
        make_dataset(records, preprocessor, label_space, args.batch_size, training=True, multi_head=False, seed=0)
        .map(lambda features, labels: ({k: features[k] for k in encoder_inputs}, labels))
        .repeat()
    )

    hub_tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    hub_preprocessor = keras_hub.models.BertTextClassifierPreprocessor(hub_tokenizer, sequence_length=args.seq_len)
    hub_data = (
        tf.data.Dataset.from_tensor_slices((texts, np.zeros(len(texts), "int32")))
        .shuffle(10_000, seed=0)
        .repeat()
        .batch(args.batch_size)
        .map(hub_preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    models = {"ours": compile_model(ours(config, 1)), "keras_hub": compile_model(keras_hub_model(config, 1))}
    seconds = alternate({"ours": ours_data, "keras_hub": hub_data}, models, args.rounds, args.steps)
    real_tokens = [int(n) for n in preprocessor(tf.constant(texts[:2000]))["padding_mask"].numpy().sum(axis=1)]
    mean_tokens = float(np.mean(real_tokens))
    result = {"case": "real_text_fp32", "batch_size": args.batch_size, "max_seq_len": args.seq_len,
              "mean_real_tokens": round(mean_tokens, 1)}
    for name, value in seconds.items():
        examples = args.batch_size / value
        result[name] = {"examples_per_s": round(examples, 2), "real_tokens_per_s": round(examples * mean_tokens, 1)}
    result["ratio"] = round(result["ours"]["examples_per_s"] / result["keras_hub"]["examples_per_s"], 3)
    return result


def load_texts(path, limit):
    from xdomain_tf.data.readers import read_records

    texts = []
    for record in read_records(path, default_domain="d", require_label=False):
        texts.append(record["text"])
        if len(texts) >= limit:
            break
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="bert_mini")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--cases", default="fixed_fp32,fixed_bf16,real_text_fp32")
    parser.add_argument("--text", help="JSONL with real texts (default: Debian descriptions, English train split)")
    args = parser.parse_args()

    import tensorflow as tf

    from xdomain_tf.models import EncoderConfig

    config = EncoderConfig.architecture(args.preset, vocab_size=30522)
    cases = args.cases.split(",")
    peaks = {"fp32": matmul_peak(tf.float32), "bf16": matmul_peak(tf.bfloat16)}
    for precision in ("fp32", "bf16"):
        if f"fixed_{precision}" in cases:
            print(json.dumps(fixed_case(config, precision, args, peaks[precision])), flush=True)
    if "real_text_fp32" in cases:
        from xdomain_tf.checkpoints import fetch_minilm

        vocabulary = (fetch_minilm() / "vocab.txt").read_text(encoding="utf-8").splitlines()
        if args.text:
            path = args.text
        else:
            from xdomain_tf.datasets import debian_descriptions

            path = debian_descriptions(languages=("en",), verbose=False).paths["train"]
        print(json.dumps(real_text_case(config, vocabulary, load_texts(path, 20_000), args)), flush=True)


if __name__ == "__main__":
    main()
