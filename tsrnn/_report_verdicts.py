"""The verdicts of a backtest report: is the best model really better, and can its
intervals be trusted?

- the model with the lowest error is tested against the runner-up (a two-sided
  Diebold-Mariano test on the ranking metric's own loss); "no clear winner" when the
  lead is not significant;
- every model against the baseline, with the test stated exactly;
- interval coverage far from nominal is flagged;
- the orders the ARIMA models chose.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tsrnn.compare import compare_forecasts
from tsrnn.exceptions import InputError

__all__ = [
    "COVERAGE_TOLERANCE",
    "arima_orders",
    "coverage_warning",
    "interval_hits",
    "join_names",
    "verdicts",
    "winner_sentence",
]

#: Coverage more than this far from nominal (5 percentage points) is flagged.
COVERAGE_TOLERANCE = 0.05
_ALPHA = 0.05


def join_names(names: list[str], bold: bool = True) -> str:
    """``a``, ``a and b``, ``a, b and c`` (names in bold by default)."""
    shown = [f"**{name}**" if bold else str(name) for name in names]
    if len(shown) <= 2:
        return " and ".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _scaled_forecasts(result) -> pd.DataFrame | None:
    """Actuals and forecasts divided by their fold's MASE scale (None if a scale is 0)."""
    scales = getattr(result, "_scales", None)
    if scales is None:
        return None
    table = result.forecasts.merge(scales, on=["model", "fold"], how="left")
    scale = table["scale"].to_numpy(dtype=float)
    if not np.all(np.isfinite(scale) & (scale > 0)):
        return None
    table = table.assign(actual=table["actual"] / scale, forecast=table["forecast"] / scale)
    return table.drop(columns="scale")


def _lead_test(result, metric: str, best: str, runner_up: str) -> tuple[pd.Series, str]:
    """The DM test of ``best`` against ``runner_up`` on the loss the ranking metric averages."""
    table, loss, label = result.forecasts, "absolute", "absolute error"
    if metric == "rmse":
        loss, label = "squared", "squared error"
    elif metric == "mase":
        scaled = _scaled_forecasts(result)
        if scaled is not None:
            table, label = scaled, "absolute scaled error (the MASE of each fold)"
    comparison = compare_forecasts(
        table[table["model"].isin([best, runner_up])],
        runner_up,
        loss=loss,
        alpha=_ALPHA,
        fold_spacing=getattr(result, "fold_spacing", None),
    )
    return comparison.loc[best], label


def winner_sentence(result, metric: str, label: str, over: str, baseline: str) -> str:
    """The headline: the best model by ``metric`` and whether its lead is significant."""
    values = result.metrics[metric]
    ranked = values.dropna().sort_values(kind="stable")
    best = str(ranked.index[0])
    runner_up = str(ranked.index[1]) if len(ranked) > 1 else None
    shown = baseline not in (best, runner_up)
    base = f" (baseline {baseline}: {values[baseline]:.3f})" if shown else ""
    if best == baseline:
        lead = f"**{best}**, the baseline, has the lowest {label} {over}: {values[best]:.3f}"
    else:
        lead = f"**{best}** has the lowest {label} {over}: {values[best]:.3f}{base}"
    if runner_up is None:
        return f"{lead}."
    folds = result.forecasts["fold"].nunique()
    role = "the runner-up, the baseline" if runner_up == baseline else "the runner-up"
    against = f"{role} {runner_up} ({values[runner_up]:.3f})"
    if folds < 3:
        return f"{lead}. Its lead over {against} is not tested: that needs at least 3 folds."
    try:
        row, loss = _lead_test(result, metric, best, runner_up)
    except InputError as error:  # a runner-up with non-finite forecasts: say so, go on
        return f"{lead}. Its lead over {against} cannot be tested: {error}"
    how = (
        f"two-sided Diebold-Mariano test at the {_ALPHA:.0%} level on {loss}, "
        f"p = {row['p_value']:.3f} over {int(row['folds'])} folds"
    )
    if row["p_value"] < _ALPHA and row["statistic"] < 0:
        return f"{lead}, significantly lower than {against} ({how})."
    return f"**No clear winner**: {lead}, but its lead over {against} is not significant ({how})."


