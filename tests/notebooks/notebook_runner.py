"""Runs a notebook of notebooks/ top to bottom in a fresh kernel on this interpreter.

The tests run every notebook in SMALL mode with `execute`; the full-mode runs that the
README reports were made from the command line:

    python tests/notebooks/notebook_runner.py multi_domain_finetuning --work /tmp/nb --full

The kernel's Python is the running interpreter (a kernelspec written to a temporary
folder, so no installed kernel is needed or used) and its working directory is `work`:
the committed notebooks are never modified. Runs in one `work` share `runs/`, so the
export notebook reuses the classifier the fine-tuning notebook saved there.
"""
import argparse
import json
import pathlib
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"
KERNEL_NAME = "xdomain-tf-test-python"


def _kernel_manager(folder, env):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = pathlib.Path(folder) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "xdomain_tf test",
        "language": "python",
        "env": env,
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(pathlib.Path(folder) / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute(name, work, small=True, timeout=300, executed=None, env=None):
    """Executes notebooks/<name>.ipynb with `work` as working directory.

    Args:
        name: the notebook's file stem.
        work: the working directory (created if missing); outputs go to `work/runs/`.
        small: run in SMALL mode (`XDOMAIN_TF_NOTEBOOK_SMALL=1`).
        timeout: seconds allowed per cell.
        executed: where to write the executed notebook; None writes nothing.
        env: extra environment variables for the kernel.

    Returns:
        The executed notebook (an `nbformat.NotebookNode`), also when a cell failed:
        then written first and the error re-raised.
    """
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    kernel_env = {
        "XDOMAIN_TF_NOTEBOOK_SMALL": "1" if small else "0",
        "XDOMAIN_TF_REPO_ROOT": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "KERAS_BACKEND": "tensorflow",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        **(env or {}),
    }
    with tempfile.TemporaryDirectory() as folder:
        kernel = _kernel_manager(folder, kernel_env)
        client = nbclient.NotebookClient(
            notebook, km=kernel, timeout=timeout, resources={"metadata": {"path": str(work)}}
        )
        try:
            client.execute()
        finally:
            # nbclient leaves a kernel it did not create running.
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)
            if executed is not None:
                nbformat.write(notebook, executed)
    return notebook


def last_json_line(notebook):
    """The JSON line the notebook's last code cell printed last."""
    cell = [c for c in notebook.cells if c.cell_type == "code"][-1]
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    return json.loads(text.strip().splitlines()[-1])


def cell_seconds(notebook):
    """`[(first line of the cell, seconds)]` from nbclient's execution timestamps."""
    from datetime import datetime

    timings = []
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type == "code" and start and end:
            seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                       - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            timings.append((cell.source.splitlines()[0] if cell.source else "", seconds))
    return timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="notebook file stem, e.g. multi_domain_finetuning")
    parser.add_argument("--work", required=True, help="working directory of the kernel")
    parser.add_argument("--full", action="store_true", help="full mode (default: SMALL)")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    args = parser.parse_args(argv)
    executed = pathlib.Path(args.work) / f"{args.name}.executed.ipynb"
    started = time.monotonic()
    notebook = execute(args.name, args.work, small=not args.full, timeout=args.timeout, executed=executed)
    print(f"{args.name}: {time.monotonic() - started:.0f} s in all; executed copy {executed}")
    for first_line, seconds in cell_seconds(notebook):
        print(f"{seconds:>8.1f} s  {first_line[:80]}")
    print(json.dumps(last_json_line(notebook)))


if __name__ == "__main__":
    main()
