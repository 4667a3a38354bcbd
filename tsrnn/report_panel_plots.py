"""Figures of a panel backtest report: the critical-difference chart and small multiples.

Like :mod:`tsrnn.report_plots`, every function returns PNG bytes and imports matplotlib
inside, so importing this module stays cheap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrnn.report_plots import _OBSERVED, _WIDTH, _colors, _date_axis, _figure, _png, _styled

__all__ = ["plot_critical_difference", "plot_series_last_fold"]


@_styled
def plot_critical_difference(ranks, colors_for: list[str] | None = None) -> bytes:
    """Demsar's critical-difference diagram: mean ranks on one axis, CD bar, non-significant groups.

    Models joined by a thick bar are not significantly different (Nemenyi); when the
    Friedman test does not reject, one bar joins them all.
    """
    mean = ranks.mean_ranks
    k = len(mean)
    colors = _colors(colors_for or list(mean.index))
    fig, ax = _figure(_WIDTH, 1.2 + 0.32 * k)
    ax.grid(False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.set_xlim(k + 0.3, -0.3)  # rank 1 (best) on the right, as in Demsar's figures
    ax.set_xticks(range(1, k + 1))
    ax.set_xlabel(f"mean rank of {ranks.metric.upper()} over {ranks.n_series} series (1 = best)")
    ax.set_ylim(-k - 0.5, 1.6)
    for i, (model, rank) in enumerate(mean.items()):
        y = -i - 0.5
        ax.plot([rank, rank], [0, y], color=colors.get(model, "#444444"), lw=1.2)
        ax.plot(rank, 0, "o", color=colors.get(model, "#444444"), ms=7)
        ax.plot([rank, 0.9], [y, y], color=colors.get(model, "#444444"), lw=0.8)
        ax.text(0.85, y, f"{model} ({rank:.2f})", va="center", ha="left",
                color=colors.get(model, "#444444"), fontsize=10)  # fmt: skip
    cd = ranks.critical_difference
    start = k + 0.2
    ax.plot([start, start - cd], [1.1, 1.1], color=_OBSERVED, lw=2)
    ax.text(start - cd / 2, 1.25, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    for j, (lo, hi) in enumerate(_cliques(ranks)):
        y = 0.25 + 0.18 * j
        ax.plot([lo - 0.03, hi + 0.03], [y, y], color=_OBSERVED, lw=4, solid_capstyle="round")
    return _png(fig)


def _cliques(ranks) -> list[tuple[float, float]]:
    """Maximal runs of adjacent models whose mean ranks differ by less than CD."""
    values = ranks.mean_ranks.to_numpy(dtype=float)
    if ranks.pvalue >= ranks.alpha:
        return [(values.min(), values.max())] if len(values) > 1 else []
    found: list[tuple[float, float]] = []
    for i in range(len(values)):
        j = i
        while j + 1 < len(values) and values[j + 1] - values[i] < ranks.critical_difference:
            j += 1
        if j > i and not any(lo <= values[i] and values[j] <= hi for lo, hi in found):
            found.append((values[i], values[j]))
    return found


@_styled
def plot_series_last_fold(
    result, series: list, labels: list[str], history: dict | None = None, ylabel: str = "value"
) -> bytes:
    """Small multiples: the last fold of each series named, with recent observations."""
    forecasts = result.forecasts
    cols = 2 if len(series) == 4 else min(3, len(series))
    rows = int(np.ceil(len(series) / cols))
    fig, axes = _figure(_WIDTH, 2.6 * rows, rows=rows, cols=cols)
    axes = np.atleast_1d(axes)
    colors = _colors(result.models)
    for ax, sid, label in zip(axes, series, labels, strict=False):
        own = forecasts[forecasts["series"] == sid]
        last = own[own["fold"] == own["fold"].max()]
        cutoff, horizon = last["cutoff"].iloc[0], int(last["step"].max())
        observed = _observed(own, history, sid)
        before = observed[observed.index <= cutoff].iloc[-max(4 * horizon, 21) :]
        truth = last.drop_duplicates("date").set_index("date")["actual"]
        truth = pd.concat([before.iloc[-1:], truth])
        ax.plot(before.index, before.to_numpy(), color=_OBSERVED, lw=1.0)
        ax.plot(truth.index, truth.to_numpy(), color=_OBSERVED, lw=2.0, marker="o", ms=3)
        for model in result.models:
            part = last[last["model"] == model]
            if len(part):
                ax.plot(part["date"], part["forecast"], color=colors[model], lw=1.5, label=model)
        ax.axvline(cutoff, color="#999999", lw=0.8, ls=":")
        ax.set_title(label, fontsize=10, loc="left")
        _date_axis(ax)
    for ax in axes[len(series) :]:
        ax.set_visible(False)
    axes[0].set_ylabel(ylabel)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=min(6, len(names)), fontsize=9)
    return _png(fig)


def _observed(own: pd.DataFrame, history: dict | None, sid) -> pd.Series:
    if history is not None and sid in history:
        values = history[sid]
        return values if isinstance(values, pd.Series) else values.iloc[:, 0]
    return own.drop_duplicates("date").set_index("date")["actual"].sort_index()
