"""Naive, seasonal-naive and drift forecasters: thin estimators over pure numpy functions.

Prediction intervals are adaptive conformal by default (``interval="conformal"``,
:mod:`tsrnn.conformal`): each baseline forecasts from each of the last
:data:`~tsrnn.conformal.WINDOW` origins of the training data, and the
volatility-normalised absolute errors of those out-of-sample forecasts set the widths.
``interval="model"`` keeps the formula intervals of Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice* (3rd ed.), section 5.5: a normal distribution
around the point forecast with the h-step standard deviation derived from the one-step
residual standard deviation ``sigma`` (residuals computed in sample, with ``K``
estimated parameters), which assume the volatility never changes::

    naive            sigma_h = sigma * sqrt(h)
    seasonal naive   sigma_h = sigma * sqrt(k + 1),  k = floor((h - 1) / m)
    drift            sigma_h = sigma * sqrt(h * (1 + h / (T - 1)))
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from tsrnn import conformal
from tsrnn.base import BaseForecaster
from tsrnn.exceptions import NotEnoughDataError
from tsrnn.validation import season_length_for

__all__ = [
    "NaiveForecaster",
    "SeasonalNaiveForecaster",
    "DriftForecaster",
    "naive_forecast",
    "seasonal_naive_forecast",
    "drift_forecast",
]


def naive_forecast(y: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observation ``horizon`` times."""
    return np.full(horizon, y[-1], dtype=float)


def seasonal_naive_forecast(y: np.ndarray, season_length: int, horizon: int) -> np.ndarray:
    """Repeat the last full season: step ``h`` takes the value ``m - (h-1) % m`` back."""
    last_season = y[-season_length:]
    return last_season[np.arange(horizon) % season_length].astype(float)


def drift_forecast(y: np.ndarray, horizon: int) -> np.ndarray:
    """Extend the line through the first and last observations."""
    slope = (y[-1] - y[0]) / (len(y) - 1)
    return y[-1] + slope * np.arange(1, horizon + 1)


def _diff(y: np.ndarray, lag: int = 1) -> np.ndarray:
    """``y[lag:] - y[:-lag]``, kept finite near the largest float (clipped there)."""
    big = np.finfo(float).max
    with np.errstate(over="ignore"):
        return np.clip(y[lag:] - y[:-lag], -big, big)


def _slope(first: float, last: float, n_obs: int) -> float:
    """``(last - first) / (n_obs - 1)``, without overflow when both are near the largest float."""
    with np.errstate(over="ignore"):
        slope = (last - first) / (n_obs - 1)
    return slope if np.isfinite(slope) else last / (n_obs - 1) - first / (n_obs - 1)


def _residual_sigma(residuals: np.ndarray, n_params: int) -> float:
    """Residual standard deviation with ``n_params`` estimated parameters (FPP3 5.5)."""
    dof = max(len(residuals) - n_params, 1)
    peak = float(np.max(np.abs(residuals), initial=0.0))
    if not 0 < peak < np.inf:
        return 0.0 if peak == 0 else peak
    # Scaled by the largest residual: squares of values above ~1e154 would overflow.
    return peak * float(np.sqrt(np.sum((residuals / peak) ** 2) / dof))


def _finite(values: np.ndarray) -> np.ndarray:
    """Values clipped to the largest finite floats (a forecast beyond them stays finite)."""
    big = np.finfo(float).max
    return np.clip(values, -big, big)


def _normal_interval(
    point: np.ndarray, sigma: float, factor: np.ndarray, coverage: float
) -> tuple[np.ndarray, np.ndarray]:
    """``point -+ z sigma factor``; ``sigma * factor`` is the h-step standard deviation."""
    z = norm.ppf(0.5 + coverage / 2)
    with np.errstate(over="ignore", invalid="ignore"):
        sigma_h = _finite(sigma * factor)
        lower, upper = point - z * sigma_h, point + z * sigma_h
    # Near the largest float the band can exceed it: keep it at the largest finite values.
    big = np.finfo(float).max
    return np.clip(lower, -big, big), np.clip(upper, -big, big)


def _recent_origins(n_obs: int, horizon: int, first: int) -> np.ndarray:
    """Positions of the origins calibrated at fit: the last WINDOW complete ones and after."""
    return np.arange(max(first, n_obs - conformal.WINDOW - horizon), n_obs)


def _interval(model, point: np.ndarray, sigma: float, factor: np.ndarray, coverage: float):
    """Adaptive conformal interval when chosen and calibrated, else the FPP3 formula."""
    if model.interval == "conformal" and conformal.state_is_usable(model.conformal_):
        half = conformal.adaptive_half_widths(model.conformal_, coverage, len(point))
        with np.errstate(over="ignore", invalid="ignore"):
            lower, upper = point - half, point + half
        # Near the largest float the band can exceed it: keep it at the largest finite values.
        big = np.finfo(float).max
        return np.clip(lower, -big, big), np.clip(upper, -big, big)
    return _normal_interval(point, sigma, factor, coverage)


