"""Calendar features known for future timestamps (sin/cos encodings of the clock)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["calendar_features"]


def _cycle(values: np.ndarray, period: float) -> list[np.ndarray]:
    angle = 2 * np.pi * np.asarray(values, dtype=float) / period
    return [np.sin(angle), np.cos(angle)]


def _sub_daily(freq: str) -> bool:
    try:
        return pd.Timedelta(pd.tseries.frequencies.to_offset(freq)) < pd.Timedelta(days=1)
    except (ValueError, TypeError):  # B, MS, W-SUN... are a day or longer
        return False


def calendar_features(index: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Encode the position in the day, week and year as sin/cos pairs.

    Parameters
    ----------
    index : pd.DatetimeIndex
        Timestamps (past or future).
    freq : str
        Frequency of the data; the hour of day is encoded only below a day.

    Returns
    -------
    np.ndarray of shape (len(index), K)
        Hour of day (only for sub-daily data), day of week, and day of year.

    Examples
    --------
    >>> calendar_features(pd.date_range("2024-01-01", periods=3, freq="D"), "D").shape
    (3, 4)
    """
    columns = []
    if _sub_daily(freq):
        columns += _cycle(index.hour, 24)
    columns += _cycle(index.day_of_week, 7)
    columns += _cycle(index.day_of_year - 1, 365.25)
    return np.column_stack(columns)
