"""Conformal prediction intervals, per horizon step, that adapt to changing volatility.

Two layers, both pure numpy (no torch, no statsmodels):

**Split conformal on absolute errors** (:func:`conformal_quantile`, :func:`half_widths`,
:func:`loo_coverage`). For a nominal coverage ``c`` the half-width of step ``h`` is the
``ceil((n + 1) c)``-th smallest of the ``n`` absolute errors of that step (Vovk et al.,
2005; Lei et al., 2018): under exchangeability ``forecast +- half-width`` holds the
actual value with probability at least ``c``. The neural forecasters' ``interval="model"``
uses it on their validation tail.

**Adaptive conformal** (``interval="conformal"``, the default of every forecaster), in
three steps:

1. *Out-of-sample errors at rolling origins.* Each forecaster forecasts ``horizon``
   steps from every origin of a recent window (the last :data:`WINDOW` origins of the
   training data whose targets are observed): baselines and ARIMA at the end of the
   training data with the fitted parameters, neural models on their validation tail.
2. *Volatility-normalised scores.* Each absolute error is divided by the local
   volatility at its origin: the exponentially weighted RMS of one-step changes of
   the series (span :data:`VOLATILITY_SPAN`, like RiskMetrics' daily volatility).
   The half-width at a new origin is the conformal quantile of the scores times the
   volatility now, so intervals widen within days when a stock turns volatile, and
   a price level that has doubled does not leave stale widths behind (normalised
   conformal scores, Lei et al., 2018, section 5.2).
3. *Online adjustment in* ``update``. New observations complete the forecasts made
   from earlier origins: their scores join the window (the oldest leave) and, for the
   requested coverage, the quantile level is adjusted by adaptive conformal inference
   (Gibbs & Candes, 2021): ``alpha <- alpha + gamma (alpha_nominal - miss)`` after each
   completed origin, ``gamma =`` :data:`ACI_GAMMA`. The adjustment is replayed from the
   stored scores for each requested coverage, so any coverage can be asked for.

With fewer than :data:`MIN_ORIGINS` scores (short series) a forecaster uses its model
intervals instead. ``benchmarks/bench_coverage.py`` measures the coverage of both
methods on the bundled stocks and weather series (``benchmarks/RESULTS_coverage.md``).

References
----------
Lei, J., G'Sell, M., Rinaldo, A., Tibshirani, R.J. & Wasserman, L. (2018).
Distribution-free predictive inference for regression. *JASA* 113(523).
Gibbs, I. & Candes, E. (2021). Adaptive conformal inference under distribution
shift. *NeurIPS* 34.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

from tsrnn.exceptions import InputError

__all__ = [
    "INTERVAL_METHODS",
    "VOLATILITY_SPAN",
    "WINDOW",
    "MIN_ORIGINS",
    "ACI_GAMMA",
    "check_interval",
    "conformal_quantile",
    "half_widths",
    "loo_coverage",
    "volatility_path",
    "fit_state",
    "update_state",
    "state_is_usable",
    "adaptive_half_widths",
]

#: Values of the forecasters' ``interval`` parameter.
INTERVAL_METHODS = ("conformal", "model")
#: Span (in observations) of the exponentially weighted volatility; decay 1 - 2/(span+1).
VOLATILITY_SPAN = 20
#: Most recent origins whose scores calibrate the intervals.
WINDOW = 1000
#: Fewest scores for conformal intervals; below it a forecaster uses its model intervals.
MIN_ORIGINS = 30
#: Step size of the adaptive conformal inference update in ``update``.
ACI_GAMMA = 0.005
# Online origins replayed by the adaptive adjustment (the latest ones).
_ACI_REPLAY = 500


def check_interval(value: object) -> str:
    """Validate a forecaster's ``interval`` parameter."""
    if value not in INTERVAL_METHODS:
        raise InputError(
            f"interval must be one of {', '.join(map(repr, INTERVAL_METHODS))}; got {value!r}."
        )
    return str(value)


def conformal_quantile(residuals: np.ndarray, coverage: float) -> np.ndarray:
    """The conformal quantile of each column of ``residuals`` (n, steps).

    Examples
    --------
    >>> conformal_quantile(np.arange(1.0, 10.0)[:, None], 0.8).tolist()
    [8.0]
    """
    n = len(residuals)
    rank = min(math.ceil((n + 1) * coverage), n)
    return np.sort(residuals, axis=0)[rank - 1]


