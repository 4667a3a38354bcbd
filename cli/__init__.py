"""The ``tsrnn`` command line (installed as ``tsrnn.cli``)."""

from tsrnn.cli.main import main

__all__ = ["main"]
