"""Validation of time-indexed data: order, duplicates, frequency, gaps and missing values.

Shared by the CSV reader (which knows file names and line numbers) and by every
forecaster's ``fit`` (which sees pandas objects). Messages name the source, the column
and the row or timestamp, and say what to do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tsrnn import calendars
from tsrnn.exceptions import DataError, warn

__all__ = [
    "MISSING_POLICIES",
    "Prepared",
    "prepare",
    "prepare_frame",
    "infer_frequency",
    "season_length_for",
    "fill_missing",
]

MISSING_POLICIES = ("error", "interpolate", "ffill")

# Largest share of inserted gap rows we accept before calling the spacing irregular.
_MAX_GAP_SHARE = 0.5


def _where(source: str, lines: Sequence[int] | None, position: int) -> str:
    """Describe a row as ``line N`` of a file when line numbers are known."""
    if lines is not None:
        return f"{source}, line {lines[position]}"
    return f"{source}, row {position}"


def _sort_and_check_unique(
    frame: pd.DataFrame, source: str, lines: np.ndarray | None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    if not frame.index.is_monotonic_increasing:
        order = np.argsort(frame.index.to_numpy(), kind="stable")
        frame = frame.iloc[order]
        lines = None if lines is None else lines[order]
        warn(f"{source}: timestamps were not in ascending order; sorted them.")
    duplicated = frame.index.duplicated(keep=False)
    if duplicated.any():
        first = int(np.flatnonzero(duplicated)[0])
        stamp = frame.index[first]
        where = (
            [str(lines[i]) for i in np.flatnonzero(frame.index == stamp)]
            if lines is not None
            else []
        )
        at = f" (lines {', '.join(where)})" if where else ""
        raise DataError(
            f"{source}: duplicate timestamp {stamp}{at}. Each timestamp must appear once; "
            "remove or aggregate the duplicates first."
        )
    return frame, lines


def _check_finite(frame: pd.DataFrame, source: str, lines: np.ndarray | None) -> None:
    infinite = np.isinf(frame.to_numpy(dtype=float))
    if infinite.any():
        j = int(np.flatnonzero(infinite.any(axis=0))[0])
        first = int(np.flatnonzero(infinite[:, j])[0])
        value = frame.iloc[first, j]
        raise DataError(
            f"{_where(source, lines, first)}, column '{frame.columns[j]}': value {value} is "
            "infinite. Replace it with a finite number or leave the cell empty."
        )


def infer_frequency(index: pd.DatetimeIndex, source: str = "y") -> str:
    """Infer a regular frequency for possibly gappy timestamps.

    Parameters
    ----------
    index : pd.DatetimeIndex
        Sorted, unique timestamps.
    source : str
        Name used in error messages (a file name or ``"y"``).

    Returns
    -------
    str
        A pandas frequency alias such as ``"D"``, ``"B"``, ``"h"`` or ``"MS"``.
        Daily data with no weekend dates is business-daily (``"B"``).

    Raises
    ------
    DataError
        If fewer than 3 timestamps are given or no frequency fits them.

    Examples
    --------
    >>> idx = pd.to_datetime(["2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"])
    >>> infer_frequency(pd.DatetimeIndex(idx))
    'B'
    """
    if len(index) < 3:
        raise DataError(
            f"{source}: need at least 3 timestamps to infer the frequency, got {len(index)}; "
            "pass freq= (or --freq)."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces offsets instead of strings
        inferred = pd.infer_freq(index)
    if inferred is not None:
        inferred = pd.tseries.frequencies.to_offset(inferred).freqstr
    if inferred is not None and not (inferred == "D" and _weekdays_only(index)):
        return inferred
    step = pd.Series(index).diff().median()
    if step == pd.Timedelta(days=1) and _is_midnight(index):
        return "B" if _weekdays_only(index) else "D"
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        if index.is_month_start.all():
            return "MS"
        if index.is_month_end.all():
            return "ME"
    return pd.tseries.frequencies.to_offset(step).freqstr


def _weekdays_only(index: pd.DatetimeIndex) -> bool:
    # A long daily series without any Saturday or Sunday is a trading-day calendar.
    return len(index) >= 10 and bool((index.day_of_week < 5).all()) and _is_midnight(index)


def _is_midnight(index: pd.DatetimeIndex) -> bool:
    return bool((index == index.normalize()).all())


def _check_freq(freq: str, source: str) -> None:
    """A frequency must parse and step forward (``0D`` would divide by zero)."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError, KeyError) as exc:
        raise DataError(
            f"{source}: frequency {freq!r} is not valid ({exc}); use a pandas alias such as "
            "D, B, h, W or MS."
        ) from exc
    if getattr(offset, "n", 1) <= 0:
        raise DataError(
            f"{source}: frequency {freq!r} does not step forward in time; use a positive "
            "multiple such as 1D or 2h."
        )


