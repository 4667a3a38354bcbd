"""The sections of a panel backtest report (many series), for :mod:`tsrnn.report`.

In order: a headline in plain words (which model beats the baseline on how many series,
significantly on how many, and how the models rank across series), the panel metrics,
the verdict of every model against the baseline, the rank chart with the Nemenyi
critical difference, the per-series table sorted by gain, the last fold of the best and
worst series as small multiples (at most :data:`MAX_PANELS`), the failures and
skipped folds, and how to reproduce the run.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tsrnn import report_panel_plots as plots
from tsrnn._report_parts import (
    HEADERS,
    Block,
    Table,
    choose_baseline,
    format_column,
    metrics_table,
    reproduction_blocks,
)
from tsrnn._report_verdicts import (
    COVERAGE_TOLERANCE,
    coverage_warning,
    interval_hits,
    join_names,
)
from tsrnn.exceptions import InputError
from tsrnn.panel_result import PANEL_AGGREGATES

__all__ = ["panel_sections", "MAX_PANELS", "MAX_ROWS"]

#: Series drawn as small multiples: the best and the worst half each.
MAX_PANELS = 6
#: Rows of the per-series table before it shows only the top and bottom.
MAX_ROWS = 40
_LEVEL = 0.05


def _split_history(history) -> dict | None:
    if history is None:
        return None
    if isinstance(history, dict):
        return history
    if isinstance(getattr(history, "index", None), pd.MultiIndex):
        return {sid: part.droplevel(0) for sid, part in history.groupby(level=0, sort=False)}
    raise InputError(
        f"history of a panel must be a dict or MultiIndexed; got {type(history).__name__}."
    )


def _metric(result) -> str:
    for name in ("mase", "smape", "mae"):
        if name in result.metric_names:
            return name
    raise InputError("a panel report needs mase, smape or mae among the backtest's metrics.")


def _gains(result, baseline: str, metric: str) -> pd.DataFrame:
    """Per series: every model's score, the best other model and its gain over the baseline."""
    scores = result.scores(metric)
    others = [m for m in result.models if m != baseline and m in scores]
    table = scores.copy()
    if others:
        best = scores[others].idxmin(axis=1)
        best_score = scores[others].min(axis=1)
        table["best challenger"] = best
        with np.errstate(divide="ignore", invalid="ignore"):
            table["gain"] = 1 - best_score / scores[baseline]
    return table.sort_values("gain", ascending=False) if "gain" in table else table


def _headline(result, baseline: str, verdicts: pd.DataFrame | None, ranks) -> list[Block]:
    metric = _metric(result)
    n = len(result.series_ids)
    folds = result.forecasts["fold"].nunique()
    horizon = int(result.forecasts["step"].max())
    label = HEADERS.get(metric, metric)
    values = result.metrics[metric]
    best = str(values.idxmin()) if values.notna().any() else result.models[0]
    others = values.drop(baseline).dropna()
    challenger = str(others.idxmin()) if len(others) else best
    if ranks is not None:  # the challenger is the best-ranked model other than the baseline
        ranked = [m for m in ranks.mean_ranks.index if m != baseline]
        challenger = ranked[0] if ranked else challenger
    lines = []
    if verdicts is not None and challenger in verdicts.index:
        row = verdicts.loc[challenger]
        text = (
            f"**{challenger}** beats {baseline} on {row['n_better']} of {row['n_series']} series, "
            f"significantly on {row['n_better_significant']}"
        )
        if row["n_worse_significant"]:
            text += f" (and is significantly worse on {row['n_worse_significant']})"
    else:
        text = f"**{best}** has the lowest mean {label} ({values[best]:.3f})"
    if ranks is not None:
        tied = (ranks.mean_ranks == ranks.mean_ranks.iloc[0]).sum() > 1
        alone = ranks.best == challenger and not tied
        text += "; " + ranks.verdict(subject="it" if alone else None)
    lines.append(Block("headline", text + "."))
    lines.append(
        Block(
            "p",
            f"{n} series, {folds} folds of {horizon} steps at the same cutoff dates; mean {label} "
            f"over series: {best} {values[best]:.3f}, baseline {baseline} {values[baseline]:.3f}. "
            f"Significant means a Diebold-Mariano test per series at the {_LEVEL:.0%} level after "
            "Holm's correction for testing every series.",
        )
    )
    if verdicts is not None:
        items = []
        for _, row in verdicts.iterrows():
            kind = "same"
            if row["wilcoxon_p"] < _LEVEL:
                kind = "better" if row["median_gain"] > 0 else "worse"
            items.append((kind, str(row["verdict"])))
        lines.append(Block("verdicts", items=items))
    problems = _problem_sentence(result)
    if problems:
        lines.append(Block("p", problems))
    warning = coverage_warning(result)  # pooled over the series
    per_series = _coverage_per_series(result)
    if warning or per_series:
        lines.append(Block("warning", " ".join(t for t in (warning, per_series) if t)))
    return lines


