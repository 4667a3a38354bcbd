"""Naive, seasonal-naive and drift forecasters: thin estimators over pure numpy functions.

Prediction intervals follow Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice* (3rd ed.), section 5.5: a normal distribution around the point forecast with
the h-step standard deviation derived from the one-step residual standard deviation
``sigma`` (residuals computed in sample, with ``K`` estimated parameters)::

    naive            sigma_h = sigma * sqrt(h)
    seasonal naive   sigma_h = sigma * sqrt(k + 1),  k = floor((h - 1) / m)
    drift            sigma_h = sigma * sqrt(h * (1 + h / (T - 1)))
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

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


def _residual_sigma(residuals: np.ndarray, n_params: int) -> float:
    """Residual standard deviation with ``n_params`` estimated parameters (FPP3 5.5)."""
    dof = max(len(residuals) - n_params, 1)
    return float(np.sqrt(np.sum(residuals**2) / dof))


def _normal_interval(
    point: np.ndarray, sigma_h: np.ndarray, coverage: float
) -> tuple[np.ndarray, np.ndarray]:
    z = norm.ppf(0.5 + coverage / 2)
    return point - z * sigma_h, point + z * sigma_h


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
    n_jobs : int, optional
        Parallel jobs (joblib) when fitting a panel, one model per series; None means 1
        unless a ``joblib.parallel_config`` says otherwise.

    Attributes
    ----------
    last_value_ : float
        The observation every forecast repeats.
    sigma_ : float
        One-step residual standard deviation, used for intervals.

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
        n_jobs: int | None = None,
    ):
        self.horizon = horizon
        self.target = target
        self.freq = freq
        self.n_jobs = n_jobs

    def _fit(self, y, covariates):
        self.last_value_ = float(y[-1])
        self.sigma_ = _residual_sigma(np.diff(y), n_params=0)

    def _predict(self, horizon):
        return naive_forecast(np.array([self.last_value_]), horizon)

    def _predict_interval(self, horizon, coverage):
        sigma_h = self.sigma_ * np.sqrt(np.arange(1, horizon + 1))
        return _normal_interval(self._predict(horizon), sigma_h, coverage)

    def _update(self, y, covariates):
        self.last_value_ = float(y[-1])


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
        n_jobs: int | None = None,
    ):
        self.season_length = season_length
        self.horizon = horizon
        self.target = target
        self.freq = freq
        self.n_jobs = n_jobs

    def _min_length(self):
        return (self.season_length or 1) + 1

    def _fit(self, y, covariates):
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
        self.sigma_ = _residual_sigma(y[m:] - y[:-m], n_params=0)

    def _predict(self, horizon):
        return seasonal_naive_forecast(self.last_season_, self.season_length_, horizon)

    def _predict_interval(self, horizon, coverage):
        seasons_ahead = (np.arange(1, horizon + 1) - 1) // self.season_length_
        sigma_h = self.sigma_ * np.sqrt(seasons_ahead + 1)
        return _normal_interval(self._predict(horizon), sigma_h, coverage)

    def _update(self, y, covariates):
        self.last_season_ = np.concatenate([self.last_season_, y])[-self.season_length_ :]


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
        n_jobs: int | None = None,
    ):
        self.horizon = horizon
        self.target = target
        self.freq = freq
        self.n_jobs = n_jobs

    def _fit(self, y, covariates):
        self.first_value_ = float(y[0])
        self.last_value_ = float(y[-1])
        self.slope_ = (self.last_value_ - self.first_value_) / (len(y) - 1)
        self.sigma_ = _residual_sigma(np.diff(y) - self.slope_, n_params=1)

    def _predict(self, horizon):
        return self.last_value_ + self.slope_ * np.arange(1, horizon + 1)

    def _predict_interval(self, horizon, coverage):
        steps = np.arange(1, horizon + 1)
        sigma_h = self.sigma_ * np.sqrt(steps * (1 + steps / (self.n_obs_ - 1)))
        return _normal_interval(self._predict(horizon), sigma_h, coverage)

    def _update(self, y, covariates):
        self.last_value_ = float(y[-1])
        # n_obs_ is advanced by the base class after this hook.
        self.slope_ = (self.last_value_ - self.first_value_) / (self.n_obs_ + len(y) - 1)
