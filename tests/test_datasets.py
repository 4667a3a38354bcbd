"""Tests of the bundled datasets package ``tsrnn.datasets``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn import datasets as ds
from tsrnn.exceptions import DataError, DatasetNotFoundError

NAMES = ["aapl", "ibm", "goog", "msft", "seattle", "clemson", "nyc_jfk"]
FREQ = {"aapl": "B", "ibm": "B", "goog": "B", "msft": "B"} | {
    "seattle": "D",
    "clemson": "D",
    "nyc_jfk": "h",
}
TARGET = {"aapl": "adj_close", "ibm": "adj_close", "goog": "adj_close", "msft": "close"} | {
    "seattle": "temp_max",
    "clemson": "temp_max_f",
    "nyc_jfk": "temp_f",
}
CSV_ROWS = {
    "aapl": 3270,
    "ibm": 3270,
    "goog": 2148,
    "msft": 7983,
    "seattle": 1461,
    "clemson": 33148,
    "nyc_jfk": 8706,
}


def _raw(name: str) -> pd.DataFrame:
    return pd.read_csv(ds.dataset_path(name), parse_dates=["date"], index_col="date")


def _line_count(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh) - 1  # minus the header


def test_registry_names_and_public_api():
    assert list(ds.DATASETS) == NAMES
    assert sorted(ds.__all__) == sorted(
        [
            "DATASETS",
            "PANELS",
            "DatasetInfo",
            "dataset_path",
            "list_datasets",
            "load_dataset",
            "load_panel",
        ]
    )
    for public in ds.__all__:
        assert hasattr(ds, public)


@pytest.mark.parametrize("name", NAMES)
def test_registry_metadata(name):
    info = ds.DATASETS[name]
    assert info.freq == FREQ[name]
    assert info.target == TARGET[name]
    assert info.season_length == {"B": 5, "D": 7, "h": 24}[info.freq]
    assert info.kind == ("stock" if info.freq == "B" else "weather")
    assert list(info.units) == list(_raw(name).columns)


@pytest.mark.parametrize("name", NAMES)
def test_load_returns_series_on_regular_calendar(name):
    y = ds.load_dataset(name)
    assert isinstance(y, pd.Series)
    assert y.name == TARGET[name]
    assert isinstance(y.index, pd.DatetimeIndex)
    assert y.index.name == "date"
    assert y.index.is_monotonic_increasing and y.index.is_unique
    assert y.index.freqstr == FREQ[name]
    assert y.attrs["dataset"] == name


@pytest.mark.parametrize("name", NAMES)
def test_length_is_raw_rows_plus_inserted_gaps(name):
    raw = _raw(name)
    y = ds.load_dataset(name)
    calendar = pd.date_range(raw.index[0], raw.index[-1], freq=FREQ[name])
    assert len(y) == len(calendar)
    assert raw.index.isin(y.index).all()
    assert len(y) == CSV_ROWS[name] + len(calendar.difference(raw.index))


@pytest.mark.parametrize("name", ["aapl", "ibm", "goog", "msft"])
def test_stock_length_is_business_days(name):
    raw = _raw(name)
    assert len(ds.load_dataset(name)) == len(pd.bdate_range(raw.index[0], raw.index[-1]))


@pytest.mark.parametrize("as_frame", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_filled_count_equals_nan_count_without_fill(name, as_frame):
    filled = ds.load_dataset(name, as_frame=as_frame)
    raw = ds.load_dataset(name, as_frame=as_frame, fill=False)
    assert not filled.isna().to_numpy().any()
    assert filled.attrs["filled"] == int(raw.isna().to_numpy().sum())
    assert raw.attrs == {"dataset": name, "filled": 0}
    assert filled.index.equals(raw.index)


@pytest.mark.parametrize("name", NAMES)
def test_fill_false_keeps_source_values(name):
    frame = ds.load_dataset(name, as_frame=True, fill=False)
    raw = _raw(name)
    pd.testing.assert_frame_equal(
        frame.loc[raw.index], raw, check_freq=False, check_dtype=False, check_index_type=False
    )


@pytest.mark.parametrize("name", NAMES)
def test_fill_does_not_change_observed_values(name):
    frame = ds.load_dataset(name, as_frame=True)
    raw = _raw(name)
    observed = raw.notna()
    np.testing.assert_array_equal(
        frame.loc[raw.index].to_numpy()[observed], raw.to_numpy()[observed]
    )


def test_stock_closed_day_keeps_last_price_and_zero_volume():
    df = ds.load_dataset("aapl", as_frame=True)
    closed = pd.Timestamp("2001-09-11")
    before = pd.Timestamp("2001-09-10")
    assert closed not in _raw("aapl").index
    prices = ["open", "high", "low", "close", "adj_close"]
    assert df.loc[closed, prices].tolist() == df.loc[before, prices].tolist()
    assert df.loc[closed, "volume"] == 0
    assert df["volume"].dtype == np.int64


def test_weather_gap_is_interpolated_in_time():
    raw = _raw("clemson")["temp_max_f"]
    y = ds.load_dataset("clemson")
    missing = y.index.difference(raw.index)
    day = missing[0]
    before, after = raw[raw.index < day].iloc[-1], raw[raw.index > day].iloc[0]
    assert min(before, after) <= y[day] <= max(before, after)


def test_known_values():
    assert ds.load_dataset("seattle")["2012-01-01"] == 12.8
    msft = ds.load_dataset("msft")
    assert msft.index[0] == pd.Timestamp("1986-03-13")
    assert msft.iloc[0] == 0.07533
    clemson = ds.load_dataset("clemson", target="temp_min_f", fill=False)
    assert clemson["1936-07-18"] == -72.04  # suspect value kept as in the source
    jfk = ds.load_dataset("nyc_jfk")
    assert jfk.index[0] == pd.Timestamp("2013-01-01 06:00")  # UTC
    assert jfk.iloc[0] == 39.02


def test_target_and_as_frame():
    close = ds.load_dataset("aapl", target="close")
    assert close.name == "close"
    assert close["2013-03-01"] == 430.47
    frame = ds.load_dataset("seattle", as_frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["precipitation", "temp_max", "temp_min", "wind"]
    assert frame.index.freqstr == "D"


def test_unknown_target_names_the_columns():
    with pytest.raises(DataError, match="'price'.*open, high, low, close, volume"):
        ds.load_dataset("msft", target="price")


@pytest.mark.parametrize(
    "alias",
    ["weather_seattle_daily", "weather_seattle_daily.csv", "Seattle", " seattle "],
)
def test_aliases(alias):
    pd.testing.assert_series_equal(ds.load_dataset(alias), ds.load_dataset("seattle"))
    assert ds.dataset_path(alias) == ds.dataset_path("seattle")


@pytest.mark.parametrize("name", NAMES)
def test_file_stem_alias(name):
    stem = ds.DATASETS[name].stem
    assert ds.load_dataset(stem).attrs["dataset"] == name


@pytest.mark.parametrize("func", [ds.load_dataset, ds.dataset_path])
def test_unknown_name_lists_available(func):
    with pytest.raises(DatasetNotFoundError) as excinfo:
        func("melbourne")
    assert isinstance(excinfo.value, KeyError)
    message = str(excinfo.value)
    assert "'melbourne'" in message
    for name in NAMES:
        assert name in message


def test_list_datasets():
    table = ds.list_datasets()
    assert list(table.columns) == [
        "name",
        "kind",
        "freq",
        "rows",
        "start",
        "end",
        "columns",
        "target",
        "source",
        "license",
    ]
    assert table["name"].tolist() == NAMES
    for row in table.itertuples():
        path = ds.dataset_path(row.name)
        assert row.rows == _line_count(path) == CSV_ROWS[row.name]
        raw = _raw(row.name)
        assert (row.start, row.end) == (raw.index[0], raw.index[-1])
        assert row.columns == ",".join(raw.columns)
        assert row.freq == FREQ[row.name] and row.target == TARGET[row.name]
    table.loc[0, "rows"] = -1  # a copy: the cached table is not changed
    assert ds.list_datasets().loc[0, "rows"] == CSV_ROWS["aapl"]


def test_package_ships_exactly_the_allowed_files():
    folder = Path(ds.__file__).parent
    csvs = {p.name for p in folder.glob("*.csv")}
    assert csvs == {info.filename for info in ds.DATASETS.values()}
    for forbidden in ("ge", "melbourne", "beijing"):
        assert not [p for p in folder.iterdir() if forbidden in p.name.lower()]
    assert (folder / "README.md").is_file()
    for name in NAMES:
        assert ds.dataset_path(name).parent == folder


def test_import_does_not_load_torch():
    code = "import sys, tsrnn.datasets; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