def verdicts(comparison: pd.DataFrame, base: str) -> tuple[str, list[tuple[str, str]], str]:
    """The verdicts against the baseline: a summary sentence, ``(kind, text)`` per model
    (kind ``better``, ``worse`` or ``same``) and the test stated in one sentence."""
    significant = comparison["p_value"] < _ALPHA
    better = [m for m in comparison.index if significant[m] and comparison.at[m, "statistic"] < 0]
    worse = [m for m in comparison.index if significant[m] and comparison.at[m, "statistic"] > 0]
    if better:
        verb = "is" if len(better) == 1 else "are"
        summary = f"{join_names(better)} {verb} significantly more accurate than {base}"
    else:
        summary = f"No model is significantly more accurate than the baseline **{base}**"
    items = []
    for model, row in comparison.iterrows():
        kind = "better" if model in better else "worse" if model in worse else "same"
        p = "" if pd.isna(row["p_value"]) else f" (p = {row['p_value']:.3f})"
        items.append((kind, f"{row['verdict']}{p}"))
    return f"{summary}.", items, f"{comparison.attrs['test']}."


def interval_hits(forecasts: pd.DataFrame) -> pd.Series:
    """Whether each scored actual lies inside its interval, on the rows that are scored:
    an actual tsrnn filled (NaN in the table) or an infinite bound scores nothing."""
    scored = (
        forecasts["actual"].notna()
        & np.isfinite(forecasts["lower"])
        & np.isfinite(forecasts["upper"])
    )
    rows = forecasts[scored]
    return (rows["actual"] >= rows["lower"]) & (rows["actual"] <= rows["upper"])


def coverage_warning(result) -> str | None:
    """A warning naming the models whose interval coverage is far from nominal."""
    hits = interval_hits(result.forecasts)
    share = hits.groupby(result.forecasts.loc[hits.index, "model"], sort=False).mean()
    far = share[(share - result.coverage).abs() > COVERAGE_TOLERANCE]
    if far.empty:
        return None
    parts = [f"{name} {value:.1%}" for name, value in far.items()]
    narrow = (far < result.coverage).all()
    wide = (far > result.coverage).all()
    why = (
        "too narrow: they understate the uncertainty"
        if narrow
        else "too wide: they overstate the uncertainty"
        if wide
        else "below nominal: too narrow; above: too wide"
    )
    return (
        f"Interval coverage far from the nominal {result.coverage:.0%} (more than "
        f"{COVERAGE_TOLERANCE * 100:.0f} percentage points off): "
        f"{join_names(parts, bold=False)}; {why}."
    )


def _order_text(model) -> str:
    p, d, q = model.order_
    text = f"ARIMA({p},{d},{q})"
    seasonal = tuple(getattr(model, "seasonal_order_", None) or (0, 0, 0, 0))
    if len(seasonal) == 4 and seasonal[3] > 1 and any(seasonal[:3]):
        text += f"({seasonal[0]},{seasonal[1]},{seasonal[2]})[{seasonal[3]}]"
    trend = getattr(model, "trend_", "n")
    if trend == "t" and d + (seasonal[1] if len(seasonal) == 4 else 0) == 1:
        return f"{text} with drift"  # a linear trend in levels is a drift in differences
    terms = {"c": "constant", "t": "linear trend", "ct": "constant and linear trend"}
    return f"{text} with {terms[trend]}" if trend in terms else text


def arima_orders(result, models: Mapping[str, object] | None) -> dict[str, str]:
    """Each fitted ARIMA's order (last fold's fit), from the result's or the given models."""
    fitted = dict(getattr(result, "final_models", None) or {})
    for name, model in (models or {}).items():
        fitted.setdefault(name, model)
    return {
        str(name): _order_text(model)
        for name, model in fitted.items()
        if getattr(model, "order_", None) is not None
    }
