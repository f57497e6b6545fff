"""The `xdomain-tf` command line: one module per sub-command; `xdomain_tf.cli.main.main` dispatches
(the console-script entry point). Nothing here is Python API."""

__all__ = []
