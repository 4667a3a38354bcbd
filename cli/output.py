"""Formatting forecasts for the terminal and writing output files atomically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn.io import atomic_write


def forecast_table(point: pd.Series, interval: pd.DataFrame) -> pd.DataFrame:
    """The ``date,forecast,lower,upper`` table of the contract (``ID,date,...`` for a panel)."""
    table = pd.DataFrame(
        {
            "forecast": point.to_numpy(),
            "lower": interval["lower"].to_numpy(),
            "upper": interval["upper"].to_numpy(),
        },
        index=point.index,
    )
    if isinstance(table.index, pd.MultiIndex):
        table.index = table.index.set_names([table.index.names[0], "date"])
    else:
        table.index.name = "date"
    return table


def _date_strings(index: pd.DatetimeIndex) -> list[str]:
    midnight = bool((index == index.normalize()).all()) and index.tz is None
    if midnight:  # vectorised; also works past year 9999, where Timestamp.strftime fails
        return list(index.strftime("%Y-%m-%d"))
    return [ts.isoformat() for ts in index]


def table_number(value: float) -> str:
    """Four decimals, or six significant digits where four decimals would hide the value."""
    if value == 0 or 1e-3 <= abs(value) < 1e12 or value != value:
        return f"{value:.4f}"
    return f"{value:.6g}"


def render(table: pd.DataFrame, fmt: str) -> str:
    """Render a forecast table as ``csv``, ``json`` (records) or an aligned ``table``."""
    frame = table.reset_index()
    frame["date"] = _date_strings(pd.DatetimeIndex(table.index.get_level_values("date")))
    if fmt == "json":
        return json.dumps(frame.to_dict(orient="records"), indent=1) + "\n"
    if fmt == "table":
        return frame.to_string(index=False, float_format=table_number) + "\n"
    # 10 significant digits: exact enough for prices in the millions, free of float noise;
    # 17 (round-trip) near the largest float, which 10 digits would round up to infinity.
    numbers = table.select_dtypes("number").to_numpy(dtype=float)
    near_max = numbers.size and bool((np.abs(numbers[np.isfinite(numbers)]) > 1.79e308).any())
    return frame.to_csv(
        index=False, float_format="%.17g" if near_max else "%.10g", lineterminator="\n"
    )


def write_output(table: pd.DataFrame, path: str) -> None:
    """Write the table to ``path`` (JSON for ``.json``, CSV otherwise) without partial files."""
    text = render(table, "json" if Path(path).suffix.lower() == ".json" else "csv")
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
