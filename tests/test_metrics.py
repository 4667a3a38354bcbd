"""Hand-computed values and edge cases for tsrnn.metrics."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import tsrnn.metrics as metrics_module
from tsrnn.metrics import (
    POINT_METRICS,
    bias,
    coverage,
    mae,
    mape,
    mase,
    pinball_loss,
    rmse,
    smape,
    winkler_score,
)

# ---------------------------------------------------------------- point metrics


@pytest.mark.parametrize(
    ("metric", "y_true", "y_pred", "expected"),
    [
        (mae, [1, 2, 3], [2, 2, 2], 2 / 3),
        (mae, [0, 0], [-3, 4], 3.5),
        (rmse, [1, 2, 3], [2, 2, 2], math.sqrt(2 / 3)),
        (rmse, [0, 0], [3, 4], math.sqrt(12.5)),
        (mape, [100, 200], [110, 180], 10.0),
        (mape, [-4, 2], [-2, 3], 100 * (0.5 + 0.5) / 2),
        (smape, [1, 3], [3, 1], 100.0),  # 200/2 * (2/4 + 2/4)
        (smape, [1, 0], [3, 0], 50.0),  # 0/0 term counts as 0
        (smape, [0, 2], [5, 2], 100.0),  # 200/2 * (5/5 + 0)
        (bias, [1, 2, 3], [2, 3, 3], 2 / 3),
        (bias, [5, 5], [3, 4], -1.5),
    ],
)
def test_point_metric_hand_computed(metric, y_true, y_pred, expected):
    assert metric(y_true, y_pred) == pytest.approx(expected)


@pytest.mark.parametrize("metric", [mae, rmse, mape, smape, bias])
def test_perfect_forecast_scores_zero(metric):
    y = [1.5, -2.0, 3.0]
    assert metric(y, y) == 0.0


@pytest.mark.parametrize("metric", [mae, rmse, mape, smape, bias])
def test_accepts_numpy_and_pandas_and_returns_float(metric):
    y = pd.Series([1.0, 2.0, 4.0], index=pd.date_range("2024-01-01", periods=3))
    f = np.array([1.0, 3.0, 3.0])
    result = metric(y, f)
    assert type(result) is float
    assert result == pytest.approx(metric([1, 2, 4], [1, 3, 3]))


def test_smape_is_bounded_by_200():
    assert smape([1, 2], [-1, -2]) == pytest.approx(200.0)


# ---------------------------------------------------------------- mape zeros


def test_mape_skips_zero_actuals_and_warns_with_count():
    with pytest.warns(RuntimeWarning, match="skipped 2 of 4"):
        result = mape([0, 100, 0, 200], [5, 110, 7, 180])
    assert result == pytest.approx(10.0)


def test_mape_all_zero_actuals_is_nan():
    with pytest.warns(RuntimeWarning, match="skipped 2 of 2"):
        assert math.isnan(mape([0, 0], [1, 2]))


def test_mape_without_zeros_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mape([1, 2], [1, 3])


# ---------------------------------------------------------------- mase


def test_mase_non_seasonal():
    # scale = mean(|2-1|, |4-2|) = 1.5 ; mae = mean(1, 0) = 0.5
    assert mase([5, 6], [4, 6], y_train=[1, 2, 4]) == pytest.approx(1 / 3)


def test_mase_seasonal():
    # m=2: scale = mean(|3-1|, |4-2|, |7-3|) = 8/3 ; mae = mean(2, 2) = 2
    y_train = [1, 2, 3, 4, 7]
    assert mase([1, 1], [3, -1], y_train, season_length=2) == pytest.approx(2 / (8 / 3))


def test_mase_of_naive_forecast_in_sample_is_one():
    y = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    assert mase(y[1:], y[:-1], y_train=y) == pytest.approx(1.0)


def test_mase_constant_train_is_inf_with_errors_and_zero_without():
    assert mase([5, 6], [5, 5], y_train=[2, 2, 2]) == math.inf
    assert mase([5, 6], [5, 6], y_train=[2, 2, 2]) == 0.0


@pytest.mark.parametrize(("n_train", "season_length"), [(1, 1), (4, 4), (3, 7)])
def test_mase_rejects_too_short_train(n_train, season_length):
    with pytest.raises(ValueError, match=f"season_length={season_length}.*got {n_train}"):
        mase([1], [1], y_train=list(range(n_train)), season_length=season_length)


@pytest.mark.parametrize("season_length", [0, -1, 1.5, True])
def test_mase_rejects_bad_season_length(season_length):
    with pytest.raises(ValueError, match="season_length"):
        mase([1], [1], y_train=[1, 2, 3], season_length=season_length)


# ---------------------------------------------------------------- interval metrics


def test_coverage_counts_bounds_as_inside():
    assert coverage([1, 5, 3], [0, 0, 3], [2, 4, 4]) == pytest.approx(2 / 3)
    assert coverage([0, 4], [0, 0], [4, 4]) == 1.0


def test_winkler_score_hand_computed():
    # alpha = 0.2 -> penalty 2/alpha = 10; widths 10; scores 10, 10 + 10*2, 10 + 10*3
    assert winkler_score([5, 12, -3], [0, 0, 0], [10, 10, 10], coverage=0.8) == pytest.approx(
        (10 + 30 + 40) / 3
    )


def test_winkler_score_inside_is_mean_width():
    assert winkler_score([1, 2], [0, 1], [2, 5], coverage=0.9) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.9, (0.9 * 2 + 0.1 * 2) / 2),  # under- then over-forecast
        (0.1, (0.1 * 2 + 0.9 * 2) / 2),
        (0.5, 1.0),
    ],
)
def test_pinball_loss_hand_computed(q, expected):
    assert pinball_loss([10, 10], [8, 12], q=q) == pytest.approx(expected)


def test_pinball_loss_at_median_is_half_mae():
    y, f = [1.0, 4.0, -2.0], [2.0, 2.0, 0.0]
    assert pinball_loss(y, f, q=0.5) == pytest.approx(mae(y, f) / 2)


@pytest.mark.parametrize("level", [0, 1, -0.1, 1.5, float("nan"), "high"])
def test_fraction_parameters_are_checked(level):
    with pytest.raises(ValueError, match="coverage"):
        winkler_score([1], [0], [2], coverage=level)
    with pytest.raises(ValueError, match="q must"):
        pinball_loss([1], [1], q=level)


@pytest.mark.parametrize("metric", [coverage, lambda *a: winkler_score(*a, coverage=0.9)])
def test_interval_metrics_reject_crossed_bounds(metric):
    with pytest.raises(ValueError, match="lower must not exceed upper.*position 1"):
        metric([1, 1], [0, 3], [2, 2])


# ---------------------------------------------------------------- validation


def test_length_mismatch_names_both_arguments():
    with pytest.raises(ValueError, match="y_pred has 2 values but y_true has 3"):
        mae([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="upper has 1 values but y_true has 2"):
        coverage([1, 2], [0, 0], [3])


@pytest.mark.parametrize(
    ("y_pred", "match"),
    [
        ([], "y_pred must not be empty"),
        ([1.0, np.nan], "y_pred must be finite; got nan at position 1"),
        ([np.inf, 1.0], "y_pred must be finite; got inf at position 0"),
        ([[1.0, 2.0]], "y_pred must be one-dimensional"),
        (["a", "b"], "y_pred must contain numbers only"),
    ],
)
def test_invalid_input_names_the_argument(y_pred, match):
    with pytest.raises(ValueError, match=match):
        mae([1.0, 2.0], y_pred)


def test_empty_y_true_is_rejected():
    with pytest.raises(ValueError, match="y_true must not be empty"):
        rmse([], [])


def test_mase_checks_y_train():
    with pytest.raises(ValueError, match="y_train must be finite"):
        mase([1], [1], y_train=[1, np.nan, 3])


# ---------------------------------------------------------------- POINT_METRICS


def test_point_metrics_has_lowercase_names():
    assert set(POINT_METRICS) == {"mae", "rmse", "mape", "smape", "mase", "bias"}


@pytest.mark.parametrize("name", ["mae", "rmse", "mape", "smape", "bias"])
def test_point_metrics_match_functions_and_ignore_train(name):
    y, f = [1.0, 2.0, 4.0], [2.0, 2.0, 3.0]
    expected = getattr(metrics_module, name)(y, f)
    adapted = POINT_METRICS[name]
    assert adapted(y, f) == expected
    assert adapted(y, f, y_train=[1.0, 2.0], season_length=7) == expected
    assert adapted.__name__ == name


def test_point_metrics_mase_uses_train_and_season_length():
    y_train = [1, 2, 3, 4, 7]
    assert POINT_METRICS["mase"]([1, 1], [3, -1], y_train=y_train, season_length=2) == (
        mase([1, 1], [3, -1], y_train, season_length=2)
    )
    with pytest.raises(ValueError, match="mase needs y_train"):
        POINT_METRICS["mase"]([1], [1])


def test_public_names_are_exported():
    for name in metrics_module.__all__:
        assert hasattr(metrics_module, name)
    assert {"mae", "rmse", "mape", "smape", "mase"} <= set(metrics_module.__all__)
