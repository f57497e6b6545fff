"""Runs every notebook in notebooks/ top to bottom in SMALL mode and checks its results.

Each notebook runs in a fresh kernel whose Python is this interpreter, with its working
directory in tmp_path (see notebook_runner.py): the committed notebooks are never
modified. The last code cell of every notebook prints one JSON line of results, checked here.
"""
import json
import math

import pytest

from notebook_runner import NOTEBOOKS, last_json_line

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_NAMES = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def execute(name, tmp_path):
    """Executes notebooks/<name>.ipynb in SMALL mode; returns the executed notebook and its folder."""
    from notebook_runner import execute as run_notebook

    work = tmp_path / "work"
    notebook = run_notebook(name, work, small=True, timeout=CELL_TIMEOUT_S,
                            executed=tmp_path / f"{name}.executed.ipynb")
    return notebook, work


def images(notebook):
    return sum(1 for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {}))


def is_score(value):
    return isinstance(value, float) and 0.0 <= value <= 1.0


def test_committed_notebooks_carry_no_outputs():
    assert NOTEBOOK_NAMES, "no notebooks found"
    for name in NOTEBOOK_NAMES:
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name}: committed with outputs"
        sources = [c.source for c in notebook.cells if c.cell_type == "code"]
        assert "google.colab" in sources[0], f"{name}: the first code cell must install the package in Colab"
        assert any('os.environ.get("XDOMAIN_TF_NOTEBOOK_SMALL") == "1"' in s for s in sources), name
        # The reader learns up front how long the full run takes, on either kind of runtime.
        run_time = [c.source for c in notebook.cells if c.cell_type == "markdown" and "**Run time**" in c.source]
        assert len(run_time) == 1 and "CPU" in run_time[0] and "GPU" in run_time[0], name


def check_multi_domain_finetuning(result, notebook, work):
    assert set(result["domains"]) == {"news", "software"}
    for domain, scores in result["domains"].items():
        assert scores["n"] > 0
        for key in ("accuracy", "macro_f1", "tfidf_macro_f1"):
            assert is_score(scores[key]), (domain, key, scores[key])
    assert result["steps"] == 27  # 144 training examples / batch 16 = 9 steps, 3 epochs
    assert len(result["predictions"]) == 4
    assert images(notebook) == 3  # learning curves + one confusion matrix per domain
    figures = work / "runs/multi_domain_finetuning-small/figures"
    assert sorted(p.name for p in figures.iterdir()) == ["confusion_news.png", "confusion_software.png",
                                                         "training_curves.png"]
    assert json.loads((work / "runs/multi_domain_finetuning-small/evaluation.json").read_text())["overall"]["n"] == 48


def check_domain_adaptive_pretraining(result, notebook, work):
    domains = result["domains"]
    assert set(domains) == {"news", "software"} and result["target"] == "software"
    for scores in domains.values():
        for stage in ("before", "after"):
            assert is_score(scores[f"{stage}_accuracy"])
            assert math.isfinite(scores[f"{stage}_loss"]) and scores[f"{stage}_loss"] > 0
    # Continued pretraining on the target domain lowers its held-out masked-LM loss.
    assert domains["software"]["after_loss"] < domains["software"]["before_loss"]
    for init in ("general", "adapted"):
        assert is_score(result["downstream"][init]["macro_f1"])
    assert images(notebook) == 3  # learning curves of both runs + the before/after bars
    figures = work / "runs/domain_adaptive_pretraining-small/figures"
    assert sorted(p.name for p in figures.iterdir()) == ["curves_adapted.png", "curves_general.png",
                                                         "mlm_before_after.png"]


def check_cross_lingual_transfer(result, notebook, work):
    assert result["train_langs"] == ["en", "de", "fr"] and result["eval_langs"] == ["en", "de", "fr"]
    assert len(result["matrix"]) == 3 and all(len(row) == 3 for row in result["matrix"])
    assert all(is_score(value) for row in result["matrix"] for value in row)
    assert set(result["zero_shot_from_en"]) == {"de", "fr"}
    assert result["zero_shot_from_en"]["de"] == result["matrix"][0][1]
    # The fixture has 12 sentences per language and section, train and 6 test: all kept.
    assert result["train_sizes"] == {"en": 36, "de": 36, "fr": 36}
    assert result["test_sizes"] == {"en": 18, "de": 18, "fr": 18}
    assert images(notebook) == 1
    assert (work / "runs/cross_lingual_transfer-small/figures/transfer_matrix.png").is_file()


def check_export_serving_tflite(result, notebook, work):
    assert result["saved_model_version"] == 1
    assert result["tflite_size_bytes"] > 100_000
    assert result["tflite_agreement"] >= 0.999
    # The run directory, the SavedModel and the TFLite file label the texts alike.
    assert result["keras_labels"] == result["saved_model_labels"] == result["tflite_labels"]
    assert result["rest_labels"] == result["saved_model_labels"]
    assert result["grpc_inputs"] == ["domain", "text"]
    export = work / "runs/export_serving_tflite-small/export"
    assert (export / "xdomain/1/saved_model.pb").is_file() and (export / "models.config").is_file()


CHECKS = {
    "multi_domain_finetuning": check_multi_domain_finetuning,
    "domain_adaptive_pretraining": check_domain_adaptive_pretraining,
    "cross_lingual_transfer": check_cross_lingual_transfer,
    "export_serving_tflite": check_export_serving_tflite,
}


def test_every_notebook_has_a_check():
    assert sorted(CHECKS) == NOTEBOOK_NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_in_small_mode(name, tmp_path):
    notebook, work = execute(name, tmp_path)
    result = last_json_line(notebook)
    assert result["notebook"] == name and result["small"] is True
    CHECKS[name](result, notebook, work)