def _regularize(
    frame: pd.DataFrame, freq: str, source: str, calendar: str | None = None
) -> pd.DataFrame:
    if calendar is not None:  # the exchange's sessions: holidays are not on the grid
        calendars.off_calendar(frame.index, calendar, source)
        grid = calendars.session_grid(frame.index[0], frame.index[-1], calendar)
        return frame.reindex(pd.DatetimeIndex(grid, name=frame.index.name))
    try:
        grid = pd.date_range(frame.index[0], frame.index[-1], freq=freq)
    except ValueError as exc:
        raise DataError(f"{source}: frequency {freq!r} is not valid ({exc}).") from exc
    if len(grid) == len(frame) and (grid == frame.index).all():
        return frame.asfreq(freq)
    off_grid = ~frame.index.isin(grid)
    if off_grid.any():
        stamp = frame.index[int(np.flatnonzero(off_grid)[0])]
        raise DataError(
            f"{source}: timestamp {stamp} does not fit the frequency {freq!r}; the spacing is "
            "irregular. Pass the right freq= (or --freq), or resample the data first."
        )
    if (len(grid) - len(frame)) > _MAX_GAP_SHARE * len(grid):
        raise DataError(
            f"{source}: at frequency {freq!r} more than half of the {len(grid)} timestamps "
            "are missing; pass the right freq= (or --freq), or resample the data first."
        )
    return frame.reindex(grid).asfreq(freq)


def season_length_for(freq: str | None) -> int:
    """Return the usual season length of a frequency (5 for ``B``, 7 for ``D``, 24 for ``h``).

    Parameters
    ----------
    freq : str or None
        A pandas frequency alias.

    Returns
    -------
    int
        Observations per season; 1 when the frequency has no natural season.
    """
    if not freq:
        return 1
    base = pd.tseries.frequencies.to_offset(freq).rule_code.split("-")[0]
    table = {"B": 5, "C": 5, "D": 7, "h": 24, "H": 24, "W": 52, "MS": 12, "ME": 12, "M": 12}
    table.update({"QS": 4, "QE": 4, "Q": 4, "min": 60, "T": 60})
    return table.get(base, 1)


def fill_missing(
    frame: pd.DataFrame,
    policy: str,
    source: str = "y",
    target: str | None = None,
    gaps: int = 0,
) -> pd.DataFrame:
    """Apply a missing-value policy to every column of a regular frame.

    Parameters
    ----------
    frame : pd.DataFrame
        Data on a regular ``DatetimeIndex`` (gaps already inserted as NaN rows).
    policy : {'error', 'interpolate', 'ffill'}
        ``'error'`` raises on the first missing value; ``'interpolate'`` fills by
        time-weighted linear interpolation (constant beyond the ends); ``'ffill'`` carries
        the last value forward (and the first value backward at the start).
    source : str
        Name used in messages.
    target : str, optional
        The column being forecast; a missing covariate column that is entirely empty is
        dropped with a warning, an empty target is an error.
    gaps : int
        How many rows were inserted for timestamps absent from the data (for the message).

    Returns
    -------
    pd.DataFrame
        The filled frame. A :class:`DataWarning` says how many values were filled.

    Raises
    ------
    DataError
        For ``policy='error'`` with missing values, an unknown policy, or an empty target.
    """
    if policy not in MISSING_POLICIES:
        raise DataError(f"missing={policy!r} is not one of {', '.join(MISSING_POLICIES)}.")
    empty = frame.isna().all(axis=0)
    for column in list(frame.columns[empty.to_numpy()]):
        if column == target:
            raise DataError(f"{source}, column '{column}': every value is missing.")
        warn(f"{source}: column '{column}' is empty; ignored.")
        frame = frame.drop(columns=column)
    counts = frame.isna().sum()
    n_missing = int(counts.sum())
    if n_missing == 0:
        return frame
    if policy == "error":
        column = next(c for c in frame.columns if frame[c].isna().any())
        stamp = frame.index[int(np.flatnonzero(frame[column].isna().to_numpy())[0])]
        raise DataError(
            f"{source}, column '{column}': {n_missing} missing value(s), the first at {stamp}. "
            "Fill them, or choose --missing interpolate|ffill."
        )
    if policy == "interpolate":
        filled = frame.interpolate(method="time", limit_direction="both")
    else:
        filled = frame.ffill().bfill()
    in_target = int(counts.get(target, 0))
    where = f"in '{target}'" if target is not None else ""
    others = f" and {n_missing - in_target} in other columns" if n_missing > in_target else ""
    how = "interpolation" if policy == "interpolate" else "forward fill"
    absent = f" ({gaps} timestamps were absent from the data)" if gaps else ""
    warn(f"{source}: filled {in_target} missing value(s) {where}{others} by {how}{absent}.")
    return filled


