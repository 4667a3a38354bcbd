"""Many series at once: panel shapes and their validation.

A *panel* is a ``pd.Series`` / ``pd.DataFrame`` on a two-level ``MultiIndex``
(series id, timestamp), or a ``dict`` mapping series ids to single series. Series may
start and end on different dates (a ragged panel). :class:`~tsrnn.base.BaseForecaster`
hands a panel to the functions here; each series is validated exactly as a single
series is, and every error names the series.

Two kinds of forecaster:

- a *local* one (baselines, ARIMA) is cloned and fitted once per series, in parallel
  with the forecaster's ``n_jobs`` through joblib (so ``joblib.parallel_config(
  backend="dask")`` runs the fits on a Dask cluster); the fitted clones are kept in
  ``estimators_``, in the order of ``series_ids_``;
- a *global* one (class attribute ``_global_model = True``) receives the whole panel
  through the hooks ``_fit_panel``, ``_predict_panel``, ``_predict_interval_panel`` and
  ``_update_panel`` (see :class:`~tsrnn.base.BaseForecaster`).

The fitting itself is in :mod:`tsrnn._panel_models`. Both get ``series_ids_`` (list of ids), ``cutoffs_`` (one ``pd.Timestamp`` per series),
``cutoff_`` (the latest of them), ``freq_``, ``target_name_`` and ``panel_names_`` (the
index level names used for predictions).
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

from tsrnn.exceptions import DataError, DataWarning, NotEnoughDataError, TsrnnError

__all__ = [
    "PANEL_NAMES",
    "is_panel",
    "split_panel",
    "join_panel",
    "panel_names",
    "drop_short_series",
    "fitted_on_panel",
]

#: Index level names of predictions when the input did not name its levels.
PANEL_NAMES = ("series", "date")


# ---------------------------------------------------------------- shapes
def is_panel(y: object) -> bool:
    """Whether ``y`` is a panel: a dict of series, or pandas on a ``MultiIndex``.

    Examples
    --------
    >>> is_panel({"a": pd.Series([1.0], index=pd.date_range("2024-01-01", periods=1))})
    True
    """
    if isinstance(y, dict):
        return True
    return isinstance(y, pd.Series | pd.DataFrame) and isinstance(y.index, pd.MultiIndex)


def _check_id(key: object, where: str) -> object:
    """A series id as a plain Python ``str`` or ``int``; missing or blank ids are errors."""
    if key is None or (isinstance(key, float) and np.isnan(key)) or key is pd.NaT:
        raise DataError(f"{where}: a series id is missing. Give every row a series id.")
    if isinstance(key, np.generic):
        key = key.item()
    if isinstance(key, str):
        if not key.strip():
            raise DataError(f"{where}: a series id is blank ({key!r}). Give every row a series id.")
        return key
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        return int(key)
    raise DataError(
        f"{where}: series id {key!r} is a {type(key).__name__}; ids must be strings or integers."
    )


def split_panel(y: object, source: str = "y") -> dict[object, pd.Series | pd.DataFrame]:
    """Split a panel into ``{series id: single series or frame}``, in order of appearance.

    Parameters
    ----------
    y : dict, or pd.Series / pd.DataFrame on a two-level MultiIndex
        The panel; the MultiIndex levels are (series id, timestamp).
    source : str
        Name used in error messages.

    Returns
    -------
    dict
        One entry per series, each on its own ``DatetimeIndex`` (a single series).

    Raises
    ------
    DataError
        If the panel is empty, an id is missing or blank, the index does not have two
        levels, or a (series, timestamp) pair appears twice.
    """
    if isinstance(y, dict):
        if not y:
            raise DataError(f"{source}: the panel has no series.")
        parts = {}
        for key, part in y.items():
            key = _check_id(key, source)
            if not isinstance(part, pd.Series | pd.DataFrame) or is_panel(part):
                raise DataError(
                    f"{source}, series {key!r}: expected a single pandas Series or DataFrame "
                    f"on a DatetimeIndex; got {type(part).__name__}."
                )
            parts[key] = part
        return parts
    if not is_panel(y):
        raise DataError(f"{source}: not a panel (a dict of series or a (series, timestamp) index).")
    index = y.index
    if index.nlevels != 2:
        raise DataError(
            f"{source}: a panel's index has two levels (series id, timestamp); got {index.nlevels}."
        )
    if len(y) == 0:
        raise DataError(f"{source}: the panel has no series.")
    missing = np.flatnonzero(index.codes[0] == -1)
    if missing.size:
        raise DataError(
            f"{source}, row {int(missing[0])}: the series id is missing. "
            "Give every row a series id."
        )
    for key in index.levels[0]:
        _check_id(key, source)
    duplicated = index.duplicated()
    if duplicated.any():
        key, stamp = index[int(np.flatnonzero(duplicated)[0])]
        raise DataError(
            f"{source}, series {key!r}: duplicate timestamp {stamp} (the pair appears more "
            "than once). Each (series, timestamp) pair must appear once; remove or aggregate "
            "the duplicates first."
        )
    return {
        _check_id(key, source): part.droplevel(0)
        for key, part in y.groupby(level=0, sort=False, observed=True)
    }


def panel_names(y: object) -> tuple[str, str]:
    """Index level names for a panel's predictions: the input's, else ``PANEL_NAMES``."""
    if isinstance(y, dict):
        return PANEL_NAMES
    names = list(y.index.names)
    return tuple(str(n) if n is not None else d for n, d in zip(names, PANEL_NAMES, strict=False))


def join_panel(
    parts: dict[object, pd.Series | pd.DataFrame], names: tuple[str, str] = PANEL_NAMES
) -> pd.Series | pd.DataFrame:
    """Stack ``{series id: series}`` on a (series id, timestamp) ``MultiIndex``.

    Examples
    --------
    >>> a = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2))
    >>> join_panel({"a": a, "b": a}).index.names
    FrozenList(['series', 'date'])
    """
    if not parts:
        raise DataError("cannot join an empty panel.")
    joined = pd.concat(list(parts.values()), keys=list(parts.keys()))
    joined.index = joined.index.set_names(list(names))
    return joined


def fitted_on_panel(model: object) -> bool:
    """Whether ``model`` was last fitted on a panel."""
    return getattr(model, "series_ids_", None) is not None


@contextlib.contextmanager
def naming(key: object) -> Iterator[None]:
    """Re-raise tsrnn errors with the series named first."""
    try:
        yield
    except TsrnnError as exc:
        if len(exc.args) != 1 or not isinstance(exc.args[0], str):
            raise
        raise type(exc)(f"series {key!r}: {exc}") from exc


# ------------------------------------------------------------ validation
def validate_panel(model, parts: dict) -> tuple[list, list[pd.DataFrame], str, str]:
    """Validate each series as ``fit`` validates one; check they agree with each other.

    Returns ``(ids, frames, target, freq)``: each frame regular, target first.
    """
    ids, frames, freqs, target, calendars = [], [], [], None, []
    # a series of one or two rows cannot show its frequency: it takes the panel's
    few = {k for k, part in parts.items() if len(part) < 3 and model.freq is None}
    for key in [k for k in parts if k not in few] + [k for k in parts if k in few]:
        part = parts[key]
        if isinstance(part, pd.Series):
            part = part.rename(target if target is not None else part.name)
        if key in few and freqs:
            part = _on_frequency(part, freqs[0])
        with naming(key):
            frame, name, freq = model._validate_y(part)
        if target is None:
            target = name
        elif name != target:
            raise DataError(
                f"series {key!r} forecasts column {name!r} but series {ids[0]!r} forecasts "
                f"{target!r}; name the column with target=."
            )
        if freqs and freq != freqs[0]:
            raise DataError(
                f"series {key!r} has frequency {freq!r} but series {ids[0]!r} has "
                f"{freqs[0]!r}; a panel has one frequency: resample the series, or pass freq=."
            )
        calendar = getattr(model, "_calendar_seen", None)  # an exchange, when one is in use
        if calendars and calendar != calendars[0]:
            raise DataError(
                f"series {key!r} is on calendar {calendar!r} but series {ids[0]!r} on "
                f"{calendars[0]!r}; a panel has one calendar: pass calendar= to choose it."
            )
        calendars.append(calendar)
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataError(
                f"series {key!r} has columns {', '.join(map(str, frame.columns))} but series "
                f"{ids[0]!r} has {', '.join(map(str, frames[0].columns))}; every series "
                "needs the same covariate columns."
            )
        ids.append(key)
        frames.append(frame)
        freqs.append(freq)
    order = [ids.index(key) for key in parts]
    return [ids[i] for i in order], [frames[i] for i in order], target, freqs[0]


def _on_frequency(part: pd.Series | pd.DataFrame, freq: str) -> pd.Series | pd.DataFrame:
    """``part`` on the regular grid of ``freq`` when it can be put there, else unchanged
    (its validation then says what is wrong)."""
    index = part.index
    if isinstance(index, pd.DatetimeIndex) and index.is_monotonic_increasing and index.is_unique:
        try:
            return part.asfreq(freq)
        except (ValueError, TypeError):
            return part
    return part


def check_lengths(model, ids: list, frames: list[pd.DataFrame]) -> None:
    minimum = model._min_length()
    for key, frame in zip(ids, frames, strict=True):
        if len(frame) < minimum:
            raise NotEnoughDataError(
                f"series {key!r} has {len(frame)} observations but {type(model).__name__} "
                f"with these parameters needs at least {minimum}; leave such series out with "
                "tsrnn.panel.drop_short_series(y, model) (--drop-short in the shell), or use "
                "a smaller lookback/horizon."
            )


def drop_short_series(y: object, model: object) -> object:
    """Leave out the series of a panel that are too short for ``model``, with a warning.

    Parameters
    ----------
    y : panel
        A dict of series or pandas on a (series id, timestamp) MultiIndex.
    model : BaseForecaster
        The forecaster the panel is for; its minimum length per series applies.

    Returns
    -------
    panel
        ``y`` without the short series, in the same shape.

    Raises
    ------
    NotEnoughDataError
        If every series is too short.
    """
    parts = split_panel(y)
    minimum = model._min_length()
    short = []
    for key, part in parts.items():
        if len(part) < minimum:  # gaps filled later only lengthen a series
            short.append(key)
            continue
        with warnings.catch_warnings(), naming(key):
            warnings.simplefilter("ignore")
            frame, _, _ = model._validate_y(part)
        if len(frame) < minimum:
            short.append(key)
    if len(short) == len(parts):
        raise NotEnoughDataError(
            f"every series is shorter than the {minimum} observations {type(model).__name__} needs."
        )
    if short:
        warnings.warn(
            f"dropped {len(short)} series shorter than {minimum} observations: "
            f"{', '.join(map(repr, short))}.",
            DataWarning,
            stacklevel=2,
        )
    if isinstance(y, dict):
        return {k: v for k, v in y.items() if _check_id(k, "y") not in short}
    keys = [_check_id(k, "y") for k in y.index.get_level_values(0)]
    return y[[k not in short for k in keys]]
