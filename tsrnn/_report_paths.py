"""No folders of the user's machine in a report: paths cut to their file names."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath

__all__ = ["file_names_only", "private_summary"]

_PATH = re.compile(r"""(?:~|[A-Za-z]:)?[\w.~-]*(?:[\\/][\w.~ -]*)+""")


def _file_name(path: str) -> str:
    return PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name


def file_names_only(text: str) -> str:
    """``text`` with each path in it cut to its file name: a report carries no folder of
    the machine it was made on. Command lines are split as a shell would; other text
    (code) only loses the folders of its absolute paths."""
    if "\n" not in text:
        try:
            tokens = shlex.split(text)
        except ValueError:
            tokens = None
        if tokens is not None:
            cut = []
            for token in tokens:
                option, equals, value = (
                    token.rpartition("=") if token.startswith("-") else ("", "", token)
                )
                if _PATH.fullmatch(value) and ("/" in value or "\\" in value):
                    value = _file_name(value)
                cut.append(f"{option}{equals}{value}")
            return shlex.join(cut)
    absolute = re.compile(r"""(?<![\w.])(?:~|[A-Za-z]:)?[\\/][^\s"',)]*""")
    return absolute.sub(lambda m: _file_name(m.group(0)), text)


def private_summary(summary: Mapping | None) -> dict | None:
    """The data summary with paths (``os.PathLike`` or absolute strings) cut to file names."""
    if summary is None:
        return None
    cleaned = {}
    for key, value in summary.items():
        text = os.fspath(value) if isinstance(value, os.PathLike) else value
        if isinstance(text, str) and (
            isinstance(value, os.PathLike) or key == "file" or os.path.isabs(text)
        ):
            text = _file_name(text)
        cleaned[key] = text
    return cleaned
