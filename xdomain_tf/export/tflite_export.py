"""`tflite`: converts a classifier run to a checked TFLite file."""
import json
import pathlib
import shutil
import tempfile
import time
import warnings

from xdomain_tf.errors import OperationError, XDomainError
from xdomain_tf.utils.storage import storage_path

QUANTIZATIONS = ("none", "float16", "dynamic", "int8", "int16x8", "selective")
# The least share of predicted labels that must agree with the SavedModel.
MIN_AGREEMENT = {"none": 0.999, "float16": 0.995, "dynamic": 0.98, "int8": 0.98, "int16x8": 0.98, "selective": 0.98}
# Quantizations calibrated on real text (integer activations).
CALIBRATED = ("int8", "int16x8", "selective")
# `selective` adds float ops until its labels agree this well on the first check examples (a
# margin above the check's bound).
SELECTION_AGREEMENT = 0.99
# Calibration examples the quantization debugger measures each op's error on.
DEBUG_EXAMPLES = 16
# Check examples `selective` compares labels on while it chooses its float ops.
SEARCH_EXAMPLES = 300
# Quantizations whose file has one signature: the interpreter aborts the process on a 16x8
# file with several, and `selective` names its float ops in a one-signature graph (a
# later signature's tensors get other names: measured, a MiniLM file with length buckets
# kept them in float in some signatures only and missed the bound).
SINGLE_SIGNATURE = ("int16x8", "selective")


