"""Estimating one ARIMA model: conditional sum of squares, exact ML, or statsmodels.

Pure functions on numpy arrays, used by the order search (:mod:`tsrnn._autoarima`) and
:class:`tsrnn.arima.ARIMAForecaster`:

- :func:`fit_css`: conditional sum of squares (R's ``arima(method="CSS")``), to rank
  candidates cheaply;
- :func:`fit_css_ml`: exact maximum likelihood by the innovations algorithm, started from
  CSS estimates (R's ``method="CSS-ML"``);
- :func:`fit_statsmodels`: a statsmodels ``ARIMA.fit`` method, quietly;
- :func:`arma_polynomials` and :func:`min_root_modulus`: the AR and MA polynomials of a
  fit and how close their roots come to the unit circle.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import lfilter
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.innovations.arma_innovations import arma_innovations
from statsmodels.tsa.statespace.tools import (
    constrain_stationary_univariate,
    unconstrain_stationary_univariate,
)

from tsrnn._arima_spec import Candidate, SearchSettings, full_exog, information_criterion

__all__ = [
    "CSSFit",
    "MLFit",
    "arma_polynomials",
    "difference",
    "fit_css",
    "fit_css_ml",
    "fit_statsmodels",
    "min_root_modulus",
    "second_start_affordable",
]

#: Largest ``n * (AR and MA lags)`` for which the chosen model is refitted from a second
#: start (about a second of work); larger models keep the CSS-started fit.
SECOND_START_WORK = 200_000
#: AR/MA roots with a smaller modulus disqualify a model. auto.arima uses 1.01 (1.001
#: before forecast 8.x); 1.01 rejects the best models of persistent series such as daily
#: temperatures (AR root 1.007), so tsrnn keeps the older, looser bound.
MIN_ROOT_MODULUS = 1.001


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


def fit_statsmodels(model: ARIMA, method: str | None, m: int) -> MLFit:
    """Fit by a statsmodels method, quietly; note whether statsmodels warned about
    convergence."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        params = np.asarray(model.fit(method=method, return_params=True), dtype=float)
        llf = float(model.loglike(params))
    converged = not any(issubclass(w.category, SMConvergenceWarning) for w in caught)
    polynomials = _statsmodels_polynomials(params, model.param_names, m)
    return MLFit(params, llf, converged, polynomials)
