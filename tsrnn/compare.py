"""Diebold-Mariano tests of forecast accuracy, for single series and for backtests.

Built on ``statsmodels.tsa.stattools.diebold_mariano_test`` (statsmodels >= 0.15),
with the Harvey-Leybourne-Newbold (1997) small-sample correction. What this module
adds for backtests:

- **pooling folds correctly**: each fold's h step losses are averaged into one loss
  differential per fold, so the test runs on one value per forecast origin. Folds
  ``step`` apart with ``horizon > step`` overlap, so their differentials are
  autocorrelated up to ``ceil(horizon / step) - 1`` lags; that is the HAC bandwidth and
  the HLN horizon used;
- **one-sided verdicts** in plain words ("lstm is more accurate than naive at the 5%
  level"), and a table over all models against one baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tsrnn.exceptions import InputError

__all__ = ["DMResult", "diebold_mariano", "compare_forecasts", "LOSSES"]

LOSSES = {
    "squared": lambda error: error**2,
    "absolute": np.abs,
}
_ALTERNATIVES = ("two-sided", "less", "greater")


@dataclass(frozen=True)
class DMResult:
    """Outcome of a Diebold-Mariano test of forecast A against forecast B.

    ``mean_loss_difference`` is mean(loss A - loss B): negative means A is more
    accurate. ``pvalue`` belongs to ``alternative``: ``'less'`` tests "A has lower
    expected loss than B", ``'greater'`` the opposite.
    """

    statistic: float
    pvalue: float
    alternative: str
    mean_loss_difference: float
    n: int
    lags: int


def _dm_on_losses(
    loss_a: np.ndarray, loss_b: np.ndarray, horizon: int, alternative: str
) -> DMResult:
    """Run statsmodels' DM test on precomputed losses (as a pass-through criterion)."""
    from statsmodels.tsa.stattools import diebold_mariano_test

    if alternative not in _ALTERNATIVES:
        raise InputError(
            f"alternative must be one of {', '.join(_ALTERNATIVES)}; got {alternative!r}."
        )
    n = len(loss_a)
    if n < 3:
        raise InputError(f"the Diebold-Mariano test needs at least 3 loss values; got {n}.")
    diff = loss_a - loss_b
    lags = min(horizon - 1, n - 2)
    if not np.all(np.isfinite(diff)):
        raise InputError("the losses must be finite; a forecast or actual value is NaN or inf.")
    if np.ptp(diff) <= 1e-12 * np.max(np.abs(diff)):  # constant: no variance to test with
        sign = float(np.sign(diff[0]))
        statistic = math.copysign(math.inf, sign) if sign else 0.0
        two_sided = 0.0 if sign else 1.0
    else:
        result = diebold_mariano_test(
            np.zeros(n),
            loss_a,
            loss_b,
            criterion=lambda _y, loss: np.asarray(loss),
            lags=lags,
            harvey_adj=True,
            horizon=min(horizon, n - 1),
        )
        statistic, two_sided = float(result.statistic), float(result.pvalue)
    pvalue = _one_sided(statistic, two_sided, alternative)
    return DMResult(statistic, pvalue, alternative, float(diff.mean()), n, lags)


def _one_sided(statistic: float, two_sided: float, alternative: str) -> float:
    if alternative == "two-sided":
        return two_sided
    agrees = statistic < 0 if alternative == "less" else statistic > 0
    return two_sided / 2 if agrees else 1 - two_sided / 2


def diebold_mariano(
    y_true: np.ndarray,
    forecast_a: np.ndarray,
    forecast_b: np.ndarray,
    *,
    horizon: int = 1,
    loss: str = "squared",
    alternative: str = "two-sided",
) -> DMResult:
    """Diebold-Mariano test with the HLN correction for one series of h-step forecasts.

    With ``d`` the loss differential (loss of A minus loss of B) over ``n`` points,
    the statistic is ``mean(d) / sqrt(lrv / n)``, where ``lrv`` is the Newey-West
    long-run variance with ``h - 1`` lags and Bartlett weights ``1 - k/h``
    (autocovariances divided by ``n``), times the Harvey-Leybourne-Newbold factor
    ``sqrt((n + 1 - 2h + h(h - 1)/n) / n)``; p-values come from a t distribution with
    ``n - 1`` degrees of freedom (statsmodels' ``diebold_mariano_test`` with
    ``lags=h - 1, harvey_adj=True``). A constant differential has no variance: the
    statistic is then 0 (p = 1) if it is zero and infinite (p = 0) otherwise.

    Parameters
    ----------
    y_true, forecast_a, forecast_b : array-like
        Actual values and two competing forecasts of them, in time order.
    horizon : int, default=1
        Forecast horizon h of the forecasts; h - 1 HAC lags and the HLN factor.
    loss : {'squared', 'absolute'}
        Loss applied to the errors.
    alternative : {'two-sided', 'less', 'greater'}
        ``'less'``: A is more accurate than B.

    Returns
    -------
    DMResult

    Examples
    --------
    >>> y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    >>> r = diebold_mariano(y, y + [0.1, -0.1, 0.2, 0.0, 0.1, -0.2], y + [1, -1, 2, 1, -2, 1])
    >>> r.mean_loss_difference < 0, r.pvalue < 0.05
    (True, True)
    """
    if loss not in LOSSES:
        raise InputError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}.")
    y = np.asarray(y_true, dtype=float)
    loss_a = LOSSES[loss](y - np.asarray(forecast_a, dtype=float))
    loss_b = LOSSES[loss](y - np.asarray(forecast_b, dtype=float))
    return _dm_on_losses(loss_a, loss_b, horizon, alternative)


