"""Defaults that keep a backtest's cost flat in the history length (issue 13)."""

import numpy as np
import pandas as pd
import pytest

from tsrnn import ARIMAForecaster, ExpandingWindowSplitter, NaiveForecaster, backtest
from tsrnn.defaults import default_baseline, default_horizon, default_step, season_cycle


def test_default_horizon_follows_the_frequency():
    assert [default_horizon(f) for f in ("h", "D", "B", "MS", "2h", None, "YS")] == [
        24,
        7,
        5,
        12,
        12,
        7,
        7,
    ]


def test_default_step_spreads_folds_over_a_year_where_the_data_allow():
    assert season_cycle("D") == 365 and season_cycle("B") == 252 and season_cycle("h") == 8760
    step = default_step("D", n_obs=10_000, horizon=7, n_folds=10)
    assert 9 * step + 7 >= 365 and step == 40
    # a short series: the first fold still trains on half of it
    short = default_step("D", n_obs=400, horizon=7, n_folds=10)
    assert 400 - (9 * short + 7) >= 200 and short >= 7
    assert default_step("D", n_obs=100, horizon=7, n_folds=10) == 7  # never below the horizon
    assert default_step(None, n_obs=10_000, horizon=7, n_folds=10) == 7
    assert default_step("D", n_obs=10_000, horizon=7, n_folds=1) == 7


def test_default_baseline_is_seasonal_for_seasonal_data():
    assert default_baseline(["naive", "seasonal-naive", "lstm"], "h") == "seasonal-naive"
    assert default_baseline(["naive", "seasonal-naive"], "YS") == "naive"
    assert default_baseline(["naive", "lstm"], "h") == "naive"
    assert default_baseline(["lstm"], "h") is None


def _walk(n: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = 50 + np.cumsum(rng.normal(size=n)) + 0.5 * np.sin(np.arange(n) / 3)
    return pd.Series(values, index=pd.date_range("2020-01-01", periods=n), name="y")


def test_arima_searches_once_then_refits_that_order():
    y = _walk(260)
    splitter = ExpandingWindowSplitter(horizon=3, n_folds=4, step=5)
    auto = ARIMAForecaster(season_length=1, max_p=2, max_q=2)
    once = backtest({"arima": auto, "naive": NaiveForecaster()}, y, splitter)
    actions = once.timings.groupby("model")["action"].apply(list)
    assert actions["arima"] == ["search", "fit", "fit", "fit", "fit"]
    assert "search" not in actions["naive"]
    final = once.final_models["arima"]
    first = ARIMAForecaster(season_length=1, max_p=2, max_q=2).fit(y.iloc[: 260 - 3 - 15])
    assert final.order == first.order_ and final.trend == first.trend_
    every = backtest({"arima": auto}, y, splitter, search_once=False)
    assert "search" not in set(every.timings["action"])
    # same order on the first fold, so the same first-fold forecasts (to the fit's tolerance)
    a = once.forecasts.query("model == 'arima' and fold == 0")["forecast"].to_numpy()
    b = every.forecasts.query("fold == 0")["forecast"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-3)


def test_arima_max_history_fits_the_recent_window_only():
    y = _walk(600, seed=1)
    recent = ARIMAForecaster(order=(1, 1, 0), max_history=200).fit(y)
    alone = ARIMAForecaster(order=(1, 1, 0), max_history=None).fit(y.iloc[-200:])
    np.testing.assert_allclose(recent.predict(5), alone.predict(5), rtol=1e-9)
    assert recent.predict(5).index[0] == y.index[-1] + pd.Timedelta(days=1)
    with pytest.raises(Exception, match="max_history"):
        ARIMAForecaster(max_history=0).fit(y)


def test_arima_searches_at_most_one_difference_by_default():
    rng = np.random.default_rng(3)
    # an integrated random walk: KPSS asks for d=2, the default stops at 1
    y = pd.Series(
        np.cumsum(np.cumsum(rng.normal(size=300))) + 1000,
        index=pd.bdate_range("2020-01-01", periods=300),
    )
    assert ARIMAForecaster(season_length=1).fit(y).order_[1] == 1
    assert ARIMAForecaster(season_length=1, max_d=2).fit(y).order_[1] == 2


def test_cli_backtest_defaults_follow_the_frequency(tmp_path):
    from click.testing import CliRunner

    from tsrnn.cli.main import main

    report = tmp_path / "r.md"
    args = ["backtest", "datasets/weather_seattle_daily.csv", "--target", "temp_max"]
    args += ["--models", "naive,seasonal-naive", "--folds", "4", "--report", str(report)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    text = report.read_text()
    # 1461 days, horizon 7, 4 folds: step ceil(358 / 3) = 120, the folds span 367 days
    assert "4 folds 120 steps apart (default): test windows span the last 367 steps" in text
    assert "at least one season cycle of 365 steps" in text
    assert "| baseline of the tests | seasonal-naive |" in text.replace("  ", " ")
    stock = ["backtest", "datasets/stock_msft_daily.csv", "--target", "close", "--folds", "3"]
    stock += ["--models", "naive,drift", "--step", "5", "--transform", "log"]
    logged = CliRunner().invoke(main, stock)
    assert logged.exit_code == 0, logged.output
    zero = CliRunner().invoke(main, [*args[:-2], "--transform", "log"])
    assert zero.exit_code != 0 and "value 0.0 is not positive" in zero.output