def _coverage_per_series(result) -> str | None:
    """The models whose coverage is far from nominal on some series, with counts.

    A series counts when its coverage is more than ``COVERAGE_TOLERANCE`` off nominal
    and a two-sided binomial test of its actuals rejects the nominal rate at 5%: with a
    few folds per series, a few points off is what chance gives.
    """
    from scipy.stats import binomtest

    inside = interval_hits(result.forecasts)
    keys = [result.forecasts.loc[inside.index, c] for c in ("model", "series")]
    hits = inside.groupby(keys, sort=False).agg(["sum", "size"])
    off = [
        abs(k / n - result.coverage) > COVERAGE_TOLERANCE
        and binomtest(int(k), int(n), result.coverage).pvalue < 0.05
        for k, n in zip(hits["sum"], hits["size"], strict=True)
    ]
    counts = pd.Series(off, index=hits.index).groupby(level=0, sort=False).agg(["sum", "size"])
    counts = counts[counts["sum"] > 0]
    if counts.empty:
        return None
    parts = [f"{model} on {row['sum']} of {row['size']}" for model, row in counts.iterrows()]
    return (
        f"Per series, coverage is more than {COVERAGE_TOLERANCE * 100:.0f} points off the "
        f"nominal {result.coverage:.0%}, beyond chance (binomial test, 5%), for "
        f"{join_names(parts, bold=False)} series."
    )


def _problem_sentence(result) -> str:
    parts = []
    if len(result.failures):
        first = result.failures.iloc[0]
        parts.append(
            f"{len(result.failures)} forecasts could not be made (first: {first['model']} on "
            f"{first['series']}, fold {first['fold']}: {first['error']})"
        )
    if len(result.skipped):
        parts.append(
            f"{len(result.skipped)} series-folds were skipped because a series was too short"
        )
    if not parts:
        return ""
    return (
        "; ".join(parts)
        + ". Scores and tests use the series and folds every model forecast (see below)."
    )


def _series_table(result, gains: pd.DataFrame, baseline: str, per_series) -> tuple[Table, str]:
    shown, note = gains, ""
    if len(gains) > MAX_ROWS:
        half = MAX_ROWS // 2
        shown = pd.concat([gains.head(half), gains.tail(half)])
        note = f" Showing the {half} series with the largest gain and the {half} with the smallest of {len(gains)}."
    cells = pd.DataFrame(index=[str(s) for s in shown.index])
    models = [m for m in result.models if m in shown]
    numbers = format_column(pd.concat([shown[m] for m in models]))
    for i, model in enumerate(models):
        label = f"{model} (baseline)" if model == baseline else model
        cells[label] = numbers.iloc[i * len(shown) : (i + 1) * len(shown)].to_numpy()
    best = pd.DataFrame(False, index=cells.index, columns=cells.columns)
    values = shown[models].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        best.iloc[:, : len(models)] = np.isclose(values, np.nanmin(values, axis=1, keepdims=True))
    if "gain" in shown:
        cells["best challenger"] = shown["best challenger"].astype(str).to_numpy()
        cells["gain vs baseline"] = (
            shown["gain"].map(lambda g: "" if np.isnan(g) else f"{g:+.1%}").to_numpy()
        )
        cells["DM (Holm)"] = [
            _dm_mark(per_series, m, s)
            for m, s in zip(shown["best challenger"], shown.index, strict=True)
        ]
        best["best challenger"] = best["gain vs baseline"] = best["DM (Holm)"] = False
    return Table(cells, best, index_label=result.id_name), note


def _dm_mark(per_series, model, series) -> str:
    if per_series is None or (model, series) not in per_series.index:
        return "not tested"
    row = per_series.loc[(model, series)]
    if not np.isfinite(row["p_holm"]):
        return "not tested"
    if row["significant"]:
        return f"{'better' if row['better'] else 'worse'} (p = {row['p_holm']:.3f})"
    return f"n.s. (p = {row['p_holm']:.2f})"


def _small_multiples(gains: pd.DataFrame) -> tuple[list, list[str]]:
    if "gain" not in gains or gains["gain"].isna().all():
        chosen = list(gains.index[:MAX_PANELS])
        return chosen, [str(s) for s in chosen]
    ordered = gains.dropna(subset=["gain"])
    half = MAX_PANELS // 2
    if len(ordered) <= MAX_PANELS:
        chosen = list(ordered.index)
    else:
        chosen = list(ordered.index[:half]) + list(ordered.index[-half:])
    labels = [
        f"{s}: {ordered.loc[s, 'best challenger']} {ordered.loc[s, 'gain']:+.1%} vs baseline"
        for s in chosen
    ]
    return chosen, labels


