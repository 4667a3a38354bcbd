"""Defaults that follow the data's frequency: horizon, fold placement and baseline.

The command line uses these when an option is not given; the estimators keep their own
fixed defaults (``horizon=7``), so library code is never surprised by the data.

- :func:`default_horizon`: a day of hours, a week of days, a week of trading days, a
  year of months or quarters (7 for anything else);
- :func:`season_cycle`: observations in one full season cycle (a year; a day for data
  finer than hourly);
- :func:`default_step`: steps between backtest origins such that the folds cover at least
  one season cycle where the data allow, instead of the last ``folds x horizon`` steps;
- :func:`default_baseline`: seasonal naive for a seasonal frequency, naive otherwise.
"""

from __future__ import annotations

import math

import pandas as pd

from tsrnn.validation import season_length_for

__all__ = ["default_horizon", "season_cycle", "default_step", "default_baseline", "fold_span"]

_HORIZON = {"h": 24, "H": 24, "D": 7, "B": 5, "C": 5, "W": 4, "MS": 12, "ME": 12, "M": 12}
_HORIZON.update({"QS": 4, "QE": 4, "Q": 4, "min": 60, "T": 60, "s": 60, "S": 60})
_YEAR = {"D": 365, "B": 252, "C": 252, "W": 52, "MS": 12, "ME": 12, "M": 12}
_YEAR.update({"QS": 4, "QE": 4, "Q": 4, "h": 8760, "H": 8760})
_DAY = {"min": 1440, "T": 1440, "s": 86400, "S": 86400}
#: The first fold keeps at least this share of the series for training.
MIN_TRAIN_SHARE = 0.5


def _offset(freq: str | None) -> tuple[str, int] | None:
    if not freq:
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    return offset.rule_code.split("-")[0], int(offset.n)


def default_horizon(freq: str | None) -> int:
    """Steps forecast when no horizon is given: one natural period of the frequency.

    Parameters
    ----------
    freq : str or None
        A pandas frequency alias.

    Returns
    -------
    int
        24 for hourly data (a day), 7 for daily (a week), 5 for business days (a trading
        week), 12 for monthly, 4 for quarterly and weekly data, 60 for minutes; for
        multiples (``"2h"``) the same span in steps (12); 7 otherwise.

    Examples
    --------
    >>> default_horizon("h"), default_horizon("D"), default_horizon("B"), default_horizon("2h")
    (24, 7, 5, 12)
    """
    found = _offset(freq)
    if found is None or found[0] not in _HORIZON:
        return 7
    base, n = found
    return max(1, _HORIZON[base] // max(n, 1))


def season_cycle(freq: str | None) -> int | None:
    """Observations in one full season cycle: a year (a day for sub-hourly data).

    None when the frequency has no known cycle.
    """
    found = _offset(freq)
    if found is None:
        return None
    base, n = found
    per = _YEAR.get(base) or _DAY.get(base)
    return None if per is None else max(1, per // max(n, 1))


def default_step(
    freq: str | None, n_obs: int, horizon: int, n_folds: int, min_train: int = 1
) -> int:
    """Steps between backtest origins so that the folds span one season cycle.

    The step is the smallest that makes ``n_folds`` test windows span a full cycle
    (``(n_folds - 1) * step + horizon >= season_cycle(freq)``), but never below
    ``horizon`` (test windows do not overlap) and never so large that the first fold
    keeps less than ``max(min_train, MIN_TRAIN_SHARE * n_obs)`` observations for
    training; ``horizon`` when the frequency has no cycle or there is one fold.

    Examples
    --------
    >>> default_step("D", n_obs=33000, horizon=7, n_folds=10)   # folds over the last year
    40
    >>> default_step("D", n_obs=300, horizon=7, n_folds=10)     # shorter: as much as fits
    15
    """
    cycle = season_cycle(freq)
    if cycle is None or n_folds < 2:
        return horizon
    wanted = math.ceil(max(cycle - horizon, 0) / (n_folds - 1))
    keep = max(min_train, math.ceil(MIN_TRAIN_SHARE * n_obs))
    room = (n_obs - keep - horizon) // (n_folds - 1)
    return max(horizon, min(wanted, room))


def fold_span(step: int, horizon: int, n_folds: int) -> int:
    """Observations from the first test step of the first fold to the last of the last."""
    return (n_folds - 1) * step + horizon


def default_baseline(names: list[str], freq: str | None) -> str | None:
    """The model others are tested against: seasonal naive for seasonal data, else naive.

    On hourly weather "everything beats naive" says nothing; the seasonal-naive
    forecast (yesterday's same hour) is the baseline to beat. None when neither is in
    ``names`` (the result's own default then applies).
    """
    if "seasonal-naive" in names and season_length_for(freq) > 1:
        return "seasonal-naive"
    if "naive" in names:
        return "naive"
    return None
