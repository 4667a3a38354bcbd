"""The figures of a backtest report, drawn with matplotlib on the Agg backend.

Every function takes a :class:`~tsrnn.backtest_result.BacktestResult` (and, where
useful, the observed series) and returns PNG bytes. matplotlib is imported inside the
functions, so importing this module (and ``tsrnn``) stays cheap. Figures are built with
``matplotlib.figure.Figure`` rather than pyplot: PNGs render with Agg, no display is
needed, and the caller's backend and rcParams (a notebook's, say) are left alone.
Each model keeps one colour in every figure.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = [
    "plot_error_by_step",
    "plot_folds",
    "plot_final_fold",
    "plot_error_distribution",
    "plot_coverage",
    "plot_training_curves",
]

_WIDTH = 10.0  # inches; at 110 dpi the images are 1100 px wide, the width of the report
_DPI = 110
_OBSERVED = "#222222"


_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


def _styled(draw: Callable[..., bytes]) -> Callable[..., bytes]:
    """Draw under the report's style without changing the caller's matplotlib settings."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs) -> bytes:
        import matplotlib

        with matplotlib.rc_context(_STYLE):
            return draw(*args, **kwargs)

    return wrapper


def _figure(width: float, height: float, rows: int = 1, cols: int = 1, **kwargs):
    """A figure outside pyplot (no global state, no display; PNGs render with Agg).

    Returns the figure and one Axes, or a flat array of them for several panels.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, **kwargs).ravel()
    return fig, axes[0] if len(axes) == 1 else axes


def _colors(models: list[str]) -> dict[str, str]:
    palette = [
        "#1f77b4",
        "#d62728",
        "#2ca02c",
        "#9467bd",
        "#ff7f0e",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
    ]
    return {name: palette[i % len(palette)] for i, name in enumerate(models)}


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _observed(result, history: pd.Series | None) -> pd.Series:
    """The observed series: ``history`` if given, else the actuals of the test windows."""
    if history is not None:
        return history
    actual = result.forecasts.drop_duplicates("date").set_index("date")["actual"]
    return actual.sort_index()


@_styled
def plot_error_by_step(result, metric: str = "mae", ylabel: str = "MAE") -> bytes:
    """One line per model: ``metric`` at each horizon step, over all folds."""
    table = result.metrics_by("step")[metric].unstack("model")[result.models]
    colors = _colors(result.models)
    fig, ax = _figure(_WIDTH * 0.55, 3.4)
    for model in result.models:
        ax.plot(table.index, table[model], marker="o", lw=1.8, color=colors[model], label=model)
    ax.set_xlabel("forecast step (periods ahead)")
    ax.set_ylabel(ylabel)
    ax.set_xticks(table.index)
    ax.set_ylim(bottom=0)
    fig.legend(loc="outside lower center", ncols=min(len(result.models), 3), fontsize=9)
    return _png(fig)


@_styled
def plot_folds(
    result, history: pd.Series | None = None, last_n: int = 6, ylabel: str = "value"
) -> bytes:
    """One panel per model: the series and the forecasts with intervals of the last folds."""
    forecasts = result.forecasts
    folds = sorted(forecasts["fold"].unique())[-last_n:]
    shown = forecasts[forecasts["fold"].isin(folds)]
    horizon = int(forecasts["step"].max())
    start = shown["cutoff"].min()
    observed = _observed(result, history)
    context = observed[observed.index <= start].iloc[-max(2 * horizon, 14) :]
    first = context.index[0] if len(context) else start
    observed = observed[(observed.index >= first) & (observed.index <= shown["date"].max())]
    colors = _colors(result.models)
    n = len(result.models)
    fig, axes = _figure(_WIDTH, 0.6 + 2.0 * n, n, 1, sharex=True, sharey=True)
    for ax, model in zip(np.atleast_1d(axes), result.models, strict=True):
        ax.plot(observed.index, observed.to_numpy(), color=_OBSERVED, lw=1.1, label="observed")
        for k, (_, fold) in enumerate(shown[shown["model"] == model].groupby("fold")):
            color = colors[model]
            ax.fill_between(fold["date"], fold["lower"], fold["upper"], color=color, alpha=0.18)
            label = "forecast" if k == 0 else None
            ax.plot(fold["date"], fold["forecast"], color=color, lw=1.8, label=label)
            ax.axvline(fold["cutoff"].iloc[0], color="#999999", lw=0.6, ls=":")
        ax.set_title(model, loc="left", fontweight="bold", color=colors[model])
        ax.set_ylabel(ylabel)
        _date_axis(ax)
    np.atleast_1d(axes)[0].legend(loc="upper left", ncols=2, fontsize=9)
    return _png(fig)


@_styled
def plot_final_fold(result, history: pd.Series | None = None, ylabel: str = "value") -> bytes:
    """The last fold: recent observations, the actual values and every model's forecast."""
    forecasts = result.forecasts
    last = forecasts[forecasts["fold"] == forecasts["fold"].max()]
    cutoff, horizon = last["cutoff"].iloc[0], int(last["step"].max())
    observed = _observed(result, history)
    before = observed[observed.index <= cutoff].iloc[-max(3 * horizon, 21) :]
    truth = last.drop_duplicates("date").set_index("date")["actual"]
    truth = pd.concat([before.iloc[-1:], truth])  # join the actuals to the last observation
    colors = _colors(result.models)
    fig, ax = _figure(_WIDTH, 3.8)
    ax.plot(before.index, before.to_numpy(), color=_OBSERVED, lw=1.2, label="observed")
    ax.plot(
        truth.index, truth.to_numpy(), color=_OBSERVED, lw=2.2, marker="o", ms=4, label="actual"
    )
    for model in result.models:
        rows = last[last["model"] == model]
        ax.plot(
            rows["date"], rows["forecast"], color=colors[model], lw=1.8, marker=".", label=model
        )
    ax.axvline(cutoff, color="#999999", lw=0.8, ls=":")
    ax.set_ylabel(ylabel)
    _date_axis(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return _png(fig)


@_styled
def plot_error_distribution(result, ylabel: str = "error") -> bytes:
    """Box plot of the errors (forecast - actual, as in ``bias``) of every model."""
    forecasts = result.forecasts[result.forecasts["actual"].notna()]  # filled: no actual
    errors = [
        (forecasts["forecast"] - forecasts["actual"])[forecasts["model"] == m].to_numpy()
        for m in result.models
    ]
    colors = _colors(result.models)
    fig, ax = _figure(_WIDTH * 0.55, 0.9 + 0.55 * len(result.models))
    boxes = ax.boxplot(
        errors,
        orientation="horizontal",
        tick_labels=result.models,
        patch_artist=True,
        showmeans=True,
        widths=0.6,
        meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"},
        medianprops={"color": "black"},
        flierprops={"markersize": 3},
    )
    for patch, model in zip(boxes["boxes"], result.models, strict=True):
        patch.set_facecolor(colors[model])
        patch.set_alpha(0.55)
    ax.axvline(0, color="#555555", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel(f"forecast - actual, {ylabel}")
    ax.set_title("box: quartiles, line: median, diamond: mean", loc="left", fontsize=9)
    return _png(fig)


@_styled
def plot_coverage(result) -> bytes:
    """Observed interval coverage of every model against the nominal level."""
    nominal = result.coverage
    forecasts = result.forecasts[result.forecasts["actual"].notna()]  # filled: no actual
    inside = (forecasts["actual"] >= forecasts["lower"]) & (
        forecasts["actual"] <= forecasts["upper"]
    )
    observed = inside.groupby(forecasts["model"], sort=False).mean()[result.models]
    colors = _colors(result.models)
    fig, ax = _figure(_WIDTH * 0.55, 0.9 + 0.55 * len(result.models))
    ypos = np.arange(len(result.models))
    ax.barh(ypos, observed.to_numpy() * 100, color=[colors[m] for m in result.models], alpha=0.7)
    for y, value in zip(ypos, observed.to_numpy(), strict=True):
        ax.text(value * 100 + 1, y, f"{value:.1%}", va="center", fontsize=9)
    ax.axvline(nominal * 100, color="black", ls="--", lw=1.2)
    ax.set_yticks(ypos, result.models)
    ax.set_ylim(len(ypos) - 0.5, -0.9)  # top to bottom, with room for the label
    ax.text(nominal * 100, -0.7, f"nominal {nominal:.0%} ", ha="right", va="center", fontsize=9)
    ax.set_xlim(0, 115)
    ax.set_xlabel("share of actual values inside the interval (%)")
    return _png(fig)


@_styled
def plot_training_curves(histories: dict[str, list[dict]]) -> bytes:
    """One panel per neural model: training and validation loss per epoch."""
    n = len(histories)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = _figure(_WIDTH * min(1.0, 0.4 * cols), 3.0 * rows, rows, cols)
    for ax, (name, history) in zip(np.atleast_1d(axes), histories.items(), strict=False):
        table = pd.DataFrame(history)
        ax.plot(table["epoch"], table["train_loss"], marker=".", label="train")
        if "val_loss" in table and table["val_loss"].notna().any():
            ax.plot(table["epoch"], table["val_loss"], marker=".", label="validation")
            best = table.loc[table["val_loss"].idxmin()]
            ax.axvline(best["epoch"], color="#999999", ls=":", lw=0.8)
        ax.set_title(name, loc="left", fontweight="bold")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (scaled data)")
        ax.legend(fontsize=9)
    for ax in np.atleast_1d(axes)[n:]:
        ax.set_visible(False)
    return _png(fig)
