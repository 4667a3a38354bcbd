"""Static plots with matplotlib, imported only when used; PNGs render with Agg, no display."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from tsrnn.exceptions import InputError
from tsrnn.io import atomic_write

__all__ = ["plot_forecast", "check_plot_path", "PLOT_FORMATS"]

#: File name endings and the image format written for each (matplotlib's own writers).
PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def check_plot_path(path: str | os.PathLike) -> str:
    """The image format for ``path`` from its ending; refuse endings that would not match.

    Raises
    ------
    InputError
        If ``path`` does not end in ``.png``, ``.svg`` or ``.pdf`` (a ``.jpg`` would get
        PNG bytes).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise InputError(
            f"plot file {str(path)!r} must end in {', '.join(PLOT_FORMATS)} "
            f"(got {suffix or 'no ending'!r}); those are the formats written."
        )
    return PLOT_FORMATS[suffix]


def _axis_label(history: pd.Series, units: str | None) -> str:
    """The column name, with its units when known (``temp_max (°C)``)."""
    name = str(history.name) if history.name is not None else "value"
    return f"{name} ({units})" if units else name


def plot_forecast(
    history: pd.Series,
    forecast: pd.DataFrame,
    path: str | os.PathLike,
    *,
    coverage: float = 0.9,
    tail: int = 200,
    title: str | None = None,
    units: str | None = None,
) -> None:
    """Save an image of the history's tail, the point forecast and its interval band.

    Parameters
    ----------
    history : pd.Series
        Observed values on a ``DatetimeIndex``; the last ``tail`` of them are drawn.
        The name (the column) labels the y axis.
    forecast : pd.DataFrame
        Columns ``forecast``, ``lower``, ``upper`` on future timestamps.
    path : str or path-like
        Destination image, written atomically: PNG, SVG or PDF by its ending.
    coverage : float
        Nominal coverage, for the legend.
    tail : int
        Number of past observations to show.
    title : str, optional
        Figure title (default: ``Forecast of <column>``).
    units : str, optional
        Units of the values, added to the y-axis label: ``temp_max (°C)``.

    Examples
    --------
    >>> from tsrnn import NaiveForecaster
    >>> from tsrnn.datasets import load_dataset
    >>> y = load_dataset("seattle")
    >>> model = NaiveForecaster().fit(y)
    >>> table = model.predict(7).to_frame("forecast").join(model.predict_interval(7))
    >>> plot_forecast(y, table, "forecast.png", units="°C")  # doctest: +SKIP
    """
    fmt = check_plot_path(path)
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure  # no pyplot: no display, the caller's backend kept

    recent = history.iloc[-tail:]
    # Start the forecast line and band at the last observation, so they join the history.
    joined = pd.concat(
        [
            pd.DataFrame(
                {c: [float(recent.iloc[-1])] for c in ("forecast", "lower", "upper")},
                index=recent.index[-1:],
            ),
            forecast[["forecast", "lower", "upper"]].astype(float),
        ]
    )
    fig = Figure(figsize=(9, 4), dpi=110, layout="constrained")
    ax = fig.subplots()
    ax.plot(recent.index, recent.to_numpy(), color="#333333", lw=1.2, label="observed")
    ax.fill_between(
        joined.index,
        joined["lower"],
        joined["upper"],
        color="#1f77b4",
        alpha=0.25,
        lw=0,
        label=f"{coverage:.0%} interval",
    )
    ax.plot(joined.index, joined["forecast"], color="#1f77b4", lw=2, label="forecast")
    ax.axvline(recent.index[-1], color="#999999", lw=0.8, ls=":")
    ax.set_ylabel(_axis_label(history, units))
    ax.set_title(title or f"Forecast of {history.name}", loc="left")
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(loc="outside upper right", ncols=3, frameon=False)

    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format=fmt))
