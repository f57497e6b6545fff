"""benchmarks/cross_lingual_zero_shot.py: --languages, --encoders recommended and the results
summary, with the CLI steps recorded instead of run."""
import importlib.util
import json
import pathlib
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "cross_lingual_zero_shot.py"


@pytest.fixture()
def script(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # the script imports cli_steps beside it
    spec = importlib.util.spec_from_file_location("cross_lingual_zero_shot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("cli_steps", None)


def test_defaults(script):
    args = script.parse_args([])
    assert args.languages == ["de", "fr"]
    assert args.encoders == ["minilm", "mlm", "align"]
    assert args.in_language == ["minilm", "align"]  # of --encoders only
    assert args.frozen == ["minilm", "mlm", "align"]
    assert args.extend_add == 4000


def test_frozen_all_skips_encoders_that_keep_alignment(script):
    args = script.parse_args(["--encoders", "minilm,extended,aux,full,recommended"])
    assert args.frozen == ["minilm", "extended"]
    assert script.parse_args(["--frozen", "none"]).frozen == []
    assert script.parse_args(["--encoders", "minilm,align", "--frozen", "align,mlm"]).frozen == ["align"]


def test_languages_and_recommended_encoder(script):
    args = script.parse_args(["--languages", "es, it,pt_BR,ru,es", "--encoders", "minilm,recommended"])
    assert args.languages == ["es", "it", "pt_BR", "ru"]
    assert args.encoders == ["minilm", "recommended"]
    assert args.in_language == ["minilm", "recommended"]


@pytest.mark.parametrize("flags, message", [
    (["--languages", "de,xx-YY"], "--languages: bad language code 'xx-YY' (expected e.g. en, de, pt_BR)"),
    (["--languages", "en,de"], "--languages: en is the training language; give the target languages only"),
    (["--languages", " , "], "--languages: no language given (e.g. en,de,fr)"),
    (["--encoders", "minilm,best"], "--encoders: unknown encoder(s) best; known: minilm, mlm, align, contrastive, "
                                    "extended, aux, full, recommended"),
    (["--encoders", "recommended", "--frozen", "recommended"], "--frozen: recommended fine-tune(s) with auxiliary"),
    (["--encoders", "minilm,aux", "--frozen", "minilm,aux"], "--frozen: aux fine-tune(s) with auxiliary alignment"),
    (["--in-language", "nope"], "--in-language: unknown encoder(s) nope"),
])
def test_a_bad_value_stops_with_one_line(script, flags, message):
    with pytest.raises(SystemExit) as stop:
        script.parse_args(flags)
    assert str(stop.value).startswith(message) and "\n" not in str(stop.value)


def test_a_language_debian_lacks_is_one_line(script, monkeypatch, tmp_path):
    from xdomain_tf import datasets
    from xdomain_tf.errors import XDomainError

    def no_translation(**kwargs):
        raise XDomainError("no Translation file for language(s) xh (found: de, en, fr)")

    monkeypatch.setattr(datasets, "debian_descriptions", no_translation)
    with pytest.raises(SystemExit, match=r"^--languages: no Translation file for language\(s\) xh \(found: de, en, fr\)$"):
        script.prepare_data(script.parse_args(["--languages", "xh"]), tmp_path)


def test_summary_of_a_results_dict(script):
    def scores(**f1):
        return {**{lang: {"macro_f1": value, "accuracy": value, "n": 10} for lang, value in f1.items()},
                "parameters": 100, "trainable_parameters": 100}

    results = {
        "trained_on_en": {"minilm": scores(en=0.9, es=0.6, ru=0.5), "recommended": scores(en=0.9, es=0.8, ru=0.75)},
        "trained_on_en_frozen": {"minilm": scores(en=0.7, es=0.4, ru=0.3)},
        "in_language": {"recommended": {"es": {"macro_f1": 0.85, "accuracy": 0.9, "n": 10},
                                        "ru": {"macro_f1": 0.8, "accuracy": 0.8, "n": 10}}},
    }
    assert script.summary(results, ["es", "ru"]) == {
        "minilm": {"zero_shot": {"es": 0.6, "ru": 0.5}},
        "recommended": {"zero_shot": {"es": 0.8, "ru": 0.75}, "in_language": {"es": 0.85, "ru": 0.8}},
    }


def test_full_extends_the_vocabulary_then_pretrains_from_it(script, monkeypatch, tmp_path):
    commands = []

    def fake_xdomain_tf(command):
        command = [str(part) for part in command]
        commands.append(command)
        out = pathlib.Path(command[command.index("--out") + 1])
        out.mkdir(parents=True)
        (out / "model.keras").write_text("model")
        return ""

    monkeypatch.setattr(script, "xdomain_tf", fake_xdomain_tf)
    args = script.parse_args(["--languages", "es,ru", "--encoders", "minilm,align,full,recommended",
                              "--extend-add", "300"])
    train = {lang: tmp_path / "data" / f"{lang}.jsonl" for lang in ("en", "es", "ru")}
    pairs = [str(tmp_path / "pairs-en-es.jsonl"), str(tmp_path / "pairs-en-ru.jsonl")]
    paths = script.encoder_paths(args, tmp_path, pairs, train)
    assert paths == {"minilm": "all-minilm-l6-v2", "align": str(tmp_path / "pretrain-align"),
                     "full": str(tmp_path / "pretrain-full"), "recommended": "all-minilm-l6-v2"}
    align, extend, full = commands
    assert extend[:3] == ["vocab", "extend", "--init"] and extend[3] == "all-minilm-l6-v2"
    assert extend[extend.index("--texts") + 1:extend.index("--add")] == [str(train["es"]), str(train["ru"])]
    assert extend[extend.index("--add") + 1] == "300"
    assert align[align.index("--init") + 1] == "all-minilm-l6-v2"
    assert full[full.index("--init") + 1] == str(tmp_path / "vocab-extended")
    assert full[full.index("--objective") + 1] == "mlm,contrastive"
    assert full[full.index("--train") + 1:full.index("--group-by")] == pairs
    # A second run skips every step that is done.
    assert script.encoder_paths(args, tmp_path, pairs, train) == paths and len(commands) == 3


def test_main_writes_the_summary(script, monkeypatch, tmp_path):
    languages = ["en", "es", "ru"]
    monkeypatch.setattr(script, "prepare_data", lambda args, out: (
        {lang: out / f"train-{lang}.jsonl" for lang in languages},
        {lang: out / f"test-{lang}.jsonl" for lang in languages}, []))
    monkeypatch.setattr(script, "encoder_paths", lambda args, out, pairs, train: {"minilm": "all-minilm-l6-v2"})
    monkeypatch.setattr(script, "train_once", lambda run_dir, options: {"parameters": 1, "trainable_parameters": 1})
    f1 = {"en": 0.9, "es": 0.7, "ru": 0.6}
    monkeypatch.setattr(script, "evaluate_once", lambda run_dir, data, name: {"domains": {"debian": {
        "macro_f1": f1[name] + (0.1 if run_dir.name == f"minilm-{name}" else 0), "accuracy": 0.5, "n": 3}}})
    script.main(["--languages", "es,ru", "--encoders", "minilm", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"] == {"minilm": {"zero_shot": {"es": 0.7, "ru": 0.6},
                                             "in_language": {"es": pytest.approx(0.8), "ru": pytest.approx(0.7)}}}
    with pytest.raises(SystemExit, match="holds runs for --languages es,ru: use another --out"):
        script.main(["--languages", "de", "--encoders", "minilm", "--out", str(tmp_path)])


def test_ablations_extended_aux_full_and_recommended(script, monkeypatch, tmp_path):
    """`extended` is the extended model without pretraining; `aux` and `full` fine-tune
    (in English and in-language) with every language's pairs in one --align-pairs file;
    `recommended` is `aux`: same runs, reported under both names."""
    commands = []

    def fake_xdomain_tf(command):
        command = [str(part) for part in command]
        commands.append(command)
        out = pathlib.Path(command[command.index("--out") + 1])
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.keras").write_text("model")
        return "parameters: 10 total, 10 trainable"

    pairs = []
    for lang, line in (("es", '{"text": "a", "text_pair": "b", "lang": "es"}\n'),
                       ("ru", '{"text": "c", "text_pair": "d", "lang": "ru"}\n')):
        pairs.append(tmp_path / f"pairs-en-{lang}.jsonl")
        pairs[-1].write_text(line)
    languages = ["en", "es", "ru"]
    monkeypatch.setattr(script, "prepare_data", lambda args, out: (
        {lang: out / f"train-{lang}.jsonl" for lang in languages},
        {lang: out / f"test-{lang}.jsonl" for lang in languages}, [str(path) for path in pairs]))
    monkeypatch.setattr(script, "xdomain_tf", fake_xdomain_tf)
    monkeypatch.setattr(script, "train_once", lambda run_dir, options: (
        commands.append(["train", "--out", str(run_dir), *map(str, options)]),
        {"parameters": 1, "trainable_parameters": 1})[1])
    monkeypatch.setattr(script, "evaluate_once", lambda run_dir, data, name: {"domains": {"debian": {
        "macro_f1": 0.5, "accuracy": 0.5, "n": 3}}})
    script.main(["--languages", "es,ru", "--encoders", "minilm,extended,aux,full,recommended", "--in-language",
                 "full,recommended", "--out", str(tmp_path / "out")])
    trains = {command[command.index("--out") + 1].split("/")[-1]: command for command in commands
              if command[0] == "train"}
    assert sorted(trains) == ["aux-en", "aux-es", "aux-ru", "extended-en", "extended-en-frozen", "full-en",
                              "full-es", "full-ru", "minilm-en", "minilm-en-frozen"]
    combined = tmp_path / "out" / "data" / "pairs-en-all.jsonl"
    assert combined.read_text() == pairs[0].read_text() + pairs[1].read_text()
    for name, command in trains.items():
        expected = [str(combined)] if name.startswith(("aux", "full")) else []
        got = [command[i + 1] for i, part in enumerate(command) if part == "--align-pairs"]
        assert got == expected, name
    extended = str(tmp_path / "out" / "vocab-extended")
    assert trains["extended-en"][trains["extended-en"].index("--init") + 1] == extended
    assert trains["aux-en"][trains["aux-en"].index("--init") + 1] == "all-minilm-l6-v2"
    assert trains["full-en"][trains["full-en"].index("--init") + 1] == str(tmp_path / "out" / "pretrain-full")
    summary = json.loads((tmp_path / "out" / "results.json").read_text())["summary"]
    assert summary["recommended"] == summary["aux"] | {"in_language": {"es": 0.5, "ru": 0.5}}
    pretrain = [command for command in commands if command[0] == "pretrain"]
    assert len(pretrain) == 1 and pretrain[0][pretrain[0].index("--init") + 1] == extended
