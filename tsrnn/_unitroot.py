"""How often to difference: the unit-root and seasonality tests of automatic ARIMA.

Pure functions on numpy arrays, used by :class:`tsrnn.arima.ARIMAForecaster`:

- :func:`ndiffs`: the number of differences ``d`` from repeated KPSS tests;
- :func:`nsdiffs`: the number of seasonal differences ``D`` from the STL seasonal strength;
- :func:`differencing_orders`: both, as auto.arima chooses them (``D`` first).

References
----------
Kwiatkowski, D., Phillips, P., Schmidt, P. & Shin, Y. (1992). Testing the null hypothesis
of stationarity against the alternative of a unit root. *J. Econometrics* 54, 159-178.
Wang, X., Smith, K. & Hyndman, R.J. (2006). Characteristic-based clustering for time
series data. *Data Mining and Knowledge Discovery* 13(3), 335-364 (seasonal strength).
Hyndman, R.J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*, 3rd
ed., section 4.3 (STL features).
"""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.stattools import kpss

__all__ = [
    "differencing_orders",
    "is_constant",
    "ndiffs",
    "nsdiffs",
    "regression_residuals",
    "seasonal_strength",
]

#: Seasonal strength above which a seasonal difference is taken (forecast::nsdiffs 'seas').
SEASONAL_STRENGTH_THRESHOLD = 0.64


def is_constant(y: np.ndarray) -> bool:
    """Whether every value equals the first (up to 1e-12 of the magnitude)."""
    return bool(np.ptp(y) <= 1e-12 * max(np.max(np.abs(y)), 1e-300))


def _kpss_rejects(x: np.ndarray, alpha: float) -> bool | None:
    """KPSS level-stationarity test; True when stationarity is rejected at ``alpha``."""
    lags = int(3 * np.sqrt(len(x)) / 13)  # forecast::ndiffs' truncation lag
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-values outside the table are clipped
        try:
            _, pvalue, _, _ = kpss(x, regression="c", nlags=lags)
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
            return None
    return bool(pvalue < alpha)


def ndiffs(y: np.ndarray, alpha: float = 0.05, max_d: int = 2) -> int:
    """Number of first differences that make ``y`` level-stationary by KPSS tests.

    Differences while the KPSS test rejects stationarity at level ``alpha`` (as
    ``forecast::ndiffs(test="kpss")``), at most ``max_d`` times.

    Parameters
    ----------
    y : np.ndarray
        The series (no missing values).
    alpha : float
        Test level.
    max_d : int
        Largest ``d`` returned.

    Returns
    -------
    int
        ``d`` in ``[0, max_d]``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ndiffs(np.cumsum(rng.normal(size=300))), ndiffs(rng.normal(size=300))
    (1, 0)
    """
    d = 0
    x = np.asarray(y, dtype=float)
    while d < max_d and len(x) > 3 and not is_constant(x):
        rejects = _kpss_rejects(x, alpha)
        if not rejects:
            break
        d, x = d + 1, np.diff(x)
    return d


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """STL seasonal strength ``max(0, 1 - var(R) / var(S + R))`` (FPP3 section 4.3).

    Uses an STL decomposition with a seasonal window of 11, the first window of R's
    ``mstl``, which ``forecast::nsdiffs(test="seas")`` uses.

    Parameters
    ----------
    y : np.ndarray
        The series, at least two seasons long.
    m : int
        Season length (> 1).

    Returns
    -------
    float
        Strength in ``[0, 1]``; 0 when the decomposition is impossible.
    """
    if m < 2 or len(y) < 2 * m or is_constant(y):
        return 0.0
    fit = STL(np.asarray(y, dtype=float), period=m, seasonal=11).fit()
    total = np.var(fit.seasonal + fit.resid)
    if total <= 0:
        return 0.0
    return float(np.clip(1 - np.var(fit.resid) / total, 0.0, 1.0))


def nsdiffs(y: np.ndarray, m: int, max_D: int = 1) -> int:
    """Number of seasonal differences: one more while the seasonal strength is >= 0.64.

    Parameters
    ----------
    y : np.ndarray
        The series.
    m : int
        Season length; ``m < 2`` always gives 0.
    max_D : int
        Largest ``D`` returned.

    Returns
    -------
    int
        ``D`` in ``[0, max_D]``.
    """
    D, x = 0, np.asarray(y, dtype=float)
    while D < max_D and seasonal_strength(x, m) >= SEASONAL_STRENGTH_THRESHOLD:
        D, x = D + 1, x[m:] - x[:-m]
    return D


def regression_residuals(y: np.ndarray, exog: np.ndarray | None) -> np.ndarray:
    """``y`` less its least-squares fit on ``exog`` (auto.arima tests these for unit roots)."""
    if exog is None:
        return y
    design = np.column_stack([np.ones(len(y)), exog])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coef


def differencing_orders(
    y: np.ndarray, exog: np.ndarray | None, m: int, max_d: int, max_D: int
) -> tuple[int, int]:
    """``(d, D)`` as auto.arima chooses them.

    ``D`` by :func:`nsdiffs` (0 when ``m < 2``), then ``d`` by :func:`ndiffs` at 5% on
    the seasonally differenced series; both on the residuals of a regression of ``y`` on
    ``exog`` when there is one.

    Parameters
    ----------
    y : np.ndarray
        The series.
    exog : np.ndarray, optional
        Regressors, one row per observation.
    m : int
        Season length.
    max_d, max_D : int
        Largest ``d`` and ``D`` returned.

    Returns
    -------
    tuple of int
        ``(d, D)``.
    """
    residuals = regression_residuals(y, exog)
    D = nsdiffs(residuals, m, max_D) if m > 1 else 0
    for _ in range(D):
        residuals = residuals[m:] - residuals[:-m]
    d = ndiffs(residuals, alpha=0.05, max_d=max_d)
    return d, D
