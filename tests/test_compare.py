"""Diebold-Mariano tests: hand-computed statistics, an independent HAC computation,
one-sided p-values, verdicts, and the pooling of backtest folds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tsrnn import InputError
from tsrnn.compare import compare_forecasts, diebold_mariano


def independent_dm(d: np.ndarray, h: int) -> tuple[float, float]:
    """HLN-corrected DM statistic and two-sided p-value, written out from the papers.

    Newey-West long-run variance of the loss differential with h - 1 lags and Bartlett
    weights 1 - k/h (autocovariances over n, as statsmodels' HAC OLS of d on a constant).
    """
    n = len(d)
    centred = d - d.mean()
    gamma = [centred[k:] @ centred[: n - k] / n for k in range(h)]
    long_run = gamma[0] + 2 * sum((1 - k / h) * gamma[k] for k in range(1, h))
    dm = d.mean() / math.sqrt(long_run / n)
    statistic = dm * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return statistic, 2 * stats.t.cdf(-abs(statistic), df=n - 1)


Y = np.array([3.0, 5.0, 4.0, 6.0, 8.0, 7.0, 9.0, 10.0])
A = Y + np.array([0.5, -1.0, 0.2, 0.4, -0.3, 1.0, -0.6, 0.1])
B = Y + np.array([1.5, -2.0, 0.1, 1.4, -1.3, 2.0, -0.2, 1.1])


def test_horizon_one_equals_hand_computation():
    d = (Y - A) ** 2 - (Y - B) ** 2
    n = len(d)
    dm = d.mean() / math.sqrt(np.var(d, ddof=0) / n)
    statistic = dm * math.sqrt((n + 1 - 2 + 0) / n)  # HLN factor with h = 1
    pvalue = 2 * stats.t.cdf(-abs(statistic), df=n - 1)
    result = diebold_mariano(Y, A, B)
    assert result.statistic == pytest.approx(statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(pvalue, rel=1e-10)
    assert result.mean_loss_difference == pytest.approx(d.mean())
    assert (result.n, result.lags, result.alternative) == (8, 0, "two-sided")
    assert result.statistic < 0  # A has the smaller squared errors


@pytest.mark.parametrize("h", [2, 3, 4])
@pytest.mark.parametrize("loss", ["squared", "absolute"])
def test_multi_step_equals_independent_hac(h, loss):
    rng = np.random.default_rng(h)
    y = rng.normal(size=40).cumsum()
    shock = np.convolve(rng.normal(size=43), np.ones(h), mode="valid")[:40]  # MA(h-1) errors
    fa, fb = y + 0.5 * shock, y + shock + rng.normal(0, 0.5, 40)
    ea, eb = y - fa, y - fb
    d = ea**2 - eb**2 if loss == "squared" else np.abs(ea) - np.abs(eb)
    statistic, pvalue = independent_dm(d, h)
    result = diebold_mariano(y, fa, fb, horizon=h, loss=loss)
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    assert result.pvalue == pytest.approx(pvalue, rel=1e-9)
    assert result.lags == h - 1


def test_one_sided_pvalues():
    two = diebold_mariano(Y, A, B)
    less = diebold_mariano(Y, A, B, alternative="less")
    greater = diebold_mariano(Y, A, B, alternative="greater")
    df = two.n - 1
    assert less.pvalue == pytest.approx(stats.t.cdf(two.statistic, df))
    assert greater.pvalue == pytest.approx(stats.t.sf(two.statistic, df))
    assert less.pvalue + greater.pvalue == pytest.approx(1.0)
    assert less.pvalue == pytest.approx(two.pvalue / 2)  # the statistic is negative
    # swapping the forecasts flips the sign and the alternatives
    swapped = diebold_mariano(Y, B, A, alternative="greater")
    assert swapped.statistic == pytest.approx(-two.statistic)
    assert swapped.pvalue == pytest.approx(less.pvalue)


def test_constant_differential():
    y = np.zeros(6)
    same = diebold_mariano(y, y + 1, y + 1)
    assert (same.statistic, same.pvalue, same.mean_loss_difference) == (0.0, 1.0, 0.0)
    # A is always better by exactly 3 (1 vs 4): no variance, an infinite statistic
    always = diebold_mariano(y, y + 1, y + 2, alternative="less")
    assert always.statistic == -math.inf and always.pvalue == 0.0
    assert diebold_mariano(y, y + 1, y + 2, alternative="greater").pvalue == 1.0


def test_tiny_magnitudes_are_not_mistaken_for_a_constant_differential():
    scaled = diebold_mariano(Y * 1e-7, A * 1e-7, B * 1e-7)
    plain = diebold_mariano(Y, A, B)
    assert scaled.statistic == pytest.approx(plain.statistic, rel=1e-6)
    assert scaled.pvalue == pytest.approx(plain.pvalue, rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"loss": "huber"}, "loss"),
        ({"alternative": "smaller"}, "alternative"),
    ],
)
def test_bad_options_are_input_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        diebold_mariano(Y, A, B, **kwargs)


def test_too_few_values_is_an_input_error():
    with pytest.raises(InputError, match="at least 3"):
        diebold_mariano(Y[:2], A[:2], B[:2])


# ---------------------------------------------------------- backtest tables
def backtest_table(errors: dict[str, np.ndarray], horizon: int) -> pd.DataFrame:
    """A tidy backtest table with actual 0 and the given errors, ``horizon`` steps per fold."""
    rows = []
    for model, error in errors.items():
        for i, e in enumerate(error):
            fold, step = divmod(i, horizon)
            rows.append(
                {"model": model, "fold": fold, "step": step + 1, "actual": 0.0, "forecast": e}
            )
    return pd.DataFrame(rows)


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n_folds, horizon = 15, 3
    size = n_folds * horizon
    return backtest_table(
        {
            "naive": rng.normal(0, 2.0, size),
            "good": rng.normal(0, 0.5, size),
            "bad": rng.normal(0, 6.0, size),
            "twin": rng.normal(0, 2.0, size),
        },
        horizon,
    )


def test_compare_pools_each_fold_into_one_differential(table):
    result = compare_forecasts(table, "naive")
    assert list(result.index) == ["good", "bad", "twin"]
    assert list(result.columns) == [
        "mean_loss",
        "baseline_loss",
        "statistic",
        "p_better",
        "p_worse",
        "p_value",
        "lags",
        "verdict",
    ]
    per_fold = table.assign(loss=table["forecast"] ** 2).groupby(["model", "fold"])["loss"].mean()
    d = (per_fold["good"] - per_fold["naive"]).to_numpy()
    statistic, pvalue = independent_dm(d, 1)  # folds horizon apart do not overlap: no lags
    assert result.loc["good", "statistic"] == pytest.approx(statistic)
    assert result.loc["good", "p_value"] == pytest.approx(pvalue)
    assert result.loc["good", "lags"] == 0
    assert result.loc["good", "mean_loss"] == pytest.approx(per_fold["good"].mean())
    assert result.loc["good", "baseline_loss"] == pytest.approx(per_fold["naive"].mean())


def test_compare_verdicts(table):
    verdicts = compare_forecasts(table, "naive")["verdict"]
    assert verdicts["good"] == "good is more accurate than naive at the 5% level"
    assert verdicts["bad"] == "bad is less accurate than naive at the 5% level"
    assert verdicts["twin"] == "no significant difference between twin and naive at the 5% level"
    strict = compare_forecasts(table, "naive", alpha=0.01)["verdict"]
    assert strict["good"].endswith("at the 1% level")


def test_overlapping_folds_use_hac_lags(table):
    # folds one step apart with horizon 3: neighbours share 2 target steps -> 2 lags
    result = compare_forecasts(table, "naive", fold_spacing=1)
    per_fold = table.assign(loss=table["forecast"] ** 2).groupby(["model", "fold"])["loss"].mean()
    d = (per_fold["good"] - per_fold["naive"]).to_numpy()
    statistic, pvalue = independent_dm(d, 3)
    assert result.loc["good", "lags"] == 2
    assert result.loc["good", "statistic"] == pytest.approx(statistic)
    assert result.loc["good", "p_value"] == pytest.approx(pvalue)
    assert compare_forecasts(table, "naive", fold_spacing=2).loc["good", "lags"] == 1


def test_compare_absolute_loss(table):
    result = compare_forecasts(table, "naive", loss="absolute")
    per_fold = table.assign(loss=table["forecast"].abs()).groupby(["model", "fold"])["loss"].mean()
    d = (per_fold["bad"] - per_fold["naive"]).to_numpy()
    assert result.loc["bad", "statistic"] == pytest.approx(independent_dm(d, 1)[0])


def test_compare_errors(table):
    with pytest.raises(InputError, match="baseline 'arima' is not one of the models"):
        compare_forecasts(table, "arima")
    with pytest.raises(InputError, match="alpha"):
        compare_forecasts(table, "naive", alpha=5)
    with pytest.raises(InputError, match="loss"):
        compare_forecasts(table, "naive", loss="pinball")
    few = table[table["fold"] < 2]
    with pytest.raises(InputError, match="at least 3"):
        compare_forecasts(few, "naive")


def test_only_the_baseline_gives_an_empty_table(table):
    result = compare_forecasts(table[table["model"] == "naive"], "naive")
    assert result.empty and "verdict" in result.columns


def test_backtest_result_compare_defaults_to_naive():
    from tests.conftest import make_series
    from tsrnn import DriftForecaster, ExpandingWindowSplitter, NaiveForecaster, backtest

    y = make_series(2 * np.arange(60.0) + 0.3 * np.sin(np.arange(60)))
    result = backtest(
        {"drift": DriftForecaster(), "naive": NaiveForecaster()},
        y,
        ExpandingWindowSplitter(horizon=3, n_folds=12, step=1),
    )
    comparison = result.compare()
    assert list(comparison.index) == ["drift"]
    assert comparison.loc["drift", "lags"] == 2  # step 1, horizon 3
    assert comparison.loc["drift", "verdict"].startswith("drift is more accurate than naive")
    assert list(result.compare("drift").index) == ["naive"]
