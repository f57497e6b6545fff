"""The experiment scripts' steps: `xdomain-tf` commands, printed, skipped when already done."""
import json
import re
import subprocess
import sys

_PARAMETERS = re.compile(r"parameters: ([\d,]+) total, ([\d,]+) trainable")


def xdomain_tf(command):
    """Runs `xdomain-tf COMMAND...` (echoing its output); returns the output."""
    print("$ xdomain-tf " + " ".join(str(part) for part in command), flush=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "xdomain_tf", *map(str, command)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if not line.startswith(("I0000", "E0000", "W0000", "WARNING: All log")):
            print(line, end="", flush=True)
    if process.wait():
        raise SystemExit(f"xdomain-tf {command[0]} failed (exit {process.returncode})")
    return "".join(lines)


def train_once(run_dir, options):
    """`xdomain-tf train --out run_dir OPTIONS...` unless the run exists; returns
    `{"trainable_parameters", "parameters"}` (kept in `run_dir/parameters.json`)."""
    counts_path = run_dir / "parameters.json"
    if not (run_dir / "model.keras").exists() or not counts_path.exists():
        output = xdomain_tf(["train", "--out", run_dir, *options])
        total, trainable = (int(n.replace(",", "")) for n in _PARAMETERS.search(output).groups())
        counts_path.write_text(json.dumps({"parameters": total, "trainable_parameters": trainable}))
    return json.loads(counts_path.read_text())


def evaluate_once(run_dir, data, name, baseline=False):
    """`xdomain-tf evaluate` of `run_dir` on `data` into `run_dir/eval-NAME.json` unless it
    exists; returns the report."""
    report_path = run_dir / f"eval-{name}.json"
    if not report_path.exists():
        xdomain_tf(["evaluate", "--model", run_dir, "--data", *data, "--json", report_path]
                   + (["--baseline"] if baseline else []))
    return json.loads(report_path.read_text())
