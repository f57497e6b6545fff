"""The xdomain_tf version (written into every run directory and exported model)."""

__version__ = "0.1.0"
