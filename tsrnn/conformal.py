"""Split-conformal prediction intervals from absolute validation errors, per horizon step.

The neural forecasters keep, for every calibration window and horizon step, the
absolute error ``|actual - forecast|`` in the data's units. For a nominal coverage
``c`` the half-width of step ``h`` is the ``ceil((n + 1) c)``-th smallest of the ``n``
errors of that step (Vovk et al., 2005; Lei et al., 2018): under exchangeability the
interval ``forecast +- half-width`` then holds the actual value with probability at
least ``c``. Pure numpy; no torch.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["conformal_quantile", "half_widths", "loo_coverage"]


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


def half_widths(residuals: np.ndarray, coverage: float, steps: int) -> np.ndarray:
    """Interval half-widths for ``steps`` forecast steps from residuals of shape (n, horizon).

    Steps beyond the calibrated ``horizon`` (a recursive roll-out) reuse the last step's
    width, grown like a random walk: multiplied by the square root of the roll-out round.
    """
    widths = conformal_quantile(residuals, coverage)
    horizon = residuals.shape[1]
    step = np.arange(steps)
    return widths[np.minimum(step, horizon - 1)] * np.sqrt(step // horizon + 1)


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
