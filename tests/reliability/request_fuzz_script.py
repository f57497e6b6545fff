"""Throws random requests (hypothesis) at every signature of an exported model and prints
two JSON lines per request: the request (before the call, so a crash names it) and its
outcome. A last `{"done": ...}` line means the process survived every request.

Usage:
    python request_fuzz_script.py saved_model VERSION_DIR
    python request_fuzz_script.py tflite IDS_FILE.tflite TEXT_FILE.tflite

Environment: XDOMAIN_FUZZ_REQUESTS (default 200), XDOMAIN_FUZZ_SEED (default 0).

SavedModel requests go to every signature of the export, half as TF Serving runs them (a
TF1 session fed without any shape check) and half through `tf.saved_model.load(...)
.signatures`, with random ranks (0-3), batch sizes (0-4, unequal across inputs), dtypes
(string, int32, int64, float32, bool) and values (unicode, NUL and control characters,
invalid UTF-8, texts of up to 300k characters, unknown domains, ids out of range). TFLite
requests go to `TFLitePredictor.predict` (Python values of any type and nesting) and, for
every signature of the file (`serving_default` and the length buckets), to
`TFLitePredictor.run` (checked arrays) and the interpreter's raw signature runner
(unchecked; an interpreter of its own), for a file without and one with the tokenizer.

Each outcome records the error's type, its first informative line and `names_input`
(whether its full text names one of the request's inputs); test_request_fuzz.py judges
them. The done line says whether a reference request still gets the answer it got before
the fuzz (`reference_unchanged`; `raw_attempts`: the calls the raw interpreters need).
"""
import functools
import json
import os
import pathlib
import re
import sys
import time

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

REQUESTS = int(os.environ.get("XDOMAIN_FUZZ_REQUESTS", "200"))
SEED = int(os.environ.get("XDOMAIN_FUZZ_SEED", "0"))
DTYPES = ("string", "int32", "int64", "float32", "bool")
NUMPY_DTYPES = {"int32": np.int32, "int64": np.int64, "float32": np.float32, "bool": np.bool_}
SPECIAL_TEXTS = [
    b"", b" ", b"\x00", b"\x00\x01\x02\x1b[31m\x7f", "goal\u0000cup".encode(), "\u200b\ufeff\u202e".encode(),
    b"\xff\xfe\xfd", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", "café — ünïcödé 🙂".encode(),
    "[CLS] [SEP] [PAD] [UNK] [MASK]".encode(), b"##", "\n\r\t\x0b\x0c".encode(),
]


def emit(**fields):
    print(json.dumps(fields, ensure_ascii=True), flush=True)


