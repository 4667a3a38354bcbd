"""Many series at once: panel shapes, their validation, and fitting forecasters over them.

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

Both get ``series_ids_`` (list of ids), ``cutoffs_`` (one ``pd.Timestamp`` per series),
``cutoff_`` (the latest of them), ``freq_``, ``target_name_`` and ``panel_names_`` (the
index level names used for predictions).
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

from tsrnn.exceptions import DataError, DataWarning, InputError, NotEnoughDataError, TsrnnError

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

_PANEL_ATTRS = ("series_ids_", "cutoffs_", "estimators_", "panel_names_")


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
def _naming(key: object) -> Iterator[None]:
    """Re-raise tsrnn errors with the series named first."""
    try:
        yield
    except TsrnnError as exc:
        if len(exc.args) != 1 or not isinstance(exc.args[0], str):
            raise
        raise type(exc)(f"series {key!r}: {exc}") from exc


# ------------------------------------------------------------ validation
def _validated(model, parts: dict) -> tuple[list, list[pd.DataFrame], str, str]:
    """Validate each series as ``fit`` validates one; check they agree with each other."""
    ids, frames, freqs, target = [], [], [], None
    for key, part in parts.items():
        if isinstance(part, pd.Series):
            part = part.rename(target if target is not None else part.name)
        with _naming(key):
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
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataError(
                f"series {key!r} has columns {', '.join(map(str, frame.columns))} but series "
                f"{ids[0]!r} has {', '.join(map(str, frames[0].columns))}; every series "
                "needs the same covariate columns."
            )
        ids.append(key)
        frames.append(frame)
        freqs.append(freq)
    return ids, frames, target, freqs[0]


def _check_lengths(model, ids: list, frames: list[pd.DataFrame]) -> None:
    minimum = model._min_length()
    for key, frame in zip(ids, frames, strict=True):
        if len(frame) < minimum:
            raise NotEnoughDataError(
                f"series {key!r} has {len(frame)} observations but {type(model).__name__} "
                f"with these parameters needs at least {minimum}; drop it with "
                "tsrnn.panel.drop_short_series(y, model), or use a smaller lookback/horizon."
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
        with warnings.catch_warnings(), _naming(key):
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


def _split_X(X: object, ids: list, role: str) -> list:
    """One ``X`` per series (``None`` when no ``X``); ``X`` of a panel must be a panel."""
    if X is None:
        return [None] * len(ids)
    if not is_panel(X):
        raise InputError(
            f"X for {role} on a panel must be a panel too (same series ids as y); "
            f"got {type(X).__name__}."
        )
    parts = split_panel(X, source="X")
    missing = [k for k in ids if k not in parts]
    if missing:
        raise DataError(f"X has no rows for series {', '.join(map(repr, missing))}.")
    return [parts[k] for k in ids]


# --------------------------------------------------------------- fitting
def _clear_fitted(model) -> None:
    for key in [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]:
        delattr(model, key)


def forget_panel(model) -> None:
    """Drop a previous panel fit's attributes (before a single-series fit)."""
    for key in _PANEL_ATTRS:
        if key in vars(model):
            delattr(model, key)


def _fit_one(estimator, key: object, frame: pd.DataFrame, X: object):
    with _naming(key):
        return estimator.fit(frame) if X is None else estimator.fit(frame, X)


def fit_panel(model, y: object, X: object = None):
    """Fit ``model`` to every series of the panel ``y`` (see the module docstring)."""
    from joblib import Parallel, delayed
    from sklearn.base import clone

    X = X if X is not None else getattr(model, "_X_input", None)  # ARIMA hands X this way
    ids, frames, target, freq = _validated(model, split_panel(y))
    _check_lengths(model, ids, frames)
    Xs = _split_X(X, ids, "fit")
    if getattr(model, "_global_model", False):
        if X is not None:
            raise InputError(f"{type(model).__name__} does not take X on a panel.")
        _clear_fitted(model)
        _set_panel_attrs(model, y, ids, [f.index[-1] for f in frames], target, freq)
        model.covariate_names_ = list(frames[0].columns[1:])
        ys = [f.iloc[:, 0].to_numpy(dtype=float) for f in frames]
        covs = [f.iloc[:, 1:].to_numpy(dtype=float) if f.shape[1] > 1 else None for f in frames]
        model._fit_panel(ys, covs)
        return model
    fitted = Parallel(n_jobs=getattr(model, "n_jobs", None))(
        delayed(_fit_one)(clone(model), key, frame, x)
        for key, frame, x in zip(ids, frames, Xs, strict=True)
    )
    _clear_fitted(model)
    _set_panel_attrs(model, y, ids, [est.cutoff_ for est in fitted], target, freq)
    model.estimators_ = list(fitted)
    return model


def _set_panel_attrs(model, y, ids: list, cutoffs: list, target: str, freq: str) -> None:
    model.target_name_ = target
    model.freq_ = freq
    model.series_ids_ = list(ids)
    model.cutoffs_ = [pd.Timestamp(c) for c in cutoffs]
    model.cutoff_ = max(model.cutoffs_)
    model.panel_names_ = panel_names(y)