def tflite(
    model,
    path,
    quantize="none",
    with_tokenizer=False,
    calibration_data=None,
    check_data=None,
    calibration_examples=200,
    check_examples=2000,
    num_threads=1,
    length_buckets="auto",
    log=None,
):
    """Converts a classifier to a TFLite file, checks it, and only then writes it.

    The model is saved as a SavedModel (see `TFLiteModule`: `serving_default` at the
    run's static sequence length and, for packed ids, `length_<n>` at each shorter length
    bucket, the weights stored once) into a temporary folder and converted with
    `TFLiteConverter.from_saved_model`. Before anything is written the file is run with
    ai-edge-litert's interpreter on the check data: every output must be finite and the
    predicted labels must agree with the SavedModel graph on at least `MIN_AGREEMENT`
    of the examples, both through `serving_default` and through the length bucket each
    example fits (as `TFLitePredictor` chooses it) (99.9% unquantized, 99.5% float16, 98% dynamic and int8); otherwise
    an XDomainError says by how much it missed and nothing is written.

    The conversion and the check run on local temporary files; `path` may be a URL of any
    TensorFlow file system (`gs://`, `ram://`, ...), where each file appears whole (written
    under a temporary name, then published).

    Written files: `path`; `path + ".labels.json"` (domain ids and labels, inputs, outputs,
    tokenizer options, the check's numbers); and without `with_tokenizer`
    `path + ".vocab.txt"` (the app tokenizes: WordPiece over this vocabulary with the
    options in the labels file).

    Args:
        model: a `MultiDomainTextClassifier`, a finished classifier run directory or a
            `.keras` file holding a classifier.
        path: the .tflite file to write.
        quantize: `"none"` (float32), `"float16"` (float16 weights), `"dynamic"` (int8
            weights, float activations) or `"int8"` (int8 weights and activations,
            calibrated on `calibration_data`; float32 probabilities out; the graph is
            built for it, see `TFLiteModule(for_int8=True)`). Models with a few very
            large hidden features (BERT-style outliers, e.g. MiniLM) may still miss the
            int8 bound; `"selective"` or `"dynamic"` then keep the labels.
            `"int16x8"`: TFLite's 16x8 mode, int16 activations and int8 weights, packed ids
            only (its quantizer fails on the tokenizer's integer ops); on CPUs its int16
            kernels are slow. `"selective"`: int8 weights and activations except the ops
            whose int8 error is largest, which stay in float: TFLite's quantization
            debugger measures every op's error on `DEBUG_EXAMPLES` calibration
            examples, and the fewest largest-error tensors (0, 1, 2, 4, ..., each with the
            ops that read it) are kept in float until the labels agree with the float
            model on `SELECTION_AGREEMENT` of the first `SEARCH_EXAMPLES` check examples
            (`selective_quantization`); the report's `float_ops` names those ops. Both
            make a file with one sequence length (`SINGLE_SIGNATURE`).
        with_tokenizer: raw text in; tokenization runs as tensorflow-text TFLite custom
            ops (`FastBertNormalize`, `FastWordpieceTokenizeWithOffsets`), which the app
            registers (see export/README.md). A tokenizer graph with ops that neither
            TFLite nor tensorflow-text's TFLite kernels have fails the conversion.
        calibration_data: data file(s) of real training text for `"int8"` (default: the
            run's training files, else the examples the classifier was fitted on in this
            process; see `example_records`).
        check_data: data file(s) to check agreement on (default: the run's validation
            files, else the fitted examples, else texts of vocabulary words).
        calibration_examples: how many records calibrate `"int8"`.
        check_examples: the most records the check uses.
        num_threads: interpreter threads for the latency measurement.
        length_buckets: shorter sequence lengths that get a signature (`"auto"`: powers of
            two from 16 below the sequence length, for packed ids; none with the
            tokenizer in the graph or with `"int16x8"` and `"selective"`).
        log: a function taking one line of progress, e.g. `print`.

    Returns:
        A report dict: `path`, `size_bytes`, `quantize`, `with_tokenizer`, `agreement`,
        `check_examples`, `max_abs_difference`, `latency_ms_batch1`, `custom_ops` (and for
        `"selective"`, `float_ops` and `selection`).

    Example (converts and checks a trained run, tens of seconds):

    >>> report = tflite(clf, "export/demo.tflite", quantize="dynamic")  # doctest: +SKIP
    >>> report["agreement"] >= 0.98, report["custom_ops"]  # doctest: +SKIP
    (True, [])
    """
    import numpy as np
    import tensorflow as tf

    from xdomain_tf.tasks import load_classifier
    from xdomain_tf.export.tflite_module import IDS_INPUTS, TFLiteModule, default_length_buckets
    from xdomain_tf.utils.atomic import atomic_path, write_json_atomic

    if quantize not in QUANTIZATIONS:
        raise XDomainError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    if quantize == "int16x8" and with_tokenizer:
        raise XDomainError(
            "quantize int16x8 needs packed ids: TFLite's 16x8 quantizer fails on the tokenizer's integer ops; "
            "export without with_tokenizer=True, or use quantize selective"
        )
    log = log or (lambda line: None)
    path = storage_path(path)
    model, run = load_classifier(model)
    options = run.load_options() if run is not None else {}
    domains = list(model.domains)
    check_records = example_records(
        model, check_data or options.get("valid"), check_examples, options.get("default_domain"), "check_data", log
    )
    calibration_records = None
    if quantize in CALIBRATED:
        calibration_records = example_records(
            model, calibration_data or options.get("train"), calibration_examples, options.get("default_domain"),
            "calibration_data", log,
        )

    if length_buckets == "auto":
        single = with_tokenizer or quantize in SINGLE_SIGNATURE
        length_buckets = () if single else default_length_buckets(model.preprocessor.sequence_length)
    elif length_buckets and quantize in SINGLE_SIGNATURE:
        raise XDomainError(f"quantize {quantize} makes a file with one sequence length: give no length_buckets")
    module = TFLiteModule(
        model, with_tokenizer=with_tokenizer, for_int8=quantize in CALIBRATED, length_buckets=length_buckets
    )
    signatures = module.signatures()
    lengths = module.signature_lengths()
    signature = signatures["serving_default"]
    packer = module.preprocessor

    def inputs_of(records):
        domain_id = np.array([domains.index(record["domain"]) for record in records], np.int32)
        texts = [record["text"] for record in records]
        if with_tokenizer:
            return {"text": np.array([text.encode("utf-8") for text in texts], dtype=object), "domain_id": domain_id}
        features = packer(tf.constant(texts))
        return {**{name: features[name].numpy() for name in IDS_INPUTS}, "domain_id": domain_id}

    calibration_inputs = None
    if calibration_records:
        calibration_inputs = bucketed_inputs(inputs_of(calibration_records), lengths, every_signature=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix="xdomain-tflite-"))
    selection = None
    try:
        saved = staging / "saved_model"
        tf.saved_model.save(module, str(saved), signatures=signatures)
        started = time.perf_counter()
        content = _convert(saved, quantize, with_tokenizer, calibration_inputs, list(lengths))
        if quantize == "selective":  # `content` is the calibrated float model
            search = inputs_of(check_records[:SEARCH_EXAMPLES])
            search["reference"] = signature(**{name: tf.constant(value) for name, value in search.items()})[
                "label_id"
            ].numpy()
            content, selection = _selective(model, module, content, calibration_records, search, staging, log)
        log(f"converted ({quantize}) in {time.perf_counter() - started:.1f} s: {len(content) / 1e6:.2f} MB")
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    interpreter = litert_interpreter(content, with_tokenizer, num_threads)
    try:
        interpreter.allocate_tensors()
    except RuntimeError as error:
        raise OperationError(
            f"the converted TFLite model does not run: {str(error).strip().splitlines()[0]} (ops that neither "
            "TFLite builtins nor tensorflow-text's TFLite kernels provide); nothing written"
        ) from None
    runner = interpreter.get_signature_runner("serving_default")
    runners = {name: interpreter.get_signature_runner(name) for name in lengths}
    reference, converted, bucketed = [], [], []
    for start in range(0, len(check_records), 64):
        batch = inputs_of(check_records[start : start + 64])
        reference.append(signature(**{name: tf.constant(value) for name, value in batch.items()})["probabilities"].numpy())
        converted.append(runner(**batch)["probabilities"])
        rows = np.zeros_like(converted[-1])
        for name, (indices, inputs) in bucketed_inputs(batch, lengths).items():
            rows[indices] = runners[name](**inputs)["probabilities"]
        bucketed.append(rows)
    reference = np.concatenate(reference)
    converted, bucketed = np.concatenate(converted), np.concatenate(bucketed)
    finite = bool(np.all(np.isfinite(converted)) and np.all(np.isfinite(bucketed)))
    agreement = float(min(np.mean(reference.argmax(-1) == out.argmax(-1)) for out in (converted, bucketed)))
    max_abs_difference = (
        float(max(np.max(np.abs(reference - out)) for out in (converted, bucketed))) if finite else float("inf")
    )
    latency = _latency_ms(runner, inputs_of(check_records[:1]))
    report = {
        "path": str(path),
        "size_bytes": len(content),
        "quantize": quantize,
        "with_tokenizer": with_tokenizer,
        "agreement": agreement,
        "min_agreement": MIN_AGREEMENT[quantize],
        "check_examples": len(check_records),
        "max_abs_difference": max_abs_difference,
        "latency_ms_batch1": latency,
        "num_threads": num_threads,
        "custom_ops": _custom_ops(interpreter),
    }
    if selection is not None:
        report["float_ops"] = selection["float_ops"]
        report["selection"] = {
            key: selection[key] for key in ("search_agreement", "tried", "debug_examples", "search_examples")
        }
    log(
        f"check on {len(check_records)} examples: label agreement {agreement:.2%} "
        f"(needs {MIN_AGREEMENT[quantize]:.1%}), max |probability difference| {max_abs_difference:.2e}, "
        f"latency at batch 1: {latency:.2f} ms ({num_threads} thread(s))"
    )
    if not finite:
        raise OperationError(f"the {quantize} TFLite model gives non-finite outputs; nothing written")
    if agreement < MIN_AGREEMENT[quantize]:
        raise OperationError(
            f"the {quantize} TFLite model agrees with the SavedModel on {agreement:.2%} of "
            f"{len(check_records)} labels, below the {MIN_AGREEMENT[quantize]:.1%} required; nothing written"
        )

    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
    sidecar = {
        "format": "xdomain_tf.tflite/1",
        "domains": [
            {"name": domain, "id": index, "labels": list(labels)} for index, (domain, labels) in enumerate(model.domains.items())
        ],
        "max_labels": module.max_labels,
        "sequence_length": module.sequence_length,
        "with_tokenizer": with_tokenizer,
        "signature": "serving_default",
        # Pack ids at sequence_length, then run the shortest signature that holds the
        # longest row of the batch, cut to its length (`bucket_signature`).
        "signatures": lengths,
        "inputs": (
            {"text": "string [batch]", "domain_id": "int32 [batch]"}
            if with_tokenizer
            else {
                **{name: f"int32 [batch, {module.sequence_length}]" for name in IDS_INPUTS},
                "domain_id": "int32 [batch]",
            }
        ),
        "outputs": {
            "probabilities": f"float32 [batch, {module.max_labels}]",
            "label_id": "int32 [batch]",
            "score": "float32 [batch]",
        },
        "tokenizer": {
            "vocabulary": None if with_tokenizer else path.name + ".vocab.txt",
            "lowercase": packer.tokenizer.lowercase,
            "strip_accents": packer.tokenizer.strip_accents,
            "normalization": packer.tokenizer.normalization,
            "suffix_indicator": packer.tokenizer.suffix_indicator,
            "max_bytes_per_word": packer.tokenizer.max_bytes_per_word,
            "truncation": packer.truncation,
            "special_tokens": {"cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "unk": "[UNK]"},
        },
        "check": {key: report[key] for key in ("agreement", "check_examples", "max_abs_difference", "latency_ms_batch1")},
        "quantize": quantize,
        "custom_ops": report["custom_ops"],
        **({"float_ops": report["float_ops"]} if "float_ops" in report else {}),
    }
    write_json_atomic(storage_path(str(path) + ".labels.json"), sidecar)
    vocab_path = storage_path(str(path) + ".vocab.txt")
    if with_tokenizer:
        vocab_path.unlink(missing_ok=True)
    else:
        packer.tokenizer.save_vocabulary(str(vocab_path))
    return report


def example_records(classifier, paths, limit, default_domain, argument, log):
    """Records to check or calibrate a conversion on: read from `paths` (data files),
    else the examples `classifier.fit` saw in this process, else texts made of words
    from the vocabulary (a check on those is weaker: say which data to use).

    Example:

    >>> from types import SimpleNamespace
    >>> clf = SimpleNamespace(domains={"news": ["a", "b"]}, example_records=[{"text": "x", "domain": "news"}])
    >>> example_records(clf, None, 10, None, "check_data", print)
    [{'text': 'x', 'domain': 'news'}]
    """
    from xdomain_tf.export.example_sample import read_examples

    if paths:
        return read_examples(paths, limit, list(classifier.domains), default_domain)
    if classifier.example_records:
        return list(classifier.example_records[:limit])
    log(f"warning: no {argument} and no fitted examples: using texts of random vocabulary words")
    return vocabulary_texts(classifier, limit)


def vocabulary_texts(classifier, count, seed=0):
    """`count` records of 4-24 random whole words of the classifier's vocabulary, each
    domain in turn (seeded).

    Example:

    >>> from types import SimpleNamespace
    >>> tokenizer = SimpleNamespace(vocabulary=["[PAD]", "goal", "##s", "cup"])
    >>> clf = SimpleNamespace(domains={"news": ["a"]}, preprocessor=SimpleNamespace(tokenizer=tokenizer))
    >>> [sorted(set(record["text"].split())) <= ["cup", "goal"] for record in vocabulary_texts(clf, 2)]
    [True, True]
    """
    import numpy as np

    words = [token for token in classifier.preprocessor.tokenizer.vocabulary if token.isalpha()] or ["text"]
    generator = np.random.default_rng(seed)
    domains = list(classifier.domains)
    return [
        {
            "text": " ".join(generator.choice(words, generator.integers(4, 25))),
            "domain": domains[index % len(domains)],
        }
        for index in range(count)
    ]


def bucketed_inputs(inputs, lengths, every_signature=False):
    """Packed full-length inputs split by the signature each row fits:
    `{signature: (row indices, inputs cut to its length)}`.

    Args:
        inputs: `token_ids`, `segment_ids`, `padding_mask` (`[n, sequence_length]`) and
            `domain_id` numpy arrays.
        lengths: `{signature: sequence length}` (see `TFLiteModule.signature_lengths`).
        every_signature: give every signature inputs (int8 calibration): all rows, cut to
            its length, where no row fits it exactly.

    Example:

    >>> import numpy as np
    >>> mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], np.int32)
    >>> inputs = {"token_ids": mask, "segment_ids": 0 * mask, "padding_mask": mask, "domain_id": np.zeros(2, np.int32)}
    >>> {name: (rows.tolist(), part["token_ids"].shape) for name, (rows, part) in
    ...  bucketed_inputs(inputs, {"serving_default": 4, "length_2": 2}).items()}
    {'length_2': ([0], (1, 2)), 'serving_default': ([1], (1, 4))}
    """
    import numpy as np

    from xdomain_tf.export.tflite_module import bucket_signature

    if "text" in inputs:
        return {"serving_default": (np.arange(len(inputs["text"])), inputs)}
    widths = inputs["padding_mask"].sum(axis=1)
    chosen = np.array([bucket_signature(lengths, int(width)) for width in widths])
    split = {}
    for name in sorted(lengths, key=lengths.get):
        rows = np.flatnonzero(chosen == name)
        if not len(rows) and every_signature:
            rows = np.arange(len(widths))
        if len(rows):
            split[name] = (rows, {key: value[rows][:, : lengths[name]] if value.ndim == 2 else value[rows]
                                  for key, value in inputs.items()})
    return split


def _selective(model, module, calibrated, calibration_records, search, staging, log):
    """`(model bytes, selection)` of `selective`: the calibrated model `calibrated` of the
    file's graph quantized to int8 except the ops chosen here.

    TFLite's quantization debugger measures every op on a graph of packed ids (its
    interpreter has no tensorflow-text kernels; the op names are those of the file's graph,
    tokenizer or not); the labels of each candidate are compared on the file's own graph
    (`search`: its inputs and the float model's `reference` label ids, held-out text: on
    training text the model's margins are wider and int8 looks better than it is)."""
    import numpy as np
    import tensorflow as tf

    from xdomain_tf.export.selective_quantization import choose_denylist, consumers, op_errors, quantized_model
    from xdomain_tf.export.tflite_module import IDS_INPUTS, TFLiteModule

    started = time.perf_counter()
    count = min(DEBUG_EXAMPLES, len(calibration_records))
    records = calibration_records
    ids_calibrated = calibrated
    if module.with_tokenizer:
        ids_module = TFLiteModule(model, preprocessor=module.preprocessor, for_int8=True)
        saved = staging / "ids_saved_model"
        tf.saved_model.save(ids_module, str(saved), signatures={"serving_default": ids_module.signature()})
    features = module.preprocessor(tf.constant([record["text"] for record in records]))
    debug_inputs = {name: features[name].numpy() for name in IDS_INPUTS}
    domains = list(model.domains)
    debug_inputs["domain_id"] = np.array([domains.index(record["domain"]) for record in records], np.int32)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if module.with_tokenizer:
                converter = tf.lite.TFLiteConverter.from_saved_model(str(saved), signature_keys=["serving_default"])
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.representative_dataset = lambda: iter([
                    {name: value[index : index + 1] for name, value in debug_inputs.items()}
                    for index in range(len(records))
                ])
                converter._experimental_calibrate_only = True
                ids_calibrated = converter.convert()
            rows = op_errors(ids_calibrated, debug_inputs, count)
    except OperationError:
        raise
    except Exception as error:
        raise OperationError(f"the quantization debugger failed: {str(error).strip().splitlines()[0]}") from error
    log(
        f"quantization debugger: {len(rows)} quantized op outputs measured on {count} examples in "
        f"{time.perf_counter() - started:.1f} s; largest errors (RMS error / RMS of typical values): "
        + ", ".join(f"{row['op_name']} {row['typical_error']:.2f}" for row in rows[:5])
    )
    inputs = {name: value for name, value in search.items() if name != "reference"}

    def agreement_of(content):
        runner = litert_interpreter(content, module.with_tokenizer).get_signature_runner("serving_default")
        labels = np.concatenate([
            runner(**{name: value[start : start + 64] for name, value in inputs.items()})["label_id"]
            for start in range(0, len(search["reference"]), 64)
        ])
        return float(np.mean(labels == search["reference"]))

    float_ops, agreement, tried = choose_denylist(
        calibrated, rows, agreement_of, SELECTION_AGREEMENT, log=log, readers=consumers(ids_calibrated)
    )
    selection = {
        "float_ops": float_ops, "search_agreement": agreement, "tried": tried,
        "debug_examples": count, "search_examples": len(search["reference"]),
    }
    return quantized_model(calibrated, float_ops), selection


def _convert(saved_model_dir, quantize, with_tokenizer, calibration_inputs, signature_keys=("serving_default",)):
    """The converted model's bytes (for `"selective"` the calibrated float model, which
    `_selective` quantizes)."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_text

    def converter(supported_ops):
        result = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir), signature_keys=list(signature_keys))
        result.target_spec.supported_ops = supported_ops
        if with_tokenizer:
            result.allow_custom_ops = True
            # The int8 calibrator runs the model, tokenizer included.
            result.target_spec._experimental_custom_op_registerers = list(
                tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS
            )
        if quantize != "none":
            result.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            result.target_spec.supported_types = [tf.float16]
        if quantize == "selective":
            result._experimental_calibrate_only = True
        if quantize in CALIBRATED:
            def representative_dataset():
                # `{signature: (rows, inputs)}`: every signature is calibrated on its own inputs.
                for name, (_, inputs) in calibration_inputs.items():
                    # The calibrator misreads object arrays of strings (it saw at most 6
                    # tokens of MiniLM's calibration texts); fixed-width bytes arrive whole.
                    inputs = {key: value.astype(np.bytes_) if value.dtype == object else value
                              for key, value in inputs.items()}
                    for index in range(len(inputs["domain_id"])):
                        sample = {key: value[index : index + 1] for key, value in inputs.items()}
                        yield (name, sample) if len(signature_keys) > 1 else sample

            result.representative_dataset = representative_dataset
        return result

    try:
        with warnings.catch_warnings():
            # The int8 calibrator runs tf.lite.Interpreter, which warns it is deprecated.
            warnings.simplefilter("ignore", UserWarning)
            if quantize == "selective":
                return converter([tf.lite.OpsSet.TFLITE_BUILTINS]).convert()
            return _convert_with(converter, quantize)
    except Exception as error:
        raise OperationError(f"TFLite conversion ({quantize}) failed: {str(error).strip().splitlines()[0]}") from error


def _convert_with(converter, quantize):
    import tensorflow as tf

    if quantize == "int16x8":
        int16x8 = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        try:
            return converter([int16x8]).convert()
        except Exception:  # An op without a 16x8 kernel: let it run in float.
            pass
        return converter([int16x8, tf.lite.OpsSet.TFLITE_BUILTINS]).convert()
    if quantize == "int8":
        try:
            return converter([tf.lite.OpsSet.TFLITE_BUILTINS_INT8]).convert()
        except Exception:  # An op without an int8 kernel: let it run in float.
            pass
        return converter([tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]).convert()
    return converter([tf.lite.OpsSet.TFLITE_BUILTINS]).convert()


def litert_interpreter(content, with_tokenizer, num_threads=None):
    """An ai-edge-litert interpreter for a model's bytes (tensorflow-text ops registered
    when the model tokenizes).

    Example (needs a converted model):

    >>> import pathlib
    >>> interpreter = litert_interpreter(pathlib.Path("model.tflite").read_bytes(), False)  # doctest: +SKIP
    >>> interpreter.get_signature_list()  # doctest: +SKIP
    """
    from ai_edge_litert import interpreter as litert

    if with_tokenizer:
        import tensorflow_text

        return litert.InterpreterWithCustomOps(
            model_content=content,
            custom_op_registerers=list(tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS),
            num_threads=num_threads,
        )
    return litert.Interpreter(model_content=content, num_threads=num_threads)


def _latency_ms(runner, inputs, repeats=30):
    for _ in range(3):
        runner(**inputs)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        runner(**inputs)
        times.append(time.perf_counter() - started)
    times.sort()
    return 1000 * times[len(times) // 2]


def _custom_ops(interpreter):
    try:
        details = interpreter._get_ops_details()
    except AttributeError:
        return []
    builtin = set()
    names = set()
    for op in details:
        name = op.get("op_name", "")
        names.add(name)
        if name.isupper():
            builtin.add(name)
    return sorted(names - builtin)


def read_tflite_sidecar(path):
    """The `.labels.json` written beside a TFLite file.

    Example:

    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.tflite"
    >>> _ = pathlib.Path(str(path) + ".labels.json").write_text(json.dumps({"max_labels": 3}))
    >>> read_tflite_sidecar(path)
    {'max_labels': 3}
    """
    sidecar = storage_path(str(path) + ".labels.json")
    if not sidecar.exists():
        raise XDomainError(f"{path}: no {sidecar.name} beside it (write it with xdomain-tf export --tflite)")
    return json.loads(sidecar.read_text(encoding="utf-8"))
