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
    script.write_text(code.replace("model.fit(dataset, epochs=3)", "model.fit(dataset, epochs=3, verbose=0)"))
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(script))
    logits = namespace["logits"]
    assert set(logits) == {"news", "software"}
    assert logits["news"].shape[1] == 2 and logits["software"].shape[1] == 2
