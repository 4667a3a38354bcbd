"""Forecast accuracy metrics as pure numpy functions.

Every metric takes array-likes (lists, numpy arrays, pandas Series) of equal,
non-zero length holding finite numbers, and returns a Python ``float``. Bad input
raises ``ValueError`` naming the offending argument.

Point metrics: :func:`mae`, :func:`rmse`, :func:`mape`, :func:`smape`,
:func:`mase`, :func:`bias`. Interval and quantile metrics: :func:`coverage`,
:func:`winkler_score`, :func:`pinball_loss`. :data:`POINT_METRICS` maps the
lowercase name of each point metric to a callable with the uniform signature
``(y_true, y_pred, *, y_train=None, season_length=1)`` used by backtests.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = [
    "MASE_WINDOW",
    "POINT_METRICS",
    "bias",
    "coverage",
    "mae",
    "mape",
    "mase",
    "mase_window",
    "pinball_loss",
    "rmse",
    "smape",
    "winkler_score",
]


def _as_1d(name: str, values: npt.ArrayLike) -> np.ndarray:
    """Return ``values`` as a non-empty, finite, one-dimensional float array."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must contain numbers only; got {values!r:.80}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name} must be finite; got {arr[bad]} at position {bad}")
    return arr


def _as_arrays(**named: npt.ArrayLike) -> list[np.ndarray]:
    """Validate several same-length arrays given by keyword, in order."""
    arrays = [_as_1d(name, values) for name, values in named.items()]
    names = list(named)
    for name, arr in zip(names[1:], arrays[1:], strict=True):
        if len(arr) != len(arrays[0]):
            raise ValueError(
                f"{name} has {len(arr)} values but {names[0]} has {len(arrays[0])}; "
                "they must have the same length"
            )
    return arrays


