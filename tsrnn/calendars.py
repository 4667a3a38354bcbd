"""Exchange trading calendars: which weekdays a market is open.

Stock files list trading sessions only: weekends and exchange holidays are absent. On
plain business days (``"B"``) a holiday would be a gap, filled with an invented value,
and a forecast could fall on a day the market is closed. With an exchange calendar the
time axis is the exchange's sessions instead: holidays and unscheduled closures (such as
2012-10-29/30, Hurricane Sandy, at the NYSE) are simply not on it.

The rules come from :mod:`exchange_calendars` (imported only when a calendar is used),
which ships every exchange's holiday rules and ad-hoc closures as code: nothing is
downloaded at run time. A calendar is named by its ISO MIC code (``"XNYS"``, ``"XLON"``,
...); :func:`session_offset` turns the name into a pandas ``CustomBusinessDay``, which
every date computation uses. Model files store the name only (an offset is not a string).

The frequency stays ``"B"`` for session data (season length 5); the calendar is a
separate name, ``None`` for none.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from tsrnn.exceptions import DataError, InputError

__all__ = [
    "INFER",
    "NONE",
    "CANDIDATES",
    "session_offset",
    "check_calendar",
    "infer_calendar",
    "resolve_calendar",
    "date_offset",
    "future_dates",
    "past_dates",
    "available_calendars",
]

#: ``calendar=`` value that infers the calendar from the data (the default).
INFER = "infer"
#: ``calendar=`` value for no exchange calendar (plain business days).
NONE = "none"
#: Exchanges tried, in this order, when a calendar is inferred; the first that explains
#: the data best wins (so US data reads as NYSE, whose holidays Nasdaq shares). Each
#: costs about 0.3 s the first time it is built in a process; any exchange of
#: :func:`available_calendars` can be given explicitly.
CANDIDATES = ("XNYS", "XTSE", "XLON", "XETR", "XPAR", "XSWX", "XTKS", "XHKG", "XASX")
#: Frequencies a calendar applies to: daily data on weekdays.
_DAILY = ("B", "C")


def available_calendars() -> list[str]:
    """Names of every exchange calendar that can be given as ``calendar=``.

    Returns
    -------
    list of str
        ISO MIC codes (``"XNYS"``, ``"XLON"``, ...), sorted.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import exchange_calendars as xcals

    return sorted(xcals.get_calendar_names(include_aliases=False))


@functools.cache
def session_offset(name: str) -> pd.offsets.CustomBusinessDay:
    """The sessions of an exchange as a pandas offset.

    Parameters
    ----------
    name : str
        Exchange calendar name, e.g. ``"XNYS"`` (aliases such as ``"NYSE"`` work too).

    Returns
    -------
    pandas.offsets.CustomBusinessDay
        Weekmask, regular holidays (1970-2200) and ad-hoc closures of the exchange.

    Raises
    ------
    InputError
        If no calendar has this name; the message lists some that do.

    Examples
    --------
    >>> day = session_offset("XNYS")
    >>> pd.Timestamp("2016-05-27") + day  # Memorial Day 2016-05-30 is skipped
    Timestamp('2016-05-31 00:00:00')
    """
    with warnings.catch_warnings():
        # exchange_calendars warns about pandas deprecations while it builds a calendar.
        warnings.simplefilter("ignore")
        import exchange_calendars as xcals

        try:
            calendar = xcals.get_calendar(name)
        except xcals.errors.InvalidCalendarName as exc:
            raise InputError(
                f"calendar={name!r} is not an exchange calendar; use one such as "
                f"{', '.join(CANDIDATES[:6])} (tsrnn.calendars.available_calendars() lists "
                f"them), '{INFER}' or '{NONE}'."
            ) from exc
        try:
            return calendar.day
        except NotImplementedError as exc:  # calendars whose weekmask changed over time
            raise InputError(
                f"calendar={name!r} changed its trading weekdays over time, which tsrnn does "
                f"not support; use '{NONE}' or another exchange."
            ) from exc


def check_calendar(calendar: object) -> str:
    """Validate a ``calendar=`` argument and return it in canonical spelling.

    Parameters
    ----------
    calendar : str
        ``"infer"``, ``"none"`` or an exchange name (case-insensitive).

    Returns
    -------
    str
        ``"infer"``, ``"none"`` or the upper-case exchange name.

    Raises
    ------
    InputError
        If ``calendar`` is not a string or names no exchange calendar.
    """
    if not isinstance(calendar, str) or not calendar.strip():
        raise InputError(
            f"calendar must be '{INFER}', '{NONE}' or an exchange name such as 'XNYS'; "
            f"got {calendar!r}."
        )
    text = calendar.strip()
    if text.lower() in (INFER, NONE):
        return text.lower()
    session_offset(text.upper())  # raises for an unknown name
    return text.upper()


def _closures(offset: pd.offsets.CustomBusinessDay, start, end) -> pd.DatetimeIndex:
    """Weekdays from ``start`` to ``end`` on which the exchange is closed."""
    weekdays = pd.bdate_range(start, end)
    sessions = pd.date_range(start, end, freq=offset)
    return weekdays.difference(sessions)


