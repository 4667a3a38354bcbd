"""Fitting :class:`tsrnn.arima.ARIMAForecaster`: an explicit order, the search, a constant.

Each ``fit_*`` function takes the rescaled series (``y / scale_``, see :func:`scale_for`)
and the user's regressors, and returns a :class:`Fitted` for the estimator to store: the
statsmodels results, the orders and trend used, the AICc and the search trace.
:func:`search_settings` turns the estimator's parameters into the search's settings
(season length, ``d`` and ``D``, approximation).

Parameters estimated outside statsmodels' own ``fit`` are filtered through the model
without a covariance matrix (:func:`filter_quietly`). statsmodels' warnings are caught
here and summarised by ``converged``; the estimator turns that into one warning. The
estimator runs statsmodels inside :func:`one_blas_thread`.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA, ARIMAResults
from threadpoolctl import ThreadpoolController

from tsrnn._arima_likelihood import fit_css_ml, second_start_affordable
from tsrnn._arima_spec import (
    Candidate,
    SearchSettings,
    build_model,
    check_trend,
    information_criterion,
)
from tsrnn._autoarima import select_order
from tsrnn._unitroot import differencing_orders
from tsrnn.exceptions import DataError, DataWarning, InputError
from tsrnn.validation import season_length_for

if TYPE_CHECKING:
    from tsrnn.arima import ARIMAForecaster

__all__ = [
    "ADVICE",
    "Fitted",
    "fit_auto",
    "fit_constant",
    "filter_quietly",
    "fit_fixed",
    "one_blas_thread",
    "scale_for",
    "search_settings",
]

_MAX_SEASON = 52  # longer seasons make the state space too large; use Fourier terms in X
_SEASONAL_SLACK = 20  # seasonal terms need 3 m + 20 observations: short series fake seasons
# CSS-ranked search for seasonal series longer than this (auto.arima: any series)...
_APPROXIMATE_SEASONAL_ABOVE = 150
_APPROXIMATE_ABOVE = 5000  # ...and for any series longer than this
_SCALE_RANGE = (1e-3, 1e6)  # spreads outside it are rescaled by a power of ten
# Parameters estimated outside statsmodels' fit are filtered without a covariance matrix:
# its numerical Hessian costs ~k^2 filter passes (15 s for a seasonal m=24 model).
_NO_COV = {"cov_type": "none"}
ADVICE = "try a lower order (max_p/max_q or order=), differencing (d=1), or rescaling y"


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspecting the loaded libraries takes ~2 ms: once


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run statsmodels' small-matrix linear algebra on one BLAS thread: with several,
    OpenBLAS spends longer synchronising than computing (fits 3-10x slower on 2 busy
    cores). The previous limits are restored on exit."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


def filter_quietly(model: ARIMA, params: np.ndarray) -> ARIMAResults:
    """Filter ``params`` estimated outside statsmodels' ``fit`` through ``model``, without
    a covariance matrix and without statsmodels' warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.filter(params, **_NO_COV)


def scale_for(y: np.ndarray) -> float:
    """1, or the power of ten near the spread of ``y`` when it is huge or tiny."""
    peak = float(np.max(np.abs(y)))
    if not 0 < peak < np.inf:
        return 1.0
    # std of y / peak: the squares of values above ~1e154 would overflow to inf.
    spread = (peak * float(np.std(y / peak))) or peak
    if spread == 0 or _SCALE_RANGE[0] <= spread <= _SCALE_RANGE[1]:
        return 1.0
    return float(10.0 ** np.floor(np.log10(spread)))


@dataclass
class Fitted:
    """A fitted model for the estimator to store (``results`` are on the rescaled series)."""

    results: object  # statsmodels ARIMAResults
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    trend: str
    aicc: float
    trace: list[dict] = field(default_factory=list)
    converged: bool = True
    timed_out: bool = False


def fit_fixed(
    ys: np.ndarray,
    exog: np.ndarray | None,
    order: tuple[int, int, int],
    seasonal_order: tuple[int, int, int, int],
    trend: str | None,
    method: str | None,
) -> Fitted:
    """Fit an explicit order by ``method`` (statsmodels' default for None, or 'css-ml');
    ``trend`` None means a constant when ``d + D == 0``, else none.

    Raises
    ------
    InputError
        For a trend that differencing would eliminate.
    DataError
        When the model cannot be fitted.
    """
    (_, d, _), (_, D, _, _) = order, seasonal_order
    trend = trend if trend is not None else ("c" if d + D == 0 else "n")
    try:
        check_trend(trend, d, D)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    model = build_model(ys, exog, order, seasonal_order, trend)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results, converged = _estimate_fixed(
                model, ys, exog, order, seasonal_order, trend, method
            )
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise DataError(
                f"ARIMA{order}x{seasonal_order} could not be fitted ({exc}); {ADVICE}."
            ) from exc
    converged &= not any(issubclass(w.category, SMConvergenceWarning) for w in caught)
    fitted = _fitted(results, order, seasonal_order, trend, ys)
    fitted.trace = [_trace_entry(fitted, method, converged)]
    fitted.converged = converged
    return fitted


