"""Honest scores and a plain install, on the bundled MSFT prices.

MSFT's file lacks two NYSE sessions (1998-10-29 and 1999-11-16): the only values tsrnn
fills on it. A filled value is never scored as an actual. Also here: the CLI on stock
files across a holiday, reports without matplotlib, ``--debug`` after the command and
``X`` refused by models that do not use it.
"""

from __future__ import annotations

import importlib.metadata
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tsrnn import ExpandingWindowSplitter, backtest
from tsrnn.baselines import DriftForecaster, NaiveForecaster
from tsrnn.cli import main
from tsrnn.datasets import dataset_path, load_dataset
from tsrnn.exceptions import TsrnnError

GAP = pd.Timestamp("1998-10-29")  # an NYSE session absent from the MSFT file
SPLITTER = ExpandingWindowSplitter(horizon=5, n_folds=6)


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def msft_raw() -> pd.DataFrame:
    return pd.read_csv(dataset_path("msft"), parse_dates=["date"], index_col="date")


@pytest.fixture(scope="module")
def gappy() -> pd.Series:
    """MSFT closes to 1998-11-10 on NYSE sessions, NaN on the session the file lacks."""
    return load_dataset("msft", fill=False)["1998-01-02":"1998-11-10"]


@pytest.fixture(scope="module")
def result(gappy):
    with pytest.warns(UserWarning, match="filled 1 missing value"):
        return backtest({"naive": NaiveForecaster(), "drift": DriftForecaster()}, gappy, SPLITTER)


def _csv(tmp_path, frame: pd.DataFrame, name: str) -> str:
    path = tmp_path / name
    frame.to_csv(path, index_label="date")
    return str(path)


# -------------------------------------------------------------- filled actuals
def test_filled_actuals_are_marked_and_not_scored(result, gappy):
    table = result.forecasts
    filled = table[table["filled"]]
    assert set(filled["date"]) == {GAP} and len(filled) == 2  # both models, one fold
    assert filled["actual"].isna().all()
    assert table.loc[~table["filled"], "actual"].notna().all()
    assert result.n_filled == 1
    kept = table[~table["filled"]]
    for model in ("naive", "drift"):
        rows = kept[kept["model"] == model]
        expected = np.mean(np.abs(rows["actual"] - rows["forecast"]))
        assert result.metrics.loc[model, "mae"] == pytest.approx(expected)
        assert len(rows) == 6 * 5 - 1
    compare = result.compare("naive")
    assert np.isfinite(compare.loc["drift", "statistic"])


def test_values_filled_before_the_backtest_are_excluded_when_given(result, gappy):
    ffilled = load_dataset("msft")["1998-01-02":"1998-11-10"]  # no NaN left
    assert ffilled[GAP] == ffilled[GAP - pd.Timedelta(days=1)]
    models = {"naive": NaiveForecaster(), "drift": DriftForecaster()}
    blind = backtest(models, ffilled, SPLITTER)
    assert blind.n_filled == 0  # it cannot know ...
    told = backtest(models, ffilled, SPLITTER, filled=gappy.isna())  # ... unless told
    assert told.n_filled == 1
    # Point metrics agree (MASE scales skip it too); conformal interval widths are learnt
    # from training errors, which see the filled training value either way.
    point = ["mae", "rmse", "mape", "smape", "mase", "bias"]
    pd.testing.assert_frame_equal(told.metrics[point], result.metrics[point])
    assert not np.allclose(blind.metrics["mae"], told.metrics["mae"])


