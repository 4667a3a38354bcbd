"""Parsing a CSV column of timestamps without guessing cell by cell.

pandas' ``format="mixed"`` parses every cell on its own, so in ``01/02/2024`` and
``13/02/2024`` the first is read month-first and the second day-first: a day-first
file is silently scrambled. Here the order of day and month is decided once, from the
whole column: a first number above 12 somewhere means day-first, a second number above
12 means month-first, and a column where every cell could be either is refused with a
message that names ``date_format=`` (``--date-format``). Time-only cells (``09:30``),
which pandas dates today, are refused too.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from tsrnn.exceptions import DataError, quote

__all__ = ["parse_dates", "looks_like_dates", "is_date_text", "MAX_DATE_LENGTH"]

#: Longer cells are never dates (and parsing them can take minutes).
MAX_DATE_LENGTH = 64
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T]\S.*)?$")
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?(\s*[AaPp]\.?[Mm]\.?)?$")


def _zone_error(name: str, column: str) -> DataError:
    return DataError(
        f"{name}, column '{column}': timestamps mix time zones or UTC offsets. "
        "Convert them to one time zone (or to UTC) first."
    )


def _quietly(text: pd.Series, **kwargs) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(text, errors="coerce", **kwargs)


def _day_first(text: pd.Series, column: str, name: str) -> bool | None:
    """True / False when every cell is ``a/b/yyyy`` and the column fixes the order; None
    when the cells are not all of that shape. Raises when the order cannot be told."""
    parts = text.str.extract(_NUMERIC_DATE)
    if parts[0].isna().any():
        return None
    first, second = parts[0].astype(int), parts[2].astype(int)
    sep = parts[1].iloc[0]
    year = "%Y" if len(parts[3].iloc[0]) == 4 else "%y"
    day_first, month_first = f"%d{sep}%m{sep}{year}", f"%m{sep}%d{sep}{year}"
    if (first > 12).any() and (second > 12).any():
        raise DataError(
            f"{name}, column '{column}': some dates have a day above 12 first "
            f"({quote(text[first > 12].iloc[0])}) and others second "
            f"({quote(text[second > 12].iloc[0])}); the column mixes day-first and month-first "
            "dates. Write them all one way, or give the format with date_format= "
            f"(--date-format), e.g. '{day_first}'."
        )
    if (first > 12).any():
        return True
    if (second > 12).any():
        return False
    raise DataError(
        f"{name}, column '{column}': dates like {quote(text.iloc[0])} can be read day-first "
        f"or month-first, and no day above 12 says which. Give the format with date_format= "
        f"(--date-format): '{day_first}' for day-first, '{month_first}' for month-first."
    )


def _check_cells(text: pd.Series, column: str, name: str, lines: np.ndarray) -> pd.Series:
    """Refuse time-only cells; blank out cells too long to be dates (reported as not dates)."""
    time_only = text.str.match(_TIME_ONLY).to_numpy()
    if time_only.any():
        first = int(np.flatnonzero(time_only)[0])
        raise DataError(
            f"{name}, line {lines[first]}, column '{column}': {quote(text.iloc[first])} is a "
            "time without a date (it would be dated today). Add the date to every timestamp, "
            "e.g. '2024-01-01 09:30'."
        )
    return text.where(text.str.len() <= MAX_DATE_LENGTH, "")


def parse_dates(
    raw: pd.Series, column: str, name: str, lines: np.ndarray, date_format: str | None = None
) -> pd.DatetimeIndex:
    """Parse a column of timestamp strings, with errors that name the file, line and column.

    ISO 8601 first; then, for ``d/m/yyyy``-like cells, one order of day and month for the
    whole column (refusing ambiguous columns); then pandas' mixed parser for the rest
    (``Jan 5, 2024``, ``5 Jan 2024``). ``date_format`` (a ``strftime`` format) skips the
    guessing.
    """
    text = raw.str.strip()
    original = text
    try:
        if date_format is not None:
            parsed = _quietly(text, format=date_format)
        else:
            parsed = _quietly(text, format="ISO8601")
            if parsed.isna().any():
                text = _check_cells(text, column, name, lines)
                order = _day_first(text, column, name)
                if order is None:
                    parsed = _quietly(text, format="mixed")
                else:
                    parsed = _quietly(text, format="mixed", dayfirst=order)
    except DataError:
        raise
    except (ValueError, TypeError) as exc:
        message = str(exc).lower()
        if "zone" in message or "offset" in message or "utc" in message:
            raise _zone_error(name, column) from exc
        if date_format is not None:
            raise DataError(
                f"{name}, column '{column}': date format {date_format!r} cannot be used "
                f"({exc}); see Python's strftime codes, e.g. '%d/%m/%Y'."
            ) from exc
        raise DataError(f"{name}, column '{column}': dates cannot be parsed ({exc}).") from exc
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        raise _zone_error(name, column)
    bad = parsed.isna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        how = f"in the format {date_format!r}" if date_format else "a date"
        raise DataError(
            f"{name}, line {lines[first]}, column '{column}': {quote(original.iloc[first])} is "
            f"not {how}. Fix the value, choose the date column with date_col= (--date-col), "
            "or give the format with date_format= (--date-format)."
        )
    return pd.DatetimeIndex(parsed, name=column)


def looks_like_dates(sample: pd.Series) -> bool:
    """Whether at least 90% of the (non-number, non-missing) sample cells parse as dates."""
    text = sample.str.strip()
    if text.empty or (text.str.len() > MAX_DATE_LENGTH).any():
        return False
    try:
        parsed = _quietly(text, format="mixed", utc=True)
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(parsed.notna().mean() >= 0.9)


def is_date_text(text: str) -> bool:
    """Whether a single string (a header cell) reads as a timestamp: ISO or ``d/m/yyyy``."""
    text = text.strip()
    if len(text) > MAX_DATE_LENGTH or not any(ch.isdigit() for ch in text):
        return False
    if _NUMERIC_DATE.match(text):
        return True
    return bool(_quietly(pd.Series([text]), format="ISO8601").notna().all())