def _estimate_fixed(
    model, ys, exog, order, seasonal_order, trend: str, method: str | None
) -> tuple[object, bool]:
    """statsmodels' own fit, or tsrnn's CSS-ML estimates filtered through the model."""
    if method != "css-ml":
        return model.fit(method=method), True
    (p, d, q), (P, D, Q, m) = order, seasonal_order
    settings = SearchSettings(d, D, m, trend=trend)
    candidate = Candidate(p, q, P, Q, False)
    # a second start from zeros where affordable, as the search's polish step
    starts = (False, True) if second_start_affordable(len(ys), candidate, m) else (False,)
    fits = [fit_css_ml(ys, exog, candidate, settings, zero) for zero in starts]
    best = max(fits, key=lambda fit: fit.llf)
    return model.filter(best.params, **_NO_COV), best.converged


def search_settings(
    est: ARIMAForecaster, ys: np.ndarray, exog: np.ndarray | None
) -> SearchSettings:
    """The search's settings from the estimator's parameters: the season length, ``d`` and
    ``D`` by :func:`tsrnn._unitroot.differencing_orders`, and whether to approximate."""
    m = _season_length(est, len(ys))
    d, D = differencing_orders(ys, exog, m, est.max_d, est.max_D)
    approximation = est.approximation
    if approximation is None:
        seasonal_and_long = m > 1 and len(ys) > _APPROXIMATE_SEASONAL_ABOVE
        approximation = seasonal_and_long or len(ys) > _APPROXIMATE_ABOVE
    return SearchSettings(
        d, D, m, est.max_p, est.max_q, est.max_P, est.max_Q,
        criterion=est.information_criterion, stepwise=bool(est.stepwise),
        time_budget=est.time_budget, method=est.method, trend=est.trend,
        approximation=bool(approximation),
    )  # fmt: skip


def _season_length(est: ARIMAForecaster, n: int) -> int:
    m = est.season_length if est.season_length is not None else season_length_for(est.freq_)
    if m > _MAX_SEASON:
        if est.season_length is not None:
            warnings.warn(
                f"season_length={m} is too long for seasonal ARIMA (at most {_MAX_SEASON}); "
                "fitting a non-seasonal model. Pass Fourier terms as X for long seasons.",
                DataWarning,
                stacklevel=6,
            )
        return 1
    return m if n >= 3 * m + _SEASONAL_SLACK else 1


def fit_auto(ys: np.ndarray, exog: np.ndarray | None, settings: SearchSettings) -> Fitted:
    """Search the orders (:func:`tsrnn._autoarima.select_order`) and filter the best.

    Raises
    ------
    DataError
        When no candidate could be fitted.
    """
    result = select_order(ys, exog, settings)
    best = result.best
    if best.params is None:
        return _fit_fallback(ys, exog, settings, result.trace)
    order, seasonal_order = settings.orders(best.candidate)
    trend = settings.trend_for(best.candidate)
    model = build_model(ys, exog, order, seasonal_order, trend)
    results = filter_quietly(model, best.params)
    fitted = _fitted(results, order, seasonal_order, trend, ys)
    fitted.trace, fitted.timed_out = result.trace, result.timed_out
    fitted.converged = best.converged
    return fitted


def _fit_fallback(
    ys: np.ndarray, exog: np.ndarray | None, settings: SearchSettings, trace: list[dict]
) -> Fitted:
    """No candidate fitted: use the differencing alone, ARIMA(0,d,0)x(0,D,0,m), with a warning.

    That model has no AR or MA roots to be rejected, so it fits whatever the search met.
    """
    errors = [e["error"] for e in trace if e["error"]]
    seasonal = (0, settings.D, 0, settings.m) if settings.m > 1 else (0, 0, 0, 0)
    warnings.warn(
        f"no ARIMA candidate could be fitted ({len(trace)} tried; first error: "
        f"{errors[0] if errors else 'time budget spent'}); fell back to "
        f"ARIMA(0, {settings.d}, 0)x{seasonal}. To do better, {ADVICE}.",
        DataWarning,
        stacklevel=5,
    )
    fitted = fit_fixed(ys, exog, (0, settings.d, 0), seasonal, None, None)
    fitted.trace = trace + fitted.trace
    return fitted


def fit_constant(ys: np.ndarray, exog: np.ndarray | None, method: str | None) -> Fitted:
    """A constant series: forecast that constant, with zero-width intervals."""
    model = build_model(ys, exog, (0, 0, 0), (0, 0, 0, 0), "c")
    k_exog = 0 if exog is None else exog.shape[1]
    params = np.concatenate([[ys[0]], np.zeros(k_exog), [0.0]])
    results = filter_quietly(model, params)
    fitted = _fitted(results, (0, 0, 0), (0, 0, 0, 0), "c", ys, aicc=float("nan"))
    fitted.trace = [_trace_entry(fitted, method, True, "constant series: nothing estimated")]
    return fitted


def _fitted(results, order, seasonal_order, trend, ys, aicc=None) -> Fitted:
    if aicc is None:
        n_eff = len(ys) - order[1] - seasonal_order[1] * seasonal_order[3]
        llf, k = float(results.llf), len(results.params)
        aicc = information_criterion(llf, k, n_eff, "aicc")
    return Fitted(results, order, seasonal_order, trend, float(aicc))


def _trace_entry(
    fitted: Fitted, method: str | None, converged: bool, error: str | None = None
) -> dict:
    return {
        "order": fitted.order,
        "seasonal_order": fitted.seasonal_order,
        "trend": fitted.trend,
        "method": method or "statespace",
        "ic": None if error else float(fitted.aicc),
        "converged": converged,
        "seconds": None,
        "error": error,
    }
