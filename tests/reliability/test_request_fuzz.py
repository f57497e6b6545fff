"""Random malformed requests (a hypothesis fuzz, request_fuzz_script.py) fail one at a time
with an error naming an input; the process serving them survives and answers as before.

The script runs in a subprocess, so a crash shows as its exit code and the request it
died on. XDOMAIN_FUZZ_REQUESTS sets the requests per model (default 150 here; issue #18's
check ran 10,000 each), XDOMAIN_FUZZ_SEED the hypothesis seed (default 0).
"""
import collections
import json
import os
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).with_name("request_fuzz_script.py")
REQUESTS = int(os.environ.get("XDOMAIN_FUZZ_REQUESTS", "150"))


def fuzz(*arguments):
    """`(outcomes, done line)`: each outcome is the request's line merged with its outcome's."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, arguments)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "XDOMAIN_FUZZ_REQUESTS": str(REQUESTS)},
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, (
        f"the process died (exit code {result.returncode}) at {lines[-1:]}: {result.stderr[-3000:]}"
    )
    requests = {line["request"]: line for line in lines if "request" in line}
    outcomes = [{**requests[line["outcome"]], **line} for line in lines if "outcome" in line]
    return outcomes, lines[-1]


def unclean(outcomes, errors):
    """The outcomes that are neither a result nor an error of `errors` naming an input."""
    return [
        outcome for outcome in outcomes
        if outcome["result"] != "ok" and not (outcome["error"] in errors and outcome["names_input"])
    ]


def test_a_saved_model_survives_random_requests_to_every_signature(exported_model):
    outcomes, done = fuzz("saved_model", exported_model[1])
    assert done["done"] == REQUESTS == len(outcomes)
    assert done["reference_unchanged"]
    signatures = {"serving_default", "serving_pair", "classify_news", "classify_software", "encode", "predict_ids"}
    assert set(done["signatures"]) == signatures
    results = collections.defaultdict(set)
    for outcome in outcomes:
        results[outcome["signature"], outcome["mode"]].add(outcome["result"])
    assert set(results) == {(name, mode) for name in signatures for mode in ("session", "eager")}
    for name in signatures:
        assert "ok" in results[name, "session"] | results[name, "eager"], name
    assert "error" in set().union(*results.values())
    assert unclean(outcomes, {"InvalidArgumentError"}) == []


def test_a_tflite_predictor_checks_every_input_and_its_interpreter_survives(tflite_models):
    outcomes, done = fuzz("tflite", tflite_models["ids"], tflite_models["text"])
    assert done["done"] == REQUESTS == len(outcomes)
    assert done["reference_unchanged"]  # the interpreter still answers as before the fuzz
    results = collections.defaultdict(set)
    for outcome in outcomes:
        results[outcome["model"], outcome["method"], outcome["signature"]].add(outcome["result"])
    signatures = {"ids": ["length_16", "serving_default"], "text": ["serving_default"]}  # buckets below length 32
    assert set(results) == {(model, "predict", None) for model in signatures} | {
        (model, method, signature)
        for model, names in signatures.items() for signature in names for method in ("run", "interpreter")
    }
    assert all("ok" in result and "error" in result for key, result in results.items() if key[1] != "interpreter")
    checked = [outcome for outcome in outcomes if outcome["method"] != "interpreter"]
    assert unclean(checked, {"XDomainError", "DataError"}) == []
    # The raw interpreter checks less (a kernel's RuntimeError need not name the input);
    # it must fail cleanly all the same.
    raw = [outcome for outcome in outcomes if outcome["method"] == "interpreter" and outcome["result"] != "ok"]
    assert {outcome["error"] for outcome in raw} <= {"ValueError", "RuntimeError"}
    # ... and answer as before once more: within 3 calls (after a signature failed to
    # prepare, XNNPack fails the next two calls of another signature of that interpreter).
    assert done["raw_attempts"] is not None and done["raw_attempts"] <= 3