def _fold_losses(forecasts: pd.DataFrame, model: str, loss: str) -> pd.Series:
    rows = forecasts[(forecasts["model"] == model) & forecasts["actual"].notna()]  # not filled
    values = LOSSES[loss](rows["actual"].to_numpy() - rows["forecast"].to_numpy())
    return pd.Series(values, index=rows.index).groupby(rows["fold"]).mean()


def compare_forecasts(
    forecasts: pd.DataFrame,
    baseline: str,
    *,
    loss: str = "squared",
    alpha: float = 0.05,
    fold_spacing: int | None = None,
) -> pd.DataFrame:
    """Test every model of a backtest table against ``baseline``.

    Parameters
    ----------
    forecasts : pd.DataFrame
        Tidy backtest forecasts with columns ``model, fold, step, actual, forecast``.
    baseline : str
        Model name to compare against.
    loss : {'squared', 'absolute'}
    alpha : float
        Significance level of the verdicts.
    fold_spacing : int, optional
        Steps between consecutive cutoffs (defaults to the horizon: no overlap).

    Returns
    -------
    pd.DataFrame
        Indexed by model: ``mean_loss``, ``baseline_loss`` (mean loss per fold),
        ``statistic`` (negative: the model has lower loss), ``p_better`` and ``p_worse``
        (one-sided), ``p_value`` (two-sided), ``lags`` (HAC lags from fold overlap) and
        ``verdict``, which says "more accurate" or "less accurate" when the one-sided
        test in that direction rejects at ``alpha``.

    Raises
    ------
    InputError
        If ``baseline`` is not a model of the table, there are fewer than 3 folds, or
        ``loss`` or ``alpha`` is invalid.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "model": ["a"] * 4 + ["b"] * 4, "fold": [0, 1, 2, 3] * 2, "step": 1,
    ...     "actual": 0.0, "forecast": [0.1, -0.2, 0.1, 0.0, 1.0, -2.0, 1.5, 1.2]})
    >>> compare_forecasts(table, "b").loc["a", "verdict"]
    'a is more accurate than b at the 5% level'
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1; got {alpha!r}.")
    if loss not in LOSSES:
        raise InputError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}.")
    models = list(dict.fromkeys(forecasts["model"]))
    if baseline not in models:
        raise InputError(f"baseline {baseline!r} is not one of the models: {', '.join(models)}.")
    horizon = int(forecasts["step"].max())
    overlap = math.ceil(horizon / (fold_spacing or horizon))
    base = _fold_losses(forecasts, baseline, loss)
    if not np.all(np.isfinite(base)):
        raise InputError(
            f"baseline {baseline!r} has missing or infinite forecasts; choose another baseline."
        )
    rows = {}
    for model in models:
        if model == baseline:
            continue
        own = _fold_losses(forecasts, model, loss).reindex(base.index)
        if not np.all(np.isfinite(own)):  # one broken model must not sink the whole table
            rows[model] = _not_comparable(model, baseline, float(base.mean()))
            continue
        two = _dm_on_losses(own.to_numpy(), base.to_numpy(), overlap, "two-sided")
        p_better = _one_sided(two.statistic, two.pvalue, "less")
        p_worse = _one_sided(two.statistic, two.pvalue, "greater")
        rows[model] = {
            "mean_loss": float(own.mean()),
            "baseline_loss": float(base.mean()),
            "statistic": two.statistic,
            "p_better": p_better,
            "p_worse": p_worse,
            "p_value": two.pvalue,
            "lags": two.lags,
            "verdict": _verdict(model, baseline, p_better, p_worse, alpha),
        }
    columns = ["mean_loss", "baseline_loss", "statistic", "p_better", "p_worse", "p_value"]
    columns += ["lags", "verdict"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("model")


def _not_comparable(model: str, baseline: str, baseline_loss: float) -> dict:
    nan = float("nan")
    return {
        "mean_loss": nan,
        "baseline_loss": baseline_loss,
        "statistic": nan,
        "p_better": nan,
        "p_worse": nan,
        "p_value": nan,
        "lags": nan,
        "verdict": f"{model} cannot be compared with {baseline}: it has missing or infinite forecasts",
    }


def _verdict(model: str, baseline: str, p_better: float, p_worse: float, alpha: float) -> str:
    level = f"{alpha:.0%}"
    if p_better < alpha:
        return f"{model} is more accurate than {baseline} at the {level} level"
    if p_worse < alpha:
        return f"{model} is less accurate than {baseline} at the {level} level"
    return f"no significant difference between {model} and {baseline} at the {level} level"