def test_report_says_how_many_actuals_were_left_out(result, tmp_path):
    pytest.importorskip("matplotlib")
    result.to_html(tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Left out: 1 actual value(s)" in text
    from tsrnn._report_parts import data_summary_table

    summary = data_summary_table(load_dataset("msft")[:"1998-11-10"], None)
    assert summary.cells.loc["frequency", "value"] == "B (exchange sessions)"


def test_cli_backtest_marks_filled_rows(tmp_path, msft_raw):
    path = _csv(tmp_path, msft_raw["1998-01-02":"1998-11-10"], "msft.csv")
    out = tmp_path / "f.csv"
    result = run(
        "backtest", path, "--target", "close", "--models", "naive,drift",
        "--horizon", 5, "--folds", 6, "--step", 5, "--output", out, "--report", tmp_path / "r.md",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out, parse_dates=["date"])
    gap = table[table["date"] == GAP]
    assert gap["filled"].all() and gap["actual"].isna().all() and len(gap) == 2
    assert not table.loc[table["date"] != GAP, "filled"].any()
    assert "Left out: 1 actual value(s)" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "B (XNYS sessions)" in (tmp_path / "r.md").read_text(encoding="utf-8")


# ------------------------------------------------------------ CLI and holidays
def test_cli_forecast_fit_and_predict_across_memorial_day(tmp_path, msft_raw):
    old = _csv(tmp_path, msft_raw["2015-06-01":"2016-05-27"], "old.csv")
    new = _csv(tmp_path, msft_raw["2016-05-31":"2016-06-10"], "new.csv")
    forecast = run("forecast", old, "--target", "close", "--model", "naive", "--horizon", 3)
    assert forecast.exit_code == 0, forecast.stderr
    assert "warning" not in forecast.stderr  # no holiday was filled
    dates = [line.split(",")[0] for line in forecast.stdout.splitlines()[1:]]
    assert dates == ["2016-05-31", "2016-06-01", "2016-06-02"]
    saved = tmp_path / "m.tsrnn"
    fit = run(
        "fit", old, "--target", "close", "--model", "arima", "--order", "1,1,0", "--save", saved
    )
    assert fit.exit_code == 0, fit.stderr
    predict = run("predict", saved, "--data", new, "--horizon", 2)
    assert predict.exit_code == 0, predict.stderr
    dates = [line.split(",")[0] for line in predict.stdout.splitlines()[1:]]
    assert dates == ["2016-06-13", "2016-06-14"]
    plain = run("forecast", old, "--target", "close", "--model", "naive", "--horizon", 1,
                "--calendar", "none")  # fmt: skip
    assert plain.stdout.splitlines()[1].startswith("2016-05-30")
    assert "filled" in plain.stderr


# ------------------------------------------------------ a plain install (no mpl)
def test_matplotlib_is_a_required_dependency():
    requires = importlib.metadata.requires("tsrnn") or []
    plain = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("matplotlib") for r in plain)
    assert any(r.startswith("exchange-calendars") for r in plain)


def test_report_without_matplotlib_fails_first_in_one_line(result, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(TsrnnError, match="pip install matplotlib"):
        result.to_html(tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()
    out = tmp_path / "f.csv"
    cli = run("backtest", dataset_path("ibm"), "--target", "adj_close", "--models", "naive",
              "--folds", 3, "--report", tmp_path / "r.html", "--output", out)  # fmt: skip
    assert cli.exit_code == 1
    lines = cli.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install matplotlib" in lines[0], cli.stderr
    assert not out.exists()  # checked before the backtest ran
    plot = run("forecast", dataset_path("ibm"), "--target", "adj_close", "--model", "naive",
               "--plot", tmp_path / "p.png")  # fmt: skip
    assert plot.exit_code == 1 and "pip install matplotlib" in plot.stderr and not plot.stdout


# ------------------------------------------------------------------ --debug
def test_debug_is_accepted_after_the_subcommand(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,y\n2024-01-01,1\n2024-01-01,2\n2024-01-02,3\n", encoding="utf-8")
    result = run("forecast", bad, "--model", "naive", "--debug")
    assert result.exit_code == 2
    assert "No such option" not in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    quiet = run("forecast", bad, "--model", "naive")
    assert "Traceback" not in quiet.stderr and quiet.exit_code == 2


# ------------------------------------------------------------- panel backtests
def test_panel_backtest_never_scores_filled_actuals(gappy):
    """The same MSFT gap inside a panel: marked, NaN, and the other series untouched."""
    steady = load_dataset("msft", fill=True)["1998-01-02":"1998-11-10"] * 0 + 50.0
    steady[:] = np.linspace(40.0, 60.0, len(steady))
    panel = {"msft": gappy, "line": steady}
    with pytest.warns(UserWarning, match="filled 1 missing value"):
        result = backtest({"naive": NaiveForecaster()}, panel, SPLITTER)
    table = result.forecasts
    filled = table[table["filled"]]
    assert list(filled["series"]) == ["msft"] and list(filled["date"]) == [GAP]
    assert filled["actual"].isna().all()
    assert table.loc[~table["filled"], "actual"].notna().all()
    single = backtest({"naive": NaiveForecaster()}, gappy.ffill(), SPLITTER, filled=gappy.isna())
    mine = table[table["series"] == "msft"].reset_index(drop=True)
    pd.testing.assert_series_equal(
        mine["actual"], single.forecasts["actual"].reset_index(drop=True), check_names=False
    )
