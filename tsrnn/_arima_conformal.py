"""Out-of-sample ARIMA forecasts from many origins at once, for the conformal intervals.

A fitted statsmodels state-space model keeps the one-step predicted state
``a[t+1 | t]`` of every time point. The ``j``-step forecast from origin ``t`` is then
``d[t+j] + Z T^(j-1) a[t+1 | t]`` (observation intercept ``d``: the trend and ``X``
terms; design ``Z``, transition ``T``): one matrix product per step for all origins,
instead of one ``extend`` per origin. The parameters are those fitted on the whole
training data (a pseudo-out-of-sample forecast: the states only use data up to each
origin). Used by :class:`tsrnn.arima.ARIMAForecaster` at ``fit`` and ``update``.
"""

from __future__ import annotations

import numpy as np

from tsrnn._arima_spec import trend_exog

__all__ = ["origin_forecasts", "trend_intercepts", "fit_calibration", "update_calibration"]


def trend_intercepts(results, trend: str, start: int, n: int) -> np.ndarray | None:
    """Observation intercepts of the trend terms at times ``start .. start + n - 1``.

    ``None`` when the model has user regressors, whose future values are unknown.
    """
    k_exog = results.model.k_exog or 0
    columns = trend_exog(trend, start, n)
    n_trend = 0 if columns is None else columns.shape[1]
    if k_exog != n_trend:
        return None
    if columns is None:
        return np.zeros(n)
    beta = np.asarray(results.params, dtype=float)[:n_trend]
    return columns @ beta


def origin_forecasts(
    results, origins: np.ndarray, horizon: int, future_intercepts: np.ndarray | None
) -> np.ndarray:
    """``horizon``-step forecasts from each origin (positions in the results' data).

    Parameters
    ----------
    results : statsmodels MLEResults
        Fitted or extended results; their data positions count from 0.
    origins : np.ndarray of int
        Positions of the last observation each forecast uses.
    horizon : int
        Steps per forecast.
    future_intercepts : np.ndarray of shape (horizon,), optional
        Observation intercepts after the last data position (the trend terms there);
        ``None`` when unknown, which leaves forecasts past the data as NaN.

    Returns
    -------
    np.ndarray of shape (len(origins), horizon)
        Forecasts on the results' scale.
    """
    fr = results.filter_results
    design, transition = fr.design, fr.transition
    if design.shape[-1] != 1 or transition.shape[-1] != 1 or np.any(fr.state_intercept):
        raise ValueError("origin forecasts need a time-invariant state-space model")
    Z, T = design[:, :, 0], transition[:, :, 0]
    n = fr.nobs
    d = np.broadcast_to(np.asarray(fr.obs_intercept)[0], (n,)).astype(float)
    after = np.full(horizon, np.nan) if future_intercepts is None else future_intercepts
    d = np.concatenate([d, after])
    origins = np.asarray(origins, dtype=int)
    states = np.asarray(fr.predicted_state)[:, origins + 1]
    out = np.empty((len(origins), horizon))
    for j in range(horizon):
        out[:, j] = (Z @ states)[0] + d[origins + j + 1]
        states = T @ states
    return out


def fit_calibration(results, ys: np.ndarray, trend: str, horizon: int) -> dict | None:
    """The conformal state after a fit on ``ys`` (None for a model without states)."""
    from tsrnn import conformal

    n = len(ys)
    origins = np.arange(max(10, n - conformal.WINDOW - horizon), n)
    try:
        future = trend_intercepts(results, trend, n + 1, horizon)
        forecasts = origin_forecasts(results, origins, horizon, future)
    except (AttributeError, ValueError):
        return None
    known = ~np.isnan(forecasts).any(axis=1)
    return conformal.fit_state(ys, origins[known], forecasts[known], horizon)


def update_calibration(
    state: dict | None, extended, ys_new: np.ndarray, trend: str, n_before: int
) -> dict | None:
    """Advance the conformal state over ``ys_new``; ``extended`` holds only the new data."""
    from tsrnn import conformal

    if state is None:
        return None
    horizon = len(state["recent"])
    k = len(ys_new)
    future = trend_intercepts(extended, trend, n_before + k + 1, horizon)
    origins = np.arange(k)
    try:
        forecasts = origin_forecasts(extended, origins, horizon, future)
    except (AttributeError, ValueError):
        return None
    if np.isnan(forecasts).any():  # user regressors: the future terms are unknown
        forecasts = np.empty((0, horizon))
    return conformal.update_state(state, ys_new, forecasts)
