"""The quickstart: the whole job on real data, end to end, on a CPU.

Fetches two real domains (BBC News topics, Debian package sections), fine-tunes a
two-domain classifier (all-MiniLM-L6-v2 by default, or a preset trained from scratch),
scores each domain against a TF-IDF + logistic-regression baseline, exports a versioned
SavedModel for TF Serving and an int8 TFLite file, reloads both and classifies unseen
texts.
"""
import json
import pathlib
import time

from xdomain_tf.models.encoder_config import EncoderConfig

UNSEEN = (
    ("news", "The striker scored twice as the home side won the cup final on Saturday."),
    ("news", "Shares in the bank fell sharply after it reported lower quarterly profits."),
    ("news", "The prime minister faced questions from MPs about the new immigration bill."),
    ("debian", "Multiplayer strategy game where you build an empire and fight rival clans"),
    ("debian", "Library and command-line tools to compute matrix decompositions and solve linear systems"),
    ("debian", "Audio editor for recording, cutting and mixing sound files with effects"),
)


def run_quickstart(out="runs/quickstart", preset="all-minilm-l6-v2", epochs=None, max_train_per_label=150,
                   batch_size=32, seq_len=128, learning_rate=None, log=print):
    """Runs the quickstart and returns its summary (also written to `out/summary.json`).

    Args:
        out: the folder for data, run directory, exports and reports.
        preset: `all-minilm-l6-v2` (fine-tune the pretrained MiniLM) or an encoder preset
            such as `bert_tiny` (trained from scratch on a vocabulary learnt from the data).
        epochs: training epochs (default 2 for MiniLM, 6 from scratch).
        max_train_per_label: training examples per label and domain.
        batch_size: the batch size.
        seq_len: tokens per example.
        learning_rate: the peak learning rate (default 2e-4 for MiniLM, 5e-4 from scratch;
            `benchmarks/quickstart_recipe.py` measures the choice: with 1e-4 the encoder
            trails TF-IDF on news).
        log: where progress lines go.

    Example:

    >>> summary = run_quickstart("runs/quickstart", preset="bert_tiny")  # doctest: +SKIP
    """
    import keras

    from xdomain_tf.data.label_space import LabelSpace
    from xdomain_tf.data.readers import read_records
    from xdomain_tf.evaluation.multi_domain_report import evaluation_report, write_report
    from xdomain_tf.evaluation.tfidf_baseline import TfidfBaseline
    from xdomain_tf.export import saved_model
    from xdomain_tf.quickstart_data import quickstart_data
    from xdomain_tf.serving.predictor_loader import load_predictor
    from xdomain_tf.tasks import MultiDomainTextClassifier
    from xdomain_tf.training.record_classification import classify_records, evaluate_rows

    start = time.perf_counter()
    out = pathlib.Path(out)
    from_scratch = preset in EncoderConfig.preset_names()
    log("[1/5] data")
    paths = quickstart_data(out / "data", max_train_per_label=max_train_per_label, log=log)
    train = list(read_records(paths["train"]))
    labels = LabelSpace.from_records(train)

    recipe = {
        "preset": preset, "pooling": "mean", "seq_len": seq_len, "epochs": epochs or (6 if from_scratch else 2),
        "learning_rate": learning_rate or (5e-4 if from_scratch else 2e-4), "batch_size": batch_size,
        "train_per_label": max_train_per_label,
    }
    log(f"[2/5] training a two-domain classifier from {preset}")
    keras.utils.set_random_seed(0)
    clf = MultiDomainTextClassifier.from_preset(
        preset,
        domains={domain: list(labels.labels(domain)) for domain in labels.domains},
        sequence_length=seq_len,
        vocabulary=[record["text"] for record in train] if from_scratch else None,
        vocabulary_size=8000,
        learning_rate=recipe["learning_rate"],
        log=log,
    )
    train_start = time.perf_counter()
    clf.fit(
        train, validation_data=str(paths["valid"]), epochs=recipe["epochs"],
        batch_size=batch_size, verbose=2, seed=0,
        callbacks=[keras.callbacks.TensorBoard(str(out / "tensorboard"))],
    )
    train_minutes = (time.perf_counter() - train_start) / 60
    model_path = out / "model.keras"
    clf.save(model_path)
    log(f"saved {model_path}")

    log("[3/5] evaluating on the test split against TF-IDF + logistic regression")
    test = list(read_records(paths["test"]))
    report = evaluation_report(evaluate_rows(classify_records(clf, test), clf.domains))
    report["baseline"] = TfidfBaseline().fit(train).evaluate(test)
    written = write_report(report, json_path=out / "evaluation.json", report_dir=out / "plots")

    log("[4/5] exporting a SavedModel for TF Serving and an int8 TFLite file")
    version_dir = saved_model(clf, out / "export" / "xdomain", warmup_data=paths["valid"], models_config=None, log=log)
    tflite_report = _int8_tflite(clf, out / "xdomain_int8.tflite", paths, log)

    log("[5/5] reloading both exports and classifying unseen texts")
    texts = [text for _, text in UNSEEN]
    domains = [domain for domain, _ in UNSEEN]
    predictions = {
        kind: load_predictor(path).predict(texts, domains)
        for kind, path in (("saved_model", version_dir), ("tflite_int8", pathlib.Path(tflite_report["path"])))
    }
    for index, (domain, text) in enumerate(UNSEEN):
        served, edge = predictions["saved_model"][index], predictions["tflite_int8"][index]
        log(f"  [{domain}] {text[:60]:<60} -> {served['label']} ({served['score']:.2f}); tflite: {edge['label']}")

    summary = {
        "preset": preset,
        "recipe": recipe,
        "minutes": round((time.perf_counter() - start) / 60, 1),
        "train_minutes": round(train_minutes, 1),
        "scores": {
            domain: {
                "n": scores["n"], "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"],
                "tfidf_macro_f1": report["baseline"]["domains"][domain]["macro_f1"],
            }
            for domain, scores in report["domains"].items()
        },
        "tflite": {key: tflite_report[key] for key in ("quantize", "size_bytes", "agreement", "latency_ms_batch1")},
        "paths": {
            "data": str(out / "data"), "model": str(model_path), "saved_model": str(version_dir),
            "tflite": tflite_report["path"], "evaluation": str(out / "evaluation.json"),
            "plots": [str(p) for p in written if str(p).endswith(".png")],
        },
        "unseen": [{**p, "text": t} for p, (_, t) in zip(predictions["saved_model"], UNSEEN)],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _print_summary(summary, log)
    return summary


