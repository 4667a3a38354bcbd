"""The small exception hierarchy of tsrnn.

Every error tsrnn raises on purpose derives from :class:`TsrnnError`, so callers can
catch all of them at once, and from the builtin it refines (``ValueError``,
``TypeError``, ``KeyError``), so ordinary ``except ValueError`` code keeps working.
The CLI maps :class:`InputError` subclasses to exit status 2 and the rest to 1.
"""

from __future__ import annotations

__all__ = [
    "TsrnnError",
    "InputError",
    "DataError",
    "NotEnoughDataError",
    "DatasetNotFoundError",
    "ModelFileError",
    "KernelBuildError",
    "DataWarning",
    "quote",
    "warn",
]


class TsrnnError(Exception):
    """Base class of every error raised by tsrnn."""


class InputError(TsrnnError, ValueError):
    """Bad input from the user: a parameter, a file or a column (CLI exit status 2)."""


class DataError(InputError):
    """A data file or series cannot be used as given (names the file, column or row)."""


class NotEnoughDataError(DataError):
    """The series is shorter than the model needs; the message gives the minimum length."""


class DatasetNotFoundError(InputError, KeyError):
    """No bundled dataset has the requested name."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ModelFileError(InputError):
    """A model file is missing, corrupted, not a tsrnn model, or from an incompatible version."""


class KernelBuildError(TsrnnError, RuntimeError):
    """The optional compiled kernels could not be built (no compiler, or it failed)."""


class DataWarning(UserWarning):
    """Something in the data was repaired (sorted, filled); the message says what and how much."""


def quote(value: object, limit: int = 60) -> str:
    """``repr`` of a value for an error message, cut to about ``limit`` characters.

    A 100,000-character cell must not become a 100 KB error line.

    Examples
    --------
    >>> quote("abc")
    "'abc'"
    >>> quote("x" * 100, limit=10)
    "'xxxxxxxxxx'... (100 characters)"
    """
    text = str(value)
    if len(text) <= limit:
        return repr(value) if isinstance(value, str) else text
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def warn(message: str, category: type[Warning] = DataWarning) -> None:
    """Issue a warning attributed to the first caller outside tsrnn (``stacklevel`` that
    points at the user's line, however deep inside tsrnn the warning arises)."""
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 2, sys._getframe(1)  # 2: the caller of warn()
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)
