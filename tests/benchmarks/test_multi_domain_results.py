"""benchmarks/multi_domain_results.py `augmentation`: its runs, the combination it picks, and
its CLI steps (recorded, not run)."""
import importlib.util
import json
import pathlib
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "multi_domain_results.py"


@pytest.fixture()
def script(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # the script imports cli_steps beside it
    spec = importlib.util.spec_from_file_location("multi_domain_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("cli_steps", None)


def _paths(folder):
    return {name: folder / f"{name}.jsonl" for name in ("de-200", "en-1200", "de-test")}


def test_augmentation_runs_are_the_joint_run_plus_one_augmentation_each(script, tmp_path):
    paths = _paths(tmp_path)
    joint = script.small_domain_runs(paths)["joint"]
    assert joint[joint.index("--train") + 1:joint.index("--train") + 3] == [paths["de-200"], paths["en-1200"]]
    runs = script.augmentation_runs(joint, "runs/mlm", "pairs.jsonl")
    assert list(runs) == ["none", "mask", "delete", "mlm_replace", "translate"]
    assert runs["none"] == ("small-domain-joint", joint)  # the small_domain joint run itself
    extra = {name: options[len(joint):] for name, (_, options) in runs.items()}
    assert all(options[:len(joint)] == joint for _, options in runs.values())
    assert extra == {
        "none": [],
        "mask": ["--augment", "mask:0.1"],
        "delete": ["--augment", "delete:0.1"],
        "mlm_replace": ["--augment", "mlm_replace:0.15", "--augment-mlm", "runs/mlm"],
        "translate": ["--augment-pairs", "pairs.jsonl"],
    }
    assert len({folder for folder, _ in runs.values()}) == len(runs)


def test_the_train_flags_of_each_augmentation_parse(script, tmp_path):
    from xdomain_tf.cli.main import build_parser

    parser = build_parser()
    for name, (_, options) in script.augmentation_runs([], "runs/mlm", "pairs.jsonl").items():
        args = parser.parse_args(["train", "--train", "t.jsonl", "--out", str(tmp_path / name), *map(str, options)])
        assert (args.augment, args.augment_mlm, args.augment_pairs) == {
            "none": (None, None, None), "mask": ("mask:0.1", None, None), "delete": ("delete:0.1", None, None),
            "mlm_replace": ("mlm_replace:0.15", "runs/mlm", None), "translate": (None, None, "pairs.jsonl"),
        }[name]


@pytest.mark.parametrize("scores, expected", [
    ({"none": 0.70, "mask": 0.72, "delete": 0.69, "mlm_replace": 0.71, "translate": 0.75},
     ["mask", "mlm_replace", "translate"]),
    ({"none": 0.70, "mask": 0.71, "delete": 0.60, "mlm_replace": 0.65, "translate": 0.62}, ["mask", "mlm_replace"]),
    ({"none": 0.80, "mask": 0.70, "delete": 0.75, "mlm_replace": 0.71, "translate": 0.60}, ["delete", "mlm_replace"]),
])
def test_best_combination(script, scores, expected):
    assert script.best_combination(scores) == expected


def test_augmentation_experiment_steps_and_results(script, monkeypatch, tmp_path):
    paths = _paths(tmp_path / "data" / "small_domain")
    commands, trained = [], {}
    monkeypatch.setattr(script, "small_domain_data", lambda out: paths)

    def fake_xdomain_tf(command):
        command = [str(part) for part in command]
        commands.append(command)
        out = pathlib.Path(command[command.index("--out") + 1])
        if command[0] == "pretrain":
            out.mkdir(parents=True)
            (out / "model.keras").write_text("model")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("{}\n")
        return ""

    f1 = {"small-domain-joint": 0.70, "augment-mask": 0.72, "augment-delete": 0.69,
          "augment-mlm_replace": 0.68, "augment-translate": 0.74, "augment-mask+translate": 0.76}

    def fake_train_once(run_dir, options):
        trained[run_dir.name] = [str(option) for option in options]
        return {}

    def fake_evaluate_once(run_dir, data, name):
        assert data == [paths["de-test"]]
        return {"domains": {"debian-de": {"macro_f1": f1[run_dir.name], "accuracy": 0.5, "n": 10}}}

    monkeypatch.setattr(script, "xdomain_tf", fake_xdomain_tf)
    monkeypatch.setattr(script, "train_once", fake_train_once)
    monkeypatch.setattr(script, "evaluate_once", fake_evaluate_once)
    results = script.augmentation(tmp_path)
    pairs, pretrain = commands
    assert pairs[:5] == ["data", "pairs", "debian", "--language", "de"]
    assert pretrain[:6] == ["pretrain", "--init", "all-minilm-l6-v2", "--objective", "mlm", "--train"]
    assert pretrain[pretrain.index("--steps") + 1] == "200"
    assert {name: scores["macro_f1"] for name, scores in results.items()} == {
        "none": 0.70, "mask": 0.72, "delete": 0.69, "mlm_replace": 0.68, "translate": 0.74, "combined": 0.76}
    assert results["combined"]["augmentations"] == ["mask", "translate"]
    combined = trained["augment-mask+translate"]
    assert combined[combined.index("--augment") + 1] == "mask:0.1"
    assert combined[combined.index("--augment-pairs") + 1] == pairs[pairs.index("--out") + 1]
    assert trained["augment-mlm_replace"][-1] == str(tmp_path / "augment-mlm")
    # A second run does the data and pretraining steps no more.
    script.augmentation(tmp_path)
    assert len(commands) == 2


def test_an_unknown_experiment_is_one_line(script, tmp_path):
    with pytest.raises(SystemExit, match=r"^--experiments: unknown augment; known: vs_tfidf, .*augmentation"):
        script.main(["--out", str(tmp_path / "out"), "--experiments", "augment"])
    assert not (tmp_path / "out").exists()


def test_the_augmentation_table(script, monkeypatch, tmp_path, capsys):
    (tmp_path / "results.json").write_text(json.dumps({"augmentation": {
        "none": {"macro_f1": 0.7}, "mask": {"macro_f1": 0.72},
        "combined": {"macro_f1": 0.75, "augmentations": ["mask", "translate"]}}}))
    monkeypatch.setattr(script, "augmentation", lambda out: json.loads((tmp_path / "results.json").read_text())[
        "augmentation"])
    script.main(["--out", str(tmp_path), "--experiments", "augmentation"])
    lines = capsys.readouterr().out.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("augmentation"))):]
    assert table[1].split() == ["none", "0.700", "+0.000"]
    assert table[2].split() == ["mask", "0.720", "+0.020"]
    assert table[3].split() == ["combined:", "mask+translate", "0.750", "+0.050"]


