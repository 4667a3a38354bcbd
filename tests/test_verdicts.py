"""Honest verdicts in reports: coverage flags, ARIMA orders, lists in plain words, no
folders of the user's machine, and a MASE scaled by recent naive errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import metrics as M
from tsrnn._report_paths import file_names_only
from tsrnn._report_verdicts import arima_orders, coverage_warning, join_names, verdicts
from tsrnn.datasets import load_dataset
from tsrnn.report import _sections


def _report_text(result) -> list[str]:
    """The text blocks of a report, without drawing its figures."""
    blocks = _sections(
        result, history=None, models=None, data_summary=None, command=None,
        baseline=None, last_folds=6,
    )  # fmt: skip
    return [str(b.content) for b in blocks if b.kind in ("p", "headline", "note", "warning")]


def test_join_names():
    assert join_names(["a"]) == "**a**"
    assert join_names(["a", "b"], bold=False) == "a and b"
    assert join_names(["a", "b", "c"]) == "**a**, **b** and **c**"


def _coverage_result(inside: dict[str, int], total: int = 40, nominal: float = 0.9):
    rows = []
    for model, k in inside.items():
        for i in range(total):
            actual = 0.0 if i < k else 5.0  # inside [-1, 1] for the first k rows
            rows.append({"model": model, "actual": actual, "lower": -1.0, "upper": 1.0})
    return SimpleNamespace(forecasts=pd.DataFrame(rows), coverage=nominal)


def test_coverage_far_from_nominal_is_flagged():
    # 29/40 = 72.5% and 39/40 = 97.5% are more than 5 points from 90%; 37/40 = 92.5% is not
    result = _coverage_result({"naive": 29, "lstm": 37, "gru": 39, "arima": 30})
    assert coverage_warning(result) == (
        "Interval coverage far from the nominal 90% (more than 5 percentage points off): "
        "naive 72.5%, gru 97.5% and arima 75.0%; below nominal: too narrow; above: too wide."
    )
    narrow = coverage_warning(_coverage_result({"naive": 29, "lstm": 37}))
    assert narrow.endswith("naive 72.5%; too narrow: they understate the uncertainty.")
    assert coverage_warning(_coverage_result({"naive": 35, "lstm": 37})) is None  # 87.5, 92.5
    missing = _coverage_result({"naive": 36})  # 36/40 = 90%, then 8 actuals that were filled
    filled = missing.forecasts.iloc[:8].assign(actual=np.nan)
    missing.forecasts = pd.concat([missing.forecasts, filled], ignore_index=True)
    assert coverage_warning(missing) is None


def test_report_flags_coverage_in_the_summary():
    y = load_dataset("seattle").iloc[-200:]
    result = tsrnn.backtest(
        [tsrnn.NaiveForecaster(), tsrnn.DriftForecaster()],
        y,
        tsrnn.ExpandingWindowSplitter(horizon=7, n_folds=4),
        coverage=0.5,
    )
    share = result.metrics["coverage"]
    assert ((share - 0.5).abs() > 0.05).any()  # naive intervals off the nominal 50%
    blocks = _sections(
        result, history=None, models=None, data_summary=None, command=None,
        baseline=None, last_folds=6,
    )  # fmt: skip
    summary = blocks[: next(i for i, b in enumerate(blocks) if b.kind == "h2")]
    (warning,) = [b.content for b in summary if b.kind == "warning"]
    far = share[(share - 0.5).abs() > 0.05]
    assert warning.startswith(
        "Interval coverage far from the nominal 50% (more than 5 percentage points off): "
        + join_names([f"{m} {v:.1%}" for m, v in far.items()], bold=False)
    )


def test_report_shows_each_arima_order():
    y = load_dataset("seattle").iloc[-150:]
    models = {
        "naive": tsrnn.NaiveForecaster(),
        "arima": tsrnn.ARIMAForecaster(order=(1, 1, 0)),
        "auto": tsrnn.ARIMAForecaster(max_p=1, max_q=1, max_P=0, max_Q=0, season_length=1),
    }
    splitter = tsrnn.ExpandingWindowSplitter(horizon=7, n_folds=3)
    result = tsrnn.backtest(models, y, splitter, refit=False)  # fitted once, then updated
    auto = result.final_models["auto"]
    p, d, q = auto.order_
    orders = arima_orders(result, None)
    assert orders["arima"].startswith("ARIMA(1,1,0)")
    assert orders["auto"].startswith(f"ARIMA({p},{d},{q})")
    assert set(orders) == {"arima", "auto"}
    assert (
        f"Orders the ARIMA models chose (last fold's fit): arima {orders['arima']} "
        f"and auto {orders['auto']}."
    ) in _report_text(result)


def test_summary_lists_read_as_lists():
    comparison = pd.DataFrame(
        {"statistic": [-3.0, -4.0, -5.0], "p_value": [0.01, 0.02, 0.03]},
        index=pd.Index(["a", "b", "c"], name="model"),
    ).assign(verdict="v")
    comparison.attrs["test"] = "the test"
    summary, items, statement = verdicts(comparison, "naive")
    assert summary == "**a**, **b** and **c** are significantly more accurate than naive."
    assert [text for _, text in items] == ["v (p = 0.010)", "v (p = 0.020)", "v (p = 0.030)"]
    assert {kind for kind, _ in items} == {"better"}
    assert statement == "the test."


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "tsrnn backtest /home/ann/data/ko.csv --report=/home/ann/out/r.html -o 'C:\\Users\\ann\\f.csv'",
            "tsrnn backtest ko.csv --report=r.html -o f.csv",
        ),
        (
            "tsrnn backtest data/ko.csv --models naive,arima",
            "tsrnn backtest ko.csv --models naive,arima",
        ),
        (
            "tsrnn.backtest(models, tsrnn.read_csv('/home/ann/ko.csv'))\nprint(1)",
            "tsrnn.backtest(models, tsrnn.read_csv('ko.csv'))\nprint(1)",
        ),
    ],
)
def test_paths_are_cut_to_file_names(command, expected):
    assert file_names_only(command) == expected


# ------------------------------------------------------------------ MASE scale
def test_mase_window_uses_the_last_naive_errors():
    train = np.array([0.0, 10.0, 11.0, 13.0, 14.0])  # naive errors 10, 1, 2, 1
    assert M.mase([15.0], [14.0], train) == pytest.approx(1 / 3.5)
    assert M.mase([15.0], [14.0], train, window=3) == pytest.approx(1 / (4 / 3))
    assert M.mase([15.0], [14.0], train, window=100) == pytest.approx(1 / 3.5)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        M.mase([15.0], [14.0], train, window=0)
    assert M.mase_window(1) == M.MASE_WINDOW == 250
    assert M.mase_window(168) == 672


def test_backtest_mase_is_scaled_by_recent_naive_errors():
    """MSFT since 1986 (split-adjusted from $0.08): naive one step ahead scores about 1."""
    y = load_dataset("msft", target="close")
    result = tsrnn.backtest(
        [tsrnn.NaiveForecaster()], y, tsrnn.ExpandingWindowSplitter(horizon=1, n_folds=10)
    )
    values = y.to_numpy()
    forecasts = result.forecasts
    errors = np.abs(forecasts["actual"] - forecasts["forecast"]).to_numpy()
    ends = [len(values) - 10 + k for k in range(10)]  # training rows of each fold
    recent = [np.mean(np.abs(np.diff(values[:end]))[-250:]) for end in ends]
    whole = [np.mean(np.abs(np.diff(values[:end]))) for end in ends]
    assert result.metrics.loc["naive", "mase"] == pytest.approx(np.mean(errors / recent))
    assert 0.5 < result.metrics.loc["naive", "mase"] < 1.5
    assert np.mean(errors / whole) > 1.5 * result.metrics.loc["naive", "mase"]  # the old scale
    assert result.mase_window == 250