def infer_calendar(index: pd.DatetimeIndex) -> str | None:
    """The exchange whose closures explain the weekdays absent from ``index``.

    An exchange matches when the data has no row on any of its closures in the data's
    span, at least one closure falls in that span, and its closures are at least half
    of the absent weekdays (the rest are gaps: sessions without data). The exchanges of
    :data:`CANDIDATES` are tried in order; the first whose closures are 90% of the absent
    weekdays wins, else the one explaining most of them.

    Parameters
    ----------
    index : pd.DatetimeIndex
        Sorted, unique, midnight timestamps on weekdays.

    Returns
    -------
    str or None
        The exchange name, or None when no exchange explains the data.
    """
    if len(index) < 3:
        return None
    present = index.normalize()
    absent = pd.bdate_range(present[0], present[-1]).difference(present)
    if absent.empty:
        return None
    best, best_count = None, 0
    for name in CANDIDATES:
        closures = _closures(session_offset(name), present[0], present[-1])
        explained = len(closures)
        if explained == 0 or present.isin(closures).any():
            continue
        if explained * 2 < len(absent) or explained <= best_count:
            continue
        best, best_count = name, explained
        if explained * 10 >= len(absent) * 9:
            break  # explains 90% of the absent weekdays: take it (CANDIDATES is by priority)
    return best


def resolve_calendar(calendar: str, index: pd.DatetimeIndex, freq: str | None) -> str | None:
    """The calendar to use for data on ``index`` at frequency ``freq``.

    Parameters
    ----------
    calendar : str
        ``"infer"``, ``"none"`` or an exchange name.
    index : pd.DatetimeIndex
        The data's timestamps (sorted, unique).
    freq : str or None
        The data's frequency; calendars apply to business-daily data (``"B"``).

    Returns
    -------
    str or None
        An exchange name, or None for no calendar.

    Raises
    ------
    InputError
        If an exchange is given for data that is not daily on weekdays.
    """
    calendar = check_calendar(calendar)
    if calendar == NONE:
        return None
    daily = freq is not None and _base(freq) in _DAILY
    if calendar == INFER:
        return infer_calendar(index) if daily and _midnight(index) else None
    if freq is not None and not daily and _base(freq) != "D":
        raise InputError(
            f"calendar={calendar!r} applies to daily data, but the data's frequency is "
            f"{freq!r}; use calendar='{NONE}'."
        )
    return calendar


def _base(freq: str) -> str:
    return pd.tseries.frequencies.to_offset(freq).rule_code.split("-")[0]


def _midnight(index: pd.DatetimeIndex) -> bool:
    return bool((index == index.normalize()).all())


def date_offset(freq: str, calendar: str | None) -> pd.DateOffset | str:
    """The step of the time axis: the exchange's sessions, else ``freq`` itself."""
    return session_offset(calendar) if calendar else freq


def future_dates(
    cutoff: pd.Timestamp, steps: int, freq: str, calendar: str | None
) -> pd.DatetimeIndex:
    """The ``steps`` timestamps after ``cutoff`` (exchange sessions with a calendar).

    Examples
    --------
    >>> future_dates(pd.Timestamp("2016-05-27"), 2, "B", "XNYS").strftime("%Y-%m-%d").tolist()
    ['2016-05-31', '2016-06-01']
    """
    offset = date_offset(freq, calendar)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = pd.date_range(cutoff, periods=steps + 1, freq=offset)
    if index[0] != cutoff:  # a cutoff off the calendar: its next session is the first step
        index = index[:-1]
    else:
        index = index[1:]
    return pd.DatetimeIndex(index, name="date")


def past_dates(
    end: pd.Timestamp, periods: int, freq: str, calendar: str | None
) -> pd.DatetimeIndex:
    """The ``periods`` timestamps ending at ``end``, inclusive (sessions with a calendar)."""
    offset = date_offset(freq, calendar)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = pd.date_range(end=end, periods=periods, freq=offset)
    return pd.DatetimeIndex(index, name="date")


def session_grid(start: pd.Timestamp, end: pd.Timestamp, calendar: str) -> pd.DatetimeIndex:
    """Every session of ``calendar`` from ``start`` to ``end``, inclusive."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.date_range(start, end, freq=session_offset(calendar))


def off_calendar(index: pd.DatetimeIndex, calendar: str, source: str) -> None:
    """Raise if a timestamp of ``index`` is not a session of ``calendar``."""
    grid = session_grid(index[0].normalize(), index[-1].normalize(), calendar)
    bad = ~index.isin(grid)
    if bad.any():
        stamp = index[int(np.flatnonzero(bad)[0])]
        raise DataError(
            f"{source}: {stamp} is not a trading session of {calendar} (a weekend, holiday "
            f"or closure, or not at midnight). Remove that row, or use calendar='{NONE}' "
            "(--calendar none)."
        )
