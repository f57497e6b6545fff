"""Selective int8: full-integer quantization except the few tensors whose int8 error is
largest (BERT-style outlier features), which stay in float with the ops that write and read
them; the tensors are chosen by measuring each op's error with TFLite's quantization debugger
(`tf.lite.experimental.QuantizationDebugger`)."""
import csv
import io
import warnings

import numpy as np

from xdomain_tf.errors import OperationError

# Numbers of largest-error tensors kept in float (with their readers), tried in turn until the
# labels agree.
DENYLIST_STEPS = (0, 1, 2, 4, 8, 16, 32, 64, 128)
REFINE_STEPS = 3


def typical_error(float_values, quantized_values, scale, zero_point):
    """The RMS int8 error of one op output relative to the RMS of its typical values (those
    up to the 99th percentile of magnitude).

    A few outlier features (BERT-style, ~100x the others) set the int8 scale of their whole
    tensor, and every ordinary value then rounds to a step about as large as itself: an
    error that is small next to the outliers (so a norm-relative or scale-relative error
    misses it) but large next to the typical values, which this measures. The debugger's
    `layer_direct_compare_metrics` signature.

    Args:
        float_values: the op's float output (run on the dequantized quantized input).
        quantized_values: the op's quantized output.
        scale: its quantization scale.
        zero_point: its zero point.

    Example:

    >>> import numpy as np
    >>> ordinary = np.random.default_rng(0).normal(size=400)
    >>> outliers = np.where(np.arange(400) < 2, 225.0, ordinary)  # scale 225 / 127: coarse steps
    >>> round(typical_error(outliers, np.round(outliers / (225 / 127)), 225 / 127, 0), 1)
    0.5
    >>> scale = np.abs(ordinary).max() / 127
    >>> round(typical_error(ordinary, np.round(ordinary / scale), scale, 0), 3)
    0.009
    """
    dequantized = (np.asarray(quantized_values, np.float64) - zero_point) * scale
    float_values = np.asarray(float_values, np.float64)
    rms = float(np.sqrt(np.mean((dequantized - float_values) ** 2)))
    magnitude = np.abs(float_values).ravel()
    typical = magnitude[magnitude <= np.quantile(magnitude, 0.99)]
    return rms / max(float(np.sqrt(np.mean(typical**2))), 1e-12)


def consumers(model_content):
    """`{tensor name: output tensor names of the ops that read it}` of a TFLite model: keeping
    a tensor in float needs its readers in float too (an int8 reader quantizes it again).

    Example (needs a model):

    >>> consumers(calibrated)["encoder/transformer_layer_0/add"]  # doctest: +SKIP
    ['encoder/transformer_layer_0/attention_layer_norm/mean', ...]
    """
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_content=model_content)
    names = {detail["index"]: detail["name"] for detail in interpreter.get_tensor_details()}
    readers = {}
    for op in interpreter._get_ops_details():
        outputs = [names[index] for index in op["outputs"] if index in names]
        for index in op["inputs"]:
            if index in names:
                readers.setdefault(names[index], []).extend(outputs)
    return readers