class NaiveForecaster(BaseForecaster):
    """Random-walk forecast: every future value equals the last observation.

    Parameters
    ----------
    horizon : int, default=7
        Steps ``predict()`` forecasts when called without a horizon.
    target : str, optional
        Column of a DataFrame ``y`` to forecast.
    freq : str, optional
        Pandas frequency alias; inferred from the data when omitted.
    interval : {'conformal', 'model'}, default='conformal'
        'conformal': adaptive conformal intervals from the out-of-sample errors at the
        last origins, scaled by the recent volatility and adjusted online in ``update``
        (:mod:`tsrnn.conformal`); the formula intervals while fewer than 30 origins are
        available. 'model': the formula intervals (FPP3 5.5, constant volatility).
    n_jobs : int, optional
        Parallel jobs (joblib) when fitting a panel, one model per series; None means 1
        unless a ``joblib.parallel_config`` says otherwise.

    Attributes
    ----------
    last_value_ : float
        The observation every forecast repeats.
    sigma_ : float
        One-step residual standard deviation, used for intervals.
    conformal_ : dict
        Calibration state of the conformal intervals (:func:`tsrnn.conformal.fit_state`).

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([1.0, 3.0, 2.0, 4.0], index=pd.date_range("2024-01-01", periods=4))
    >>> NaiveForecaster(horizon=2).fit(y).predict().tolist()
    [4.0, 4.0]
    """

    def __init__(
        self,
        horizon: int = 7,
        target: str | None = None,
        freq: str | None = None,
        interval: str = "conformal",
        n_jobs: int | None = None,
    ):
        self.horizon = horizon
        self.target = target
        self.freq = freq
        self.interval = interval
        self.n_jobs = n_jobs

    def _fit(self, y, covariates):
        conformal.check_interval(self.interval)
        self.last_value_ = float(y[-1])
        self.sigma_ = _residual_sigma(_diff(y), n_params=0)
        origins = _recent_origins(len(y), self.horizon, 0)
        forecasts = np.repeat(y[origins, None], self.horizon, axis=1)
        self.conformal_ = conformal.fit_state(y, origins, forecasts, self.horizon)

    def _predict(self, horizon):
        return naive_forecast(np.array([self.last_value_]), horizon)

    def _predict_interval(self, horizon, coverage):
        factor = np.sqrt(np.arange(1, horizon + 1))
        return _interval(self, self._predict(horizon), self.sigma_, factor, coverage)

    def _update(self, y, covariates):
        self.last_value_ = float(y[-1])
        forecasts = np.repeat(y[:, None], self.horizon, axis=1)
        self.conformal_ = conformal.update_state(self.conformal_, y, forecasts)