def _int8_tflite(clf, path, paths, log):
    """Full-integer int8, calibrated on training text; if its labels disagree with the
    SavedModel beyond the bound, int8 weights with float activations (`dynamic`)."""
    from xdomain_tf.errors import XDomainError
    from xdomain_tf.export import tflite

    common = dict(calibration_data=paths["train"], check_data=paths["valid"], check_examples=300, log=log)
    try:
        return tflite(clf, path, quantize="int8", **common)
    except XDomainError as error:
        log(f"full-integer int8 refused ({error}); writing dynamic-range int8 (int8 weights) instead")
        return tflite(clf, path, quantize="dynamic", **common)


def _print_summary(summary, log):
    log("")
    log(f"{'domain':<10}{'n':>6}{'accuracy':>10}{'macro-F1':>10}{'TF-IDF F1':>11}")
    for domain, scores in summary["scores"].items():
        log(f"{domain:<10}{scores['n']:>6}{scores['accuracy']:>10.3f}{scores['macro_f1']:>10.3f}{scores['tfidf_macro_f1']:>11.3f}")
    tfl = summary["tflite"]
    log(f"TFLite ({tfl['quantize']}): {tfl['size_bytes'] / 1e6:.1f} MB, {tfl['latency_ms_batch1']:.1f} ms at batch 1, "
        f"{tfl['agreement']:.1%} label agreement with the SavedModel")
    recipe = summary["recipe"]
    log(f"recipe: {recipe['preset']}, {recipe['pooling']} pooling, {recipe['seq_len']} tokens, "
        f"{recipe['train_per_label']} training examples per label, {recipe['epochs']} epochs at learning rate "
        f"{recipe['learning_rate']:g}, batch {recipe['batch_size']}")
    log(f"finished in {summary['minutes']} minutes (training {summary['train_minutes']}); wrote:")
    for name, path in summary["paths"].items():
        log(f"  {name}: {path}")