def test_long_tail_keeps_each_labels_share(script):
    records = [{"label": "big", "i": i} for i in range(200)] + [{"label": "small", "i": i} for i in range(30)]
    kept = script.long_tail(records, 0.05, seed=1)
    assert sorted(record["label"] for record in kept) == ["big"] * 10 + ["small"] * 2
    assert kept == script.long_tail(records, 0.05, seed=1)  # seeded
    capped = script.long_tail(records, 1.0, cap=20)
    assert len(capped) == 40 and len({(r["label"], r["i"]) for r in capped}) == 40


def test_imbalance_experiment_runs_and_scores(script, monkeypatch, tmp_path, capsys):
    from xdomain_tf.cli.main import build_parser

    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": "t", "label": label, "domain": "debian"}) + "\n"
                             for label in ["net"] * 6 + ["mail"] * 2 + ["hamradio"]))
    monkeypatch.setattr(script, "imbalance_data", lambda out: {"train": train, "test": tmp_path / "test.jsonl"})
    trained = {}
    monkeypatch.setattr(script, "train_once", lambda run_dir, options: trained.setdefault(run_dir.name, options))
    per_label = {"net": {"f1": 0.9, "support": 5}, "mail": {"f1": 0.5, "support": 3},
                 "hamradio": {"f1": 0.0, "support": 2}}
    monkeypatch.setattr(script, "evaluate_once", lambda run_dir, data, name: {"domains": {"debian": {
        "macro_f1": 0.466, "accuracy": 0.6, "n": 10, "per_label": per_label}}})
    script.main(["--out", str(tmp_path / "out"), "--experiments", "imbalance"])
    assert sorted(trained) == ["imbalance-balanced_sampling", "imbalance-class_weights", "imbalance-none"]
    parser = build_parser()
    for name, options in trained.items():
        args = parser.parse_args(["train", "--out", str(tmp_path / name), *map(str, options)])
        assert (args.class_weights, args.label_sampling) == {
            "imbalance-none": (None, None), "imbalance-class_weights": ("balanced", None),
            "imbalance-balanced_sampling": (None, "balanced")}[name]  # None: the option's default
    results = json.loads((tmp_path / "out" / "results.json").read_text())["imbalance"]
    assert results["train_counts"] == {"net": 6, "mail": 2, "hamradio": 1}
    assert results["none"]["worst_label"] == "hamradio" and results["none"]["worst_label_f1"] == 0.0
    out = capsys.readouterr().out
    assert "imbalance: 3 sections, 9 training examples (6 to 1 per section)" in out
    assert "class_weights" in out and "hamradio" in out