def op_errors(calibrated_model, inputs, examples):
    """Per-op int8 error of a calibrated single-signature model, measured by TFLite's
    quantization debugger (`tf.lite.experimental.QuantizationDebugger`).

    The model is quantized with `NumericVerify` ops: each quantized op runs next to its
    float version on the same (dequantized) input, and for every op output the debugger
    averages `typical_error` (and its default metrics) over the examples.

    Args:
        calibrated_model: bytes of a calibrated model (a converter with `optimizations`,
            a `representative_dataset` and `_experimental_calibrate_only = True`).
        inputs: `{input name: array [n, ...]}` of the model's signature.
        examples: how many of the `n` examples to run.

    Returns:
        One dict per op output, largest `typical_error` first: `tensor_name`, `op_name`,
        `typical_error`, `mean_squared_error`, `scale`.

    Example (runs a model, seconds to minutes):

    >>> rows = op_errors(calibrated, {"token_ids": ids, ...}, 32)  # doctest: +SKIP
    >>> rows[0]["op_name"], rows[0]["typical_error"]  # doctest: +SKIP
    ('ADD', 0.81)
    """
    import tensorflow as tf
    from tensorflow.lite.python import convert

    debug_model = convert.mlir_quantize(calibrated_model, enable_numeric_verify=True)
    options = tf.lite.experimental.QuantizationDebugOptions(
        layer_direct_compare_metrics={"typical_error": typical_error}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tf.lite.Interpreter's deprecation warning
        order = [
            detail["name"].split(":")[0].split("_", 2)[-1]
            for detail in tf.lite.Interpreter(model_content=debug_model).get_input_details()
        ]
        samples = [[inputs[name][index : index + 1] for name in order] for index in range(examples)]
        debugger = tf.lite.experimental.QuantizationDebugger(
            quant_debug_model_content=debug_model, debug_dataset=lambda: iter(samples), debug_options=options
        )
        debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    dump.seek(0)
    rows = []
    for row in csv.DictReader(dump):
        rows.append(
            {
                "tensor_name": row["tensor_name"],
                "op_name": row["op_name"],
                "typical_error": float(row["typical_error"]),
                "mean_squared_error": float(row["mean_squared_error"]),
                "scale": float(row["scale"]),
            }
        )
    # An op the examples never reached (NaN: no measurement) ranks last.
    rows.sort(key=lambda row: -row["typical_error"] if np.isfinite(row["typical_error"]) else float("inf"))
    return rows


def quantized_model(calibrated_model, denylisted_nodes=()):
    """The int8 model of a calibrated model, with the ops that output `denylisted_nodes`
    left in float (what the debugger's `get_nondebug_quantized_model` gives).

    Args:
        calibrated_model: bytes of a calibrated model (a converter with
            `_experimental_calibrate_only`).
        denylisted_nodes: op output tensor names to keep in float.

    Example (needs a calibrated model):

    >>> content = quantized_model(calibrated, ["encoder/transformer_layer_5/add"])  # doctest: +SKIP
    """
    from tensorflow.lite.python import convert

    try:
        return convert.mlir_quantize(calibrated_model, denylisted_nodes=list(denylisted_nodes) or None)
    except Exception as error:
        raise OperationError(f"selective int8 quantization failed: {str(error).strip().splitlines()[0]}") from error


def choose_denylist(calibrated_model, rows, agreement_of, target, log=None, quantize=quantized_model,
                    readers=None):
    """The fewest largest-error tensors to keep in float for the labels to agree.

    Tries the `DENYLIST_STEPS` largest-error op outputs of `rows` in turn (0, 1, 2, 4, ...),
    each with the ops that read it (`readers`), and returns the first set whose quantized
    model reaches `target` agreement, narrowed by up to `REFINE_STEPS` bisections between
    that step and the last one that failed.

    Args:
        calibrated_model: bytes of the calibrated model.
        rows: `op_errors` rows, largest error first.
        agreement_of: `model bytes -> label agreement` with the float model.
        target: the agreement to reach.
        log: a function taking one line of progress.
        quantize: `(calibrated_model, names) -> model bytes` (default `quantized_model`).
        readers: `consumers` of the model (None: the tensors alone).

    Returns:
        `(denylisted tensor names, agreement, tried)`: `tried` lists `(count, agreement)`
        (count: tensors chosen, before their readers are added). When no step reaches
        `target`, the best step's.

    Example (a stand-in quantizer: the "model" is the list of float ops):

    >>> rows = [{"tensor_name": name} for name in ("add", "mul", "mean")]
    >>> choose_denylist(b"", rows, lambda model: 0.9 + 0.04 * len(model), 0.97,
    ...                 quantize=lambda calibrated, names: names)
    (['add', 'mul'], 0.98, [(0, 0.9), (1, 0.9400000000000001), (2, 0.98)])
    """
    log = log or (lambda line: None)
    names = [row["tensor_name"] for row in rows]
    tried, best = [], None

    def attempt(count):
        chosen = list(dict.fromkeys(
            names[:count] + [reader for name in names[:count] for reader in (readers or {}).get(name, [])]
        ))
        agreement = agreement_of(quantize(calibrated_model, chosen))
        tried.append((count, agreement))
        log(f"selective int8: {count} tensor(s) and their readers, {len(chosen)} op output(s) in float -> "
            f"label agreement {agreement:.2%}")
        return chosen, agreement

    failed = None
    for count in DENYLIST_STEPS:
        if count > len(names):
            break
        chosen, agreement = attempt(count)
        if best is None or agreement > best[1]:
            best = (chosen, agreement)
        if agreement >= target:
            # Doubling overshoots (64 -> 128 tensors keeps most of MiniLM in float): halve
            # the gap to the last failing step a few times.
            low, high, passed = failed, count, (chosen, agreement)
            for _ in range(REFINE_STEPS if failed is not None else 0):
                middle = (low + high) // 2
                if middle in (low, high):
                    break
                chosen, agreement = attempt(middle)
                if agreement >= target:
                    high, passed = middle, (chosen, agreement)
                else:
                    low = middle
            return passed[0], passed[1], tried
        failed = count
    return best[0], best[1], tried