@dataclass
class Prepared:
    """Data validated by :func:`prepare`.

    Attributes
    ----------
    frame : pd.DataFrame
        Regular, sorted, filled data with the target first.
    freq : str
        The frequency (``"B"`` for exchange sessions).
    calendar : str or None
        The exchange calendar the data is on (``"XNYS"``...), or None.
    filled : pd.DataFrame
        Booleans like ``frame``: True where tsrnn filled a value (a blank cell, or a
        session or timestamp absent from the data).
    """

    frame: pd.DataFrame
    freq: str
    calendar: str | None
    filled: pd.DataFrame


def prepare(
    frame: pd.DataFrame,
    *,
    target: str,
    freq: str | None = None,
    calendar: str = calendars.INFER,
    missing: str = "interpolate",
    source: str = "y",
    lines: np.ndarray | None = None,
) -> Prepared:
    """Validate a numeric frame with a ``DatetimeIndex`` and put it on a regular grid.

    Sorts unsorted timestamps (with a warning), rejects duplicates and infinities,
    infers or applies the frequency and the exchange calendar (gaps become missing
    values; a closure of the exchange is not a gap), then applies the missing-value
    policy.

    Parameters
    ----------
    frame : pd.DataFrame
        Numeric columns, one of them ``target``, indexed by timestamps.
    target : str
        Column being forecast; moved to the first position.
    freq : str, optional
        Frequency alias; inferred when omitted or when the index has none.
    calendar : str, default 'infer'
        ``'infer'`` (business-daily data whose absent weekdays are an exchange's
        closures goes on that exchange's sessions, see
        :func:`tsrnn.calendars.infer_calendar`), ``'none'`` or an exchange name.
    missing : {'error', 'interpolate', 'ffill'}
        Missing-value policy, see :func:`fill_missing`.
    source : str
        File or argument name used in messages.
    lines : np.ndarray, optional
        File line number of each row, for messages.

    Returns
    -------
    Prepared
        The frame, frequency, calendar and mask of filled values.
    """
    frame, lines = _sort_and_check_unique(frame, source, lines)
    _check_finite(frame, source, lines)
    if freq is None and not isinstance(frame.index.freq, pd.offsets.CustomBusinessDay):
        freq = frame.index.freqstr if frame.index.freq is not None else None
    freq = freq or infer_frequency(frame.index, source)
    _check_freq(freq, source)  # once, before the calendar and the grid both read it
    calendar = calendars.resolve_calendar(calendar, frame.index, freq)
    freq = "B" if calendar is not None else freq
    n_rows = len(frame)
    frame = _regularize(frame, freq, source, calendar)
    filled = frame.isna()
    frame = fill_missing(frame, missing, source, target=target, gaps=len(frame) - n_rows)
    columns = [target] + [c for c in frame.columns if c != target]
    return Prepared(frame[columns], freq, calendar, filled[columns])


def prepare_frame(
    frame: pd.DataFrame,
    *,
    target: str,
    freq: str | None = None,
    missing: str = "interpolate",
    source: str = "y",
    lines: np.ndarray | None = None,
    calendar: str = calendars.INFER,
) -> tuple[pd.DataFrame, str]:
    """Validate a frame as :func:`prepare` does; return only the frame and frequency.

    Returns
    -------
    frame : pd.DataFrame
        Regular, sorted, filled data with ``target`` first.
    freq : str
        The frequency used.
    """
    prepared = prepare(
        frame,
        target=target,
        freq=freq,
        calendar=calendar,
        missing=missing,
        source=source,
        lines=lines,
    )
    return prepared.frame, prepared.freq
