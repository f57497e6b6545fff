import pathlib
import runpy
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_opens_with_the_quickstart_and_the_ci_test_command():
    quickstart = subprocess.run([sys.executable, ".ci/readme_commands.py", "quickstart"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
    tests = subprocess.run([sys.executable, ".ci/readme_commands.py", "test"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert "xdomain_tf quickstart" in quickstart
    assert "pytest" in tests and tests.startswith("pip install")


def test_readme_python_tour_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = text.split("```python", 1)[1].split("```", 1)[0]
    script = tmp_path / "tour.py"
    script.write_text(code.replace("batch_size=8,", "batch_size=8, verbose=0,"))
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(script))
    clf, reloaded, outputs = namespace["clf"], namespace["reloaded"], namespace["outputs"]
    assert sorted(namespace["history"].history) == sorted(
        prefix + name for prefix in ("", "val_")
        for name in ("loss", "news_accuracy", "news_loss", "software_accuracy", "software_loss")
    )
    assert outputs["probabilities"].shape == (4, 2)
    again = reloaded.predict({"text": ["A goal"], "domain": ["news"]}, verbose=0)["probabilities"]
    assert abs(again - clf.predict({"text": ["A goal"], "domain": ["news"]}, verbose=0)["probabilities"]).max() < 1e-6
    assert (tmp_path / "export" / "xdomain" / "1" / "saved_model.pb").exists()
    assert (tmp_path / "model.tflite").stat().st_size > 0
