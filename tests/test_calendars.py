"""Trading calendars on the bundled stock files: holidays are absent, not missing.

Real data: the bundled MSFT (1986-2017) and IBM (2000-2013) daily prices and the real
NYSE calendar of ``exchange_calendars``. Only baselines and a fixed-order ARIMA are
fitted, so these tests are fast and never need torch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import tsrnn
from tsrnn import calendars
from tsrnn.arima import ARIMAForecaster
from tsrnn.baselines import NaiveForecaster, SeasonalNaiveForecaster
from tsrnn.cli import main
from tsrnn.datasets import dataset_path, load_dataset
from tsrnn.exceptions import DataError, DataWarning, InputError
from tsrnn.io import read_csv


def _raw(name: str) -> pd.DataFrame:
    return pd.read_csv(dataset_path(name), parse_dates=["date"], index_col="date")


def _days(index: pd.Index) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in index]


@pytest.fixture(scope="module")
def msft() -> pd.Series:
    """MSFT closes as in the file (trading days only), 2015-06 to 2016-06."""
    return _raw("msft")["close"]["2015-06-01":"2016-06-30"]


def _csv(tmp_path, frame: pd.DataFrame, name: str) -> str:
    path = tmp_path / name
    frame.to_csv(path, index_label="date")
    return str(path)


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


# ------------------------------------------------------------- the calendar
def test_nyse_sessions_skip_holidays_and_unscheduled_closures():
    day = calendars.session_offset("XNYS")
    assert pd.Timestamp("2016-05-27") + day == pd.Timestamp("2016-05-31")  # Memorial Day
    assert pd.Timestamp("2012-10-26") + day == pd.Timestamp("2012-10-31")  # Sandy: 29, 30
    assert pd.Timestamp("2001-09-10") + day == pd.Timestamp("2001-09-17")  # 9/11
    assert calendars.check_calendar("xnys") == "XNYS"
    assert calendars.check_calendar("None") == "none"
    with pytest.raises(InputError, match="not an exchange calendar"):
        calendars.check_calendar("NOPE")


@pytest.mark.parametrize("name", ["aapl", "ibm", "goog", "msft"])
def test_bundled_stock_files_are_inferred_as_nyse(name):
    assert calendars.infer_calendar(_raw(name).index) == "XNYS"


def test_no_calendar_is_inferred_without_evidence(msft):
    weekdays = pd.bdate_range("2016-01-01", "2016-12-30")
    assert calendars.infer_calendar(weekdays) is None  # every weekday present
    with_july_4 = msft.index.union(pd.DatetimeIndex(["2015-07-03"]))  # NYSE closed that day
    assert calendars.infer_calendar(with_july_4) != "XNYS"


def test_other_exchanges_are_inferred_from_their_own_holidays():
    rng = np.random.default_rng(0)
    sessions = calendars.session_grid(
        pd.Timestamp("2019-01-02"), pd.Timestamp("2019-12-31"), "XLON"
    )
    y = pd.Series(100 + np.cumsum(rng.normal(size=len(sessions))), index=sessions, name="p")
    model = NaiveForecaster(horizon=3).fit(y)
    assert model.calendar_ == "XLON"
    assert _days(model.predict().index) == ["2020-01-02", "2020-01-03", "2020-01-06"]


# ------------------------------------------------------- forecasts and update
def test_forecast_after_the_friday_before_memorial_day_skips_the_monday(msft):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # no holiday is "filled"
        model = NaiveForecaster(horizon=5).fit(msft[:"2016-05-27"])
    assert model.calendar_ == "XNYS" and model.freq_ == "B"
    dates = model.predict().index
    assert _days(dates) == ["2016-05-31", "2016-06-01", "2016-06-02", "2016-06-03", "2016-06-06"]
    assert _days(model.predict_interval().index) == _days(dates)
    assert model.predict().iloc[0] == msft["2016-05-27"]


def test_calendar_none_keeps_plain_business_days(msft):
    with pytest.warns(DataWarning, match="filled"):  # every holiday becomes a filled gap
        model = NaiveForecaster(horizon=2, calendar="none").fit(msft[:"2016-05-27"])
    assert model.calendar_ is None
    assert _days(model.predict().index) == ["2016-05-30", "2016-05-31"]


def test_sandy_closure_is_skipped_by_forecasts():
    ibm = load_dataset("ibm")
    model = SeasonalNaiveForecaster(horizon=3).fit(ibm[:"2012-10-26"])
    assert model.season_length_ == 5  # a trading week, as on business days
    assert _days(model.predict().index) == ["2012-10-31", "2012-11-01", "2012-11-02"]


@pytest.mark.parametrize(
    "make", [lambda: NaiveForecaster(horizon=3), lambda: ARIMAForecaster(order=(1, 1, 0))]
)
def test_update_continues_across_a_holiday(msft, make, tmp_path):
    model = make().fit(msft["2015-10-01":"2016-05-27"])
    newer = msft["2016-05-31":"2016-06-03"]  # Tuesday after Memorial Day onwards
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    assert loaded.calendar_ == "XNYS"
    for fitted in (model, loaded):
        fitted.update(newer)
        assert fitted.cutoff_ == pd.Timestamp("2016-06-03")
        assert _days(fitted.predict(3).index) == ["2016-06-06", "2016-06-07", "2016-06-08"]
    pd.testing.assert_series_equal(model.predict(3), loaded.predict(3))


def test_update_with_a_gap_after_the_holiday_is_still_an_error(msft):
    model = NaiveForecaster().fit(msft[:"2016-05-27"])
    with pytest.raises(DataError, match="must continue the data at 2016-05-31"):
        model.update(msft["2016-06-01":"2016-06-03"])


def test_a_session_absent_from_the_data_is_a_gap_filled_with_a_warning(msft, tmp_path):
    y = msft[:"2016-05-27"].drop(pd.Timestamp("2016-05-25"))
    with pytest.warns(DataWarning, match="filled 1 missing value"):
        model = NaiveForecaster().fit(y)
    assert model.calendar_ == "XNYS"
    with pytest.warns(DataWarning, match="filled 1 missing value"):
        data = read_csv(_csv(tmp_path, y.to_frame(), "gap.csv"), missing="ffill")
    assert data.calendar == "XNYS"
    assert data.filled["close"].sum() == 1 and data.filled["close"]["2016-05-25"]
    assert data.frame["close"]["2016-05-25"] == msft["2016-05-24"]
    assert "2016-05-30" not in data.frame.index


def test_an_explicit_calendar_rejects_a_row_on_a_closure(msft):
    y = msft[:"2016-05-27"].copy()
    y[pd.Timestamp("2016-05-30")] = y.iloc[-1]  # a price on Memorial Day
    with pytest.raises(DataError, match="2016-05-30.*not a trading session of XNYS"):
        NaiveForecaster(calendar="XNYS").fit(y)
    with pytest.raises(InputError, match="not an exchange calendar"):
        NaiveForecaster(calendar="XNYZ").fit(msft)


def test_a_long_csv_of_tickers_is_one_panel_on_nyse_sessions(tmp_path):
    msft = _raw("msft")["close"]["1998-10-01":"1998-11-30"]  # lacks the session 1998-10-29
    ibm = _raw("ibm")["close"]["2012-10-01":"2012-11-30"]  # Sandy: 10-29, 10-30 closed
    long = pd.concat({"msft": msft, "ibm": ibm}, names=["ticker", "date"]).reset_index()
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    with pytest.warns(DataWarning, match="series 'msft'.*filled 1 missing value"):
        data = read_csv(path, target="close", id_col="ticker")
    assert data.calendar == "XNYS"
    filled = data.filled["close"]
    assert filled[filled].index.tolist() == [("msft", pd.Timestamp("1998-10-29"))]
    model = NaiveForecaster(horizon=2).fit(data.y)
    dates = model.predict().loc["ibm"].index
    assert _days(dates) == ["2012-12-03", "2012-12-04"]
    assert "2012-10-29" not in data.y.loc["ibm"].index