def _check_fraction(name: str, value: float) -> float:
    """Return ``value`` as a float strictly between 0 and 1, or raise ``ValueError``."""
    try:
        inside = 0.0 < float(value) < 1.0
    except (TypeError, ValueError):
        inside = False
    if not inside:
        raise ValueError(f"{name} must be a number strictly between 0 and 1; got {value!r}")
    return float(value)


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute error, ``mean(|y_true - y_pred|)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Actual values and point forecasts.

    Returns
    -------
    float
        The mean absolute error, in the units of the data.

    Raises
    ------
    ValueError
        If the inputs are empty, not finite, not 1-D or of different lengths.

    Examples
    --------
    >>> mae([1, 2, 3], [2, 2, 2])
    0.6666666666666666
    """
    y, f = _as_arrays(y_true=y_true, y_pred=y_pred)
    return float(np.mean(np.abs(y - f)))


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Root mean squared error, ``sqrt(mean((y_true - y_pred)**2))``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Actual values and point forecasts.

    Returns
    -------
    float
        The root mean squared error, in the units of the data.

    Raises
    ------
    ValueError
        If the inputs are empty, not finite, not 1-D or of different lengths.

    Examples
    --------
    >>> rmse([0, 0], [3, 4])
    3.5355339059327378
    """
    y, f = _as_arrays(y_true=y_true, y_pred=y_pred)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def mape(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute percentage error, in percent: ``100 * mean(|e| / |y_true|)``.

    MAPE is undefined where the actual value is zero. Such points are left out of
    the mean and a ``RuntimeWarning`` says how many were skipped; if every actual
    is zero the result is ``nan``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Actual values and point forecasts.

    Returns
    -------
    float
        The MAPE in percent (``12.5`` means 12.5 %), or ``nan`` if all actuals are 0.

    Raises
    ------
    ValueError
        If the inputs are empty, not finite, not 1-D or of different lengths.

    Warns
    -----
    RuntimeWarning
        If some or all actual values are zero.

    Examples
    --------
    >>> mape([100, 200], [110, 180])
    10.0
    """
    y, f = _as_arrays(y_true=y_true, y_pred=y_pred)
    nonzero = y != 0
    skipped = int(np.count_nonzero(~nonzero))
    if skipped:
        warnings.warn(
            f"mape: skipped {skipped} of {len(y)} points where y_true is 0 "
            "(percentage error is undefined there)",
            RuntimeWarning,
            stacklevel=2,
        )
    if skipped == len(y):
        return float("nan")
    return float(100.0 * np.mean(np.abs((y[nonzero] - f[nonzero]) / y[nonzero])))


def smape(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Symmetric MAPE in percent: ``200/n * sum(|e| / (|y_true| + |y_pred|))``.

    Terms where both the actual and the forecast are zero count as 0 (a perfect
    forecast). The result lies between 0 and 200.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Actual values and point forecasts.

    Returns
    -------
    float
        The sMAPE in percent.

    Raises
    ------
    ValueError
        If the inputs are empty, not finite, not 1-D or of different lengths.

    Examples
    --------
    >>> smape([1, 0], [3, 0])
    50.0
    """
    y, f = _as_arrays(y_true=y_true, y_pred=y_pred)
    denom = np.abs(y) + np.abs(f)
    safe = np.where(denom == 0, 1.0, denom)
    terms = np.where(denom == 0, 0.0, np.abs(y - f) / safe)
    return float(200.0 * np.mean(terms))


#: In-sample naive errors behind a backtest's MASE scale: the last 250 before each fold's
#: origin (about a year of trading days, eight months of daily data), or four seasons when
#: that is longer (see :func:`mase_window`).
MASE_WINDOW = 250


def mase_window(season_length: int = 1) -> int:
    """Naive errors in the MASE scale of a backtest: ``max(MASE_WINDOW, 4 * season_length)``.

    A recent window, not the whole history: over decades the level of a series (and the
    size of its naive errors) changes, and a price that traded at 0.27 in 1962 makes
    the whole-history naive error tiny, so every model would "score" a MASE of 5 and
    read as losing to the naive forecast it actually matches.

    Examples
    --------
    >>> mase_window(1), mase_window(7), mase_window(168)
    (250, 250, 672)
    """
    return max(MASE_WINDOW, 4 * int(season_length))


def mase(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    y_train: npt.ArrayLike,
    season_length: int = 1,
    window: int | None = None,
) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006).

    The MAE of the forecasts divided by the in-sample MAE of the (seasonal) naive
    forecast on the training data: ``mean(|y_train[t] - y_train[t - m]|)`` with
    ``m = season_length``, over the last ``window`` such errors (all of them by
    default, Hyndman and Koehler's definition; backtests use :func:`mase_window`).
    Values below 1 beat the naive method in-sample.

    If the training data make the naive method perfect (for example a constant
    series) the scale is 0: the result is then ``inf`` when the forecast errors
    are not all zero, and ``0.0`` when they are.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Actual values and point forecasts.
    y_train : array-like of shape (n_train,)
        The training series the forecasts were made from.
    season_length : int, default=1
        Seasonal period ``m`` of the naive scale (1 = non-seasonal naive).
    window : int, optional
        Use only the last ``window`` in-sample naive errors (the most recent ones).

    Returns
    -------
    float
        The MASE (unit-free), ``inf`` or ``0.0`` as described above.

    Raises
    ------
    ValueError
        If the inputs are invalid, ``season_length < 1``, ``window < 1`` or ``y_train``
        has no more than ``season_length`` observations.

    Examples
    --------
    >>> mase([5, 6], [4, 6], y_train=[1, 2, 4])
    0.3333333333333333
    >>> mase([5, 6], [4, 6], y_train=[1, 2, 4], window=1)  # scale |4 - 2| only
    0.25
    """
    y, f = _as_arrays(y_true=y_true, y_pred=y_pred)
    train = _as_1d("y_train", y_train)
    is_int = isinstance(season_length, (int, np.integer)) and not isinstance(season_length, bool)
    if not is_int or season_length < 1:
        raise ValueError(f"season_length must be an integer >= 1; got {season_length!r}")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1
    ):
        raise ValueError(f"window must be a positive integer or None; got {window!r}")
    if len(train) <= season_length:
        raise ValueError(
            f"y_train needs more than season_length={season_length} observations "
            f"for the naive scale; got {len(train)}"
        )
    naive_errors = np.abs(train[season_length:] - train[:-season_length])
    scale = float(np.mean(naive_errors[-window:] if window else naive_errors))
    error = float(np.mean(np.abs(y - f)))
    if scale == 0.0:
        return 0.0 if error == 0.0 else float("inf")
    return error / scale


def bias(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean forecast error, ``mean(y_pred - y_true)``.

    Positive values mean the forecasts are too high on average, negative values
    too low.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Actual values and point forecasts.

    Returns
    -------
    float
        The mean signed error, in the units of the data.

    Raises
    ------
    ValueError
        If the inputs are empty, not finite, not 1-D or of different lengths.

    Examples
    --------
    >>> bias([1, 2, 3], [2, 3, 3])
    0.6666666666666666
    """
    y, f = _as_arrays(y_true=y_true, y_pred=y_pred)
    return float(np.mean(f - y))


def coverage(y_true: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike) -> float:
    """Fraction of actual values inside their prediction interval (bounds included).

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n,)
        Actual values and the lower and upper interval bounds.

    Returns
    -------
    float
        Empirical coverage between 0 and 1.

    Raises
    ------
    ValueError
        If the inputs are invalid or some ``lower`` bound exceeds its ``upper``.

    Examples
    --------
    >>> coverage([1, 5, 3], [0, 0, 3], [2, 4, 4])
    0.6666666666666666
    """
    y, lo, hi = _check_interval(y_true, lower, upper)
    return float(np.mean((y >= lo) & (y <= hi)))


def _check_interval(
    y_true: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike
) -> list[np.ndarray]:
    y, lo, hi = _as_arrays(y_true=y_true, lower=lower, upper=upper)
    if np.any(lo > hi):
        bad = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(
            f"lower must not exceed upper; got lower={lo[bad]} > upper={hi[bad]} at position {bad}"
        )
    return [y, lo, hi]


def winkler_score(
    y_true: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    coverage: float,
) -> float:
    """Mean Winkler (interval) score of central prediction intervals.

    For ``alpha = 1 - coverage`` each point scores
    ``(upper - lower) + 2/alpha * (lower - y)`` if ``y < lower``,
    ``(upper - lower) + 2/alpha * (y - upper)`` if ``y > upper`` and the width
    otherwise (Winkler, 1972; Gneiting & Raftery, 2007). Lower is better.

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n,)
        Actual values and the lower and upper interval bounds.
    coverage : float
        Nominal coverage of the intervals, strictly between 0 and 1 (e.g. 0.9).

    Returns
    -------
    float
        The mean interval score, in the units of the data.

    Raises
    ------
    ValueError
        If the inputs are invalid, ``lower > upper`` somewhere or ``coverage`` is
        not strictly between 0 and 1.

    Examples
    --------
    >>> winkler_score([5, 12], [0, 0], [10, 10], coverage=0.8)
    20.0
    """
    alpha = 1.0 - _check_fraction("coverage", coverage)
    y, lo, hi = _check_interval(y_true, lower, upper)
    below = np.maximum(lo - y, 0.0)
    above = np.maximum(y - hi, 0.0)
    return float(np.mean((hi - lo) + 2.0 / alpha * (below + above)))


def pinball_loss(y_true: npt.ArrayLike, quantile_pred: npt.ArrayLike, q: float) -> float:
    """Mean pinball (quantile) loss of forecasts of the ``q`` quantile.

    Each point scores ``q * (y - p)`` if ``y >= p`` and ``(1 - q) * (p - y)``
    otherwise. At ``q = 0.5`` this is half the MAE.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Actual values.
    quantile_pred : array-like of shape (n,)
        Forecasts of the ``q`` quantile.
    q : float
        The quantile level, strictly between 0 and 1.

    Returns
    -------
    float
        The mean pinball loss, in the units of the data.

    Raises
    ------
    ValueError
        If the inputs are invalid or ``q`` is not strictly between 0 and 1.

    Examples
    --------
    >>> pinball_loss([10, 10], [8, 12], q=0.9)
    1.0
    """
    q = _check_fraction("q", q)
    y, p = _as_arrays(y_true=y_true, quantile_pred=quantile_pred)
    diff = y - p
    return float(np.mean(np.maximum(q * diff, (q - 1.0) * diff)))


PointMetric = Callable[..., float]


def _as_point_metric(metric: Callable[..., float], uses_train: bool = False) -> PointMetric:
    """Adapt ``metric`` to ``(y_true, y_pred, *, y_train=None, season_length=1)``."""

    def point_metric(
        y_true: npt.ArrayLike,
        y_pred: npt.ArrayLike,
        *,
        y_train: npt.ArrayLike | None = None,
        season_length: int = 1,
    ) -> float:
        if not uses_train:
            return metric(y_true, y_pred)
        if y_train is None:
            raise ValueError(f"{metric.__name__} needs y_train (the training series)")
        return metric(y_true, y_pred, y_train, season_length=season_length)

    point_metric.__name__ = point_metric.__qualname__ = metric.__name__
    point_metric.__doc__ = metric.__doc__
    return point_metric


#: Point metrics by lowercase name, each called as
#: ``metric(y_true, y_pred, *, y_train=None, season_length=1)`` and returning a float.
#: Only ``"mase"`` uses ``y_train`` (and raises ``ValueError`` without it).
POINT_METRICS: dict[str, PointMetric] = {
    "mae": _as_point_metric(mae),
    "rmse": _as_point_metric(rmse),
    "mape": _as_point_metric(mape),
    "smape": _as_point_metric(smape),
    "mase": _as_point_metric(mase, uses_train=True),
    "bias": _as_point_metric(bias),
}