# ------------------------------------------------------------ prediction
def _X_kwargs(model, position: int) -> dict:
    X = getattr(model, "_X_input", None)
    if X is None:
        return {}
    return {"X": _split_X(X, model.series_ids_, "predict")[position]}


def predict_panel(model, steps: int) -> pd.Series:
    """Point forecasts of every series on a (series id, timestamp) MultiIndex."""
    ids = model.series_ids_
    if getattr(model, "_global_model", False):
        values = model._predict_panel(steps)
        parts = {
            key: pd.Series(
                np.asarray(v, dtype=float),
                index=model._future_index(steps, cutoff=c),
                name=model.target_name_,
            )
            for key, v, c in zip(ids, values, model.cutoffs_, strict=True)
        }
    else:
        parts = {}
        for i, (key, est) in enumerate(zip(ids, model.estimators_, strict=True)):
            with _naming(key):
                parts[key] = est.predict(steps, **_X_kwargs(model, i))
    return join_panel(parts, model.panel_names_)


def predict_interval_panel(model, steps: int, coverage: float) -> pd.DataFrame:
    """``lower`` and ``upper`` of every series on a (series id, timestamp) MultiIndex."""
    ids = model.series_ids_
    if getattr(model, "_global_model", False):
        bounds = model._predict_interval_panel(steps, coverage)
        parts = {
            key: pd.DataFrame(
                {"lower": lower, "upper": upper}, index=model._future_index(steps, cutoff=c)
            )
            for key, (lower, upper), c in zip(ids, bounds, model.cutoffs_, strict=True)
        }
    else:
        parts = {}
        for i, (key, est) in enumerate(zip(ids, model.estimators_, strict=True)):
            with _naming(key):
                parts[key] = est.predict_interval(steps, coverage, **_X_kwargs(model, i))
    return join_panel(parts, model.panel_names_)


# ---------------------------------------------------------------- update
def _update_parts(model, y_new: object) -> dict:
    """The series of ``y_new`` by position in ``series_ids_``; unknown ids are errors."""
    if not fitted_on_panel(model):
        raise DataError(
            "y_new is a panel but the model was fitted on a single series; "
            "update it with a single series, or fit it on a panel."
        )
    if not is_panel(y_new):
        shown = ", ".join(map(repr, model.series_ids_[:5]))
        more = ", ..." if len(model.series_ids_) > 5 else ""
        raise DataError(
            f"the model was fitted on a panel of {len(model.series_ids_)} series ({shown}{more}); "
            "y_new must be a panel too (a dict of series or a (series, timestamp) index)."
        )
    parts = split_panel(y_new, source="y_new")
    position = {key: i for i, key in enumerate(model.series_ids_)}
    unknown = [key for key in parts if key not in position]
    if unknown:
        raise DataError(
            f"y_new has series the model was not fitted on: {', '.join(map(repr, unknown))}. "
            "Fit the model on a panel that includes them."
        )
    return {position[key]: part for key, part in parts.items()}


def _global_update(model, key, part, cutoff) -> tuple | None:
    with _naming(key):
        frame, _, _ = model._validate_y(part, after=cutoff)
        if frame is None:
            return None
        expected = model._future_index(1, cutoff=cutoff)[0]
        if frame.index[0] != expected:
            raise DataError(
                f"y_new starts at {frame.index[0]} but must continue the data at {expected}."
            )
        missing = [c for c in model.covariate_names_ if c not in frame.columns]
        if missing:
            raise DataError(f"y_new lacks the covariate column(s) {', '.join(missing)}.")
    covs = frame[model.covariate_names_].to_numpy(dtype=float) if model.covariate_names_ else None
    return frame[model.target_name_].to_numpy(dtype=float), covs, frame.index[-1]


def update_panel(model, y_new: object):
    """Append newer observations to some series of a panel model; all or nothing."""
    parts = _update_parts(model, y_new)
    ids, cutoffs = model.series_ids_, list(model.cutoffs_)
    if getattr(model, "_global_model", False):
        updates, ends = {}, {}
        for pos, part in parts.items():
            result = _global_update(model, ids[pos], part, cutoffs[pos])
            if result is not None:
                updates[pos], ends[pos] = result[:2], result[2]
        if updates:
            model._update_panel(updates)
        for pos, end in ends.items():
            cutoffs[pos] = end
    else:
        X = getattr(model, "_X_input", None)
        Xs = _split_X(X, [ids[p] for p in parts], "update") if X is not None else None
        estimators = list(model.estimators_)
        for j, (pos, part) in enumerate(parts.items()):
            est = copy.deepcopy(estimators[pos])  # updated copies replace all at once
            with _naming(ids[pos]):
                est.update(part) if Xs is None else est.update(part, Xs[j])
            estimators[pos], cutoffs[pos] = est, est.cutoff_
        model.estimators_ = estimators
    model.cutoffs_ = cutoffs
    model.cutoff_ = max(cutoffs)
    return model