class SeasonalNaiveForecaster(BaseForecaster):
    """Forecast each step with the value one season earlier.

    Parameters
    ----------
    season_length : int, optional
        Observations per season; by default from the frequency (5 for business days,
        7 for daily, 24 for hourly, 12 for monthly data).
    horizon : int, default=7
        Steps ``predict()`` forecasts when called without a horizon.
    target : str, optional
        Column of a DataFrame ``y`` to forecast.
    freq : str, optional
        Pandas frequency alias; inferred from the data when omitted.
    interval : {'conformal', 'model'}, default='conformal'
        'conformal': adaptive conformal intervals from the out-of-sample errors at the
        last origins, scaled by the recent volatility and adjusted online in ``update``
        (:mod:`tsrnn.conformal`); the formula intervals while fewer than 30 origins are
        available. 'model': the formula intervals (FPP3 5.5, constant volatility).
    n_jobs : int, optional
        Parallel jobs (joblib) when fitting a panel, one model per series; None means 1
        unless a ``joblib.parallel_config`` says otherwise.

    Attributes
    ----------
    season_length_ : int
        The season length used.
    last_season_ : np.ndarray
        The last ``season_length_`` observations.
    sigma_ : float
        One-step (seasonal difference) residual standard deviation.
    conformal_ : dict
        Calibration state of the conformal intervals (:func:`tsrnn.conformal.fit_state`).

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=pd.date_range("2024-01-01", periods=6))
    >>> SeasonalNaiveForecaster(season_length=3, horizon=4).fit(y).predict().tolist()
    [4.0, 5.0, 6.0, 4.0]
    """

    def __init__(
        self,
        season_length: int | None = None,
        horizon: int = 7,
        target: str | None = None,
        freq: str | None = None,
        interval: str = "conformal",
        n_jobs: int | None = None,
    ):
        self.season_length = season_length
        self.horizon = horizon
        self.target = target
        self.freq = freq
        self.interval = interval
        self.n_jobs = n_jobs

    def _min_length(self):
        return (self.season_length or 1) + 1

    def _fit(self, y, covariates):
        conformal.check_interval(self.interval)
        if self.season_length is None:
            self.season_length_ = season_length_for(self.freq_)
        else:
            self.season_length_ = self._check_horizon(self.season_length, "season_length")
        m = self.season_length_
        if len(y) <= m:
            raise NotEnoughDataError(
                f"y has {len(y)} observations but season_length={m} needs at least {m + 1}; "
                "use a longer series or a shorter season_length."
            )
        self.last_season_ = y[-m:].astype(float)
        self.sigma_ = _residual_sigma(_diff(y, m), n_params=0)
        origins = _recent_origins(len(y), self.horizon, m - 1)
        self.conformal_ = conformal.fit_state(y, origins, self._from(y, origins), self.horizon)

    def _from(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Forecasts from each origin (a position in ``values`` with a season before it)."""
        m, steps = self.season_length_, np.arange(1, self.horizon + 1)
        back = m * ((steps - 1) // m + 1)
        return values[origins[:, None] + steps - back]

    def _predict(self, horizon):
        return seasonal_naive_forecast(self.last_season_, self.season_length_, horizon)

    def _predict_interval(self, horizon, coverage):
        seasons_ahead = (np.arange(1, horizon + 1) - 1) // self.season_length_
        factor = np.sqrt(seasons_ahead + 1)
        return _interval(self, self._predict(horizon), self.sigma_, factor, coverage)

    def _update(self, y, covariates):
        values = np.concatenate([self.last_season_, y])
        origins = np.arange(len(self.last_season_), len(values))
        self.conformal_ = conformal.update_state(self.conformal_, y, self._from(values, origins))
        self.last_season_ = values[-self.season_length_ :]


class DriftForecaster(BaseForecaster):
    """Random walk with drift: the line from the first to the last observation, extended.

    Parameters
    ----------
    horizon : int, default=7
        Steps ``predict()`` forecasts when called without a horizon.
    target : str, optional
        Column of a DataFrame ``y`` to forecast.
    freq : str, optional
        Pandas frequency alias; inferred from the data when omitted.
    interval : {'conformal', 'model'}, default='conformal'
        'conformal': adaptive conformal intervals from the out-of-sample errors at the
        last origins, scaled by the recent volatility and adjusted online in ``update``
        (:mod:`tsrnn.conformal`); the formula intervals while fewer than 30 origins are
        available. 'model': the formula intervals (FPP3 5.5, constant volatility).
    n_jobs : int, optional
        Parallel jobs (joblib) when fitting a panel, one model per series; None means 1
        unless a ``joblib.parallel_config`` says otherwise.

    Attributes
    ----------
    first_value_, last_value_ : float
        The observations the drift line passes through.
    slope_ : float
        Average change per step, ``(last - first) / (T - 1)``.
    sigma_ : float
        One-step residual standard deviation (one estimated parameter).
    conformal_ : dict
        Calibration state of the conformal intervals (:func:`tsrnn.conformal.fit_state`).

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([1.0, 2.0, 4.0, 7.0], index=pd.date_range("2024-01-01", periods=4))
    >>> DriftForecaster(horizon=2).fit(y).predict().tolist()
    [9.0, 11.0]
    """

    def __init__(
        self,
        horizon: int = 7,
        target: str | None = None,
        freq: str | None = None,
        interval: str = "conformal",
        n_jobs: int | None = None,
    ):
        self.horizon = horizon
        self.target = target
        self.freq = freq
        self.interval = interval
        self.n_jobs = n_jobs

    def _fit(self, y, covariates):
        conformal.check_interval(self.interval)
        self.first_value_ = float(y[0])
        self.last_value_ = float(y[-1])
        self.slope_ = _slope(self.first_value_, self.last_value_, len(y))
        with np.errstate(over="ignore"):
            self.sigma_ = _residual_sigma(_finite(_diff(y) - self.slope_), n_params=1)
        origins = _recent_origins(len(y), self.horizon, 1)
        forecasts = self._from(y[origins], origins)
        self.conformal_ = conformal.fit_state(y, origins, forecasts, self.horizon)

    def _from(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Forecasts from origins at positions ``origins`` whose last values are ``values``."""
        with np.errstate(over="ignore", invalid="ignore"):
            slopes = (values - self.first_value_) / origins
            return values[:, None] + slopes[:, None] * np.arange(1, self.horizon + 1)

    def _predict(self, horizon):
        with np.errstate(over="ignore"):
            return _finite(self.last_value_ + self.slope_ * np.arange(1, horizon + 1))

    def _predict_interval(self, horizon, coverage):
        steps = np.arange(1, horizon + 1)
        factor = np.sqrt(steps * (1 + steps / (self.n_obs_ - 1)))
        return _interval(self, self._predict(horizon), self.sigma_, factor, coverage)

    def _update(self, y, covariates):
        origins = self.n_obs_ + np.arange(len(y))
        self.conformal_ = conformal.update_state(self.conformal_, y, self._from(y, origins))
        self.last_value_ = float(y[-1])
        # n_obs_ is advanced by the base class after this hook.
        self.slope_ = _slope(self.first_value_, self.last_value_, self.n_obs_ + len(y))
