"""Panels at the edges: long CSVs (read_csv id_col), the CLI's --id-col, bundled panels."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import tsrnn
from tsrnn.cli import main
from tsrnn.datasets import PANELS, load_dataset, load_panel
from tsrnn.exceptions import DataError
from tsrnn.io import read_csv


def _run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def long_csv(tmp_path):
    """The last 40 / 30 business days of aapl and ibm as one long CSV (ticker, date, close)."""
    rows = []
    for ticker, n in (("AAPL", 40), ("IBM", 30)):
        y = load_dataset(ticker.lower()).iloc[-n:]
        rows += [f"{ticker},{d:%Y-%m-%d},{v:.4f}" for d, v in y.items()]
    path = tmp_path / "stocks.csv"
    path.write_text("ticker,date,close\n" + "\n".join(rows) + "\n")
    return path


def test_read_csv_id_col_gives_a_multiindexed_panel(long_csv):
    data = read_csv(long_csv, id_col="ticker")
    assert data.y.index.names == ["ticker", "date"] and data.id_col == "ticker"
    assert data.freq == "B" and list(data.y.index.unique("ticker")) == ["AAPL", "IBM"]
    assert (
        data.frame.shape == (70, 1) and data.y.loc["IBM"].index[0] == load_dataset("ibm").index[-30]
    )
    assert data.y.loc["AAPL"].iloc[-1] == pytest.approx(load_dataset("aapl").iloc[-1], abs=1e-4)


def test_read_csv_id_col_errors_name_series_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,date,v\na,2024-01-01,1\na,2024-01-02,2\n,2024-01-03,3\n")
    with pytest.raises(DataError, match=r"bad.csv, line 4, column 'id': the series id is missing"):
        read_csv(path, id_col="id")
    path.write_text("id,date,v\na,2024-01-01,1\na,2024-01-02,2\nb,2024-01-01,1\nb,2024-01-02,inf\n")
    with pytest.raises(DataError, match=r"bad.csv, series 'b', line 5, column 'v'.*infinite"):
        read_csv(path, id_col="id", freq="D")
    path.write_text("id,date,v\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-02,3\n")
    with pytest.raises(DataError, match=r"series 'a': duplicate timestamp 2024-01-02.*lines 3, 4"):
        read_csv(path, id_col="id", freq="D")
    days = [f"d,2024-01-{i:02d},{i}" for i in range(1, 6)]
    months = [f"m,2024-{i:02d}-01,{i}" for i in range(1, 6)]
    path.write_text("id,date,v\n" + "\n".join(days + months) + "\n")
    with pytest.raises(DataError, match=r"series 'm' has frequency 'MS' but series 'd' has 'D'"):
        read_csv(path, id_col="id")
    with pytest.raises(DataError, match="no column 'ticker'"):
        read_csv(path, id_col="ticker")


def test_cli_forecast_with_id_col_prints_every_series(long_csv):
    result = _run("forecast", long_csv, "--id-col", "ticker", "--model", "naive", "--horizon", 2)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == ["ticker", "date", "forecast", "lower", "upper"]
    assert table["ticker"].tolist() == ["AAPL", "AAPL", "IBM", "IBM"]
    assert table["date"].tolist()[:2] == ["2013-03-04", "2013-03-05"]
    last = read_csv(long_csv, id_col="ticker").y.groupby(level=0).last()
    np.testing.assert_allclose(table["forecast"], np.repeat(last.to_numpy(), 2))


def test_cli_fit_then_predict_with_newer_rows_of_one_series(long_csv, tmp_path):
    model_file = tmp_path / "m.tsrnn"
    fitted = _run("fit", long_csv, "--id-col", "ticker", "--model", "drift", "--save", model_file)
    assert fitted.exit_code == 0 and "2 series" in fitted.stderr
    newer = tmp_path / "newer.csv"
    newer.write_text("ticker,date,close\nIBM,2013-03-04,300.0\n")
    result = _run("predict", model_file, "--data", newer, "--horizon", 1)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert table["date"].tolist() == ["2013-03-04", "2013-03-05"]
    model = tsrnn.load(model_file)
    slope = (300.0 - model.estimators_[1].first_value_) / 30  # 31 observations after update
    assert table["forecast"].iloc[1] == pytest.approx(300.0 + slope)


def test_cli_id_col_errors_are_one_line(long_csv):
    result = _run("forecast", long_csv, "--id-col", "nope", "--model", "naive")
    assert (
        result.exit_code == 2
        and result.stderr.startswith("error: ")
        and "no column 'nope'" in (result.stderr)
    )


def test_bundled_panels():
    stocks = load_panel("stocks")
    assert list(stocks.index.unique("series")) == list(PANELS["stocks"][0])
    assert stocks.name == "adj_close" and stocks.index.names == ["series", "date"]
    pd.testing.assert_series_equal(
        stocks.loc["msft"], load_dataset("msft"), check_names=False, check_freq=False
    )
    weather = load_panel("weather")
    assert weather.loc["clemson"].index[0] == pd.Timestamp("1930-01-01")
    assert weather.loc["seattle"].index[-1] == pd.Timestamp("2015-12-31")
    forecast = tsrnn.NaiveForecaster(horizon=1).fit(weather).predict()
    assert forecast.index.tolist() == [
        ("seattle", pd.Timestamp("2016-01-01")),
        ("clemson", pd.Timestamp("2021-01-01")),
    ]
    with pytest.raises(DataError, match="one frequency.*aapl \\(B\\), seattle \\(D\\)"):
        load_panel(["aapl", "seattle"])


def test_cli_drop_short_leaves_out_short_series_with_a_warning(long_csv, tmp_path):
    path = tmp_path / "with_short.csv"
    path.write_text(long_csv.read_text() + "XYZ,2013-02-28,1.0\nXYZ,2013-03-01,2.0\n")
    arima = ("--id-col", "ticker", "--model", "arima", "--order", "1,1,0", "--horizon", 1)
    refused = _run("forecast", path, *arima)
    assert refused.exit_code == 2 and "series 'XYZ' has 2 observations" in refused.stderr
    result = _run("forecast", path, *arima, "--drop-short")
    assert result.exit_code == 0, result.output
    assert "dropped 1 series shorter than 5 observations: 'XYZ'" in result.stderr
    assert sorted(set(pd.read_csv(io.StringIO(result.stdout))["ticker"])) == ["AAPL", "IBM"]