def summary(value):
    """A short description of a request value (no long texts in the log)."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype.name}{list(value.shape)}"
    if isinstance(value, (str, bytes)):
        return f"{type(value).__name__}[{len(value)}]" if len(value) > 40 else repr(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(summary(item) for item in value[:5]) + (", ..." if len(value) > 5 else "")
        return f"{type(value).__name__}[{items}]"
    return repr(value)[:60]


def texts(draw, domains=(), known=True):
    """One random string (bytes): a known domain of `domains` (mostly, when `known`), or
    short and odd (NUL and control characters, invalid UTF-8, special tokens), rarely very long."""
    # Hypothesis favours small draws: the rare and costly choices get the high numbers.
    if domains and known and draw(st.integers(0, 7)) < 7:
        return draw(st.sampled_from(list(domains))).encode()
    kind = draw(st.integers(0, 39))
    if kind == 39:
        length = draw(st.integers(10_000, 300_000))
        piece = draw(st.sampled_from([b"goal ", b"x", "\u00fc".encode(), b"\xff", b"\x00 ", "\U0001f642 ".encode()]))
        return (piece * (length // len(piece) + 1))[:length]
    if kind < 12:
        return draw(st.text(max_size=60)).encode("utf-8", "surrogatepass")
    if kind < 24:
        return draw(st.sampled_from(SPECIAL_TEXTS))
    return draw(st.binary(max_size=60))


def array(draw, dtype, shape, name, domains, vocabulary_size, valid):
    """A numpy array of `dtype` and `shape`; unless `valid`, integer values out of input
    `name`'s range and domain names unknown."""
    size = int(np.prod(shape)) if shape else 1
    if dtype == "string":
        known = domains if "domain" in name else ()
        values = [texts(draw, known, valid) for _ in range(min(size, 16))]
        values = (values * (size // max(len(values), 1) + 1))[:size]
        out = np.empty(size, dtype=object)
        out[:] = values
        if draw(st.integers(0, 9)) == 9:  # numpy unicode strings instead of bytes
            out = np.array([value.decode("utf-8", "replace") for value in values], dtype=str)
        return out.reshape(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype == "float32":
        pick = draw(st.sampled_from(["small", "nan", "huge"]))
        values = {
            "small": rng.normal(size=size) * 3,
            "nan": np.full(size, np.nan),
            "huge": rng.choice([1e30, -np.inf, np.inf], size),
        }[pick]
        return values.astype(np.float32).reshape(shape)
    if dtype == "bool":
        return rng.integers(0, 2, size).astype(bool).reshape(shape)
    high = {"domain_id": len(domains), "token_ids": vocabulary_size, "segment_ids": 2, "padding_mask": 2}.get(name, 2)
    pick = "valid" if valid else draw(st.sampled_from(["off_by_one", "negative", "extreme"]))
    if pick == "valid":
        values = rng.integers(0, max(high, 1), size)
    elif pick == "off_by_one":
        values = np.where(rng.random(size) < 0.3, high, rng.integers(0, max(high, 1), size))
    elif pick == "negative":
        values = -rng.integers(1, 400, size)
    else:
        info = np.iinfo(NUMPY_DTYPES[dtype])
        values = rng.choice([info.min, info.max, -1, high, 2**31 - 1], size)
    return values.astype(NUMPY_DTYPES[dtype]).reshape(shape)


BREAKS = ("dtype", "rank", "batch", "length", "values")


def request_arrays(draw, inputs, domains, vocabulary_size):
    """Random arrays for `inputs` (`{name: (dtype name, shape with -1 for free sizes)}`):
    well-formed (expected dtypes and ranks, one batch size and length, ids in range, known
    domains; odd texts), or with one property of one input broken (its dtype, rank, batch
    size, length or values, so that it passes the checks of all others), or several."""
    kind = draw(st.sampled_from(("none",) + BREAKS + ("several",)))
    broken = {name: set() for name in inputs}
    if kind == "several":
        for name in inputs:
            broken[name] = {item for item in BREAKS if draw(st.integers(0, 2)) == 0}
    elif kind != "none":
        broken[draw(st.sampled_from(sorted(inputs)))].add(kind)
    batch = draw(st.integers(0, 4))
    length = draw(st.integers(1, 40))
    arrays = {}
    for name, (dtype, shape) in inputs.items():
        if "dtype" in broken[name]:
            dtype = draw(st.sampled_from([other for other in DTYPES if other != dtype]))
        rank = len(shape)
        if "rank" in broken[name]:
            rank = draw(st.sampled_from([other for other in range(4) if other != rank]))
        dims = []
        for axis in range(rank):
            expected = shape[axis] if axis < len(shape) else -1
            if axis == 0:
                size = batch
                if "batch" in broken[name]:
                    size = draw(st.sampled_from([other for other in range(6) if other != batch]))
            elif "length" in broken[name]:
                size = draw(st.sampled_from([0, 1, 5, 31, 33, 64, 65, 80]))
            else:
                size = expected if expected >= 0 else length
            dims.append(size)
        arrays[name] = array(draw, dtype, tuple(dims), name, domains, vocabulary_size, "values" not in broken[name])
    return arrays


def names_input(message, names):
    return any(name in message for name in names)


BOILERPLATE = re.compile(r"^\s*(\[\[|Graph execution error|Detected at node|<stack traces|$)")


def first_line(message):
    """The first informative line of an error message (TF's eager errors start with
    boilerplate lines)."""
    lines = [line for line in str(message).splitlines() if not BOILERPLATE.match(line)]
    return (lines[0] if lines else str(message)).strip()[:300]


class Outcomes:
    """Counts outcomes and prints each."""

    def __init__(self, target):
        self.target = target
        self.count = 0
        self.seconds = 0.0

    def run(self, call, names, **request):
        index = self.count
        self.count += 1
        emit(request=index, target=self.target, **request)
        started = time.perf_counter()
        try:
            call()
            result = {"result": "ok"}
        except Exception as error:  # every error is recorded; the test judges it
            message = describe(error)
            result = {
                "result": "error",
                "error": type(error).__name__,
                "message": first_line(message),
                "names_input": names_input(message, names),
            }
        self.seconds += time.perf_counter() - started
        emit(outcome=index, **result)


def describe(error):
    """The full text of an error; an InvalidArgumentError whose message is not UTF-8 (it
    echoes a request's bytes) reaches Python as a UnicodeDecodeError holding those bytes."""
    if isinstance(error, UnicodeDecodeError) and isinstance(error.object, bytes):
        return error.object.decode("utf-8", "replace")
    return str(error)


def fuzz(body, targets):
    """Runs `body(draw, target)` for REQUESTS hypothesis examples, an equal share per target
    (one hypothesis run each, so every target gets its share)."""
    for index, target in enumerate(targets):
        share = REQUESTS // len(targets) + (index < REQUESTS % len(targets))

        @seed(SEED + index)
        @settings(
            max_examples=max(share, 1), database=None, deadline=None, phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def run(data):
            body(data.draw, target)

        if share:
            run()


def fuzz_saved_model(path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the tokenizer ops)
    from tensorflow.core.protobuf import config_pb2

    assets = pathlib.Path(path) / "assets"
    domains = [entry["name"] for entry in json.loads((assets / "labels.json").read_text())["domains"]]
    vocabulary_size = len((assets / "vocab.txt").read_text(encoding="utf-8").splitlines())
    loaded = tf.saved_model.load(path)
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    meta = tf.compat.v1.saved_model.load(session, ["serve"], path)
    signatures = {name: signature for name, signature in meta.signature_def.items() if not name.startswith("__")}
    inputs = {
        name: {
            key: (tf.dtypes.as_dtype(info.dtype).name, [dim.size for dim in info.tensor_shape.dim])
            for key, info in sorted(signature.inputs.items())
        }
        for name, signature in signatures.items()
    }
    callables = {}

    def session_call(name, arrays):
        if name not in callables:
            signature = signatures[name]
            options = config_pb2.CallableOptions(
                fetch=[info.name for info in signature.outputs.values()],
                feed=[signature.inputs[key].name for key in sorted(signature.inputs)],
            )
            callables[name] = session._make_callable_from_options(options)
        return callables[name](*[arrays[key] for key in sorted(arrays)])

    def eager_call(name, arrays):
        try:
            return loaded.signatures[name](**{key: tf.constant(value) for key, value in arrays.items()})
        except tf.errors.InvalidArgumentError as error:
            # "input #1(zero-based) was expected to be a string tensor": the inputs in name order.
            match = re.search(r"input #(\d+)\(zero-based\)", error.message)
            if match and int(match.group(1)) < len(arrays):
                error._message = f"{error.message} [input #{match.group(1)} is {sorted(arrays)[int(match.group(1))]}]"
            raise

    reference = {"text": np.array([b"a late goal won the cup"], object), "domain": np.array([b"news"], object)}
    before = session_call("serving_default", reference)[2].tolist()
    outcomes = Outcomes("saved_model")

    targets = [(name, mode) for name in sorted(signatures) for mode in ("session", "eager")]

    def request(draw, target):
        name, mode = target
        arrays = request_arrays(draw, inputs[name], domains, vocabulary_size)
        call = session_call if mode == "session" else eager_call
        outcomes.run(
            lambda: call(name, arrays), list(arrays),
            signature=name, mode=mode, inputs={key: summary(value) for key, value in arrays.items()},
        )

    fuzz(request, targets)
    after = session_call("serving_default", reference)[2].tolist()
    return outcomes, {"signatures": sorted(signatures), "reference_unchanged": before == after}


def fuzz_tflite(ids_path, text_path):
    from xdomain_tf.errors import XDomainError  # noqa: F401  (the expected error)
    from xdomain_tf.serving import TFLitePredictor

    predictors = {"ids": TFLitePredictor(ids_path, batch_size=3), "text": TFLitePredictor(text_path, batch_size=3)}
    # The raw runners get interpreters of their own: after one signature failed to prepare,
    # the next calls to another signature of the same interpreter can fail too ("XNNPack
    # delegate failed to reshape runtime"), well-formed or not.
    raw = {"ids": TFLitePredictor(ids_path), "text": TFLitePredictor(text_path)}
    domains = list(predictors["ids"].domains)
    vocabulary_size = predictors["ids"].preprocessor.tokenizer.vocabulary_size
    inputs = {
        (model, signature): {
            name: ("string" if np.dtype(detail["dtype"]).kind in "SO" else np.dtype(detail["dtype"]).name,
                   [int(size) for size in detail["shape_signature"]])
            for name, detail in sorted(details.items())
        }
        for model, predictor in predictors.items()
        for signature, details in predictor.input_details.items()
    }
    # Short and long texts: the rows run in different length-bucket signatures.
    reference = ["a late goal won the cup", "the market " * 20, "matrix solver"], ["news", "news", "software"]
    before = {model: predictor.predict(*reference) for model, predictor in predictors.items()}
    outcomes = Outcomes("tflite")

    def python_value(draw, field, count):
        """A Python value for `predict`'s `texts`/`domains`/`text_pairs`: mostly right."""
        kind = draw(st.integers(0, 11))
        known = domains if field == "domain" else ()
        if kind < 6:
            size = count if count is not None and draw(st.integers(0, 5)) else draw(st.integers(0, 5))
            return [texts(draw, known).decode("utf-8", "replace") for _ in range(size)]
        if kind < 8:
            return texts(draw, known).decode("utf-8", "replace")
        if kind == 8:  # lone surrogates and other non-UTF-8-encodable text
            return [draw(st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1))]
        if kind == 9:
            return [draw(st.one_of(st.integers(), st.floats(), st.none(), st.binary(max_size=8), st.booleans(),
                                   st.lists(st.text(max_size=3), max_size=2)))]
        if kind == 10:
            shape = draw(st.lists(st.integers(0, 3), max_size=3))
            return np.full(shape, "goal") if draw(st.booleans()) else np.zeros(shape, np.int32)
        return draw(st.one_of(
            st.none(), st.integers(), st.binary(max_size=8),
            st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        ))

    targets = [(model, "predict", None) for model in predictors] + [
        (model, method, signature) for model, signature in inputs for method in ("run", "interpreter")
    ]

    def request(draw, target):
        model, target, signature = target
        predictor = predictors[model]
        if target == "predict":
            text = python_value(draw, "text", None)
            count = len(text) if isinstance(text, list) else 1
            domain = python_value(draw, "domain", count)
            pairs = python_value(draw, "text_pair", count) if draw(st.integers(0, 9)) == 9 else None
            outcomes.run(
                lambda: predictor.predict(text, domain, pairs), ["text", "domain", "pair"],
                model=model, method=target, signature=None,
                inputs={"texts": summary(text), "domains": summary(domain), "text_pairs": summary(pairs)},
            )
            return
        arrays = request_arrays(draw, inputs[model, signature], domains, vocabulary_size)
        change = draw(st.integers(0, 19))
        if change == 18:
            arrays.pop(draw(st.sampled_from(sorted(arrays))))
        elif change == 19:
            arrays["extra"] = np.zeros([1], np.int32)
        call = functools.partial(predictor.run, signature) if target == "run" else raw[model].runners[signature]
        outcomes.run(
            lambda: call(**arrays), list(inputs[model, signature]) + ["extra"],
            model=model, method=target, signature=signature,
            inputs={key: summary(value) for key, value in arrays.items()},
        )

    fuzz(request, targets)
    after = {model: predictor.predict(*reference) for model, predictor in predictors.items()}
    return outcomes, {"reference_unchanged": before == after, "raw_attempts": raw_attempts(raw, reference, before)}


def raw_attempts(raw, reference, expected):
    """How many calls the raw interpreters need to answer the reference as before (at most 5)."""
    for attempt in range(1, 6):
        try:
            if {model: predictor.predict(*reference) for model, predictor in raw.items()} == expected:
                return attempt
        except RuntimeError:
            pass
    return None


def main():
    kind = sys.argv[1]
    started = time.perf_counter()
    if kind == "saved_model":
        outcomes, extra = fuzz_saved_model(sys.argv[2])
    else:
        outcomes, extra = fuzz_tflite(sys.argv[2], sys.argv[3])
    seconds = round(time.perf_counter() - started, 1)
    emit(done=outcomes.count, seconds=seconds, call_seconds=round(outcomes.seconds, 1), **extra)


if __name__ == "__main__":
    main()