def _extend_steps(widths: np.ndarray, steps: int) -> np.ndarray:
    """Widths for ``steps`` steps from calibrated ones; beyond them, grown like a random walk."""
    horizon = len(widths)
    step = np.arange(steps)
    return widths[np.minimum(step, horizon - 1)] * np.sqrt(step // horizon + 1)


def half_widths(residuals: np.ndarray, coverage: float, steps: int) -> np.ndarray:
    """Interval half-widths for ``steps`` forecast steps from residuals of shape (n, horizon).

    Steps beyond the calibrated ``horizon`` (a recursive roll-out) reuse the last step's
    width, grown like a random walk: multiplied by the square root of the roll-out round.
    """
    return _extend_steps(conformal_quantile(residuals, coverage), steps)


def loo_coverage(residuals: np.ndarray, coverage: float) -> float:
    """Leave-one-out empirical coverage of the conformal intervals; NaN below 2 windows.

    Leaving window ``i`` out, the conformal rank among the other ``n - 1`` residuals is
    ``k = ceil(n * coverage)``; residual ``i`` is covered exactly when it is at most the
    ``k``-th smallest of all ``n`` (if it is among those ``k``, removing it moves the
    quantile up, never below it). So one sort per step suffices: O(n log n), not O(n^2).
    """
    n = len(residuals)
    if n < 2:
        return float("nan")
    rank = min(math.ceil(n * coverage), n - 1)
    thresholds = np.sort(residuals, axis=0)[rank - 1]
    return float(np.mean(residuals <= thresholds))


# ----------------------------------------------------------- adaptive conformal
def _decay() -> float:
    return 1.0 - 2.0 / (VOLATILITY_SPAN + 1)


def volatility_path(y: np.ndarray, var0: float | None = None) -> tuple[np.ndarray, float]:
    """Exponentially weighted variance of one-step changes after each observation.

    Parameters
    ----------
    y : np.ndarray of shape (n,)
        Observations (at least 1).
    var0 : float, optional
        Variance before ``y[0]``'s change (continuing a path); by default the mean
        squared change of the first :data:`VOLATILITY_SPAN` changes.

    Returns
    -------
    scales : np.ndarray of shape (n,)
        Volatility (square root of the variance) known after each observation, floored
        at a tiny positive value so that constant series score 0, not NaN.
    var : float
        The variance after the last observation (to continue the path in ``update``).
    """
    y = np.asarray(y, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # near the largest float
        changes = np.diff(y)
    if var0 is None:
        head = changes[:VOLATILITY_SPAN]
        with np.errstate(over="ignore"):
            var0 = float(np.mean(head**2)) if len(head) else 0.0
    lam = _decay()
    var = np.full(len(y), float(var0))
    if len(changes):
        with np.errstate(over="ignore", invalid="ignore"):
            var[1:] = lfilter([1 - lam], [1, -lam], changes**2, zi=[lam * var0])[0]
    # Above ~1e154 squared changes overflow: cap the variance at the largest float. The
    # scores are divided by the same capped scale, so the intervals stay consistent.
    big = np.finfo(float).max
    var = np.minimum(np.nan_to_num(var, nan=big, posinf=big), big)
    floor = 1e-12 * max(1.0, float(np.max(np.abs(y))))
    return np.maximum(np.sqrt(var), floor), float(var[-1])


def fit_state(y: np.ndarray, origins: np.ndarray, forecasts: np.ndarray, horizon: int) -> dict:
    """The calibration state of a freshly fitted forecaster.

    Parameters
    ----------
    y : np.ndarray of shape (n,)
        The training target.
    origins : np.ndarray of int, shape (k,)
        Increasing positions in ``y`` of the last observation each forecast saw.
    forecasts : np.ndarray of shape (k, horizon)
        Out-of-sample forecasts of ``y[o + 1 : o + 1 + horizon]`` from each origin ``o``.
        Origins whose targets run past the data become *pending*: ``update`` scores them.
    horizon : int
        Steps per forecast.

    Returns
    -------
    dict
        ``scores`` (at most :data:`WINDOW` rows of volatility-normalised absolute
        errors), ``online`` (how many of them ``update`` added), ``var`` and ``last``
        (to continue the volatility), ``recent`` (the last ``horizon`` observations),
        ``pending``, ``pending_offset`` (origin minus the last position) and
        ``pending_scale``: arrays and numbers only, so a model file can hold it.
    """
    y = np.asarray(y, dtype=float)
    origins = np.asarray(origins, dtype=int)
    forecasts = np.asarray(forecasts, dtype=float).reshape(len(origins), horizon)
    scales, var = volatility_path(y)
    last = len(y) - 1
    done = origins + horizon <= last
    rows = origins[done][:, None] + np.arange(1, horizon + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        scores = np.abs(y[rows] - forecasts[done]) / scales[origins[done]][:, None]
    recent = np.full(horizon, np.nan)
    tail = y[-horizon:]
    recent[horizon - len(tail) :] = tail
    return {
        "scores": scores[-WINDOW:],
        "online": 0,
        "var": var,
        "last": float(y[-1]),
        "recent": recent,
        "pending": forecasts[~done],
        "pending_offset": origins[~done] - last,
        "pending_scale": scales[origins[~done]],
    }


def update_state(state: dict, y_new: np.ndarray, forecasts: np.ndarray) -> dict:
    """Advance the calibration state over newer observations.

    Parameters
    ----------
    state : dict
        From :func:`fit_state` or an earlier update.
    y_new : np.ndarray of shape (k,)
        The new observations.
    forecasts : np.ndarray of shape (r, horizon), r <= k
        Forecasts from the last ``r`` new origins (each new observation is an origin);
        origins before them are not scored.

    Returns
    -------
    dict
        The new state: completed origins' scores appended (counted as online, for the
        adaptive adjustment), the volatility advanced, the rest pending.
    """
    y_new = np.asarray(y_new, dtype=float)
    k, horizon = len(y_new), len(state["recent"])
    forecasts = np.asarray(forecasts, dtype=float).reshape(-1, horizon)
    scales, var = volatility_path(np.concatenate([[state["last"]], y_new]), state["var"])
    scales = scales[1:]  # after each new observation
    r = len(forecasts)
    offsets = np.concatenate(
        [np.asarray(state["pending_offset"], dtype=int) - k, np.arange(k - r, k) - (k - 1)]
    )
    pending = np.concatenate([np.asarray(state["pending"]).reshape(-1, horizon), forecasts])
    pending_scale = np.concatenate([state["pending_scale"], scales[k - r :]])
    # Observations at offsets -(horizon + k - 1) .. 0 from the new last one.
    known = np.concatenate([state["recent"], y_new])
    done = offsets + horizon <= 0
    rows = (offsets[done] + len(known) - 1)[:, None] + np.arange(1, horizon + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        new_scores = np.abs(known[rows] - pending[done]) / pending_scale[done][:, None]
    valid = np.all(np.isfinite(new_scores), axis=1)
    scores = np.concatenate([np.asarray(state["scores"]).reshape(-1, horizon), new_scores[valid]])
    return {
        "scores": scores[-WINDOW:],
        "online": int(min(state["online"] + int(valid.sum()), len(scores[-WINDOW:]))),
        "var": var,
        "last": float(y_new[-1]) if k else state["last"],
        "recent": known[-horizon:],
        "pending": pending[~done],
        "pending_offset": offsets[~done],
        "pending_scale": pending_scale[~done],
    }


def state_is_usable(state: dict | None) -> bool:
    """Whether a calibration state has enough scores for conformal intervals."""
    return state is not None and len(state["scores"]) >= MIN_ORIGINS


def _quantile_at(sorted_scores: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per-step conformal quantile of pre-sorted scores (n, h) at per-step levels."""
    n = len(sorted_scores)
    ranks = np.clip(np.ceil((n + 1) * level).astype(int), 1, n)
    return sorted_scores[ranks - 1, np.arange(sorted_scores.shape[1])]


def _aci_level(scores: np.ndarray, online: int, coverage: float) -> np.ndarray:
    """Per-step quantile level after replaying adaptive conformal inference.

    Each online score is judged against the quantile of the scores before it at the
    level then in force; every miss lowers ``alpha`` (wider intervals), every hit
    raises it by ``gamma * alpha_nominal`` (Gibbs & Candes, 2021, eq. 2). A score
    exceeds the ``r``-th smallest earlier score exactly when at least ``r`` earlier
    scores are below it, so one vectorised count replaces a sort per origin.
    """
    target = 1.0 - coverage
    alpha = np.full(scores.shape[1], target)
    first = max(len(scores) - min(online, _ACI_REPLAY), MIN_ORIGINS)
    if first >= len(scores):
        return 1.0 - alpha
    block = scores[first:]
    earlier = np.arange(len(scores))[None, :] < np.arange(first, len(scores))[:, None]
    below = ((scores[None, :, :] < block[:, None, :]) & earlier[:, :, None]).sum(axis=1)
    for i, count in enumerate(below):
        n = first + i
        rank = np.clip(np.ceil((n + 1) * (1.0 - alpha)), 1, n)
        alpha += ACI_GAMMA * (target - (count >= rank))
    return 1.0 - alpha


def adaptive_half_widths(state: dict, coverage: float, steps: int) -> np.ndarray:
    """Half-widths of the adaptive conformal intervals for the next ``steps`` steps.

    Examples
    --------
    >>> y = np.cumsum(np.random.default_rng(0).normal(size=300))
    >>> origins = np.arange(20, 300)
    >>> state = fit_state(y, origins, np.repeat(y[origins, None], 2, axis=1), horizon=2)
    >>> adaptive_half_widths(state, 0.9, 3).shape
    (3,)
    """
    scores = np.asarray(state["scores"])
    level = _aci_level(scores, int(state["online"]), coverage)
    widths = _quantile_at(np.sort(scores, axis=0), level)
    return _extend_steps(widths * math.sqrt(state["var"]), steps)
