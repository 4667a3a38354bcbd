"""Automatic ARIMA order selection: the Hyndman-Khandakar stepwise search on statsmodels.

Pure functions on numpy arrays, used by :class:`tsrnn.arima.ARIMAForecaster`:

- :func:`ndiffs`: the number of differences ``d`` from repeated KPSS tests;
- :func:`nsdiffs`: the number of seasonal differences ``D`` from the STL seasonal strength;
- :func:`select_order`: the stepwise (or exhaustive) search over ``(p, q, P, Q)`` and the
  constant/drift term, by an information criterion, within bounds and a time budget.

Deterministic terms are regression columns built here (:func:`trend_exog`) rather than
statsmodels' ``trend=`` argument, because ``results.extend`` restarts statsmodels' time
trend at 1 (the forecasts jump); the fit is otherwise identical to ``ARIMA(trend=...)``.

References
----------
Hyndman, R.J. & Khandakar, Y. (2008). Automatic time series forecasting: the forecast
package for R. *Journal of Statistical Software* 27(3). doi:10.18637/jss.v027.i03
Kwiatkowski, D., Phillips, P., Schmidt, P. & Shin, Y. (1992). Testing the null hypothesis
of stationarity against the alternative of a unit root. *J. Econometrics* 54, 159-178.
Wang, X., Smith, K. & Hyndman, R.J. (2006). Characteristic-based clustering for time
series data. *Data Mining and Knowledge Discovery* 13(3), 335-364 (seasonal strength).
Hyndman, R.J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*, 3rd
ed., sections 4.3 (STL features) and 9.9 (ARIMA modelling in R).
"""

from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import lfilter
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.innovations.arma_innovations import arma_innovations
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.statespace.tools import (
    constrain_stationary_univariate,
    unconstrain_stationary_univariate,
)
from statsmodels.tsa.stattools import kpss

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

#: Seasonal strength above which a seasonal difference is taken (forecast::nsdiffs 'seas').
SEASONAL_STRENGTH_THRESHOLD = 0.64
#: Largest number of models the stepwise search fits (forecast::auto.arima ``nmodels``).
MAX_MODELS = 94
#: Largest p + q + P + Q in the exhaustive search (forecast::auto.arima ``max.order``).
MAX_ORDER = 5
#: Largest ``n * (AR and MA lags)`` for which the chosen model is refitted from a second
#: start (about a second of work); larger models keep the CSS-started fit.
SECOND_START_WORK = 200_000
#: How many of the best CSS-ranked models are tried by exact ML before giving up.
MAX_ML_TRIES = 10
#: AR/MA roots with a smaller modulus disqualify a model. auto.arima uses 1.01 (1.001
#: before forecast 8.x); 1.01 rejects the best models of persistent series such as daily
#: temperatures (AR root 1.007), so tsrnn keeps the older, looser bound.
MIN_ROOT_MODULUS = 1.001
_ZERO_START = "css-ml/zero-start"
_TREND_POWERS = {"n": (), "c": (0,), "t": (1,), "ct": (0, 1)}


def is_constant(y: np.ndarray) -> bool:
    """Whether every value equals the first (up to 1e-12 of the magnitude)."""
    return bool(np.ptp(y) <= 1e-12 * max(np.max(np.abs(y)), 1e-300))


# ------------------------------------------------------------------ differencing tests
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


# --------------------------------------------------------------------- model building
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


# ----------------------------------------------------------------------------- search
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


def information_criterion(llf: float, k: int, n_eff: int, criterion: str) -> float:
    """AIC, AICc or BIC from a log-likelihood with ``k`` parameters (sigma2 included)."""
    aic = -2 * llf + 2 * k
    if criterion == "aic":
        return aic
    if criterion == "bic":
        return -2 * llf + k * np.log(n_eff)
    denominator = n_eff - k - 1
    return aic + 2 * k * (k + 1) / denominator if denominator > 0 else np.inf


def _lag_polynomial(coefs: np.ndarray, step: int, sign: float) -> np.ndarray:
    """``1 + sign * (c_1 B^step + c_2 B^(2 step) + ...)`` as increasing-power coefficients."""
    poly = np.zeros(len(coefs) * step + 1)
    poly[0] = 1.0
    poly[step::step] = sign * np.asarray(coefs, dtype=float)
    return poly


