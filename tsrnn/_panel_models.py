"""Fitting, forecasting and updating a forecaster over a panel (see :mod:`tsrnn.panel`).

:class:`~tsrnn.base.BaseForecaster` hands every panel call to this module: a local
forecaster is cloned and fitted once per series (joblib, the forecaster's ``n_jobs``),
a global one (``_global_model = True``) gets the whole panel through its ``_*_panel``
hooks. Updates are all or nothing: every series is checked before the model changes.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from tsrnn.exceptions import DataError, InputError
from tsrnn.panel import (
    check_lengths,
    fitted_on_panel,
    is_panel,
    join_panel,
    naming,
    panel_names,
    split_panel,
    validate_panel,
)

__all__ = ["fit_panel", "predict_panel", "predict_interval_panel", "update_panel", "forget_panel"]

_PANEL_ATTRS = ("series_ids_", "cutoffs_", "estimators_", "panel_names_")


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
    with naming(key):
        return estimator.fit(frame) if X is None else estimator.fit(frame, X)


def fit_panel(model, y: object, X: object = None):
    """Fit ``model`` to every series of the panel ``y`` (see the module docstring)."""
    from joblib import Parallel, delayed
    from sklearn.base import clone

    X = X if X is not None else getattr(model, "_X_input", None)  # ARIMA hands X this way
    ids, frames, target, freq = validate_panel(model, split_panel(y))
    check_lengths(model, ids, frames)
    Xs = _split_X(X, ids, "fit")
    if getattr(model, "_global_model", False):
        if X is not None:
            raise InputError(f"{type(model).__name__} does not take X on a panel.")
        # warm_start on the same series keeps the network and the per-series scalers
        if not (getattr(model, "warm_start", False) and model.__dict__.get("series_ids_") == ids):
            _clear_fitted(model)
        _set_panel_attrs(model, y, ids, [f.index[-1] for f in frames], target, freq)
        model.covariate_names_ = list(frames[0].columns[1:])
        ys = [f.iloc[:, 0].to_numpy(dtype=float) for f in frames]
        covs = [f.iloc[:, 1:].to_numpy(dtype=float) if f.shape[1] > 1 else None for f in frames]
        try:
            model._fit_panel(ys, covs)
        except BaseException:
            _clear_fitted(model)  # no half-fitted model
            raise
        return model
    fitted = Parallel(n_jobs=getattr(model, "n_jobs", None))(
        delayed(_fit_one)(clone(model), key, frame, x)
        for key, frame, x in zip(ids, frames, Xs, strict=True)
    )
    _clear_fitted(model)
    _set_panel_attrs(model, y, ids, [est.cutoff_ for est in fitted], target, freq)
    model.covariate_names_ = list(fitted[0].covariate_names_)
    model.estimators_ = list(fitted)
    return model


def _set_panel_attrs(model, y, ids: list, cutoffs: list, target: str, freq: str) -> None:
    model.target_name_ = target
    model.freq_ = freq
    model.series_ids_ = list(ids)
    model.cutoffs_ = [pd.Timestamp(c) for c in cutoffs]
    model.cutoff_ = max(model.cutoffs_)
    model.panel_names_ = panel_names(y)
    if hasattr(model, "_calendar_seen"):  # the one calendar validate_panel found
        model.calendar_ = model._calendar_seen


# ------------------------------------------------------------ prediction
def _X_kwargs(model) -> list[dict]:
    """Keyword arguments ``X=...`` of each series' ``predict`` (none without ``X``)."""
    X = getattr(model, "_X_input", None)
    if X is None:
        return [{} for _ in model.series_ids_]
    return [{"X": part} for part in _split_X(X, model.series_ids_, "predict")]


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
        for key, est, kw in zip(ids, model.estimators_, _X_kwargs(model), strict=True):
            with naming(key):
                parts[key] = est.predict(steps, **kw)
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
        for key, est, kw in zip(ids, model.estimators_, _X_kwargs(model), strict=True):
            with naming(key):
                parts[key] = est.predict_interval(steps, coverage, **kw)
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
    with naming(key):
        return model._continuing_rows(part, cutoff)


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
            with naming(ids[pos]):
                est.update(part) if Xs is None else est.update(part, Xs[j])
            estimators[pos], cutoffs[pos] = est, est.cutoff_
        model.estimators_ = estimators
    model.cutoffs_ = cutoffs
    model.cutoff_ = max(cutoffs)
    return model


def check_panel_state(model) -> None:
    """Refuse a loaded panel model whose stored state does not fit together.

    Raises
    ------
    ModelFileError
        If ids, cutoffs and per-series models disagree in number or kind.
    """
    from tsrnn.exceptions import ModelFileError

    ids, cutoffs = getattr(model, "series_ids_", None), getattr(model, "cutoffs_", None)
    estimators = getattr(model, "estimators_", None)
    if not isinstance(ids, list) or not ids or not isinstance(cutoffs, list):
        raise ModelFileError("the panel model has no series ids or cutoffs.")
    if len(cutoffs) != len(ids) or (estimators is not None and len(estimators) != len(ids)):
        raise ModelFileError(
            f"the panel model has {len(ids)} series ids but {len(cutoffs)} cutoffs and "
            f"{len(estimators or [])} per-series models."
        )
    if any(not isinstance(key, str | int) or isinstance(key, bool) for key in ids):
        raise ModelFileError("the panel model's series ids must be strings or integers.")
    if any(not isinstance(c, pd.Timestamp) for c in cutoffs):
        raise ModelFileError("the panel model's cutoffs must be timestamps.")
    if estimators is not None and any(type(e) is not type(model) for e in estimators):
        raise ModelFileError(
            f"the per-series models of a panel must all be {type(model).__name__}."
        )
    names = getattr(model, "panel_names_", None)
    if not isinstance(names, tuple) or len(names) != 2:
        raise ModelFileError("the panel model's index level names are missing.")