def _listing(frame: pd.DataFrame, columns: list[str], limit: int = 20) -> Table:
    shown = frame.head(limit)
    cells = shown[columns].astype(str)
    cells.index = [str(i + 1) for i in range(len(shown))]
    return Table(cells, index_label="#", text=True)


def panel_sections(
    result,
    *,
    history=None,
    models: Mapping[str, object] | None = None,
    data_summary: Mapping | None = None,
    command: str | None = None,
    baseline: str | None = None,
) -> list[Block]:
    """The report of a panel backtest as blocks (see the module docstring)."""
    if models is None:
        models = getattr(result, "final_models", None) or None
    histories = _split_history(history)
    base = choose_baseline(result, baseline)
    metric = _metric(result)
    label = HEADERS.get(metric, metric)
    folds = result.forecasts["fold"].nunique()
    verdicts = per_series = ranks = None
    if len(result.models) > 1 and folds >= 3:
        try:
            per_series = result.compare(base, level="series")
            verdicts = result.compare(base)
        except InputError:
            per_series = verdicts = None
    if len(result.models) > 1:
        try:
            ranks = result.rank_test(metric)
        except InputError:
            ranks = None
    gains = _gains(result, base, metric)
    blocks: list[Block] = _headline(result, base, verdicts, ranks)
    aggregates = ", ".join(
        f"{HEADERS.get(m, m)}: {PANEL_AGGREGATES.get(m, 'pooled')}" for m in result.metric_names
    )
    blocks += [
        Block("h2", "Metrics across series", anchor="metrics"),
        Block("table", metrics_table(_without_counts(result), base)),
        Block("note", f"On the series and folds where every model forecast. {aggregates}. "
              "Pooled errors are in the data's units: compare them only across series of one scale."),
    ]  # fmt: skip
    if ranks is not None:
        blocks += [
            Block("h2", "Ranks across series", anchor="ranks"),
            Block("plot", f"Mean rank of {label} over {ranks.n_series} series; models joined by a bar "
                  f"are not significantly different (Friedman p = {ranks.pvalue:.3g}, Nemenyi CD "
                  f"{ranks.critical_difference:.2f} at {ranks.alpha:.0%})", anchor="ranks",
                  draw=lambda: plots.plot_critical_difference(ranks, result.models)),
        ]  # fmt: skip
    table, note = _series_table(result, gains, base, per_series)
    chosen, labels = _small_multiples(gains)
    blocks += [
        Block("h2", f"{label} per series, by gain over {base}", anchor="series"),
        Block("table", table),
        Block("note", f"Gain: 1 - {label} of the best other model / {label} of {base}. DM: that model "
              f"against {base} on the series' folds, Holm-adjusted p-value.{note}"),
        Block("h2", "Last fold of the best and worst series", anchor="small"),
        Block("plot", "The last fold of the series where the best model gains most and least "
              "(black: observed and actual)", anchor="small_multiples",
              draw=lambda: plots.plot_series_last_fold(result, chosen, labels, histories)),
    ]  # fmt: skip
    if len(result.failures) or len(result.skipped):
        blocks.append(Block("h2", "Failures and skipped folds", anchor="problems"))
    if len(result.failures):
        blocks += [
            Block("p", f"{len(result.failures)} forecasts failed (first 20):"),
            Block("table", _listing(result.failures, ["series", "model", "fold", "error"])),
        ]
    if len(result.skipped):
        blocks += [
            Block("p", f"{len(result.skipped)} series-folds skipped (first 20):"),
            Block("table", _listing(result.skipped, ["series", "fold", "reason"])),
        ]
    extra = {
        "series": str(len(result.series_ids)),
        **{str(k): str(v) for k, v in (data_summary or {}).items()},
    }
    blocks += [
        Block("h2", "Data", anchor="data"),
        Block("table", Table(pd.DataFrame({"value": list(extra.values())}, index=list(extra)),
                             index_label="", text=True)),
        Block("h2", "Reproduce this run", anchor="reproduce"),
        *reproduction_blocks(result, models, command, base),
    ]  # fmt: skip
    return blocks


class _without_counts:
    """The result seen by :func:`metrics_table`: the panel metrics without ``n_series``."""

    def __init__(self, result) -> None:
        self.metrics = result.metrics.drop(columns="n_series")
        self.coverage = result.coverage