def arma_polynomials(
    ar: np.ndarray, ma: np.ndarray, sar: np.ndarray, sma: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Full AR ``phi(B) Phi(B^m)`` and MA ``theta(B) Theta(B^m)`` polynomials
    (statsmodels' signs: AR ``1 - phi_1 B``, MA ``1 + theta_1 B``)."""
    ar_poly = np.convolve(_lag_polynomial(ar, 1, -1.0), _lag_polynomial(sar, m, -1.0))
    ma_poly = np.convolve(_lag_polynomial(ma, 1, 1.0), _lag_polynomial(sma, m, 1.0))
    return ar_poly, ma_poly


def min_root_modulus(ar_poly: np.ndarray, ma_poly: np.ndarray) -> float:
    """Smallest modulus of the roots of the AR and MA polynomials (inf without roots)."""
    smallest = np.inf
    for poly in (ar_poly, ma_poly):
        poly = np.trim_zeros(poly, "b")
        if len(poly) > 1:
            roots = np.polynomial.polynomial.polyroots(poly)
            smallest = min(smallest, float(np.min(np.abs(roots))))
    return smallest


def _statsmodels_polynomials(
    params: np.ndarray, names: list[str], m: int
) -> tuple[np.ndarray, np.ndarray]:
    def pick(prefix: str) -> np.ndarray:
        return np.array([v for v, n in zip(params, names, strict=True) if n.startswith(prefix)])

    return arma_polynomials(pick("ar.L"), pick("ma.L"), pick("ar.S.L"), pick("ma.S.L"), max(m, 1))


# ------------------------------------------------------- conditional sum of squares
def difference(x: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    """Apply ``D`` seasonal (lag ``m``) and ``d`` ordinary differences along axis 0."""
    for _ in range(D):
        x = x[m:] - x[:-m]
    for _ in range(d):
        x = np.diff(x, axis=0)
    return x


@dataclass
class _Problem:
    """A candidate on differenced data: ``w = design beta + ARMA noise``."""

    w: np.ndarray
    design: np.ndarray | None
    c: Candidate
    m: int

    @property
    def k_beta(self) -> int:
        return 0 if self.design is None else self.design.shape[1]

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        """``[beta, ar, ma, seasonal ar, seasonal ma]`` (statsmodels' order)."""
        return np.split(theta, np.cumsum([self.k_beta, self.c.p, self.c.q, self.c.P]))

    def noise(self, beta: np.ndarray) -> np.ndarray:
        return self.w - self.design @ beta if self.k_beta else self.w

    def polynomials(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return arma_polynomials(*self.split(theta)[1:], self.m)


def _problem(
    y: np.ndarray, exog: np.ndarray | None, c: Candidate, settings: SearchSettings
) -> _Problem:
    d, D, m = settings.d, settings.D, max(settings.m, 1)
    design = full_exog(settings.trend_for(c), 1, len(y), exog)
    design = None if design is None else difference(design, d, D, m)
    return _Problem(difference(y, d, D, m), design, c, m)


def _css_residuals(theta: np.ndarray, prob: _Problem) -> np.ndarray:
    """Residuals ``theta(B)^-1 phi(B) (w - design beta)``, conditioned as R's CSS:
    from observation ``p + P m`` on, earlier residuals taken as zero."""
    ar_poly, ma_poly = prob.polynomials(theta)
    with np.errstate(all="ignore"):
        v = np.convolve(prob.noise(prob.split(theta)[0]), ar_poly, mode="valid")
        e = lfilter([1.0], ma_poly, v)
    return np.nan_to_num(e, nan=1e150, posinf=1e150, neginf=-1e150)


@dataclass
class MLFit:
    """An exact maximum-likelihood fit."""

    params: np.ndarray
    llf: float
    converged: bool
    polynomials: tuple[np.ndarray, np.ndarray]


@dataclass
class CSSFit:
    """A conditional-sum-of-squares fit: parameters (sigma2 excluded) and score."""

    theta: np.ndarray
    ic: float
    converged: bool
    polynomials: tuple[np.ndarray, np.ndarray]


def _fit_css_problem(prob: _Problem, criterion: str) -> CSSFit:
    beta = np.zeros(0)
    if prob.k_beta:
        beta = np.linalg.lstsq(prob.design, prob.w, rcond=None)[0]
    theta = np.concatenate([beta, np.zeros(prob.c.p + prob.c.q + prob.c.P + prob.c.Q)])
    converged = True
    if len(theta):
        budget = 50 * (len(theta) + 1)  # ~50 Jacobians: CSS only ranks candidates
        fit = least_squares(_css_residuals, theta, args=(prob,), method="lm", max_nfev=budget)
        theta, converged = fit.x, bool(fit.success)
    sigma2 = float(np.mean(_css_residuals(theta, prob) ** 2))
    nstar = len(prob.w)
    ic = information_criterion(-0.5 * nstar * np.log(sigma2), len(theta) + 1, nstar, criterion)
    return CSSFit(theta, ic, converged, prob.polynomials(theta))


def fit_css(
    y: np.ndarray, exog: np.ndarray | None, c: Candidate, settings: SearchSettings
) -> CSSFit:
    """Conditional-sum-of-squares fit (R's ``arima(method="CSS")``) for the search.

    ``ic`` is ``nstar log(sigma2)`` plus the penalty: the criterion up to a constant
    shared by all candidates with the same ``d`` and ``D``.
    """
    return _fit_css_problem(_problem(y, exog, c, settings), settings.criterion)


def _transform(theta: np.ndarray, prob: _Problem, inverse: bool) -> np.ndarray:
    """Map unconstrained values to stationary AR / invertible MA coefficients (statsmodels'
    transformation) or, with ``inverse``, back."""
    func = unconstrain_stationary_univariate if inverse else constrain_stationary_univariate
    beta, *blocks = prob.split(theta)
    out = [beta]
    for block, sign in zip(blocks, (1.0, -1.0, 1.0, -1.0), strict=True):
        if len(block) == 0:
            out.append(block)
        elif inverse:
            out.append(func(sign * block))
        else:
            out.append(sign * func(block))
    return np.concatenate(out)


def _innovations(theta: np.ndarray, prob: _Problem) -> tuple[np.ndarray, np.ndarray]:
    beta, ar, ma, sar, sma = prob.split(theta)
    ar_poly, ma_poly = arma_polynomials(ar, ma, sar, sma, prob.m)
    return arma_innovations(prob.noise(beta), -ar_poly[1:], ma_poly[1:], sigma2=1.0)


def _exact_residuals(x: np.ndarray, prob: _Problem) -> np.ndarray:
    """Residuals whose sum of squares is a monotone function of the exact Gaussian
    likelihood with sigma2 profiled out: ``u_t / sqrt(v_t) * geometric_mean(v)^(1/2)``
    for innovations ``u`` with variances ``v`` (so Levenberg-Marquardt can maximise it)."""
    with np.errstate(all="ignore"):
        u, v = _innovations(_transform(x, prob, inverse=False), prob)
        r = u / np.sqrt(v) * np.exp(0.5 * np.mean(np.log(v)))
    return np.nan_to_num(r, nan=1e150, posinf=1e150, neginf=-1e150)


def fit_css_ml(
    y: np.ndarray,
    exog: np.ndarray | None,
    c: Candidate,
    settings: SearchSettings,
    from_zero: bool = False,
) -> MLFit:
    """Exact maximum likelihood started from CSS estimates (R's ``method="CSS-ML"``), or
    with ``from_zero`` from zero ARMA coefficients (and least-squares regressors).

    The likelihood is that of the differenced data by the innovations algorithm, which
    equals statsmodels' diffuse state-space likelihood of the undifferenced model, with
    stationarity and invertibility enforced as statsmodels does.

    Returns
    -------
    MLFit
        ``params`` in statsmodels ARIMA order (regressors, ar, ma, seasonal ar, seasonal
        ma, sigma2), the log-likelihood, whether the optimizer reported success, and the
        AR and MA polynomials.
    """
    prob = _problem(y, exog, c, settings)
    css = _fit_css_problem(prob, settings.criterion)
    start = css.theta
    if from_zero or min_root_modulus(*css.polynomials) < MIN_ROOT_MODULUS:  # can't transform
        start = np.concatenate([css.theta[: prob.k_beta], np.zeros(len(start) - prob.k_beta)])
    theta, converged = start, True
    if len(start):
        x0 = _transform(start, prob, inverse=True)
        fit = least_squares(_exact_residuals, x0, args=(prob,), method="lm", ftol=1e-10, xtol=1e-10)
        theta, converged = _transform(fit.x, prob, inverse=False), bool(fit.success)
    u, v = _innovations(theta, prob)
    sigma2 = float(np.mean(u**2 / v))
    llf = -0.5 * len(u) * (np.log(2 * np.pi * sigma2) + 1) - 0.5 * float(np.sum(np.log(v)))
    return MLFit(np.append(theta, sigma2), float(llf), converged, prob.polynomials(theta))


def second_start_affordable(n: int, c: Candidate, m: int) -> bool:
    """Whether a second CSS-ML start (from zeros) is cheap enough to try: work grows with
    the series length times the number of lags in the AR and MA polynomials."""
    lags = c.p + c.q + max(m, 1) * (c.P + c.Q)
    return n * lags <= SECOND_START_WORK


def _estimate(model: ARIMA, method: str | None, m: int) -> MLFit:
    """Fit by a statsmodels method, quietly; note whether statsmodels warned about
    convergence."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        params = np.asarray(model.fit(method=method, return_params=True), dtype=float)
        llf = float(model.loglike(params))
    converged = not any(issubclass(w.category, SMConvergenceWarning) for w in caught)
    polynomials = _statsmodels_polynomials(params, model.param_names, m)
    return MLFit(params, llf, converged, polynomials)


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
        fit = _estimate(model, out.method, settings.m)
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
