"""Checks of :class:`tsrnn.arima.ARIMAForecaster`'s parameters and of the ``X`` it is given.

:func:`check_params` validates the constructor parameters (each message names the
parameter, the value received and what was expected) and normalises the orders into a
:class:`Spec`; :func:`align_X` lines the rows of a user's ``X`` up with the timestamps a
call needs.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tsrnn.exceptions import DataError, InputError

if TYPE_CHECKING:
    from tsrnn.arima import ARIMAForecaster

__all__ = ["Spec", "align_X", "check_params"]

_CRITERIA = ("aicc", "aic", "bic")
_TRENDS = (None, "n", "c", "t", "ct")
_METHODS = (None, "css-ml", "statespace", "innovations_mle", "hannan_rissanen", "burg")
_METHODS += ("innovations", "yule_walker")


@dataclass(frozen=True)
class Spec:
    order: tuple[int, int, int] | None  # None: automatic
    seasonal_order: tuple[int, int, int, int]


def _as_ints(value: object, name: str, length: int) -> tuple[int, ...]:
    ok = (
        isinstance(value, tuple | list)
        and len(value) == length
        and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in value
        )
    )
    if not ok:
        raise InputError(f"{name} must be {length} non-negative integers; got {value!r}.")
    return tuple(int(v) for v in value)


def _check_count(value: object, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_params(est: ARIMAForecaster) -> Spec:
    """Validate the parameters (messages name them) and normalise the orders.

    Raises
    ------
    InputError
        For a parameter outside its documented values.
    """
    is_auto = isinstance(est.order, str) and est.order == "auto"
    order = None if is_auto else _as_ints(est.order, "order ('auto' or p, d, q)", 3)
    if order is None and est.seasonal_order is not None:
        raise InputError(
            "seasonal_order is only used with an explicit order; with order='auto' set "
            "season_length instead."
        )
    seasonal = (0, 0, 0, 0)
    if est.seasonal_order is not None:
        seasonal = _as_ints(est.seasonal_order, "seasonal_order", 4)
        if seasonal[3] < 2 and any(seasonal[:3]):
            raise InputError(f"seasonal_order needs a season length m >= 2; got {seasonal!r}.")
    _check_options(est)
    return Spec(order, seasonal)


def _check_options(est: ARIMAForecaster) -> None:
    if est.trend not in _TRENDS:
        raise InputError(f"trend must be one of 'n', 'c', 't', 'ct' or None; got {est.trend!r}.")
    if est.information_criterion not in _CRITERIA:
        raise InputError(
            f"information_criterion must be one of {', '.join(_CRITERIA)}; "
            f"got {est.information_criterion!r}."
        )
    for name in ("max_p", "max_q", "max_P", "max_Q", "max_d", "max_D"):
        _check_count(getattr(est, name), name)
    if est.season_length is not None:
        _check_count(est.season_length, "season_length", minimum=1)
    if getattr(est, "max_history", None) is not None:
        _check_count(est.max_history, "max_history", minimum=8)
    if est.method not in _METHODS:
        raise InputError(
            f"method must be None or one of {', '.join(map(str, _METHODS[1:]))}; "
            f"got {est.method!r}."
        )
    if est.approximation not in (None, True, False):
        raise InputError(f"approximation must be None, True or False; got {est.approximation!r}.")
    budget = est.time_budget
    if budget is not None and (not isinstance(budget, numbers.Real) or budget <= 0):
        raise InputError(f"time_budget must be a positive number of seconds; got {budget!r}.")


def align_X(
    X: object, index: pd.DatetimeIndex, names: list[str] | None, role: str
) -> tuple[np.ndarray, list[str]]:
    """Rows of ``X`` for ``index``: by timestamp for pandas with a DatetimeIndex, else by
    position (then exactly ``len(index)`` rows)."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        if names is not None:
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise DataError(f"X for {role} lacks the column(s) {', '.join(missing)}.")
            X = X[names]
        if isinstance(X.index, pd.DatetimeIndex):
            absent = index.difference(X.index)
            if len(absent):
                raise DataError(
                    f"X for {role} has no row for {absent[0]}; it needs one row per timestamp "
                    f"from {index[0]} to {index[-1]}."
                )
            X = X.reindex(index)
        columns = [str(c) for c in X.columns]
    try:
        values = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"X for {role} must be numeric ({exc}).") from exc
    values = values[:, None] if values.ndim == 1 else values
    if not isinstance(X, pd.DataFrame):
        columns = [f"x{i}" for i in range(values.shape[1] if values.ndim == 2 else 0)]
    _check_X_values(values, index, names, role)
    return values, columns


def _check_X_values(
    values: np.ndarray, index: pd.DatetimeIndex, names: list[str] | None, role: str
) -> None:
    if values.ndim != 2 or values.shape[0] != len(index):
        raise DataError(
            f"X for {role} has {values.shape[0] if values.ndim else 0} rows but needs "
            f"{len(index)}, one per timestamp from {index[0]} to {index[-1]}."
        )
    if names is not None and values.shape[1] != len(names):
        raise DataError(
            f"X for {role} has {values.shape[1]} columns but the model was fitted with "
            f"{len(names)} ({', '.join(names)})."
        )
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise DataError(f"X for {role} has a missing or infinite value at {index[row]}.")
