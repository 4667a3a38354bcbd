"""Static plots with matplotlib on a non-interactive backend (imported only when used)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from tsrnn.io import atomic_write

__all__ = ["plot_forecast"]


def plot_forecast(
    history: pd.Series,
    forecast: pd.DataFrame,
    path: str | os.PathLike,
    *,
    coverage: float = 0.9,
    tail: int = 200,
    title: str | None = None,
) -> None:
    """Save a PNG of the history's tail, the point forecast and its interval band.

    Parameters
    ----------
    history : pd.Series
        Observed values; the last ``tail`` of them are drawn. The name labels the y axis.
    forecast : pd.DataFrame
        Columns ``forecast``, ``lower``, ``upper`` on future timestamps.
    path : str or path-like
        Destination PNG, written atomically.
    coverage : float
        Nominal coverage, for the legend.
    tail : int
        Number of past observations to show.
    title : str, optional
        Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    recent = history.iloc[-tail:]
    ax.plot(recent.index, recent.to_numpy(), color="#333333", lw=1.2, label="observed")
    ax.plot(forecast.index, forecast["forecast"], color="#1f77b4", lw=2, label="forecast")
    ax.fill_between(
        forecast.index,
        forecast["lower"],
        forecast["upper"],
        color="#1f77b4",
        alpha=0.25,
        label=f"{coverage:.0%} interval",
    )
    ax.set_ylabel(str(history.name))
    ax.set_title(title or f"Forecast of {history.name}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.autofmt_xdate()
    fig.tight_layout()

    def write(tmp: str) -> None:
        fig.savefig(tmp, format="png")

    try:
        atomic_write(Path(path), write)
    finally:
        plt.close(fig)
