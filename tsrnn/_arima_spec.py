"""What an ARIMA candidate is: its orders, its deterministic terms, its statsmodels model.

Shared by the estimation (:mod:`tsrnn._arima_likelihood`), the order search
(:mod:`tsrnn._autoarima`) and :class:`tsrnn.arima.ARIMAForecaster`:

- :class:`Candidate` and :class:`SearchSettings`: ARMA orders with a constant/drift flag,
  and the differencing orders, bounds, criterion and budget around them;
- :func:`trend_exog`, :func:`full_exog`, :func:`build_model`: the regression columns and
  the statsmodels ``ARIMA`` of a model;
- :func:`information_criterion`: AIC, AICc or BIC from a log-likelihood.

Deterministic terms are regression columns built here (:func:`trend_exog`) rather than
statsmodels' ``trend=`` argument, because ``results.extend`` restarts statsmodels' time
trend at 1 (the forecasts jump); the fit is otherwise identical to ``ARIMA(trend=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.tsa.arima.model import ARIMA

__all__ = [
    "Candidate",
    "SearchSettings",
    "build_model",
    "check_trend",
    "drop_eliminated_terms",
    "full_exog",
    "information_criterion",
    "trend_exog",
]

_TREND_POWERS = {"n": (), "c": (0,), "t": (1,), "ct": (0, 1)}


def check_trend(trend: str, d: int, D: int) -> None:
    """Raise ValueError for a trend term that differencing would eliminate."""
    if trend not in _TREND_POWERS:
        raise ValueError(f"trend must be one of 'n', 'c', 't', 'ct' or None; got {trend!r}.")
    if any(power < d + D for power in _TREND_POWERS[trend]):
        raise ValueError(
            f"trend={trend!r} cannot be used with d={d}, D={D}: differencing removes trend "
            "terms of lower order than d + D. Use trend='t' (drift) with d + D = 1, "
            "trend='n' with d + D >= 2."
        )


def drop_eliminated_terms(trend: str, d: int, D: int) -> str:
    """Keep only the trend terms of ``trend`` that survive ``d + D`` differences."""
    kept = [p for p in _TREND_POWERS[trend] if p >= d + D]
    return {(): "n", (0,): "c", (1,): "t", (0, 1): "ct"}[tuple(kept)]


def trend_exog(trend: str, start: int, n: int) -> np.ndarray | None:
    """Deterministic regressors for time points ``start, ..., start + n - 1``.

    Time runs 1, 2, ... from the first observation, as statsmodels' ``trend_offset=1``.
    """
    powers = _TREND_POWERS[trend]
    if not powers:
        return None
    t = np.arange(start, start + n, dtype=float)
    return np.column_stack([t**power for power in powers])


def full_exog(trend: str, start: int, n: int, user: np.ndarray | None) -> np.ndarray | None:
    """Trend columns followed by the user's regressors, or None when there are none."""
    parts = [a for a in (trend_exog(trend, start, n), user) if a is not None]
    return np.column_stack(parts) if parts else None


def build_model(
    y: np.ndarray,
    user_exog: np.ndarray | None,
    order: tuple[int, int, int],
    seasonal_order: tuple[int, int, int, int],
    trend: str,
) -> ARIMA:
    """The statsmodels ARIMA with trend terms as leading regression columns."""
    exog = full_exog(trend, 1, len(y), user_exog)
    return ARIMA(y, exog=exog, order=order, seasonal_order=seasonal_order, trend="n")


@dataclass(frozen=True)
class Candidate:
    """One point of the search: ARMA orders and whether a constant/drift is included."""

    p: int
    q: int
    P: int
    Q: int
    constant: bool


@dataclass(frozen=True)
class SearchSettings:
    """Everything the search needs besides the data (see ``ARIMAForecaster``)."""

    d: int
    D: int
    m: int
    max_p: int = 5
    max_q: int = 5
    max_P: int = 2
    max_Q: int = 2
    criterion: str = "aicc"
    stepwise: bool = True
    time_budget: float | None = None
    method: str | None = None
    trend: str | None = None  # a fixed trend (user's choice), or None to toggle constant
    approximation: bool = False  # rank candidates by CSS, then refit the best by ML

    def trend_for(self, candidate: Candidate) -> str:
        """The statsmodels-style trend string of a candidate."""
        if self.trend is not None:
            return drop_eliminated_terms(self.trend, self.d, self.D)
        if not candidate.constant:
            return "n"
        return "c" if self.d + self.D == 0 else "t"

    @property
    def constant_allowed(self) -> bool:
        return self.trend is None and self.d + self.D <= 1

    def orders(self, c: Candidate) -> tuple[tuple[int, int, int], tuple[int, int, int, int]]:
        seasonal = (c.P, self.D, c.Q, self.m) if self.m > 1 else (0, 0, 0, 0)
        return (c.p, self.d, c.q), seasonal


def information_criterion(llf: float, k: int, n_eff: int, criterion: str) -> float:
    """AIC, AICc or BIC from a log-likelihood with ``k`` parameters (sigma2 included)."""
    aic = -2 * llf + 2 * k
    if criterion == "aic":
        return aic
    if criterion == "bic":
        return -2 * llf + k * np.log(n_eff)
    denominator = n_eff - k - 1
    return aic + 2 * k * (k + 1) / denominator if denominator > 0 else np.inf
