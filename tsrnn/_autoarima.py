"""Automatic ARIMA order selection: the Hyndman-Khandakar stepwise search on statsmodels.

Pure functions on numpy arrays, used by :class:`tsrnn.arima.ARIMAForecaster`:
:func:`select_order` runs the stepwise (or exhaustive) search over ``(p, q, P, Q)`` and the
constant/drift term, by an information criterion, within bounds and a time budget, for
``d`` and ``D`` chosen beforehand.

The pieces live beside it: the differencing tests (:func:`ndiffs`, :func:`nsdiffs`) in
:mod:`tsrnn._unitroot`, the candidates and their regression columns in
:mod:`tsrnn._arima_spec`, the estimation of one candidate (CSS, CSS-ML, statsmodels) in
:mod:`tsrnn._arima_likelihood`. The names in ``__all__`` stay importable from here.

References
----------
Hyndman, R.J. & Khandakar, Y. (2008). Automatic time series forecasting: the forecast
package for R. *Journal of Statistical Software* 27(3). doi:10.18637/jss.v027.i03
Hyndman, R.J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*, 3rd
ed., section 9.9 (ARIMA modelling in R).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace

import numpy as np

from tsrnn._arima_likelihood import (
    MIN_ROOT_MODULUS,
    fit_css,
    fit_css_ml,
    fit_statsmodels,
    min_root_modulus,
    second_start_affordable,
)
from tsrnn._arima_spec import (
    Candidate,
    SearchSettings,
    build_model,
    check_trend,
    full_exog,
    information_criterion,
    trend_exog,
)
from tsrnn._unitroot import is_constant, ndiffs, nsdiffs, seasonal_strength

__all__ = [
    "Candidate",
    "SearchSettings",
    "SearchResult",
    "build_model",
    "check_trend",
    "fit_css",
    "fit_css_ml",
    "full_exog",
    "information_criterion",
    "is_constant",
    "ndiffs",
    "nsdiffs",
    "seasonal_strength",
    "second_start_affordable",
    "select_order",
    "trend_exog",
]

#: Largest number of models the stepwise search fits (forecast::auto.arima ``nmodels``).
MAX_MODELS = 94
#: Largest p + q + P + Q in the exhaustive search (forecast::auto.arima ``max.order``).
MAX_ORDER = 5
#: How many of the best CSS-ranked models are tried by exact ML before giving up.
MAX_ML_TRIES = 10
_ZERO_START = "css-ml/zero-start"


@dataclass
class CandidateFit:
    """Outcome of fitting one candidate (``params`` are None for CSS fits and failures)."""

    candidate: Candidate
    ic: float = np.inf
    error: str | None = None
    converged: bool = True
    seconds: float = 0.0
    method: str = ""
    polynomials: tuple[np.ndarray, np.ndarray] = (np.ones(1), np.ones(1))
    params: np.ndarray | None = None


@dataclass
class SearchResult:
    """The chosen model and how the search went."""

    best: CandidateFit
    trace: list[dict] = field(default_factory=list)
    timed_out: bool = False


def _fit_ml(
    y: np.ndarray,
    exog: np.ndarray | None,
    c: Candidate,
    settings: SearchSettings,
    out: CandidateFit,
) -> None:
    """Exact maximum likelihood (tsrnn's CSS-ML or a statsmodels method); fills ``out``."""
    order, seasonal_order = settings.orders(c)
    if out.method.startswith("css-ml"):
        fit = fit_css_ml(y, exog, c, settings, from_zero=out.method == _ZERO_START)
    else:
        model = build_model(y, exog, order, seasonal_order, settings.trend_for(c))
        fit = fit_statsmodels(model, out.method, settings.m)
    n_eff = len(y) - order[1] - seasonal_order[1] * seasonal_order[3]
    out.ic = information_criterion(fit.llf, len(fit.params), n_eff, settings.criterion)
    out.params, out.converged, out.polynomials = fit.params, fit.converged, fit.polynomials


def fit_candidate(
    y: np.ndarray,
    exog: np.ndarray | None,
    candidate: Candidate,
    settings: SearchSettings,
    method: str | None = None,
) -> CandidateFit:
    """Fit one candidate (CSS when ``settings.approximation``, else exact ML by
    ``method`` or ``settings.method``) and score it; failures are recorded, never raised."""
    started = time.perf_counter()
    if method is None:
        method = "css" if settings.approximation else (settings.method or "css-ml")
    out = CandidateFit(candidate, method=method)
    try:
        if settings.approximation:
            css = fit_css(y, exog, candidate, settings)
            out.ic, out.polynomials, out.converged = css.ic, css.polynomials, css.converged
        else:
            _fit_ml(y, exog, candidate, settings, out)
        if not np.isfinite(out.ic):
            out.error = "non-finite likelihood or too few observations"
        elif min_root_modulus(*out.polynomials) < MIN_ROOT_MODULUS:
            out.error = "AR or MA roots too close to the unit circle"
    except Exception as exc:  # any statsmodels failure just skips the candidate
        out.error = f"{type(exc).__name__}: {exc}"
    if out.error:
        out.ic, out.params = np.inf, None
    out.seconds = time.perf_counter() - started
    return out


def _trace_entry(fit: CandidateFit, settings: SearchSettings) -> dict:
    order, seasonal_order = settings.orders(fit.candidate)
    return {
        "order": order,
        "seasonal_order": seasonal_order,
        "trend": settings.trend_for(fit.candidate),
        "method": fit.method,
        "ic": None if fit.error else float(fit.ic),
        "converged": fit.converged,
        "seconds": round(fit.seconds, 4),
        "error": fit.error,
    }


def _within_bounds(c: Candidate, s: SearchSettings) -> bool:
    seasonal_ok = (c.P == c.Q == 0) if s.m <= 1 else (c.P <= s.max_P and c.Q <= s.max_Q)
    # statsmodels refuses a lag in both the seasonal and non-seasonal polynomial
    no_overlap = (c.P == 0 or c.p < s.m) and (c.Q == 0 or c.q < s.m)
    non_negative = min(c.p, c.q, c.P, c.Q) >= 0
    return non_negative and c.p <= s.max_p and c.q <= s.max_q and seasonal_ok and no_overlap


def start_candidates(s: SearchSettings) -> list[Candidate]:
    """The initial models of Hyndman & Khandakar (2008), clipped to the bounds."""
    const = s.constant_allowed
    seasonal = int(s.m > 1)
    starts = [
        Candidate(
            min(2, s.max_p), min(2, s.max_q), min(seasonal, s.max_P), min(seasonal, s.max_Q), const
        ),
        Candidate(0, 0, 0, 0, const),
        Candidate(min(1, s.max_p), 0, min(seasonal, s.max_P), 0, const),
        Candidate(0, min(1, s.max_q), 0, min(seasonal, s.max_Q), const),
    ]
    if const:
        starts.append(Candidate(0, 0, 0, 0, False))
    return [c for c in dict.fromkeys(starts) if _within_bounds(c, s)]


_MOVES = [  # (dp, dq, dP, dQ) in forecast::auto.arima's order: seasonal first
    (0, 0, -1, 0), (0, 0, 0, -1), (0, 0, 1, 0), (0, 0, 0, 1),
    (0, 0, -1, -1), (0, 0, -1, 1), (0, 0, 1, -1), (0, 0, 1, 1),
    (-1, 0, 0, 0), (0, -1, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0),
    (-1, -1, 0, 0), (-1, 1, 0, 0), (1, -1, 0, 0), (1, 1, 0, 0),
]  # fmt: skip


def neighbours(c: Candidate, s: SearchSettings) -> list[Candidate]:
    """Models one step away: orders +-1 (singly and in pairs), then the constant toggled."""
    out = [Candidate(c.p + a, c.q + b, c.P + e, c.Q + f, c.constant) for a, b, e, f in _MOVES]
    if s.constant_allowed:
        out.append(replace(c, constant=not c.constant))
    return [n for n in out if _within_bounds(n, s)]


def _grid(s: SearchSettings) -> list[Candidate]:
    seasonal = s.m > 1
    ranges = (
        range(s.max_p + 1),
        range(s.max_q + 1),
        range(s.max_P + 1 if seasonal else 1),
        range(s.max_Q + 1 if seasonal else 1),
        (True, False) if s.constant_allowed else (False,),
    )
    grid = [Candidate(*combo) for combo in itertools.product(*ranges)]
    return [c for c in grid if c.p + c.q + c.P + c.Q <= MAX_ORDER]


class _Search:
    """Bookkeeping shared by the stepwise and exhaustive searches."""

    def __init__(self, y: np.ndarray, exog: np.ndarray | None, settings: SearchSettings):
        self.y, self.exog, self.settings = y, exog, settings
        self.deadline = (
            None if settings.time_budget is None else time.perf_counter() + settings.time_budget
        )
        self.result = SearchResult(best=CandidateFit(Candidate(0, 0, 0, 0, False)))
        self.seen: set[Candidate] = set()
        self.scored: list[tuple[float, Candidate]] = []

    def out_of_budget(self) -> bool:
        """True once the time budget is spent, but never before one model succeeded."""
        has_model = bool(np.isfinite(self.result.best.ic))
        over = has_model and self.deadline is not None and time.perf_counter() > self.deadline
        self.result.timed_out |= over
        return over

    def try_fit(self, candidate: Candidate) -> bool:
        """Fit an unseen candidate; True when it became the best so far."""
        self.seen.add(candidate)
        fit = fit_candidate(self.y, self.exog, candidate, self.settings)
        self.result.trace.append(_trace_entry(fit, self.settings))
        if fit.error is None:
            self.scored.append((fit.ic, candidate))
        if fit.ic < self.result.best.ic:
            self.result.best = fit
            return True
        return False

    def stop(self, cap: int | None) -> bool:
        return (cap is not None and len(self.seen) >= cap) or self.out_of_budget()

    def run_list(self, candidates: list[Candidate], cap: int | None = None) -> None:
        for candidate in candidates:
            if candidate in self.seen:
                continue
            if self.stop(cap):
                return
            self.try_fit(candidate)

    def refine_by_ml(self) -> None:
        """Refit the CSS-ranked models by exact ML, best first, until one succeeds."""
        ml_settings = replace(self.settings, approximation=False)
        self.result.best = CandidateFit(Candidate(0, 0, 0, 0, False))
        for _, candidate in sorted(self.scored, key=lambda item: item[0])[:MAX_ML_TRIES]:
            fit = fit_candidate(self.y, self.exog, candidate, ml_settings)
            self.result.trace.append(_trace_entry(fit, ml_settings))
            if fit.error is None:
                self.result.best = fit
                return

    def polish(self) -> None:
        """Refit the chosen CSS-ML model from zero ARMA coefficients and keep the better
        fit: the likelihood can have several optima, and a CSS start may lead to a poor one."""
        best = self.result.best
        affordable = second_start_affordable(len(self.y), best.candidate, self.settings.m)
        if best.method != "css-ml" or not affordable or self.out_of_budget():
            return
        settings = replace(self.settings, approximation=False)
        alternative = fit_candidate(self.y, self.exog, best.candidate, settings, _ZERO_START)
        self.result.trace.append(_trace_entry(alternative, settings))
        if alternative.error is None and alternative.ic < best.ic - 1e-6:
            self.result.best = alternative

    def run_stepwise(self) -> None:
        self.run_list(start_candidates(self.settings), MAX_MODELS)
        improved = bool(np.isfinite(self.result.best.ic))
        while improved:
            improved = False
            for candidate in neighbours(self.result.best.candidate, self.settings):
                if candidate in self.seen:
                    continue
                if self.stop(MAX_MODELS):
                    return
                if self.try_fit(candidate):
                    improved = True
                    break


def select_order(y: np.ndarray, exog: np.ndarray | None, settings: SearchSettings) -> SearchResult:
    """Search ARMA orders for fixed ``d``, ``D`` and ``m`` by an information criterion.

    Stepwise (Hyndman & Khandakar 2008, step 2): fit the start models, then move to the
    first neighbour that lowers the criterion, until no neighbour does, the budget of
    ``MAX_MODELS`` fits or the time budget runs out. Exhaustive: every model with
    ``p + q + P + Q <= MAX_ORDER`` within the bounds.

    Parameters
    ----------
    y : np.ndarray
        The (undifferenced) series.
    exog : np.ndarray, optional
        User regressors, one row per observation.
    settings : SearchSettings
        Orders of differencing, bounds, criterion, method and budget.

    Returns
    -------
    SearchResult
        ``best.params`` is None when every candidate failed.
    """
    search = _Search(y, exog, settings)
    if settings.stepwise:
        search.run_stepwise()
    else:
        search.run_list(_grid(settings))
    if settings.approximation:
        search.refine_by_ml()
    search.polish()
    return search.result
