"""Exact forecasts and FPP3 interval formulas of the baseline forecasters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from tests.conftest import make_series
from tsrnn.baselines import DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster
from tsrnn.exceptions import DataError

Z90 = norm.ppf(0.95)


def test_naive_repeats_last_value_with_sqrt_h_intervals():
    y = make_series([1.0, 3.0, 2.0, 5.0])
    model = NaiveForecaster(horizon=3).fit(y)
    assert model.predict().tolist() == [5.0, 5.0, 5.0]
    sigma = np.sqrt(np.mean(np.array([2.0, -1.0, 3.0]) ** 2))
    interval = model.predict_interval(coverage=0.9)
    np.testing.assert_allclose(interval["upper"] - 5.0, Z90 * sigma * np.sqrt([1, 2, 3]))
    np.testing.assert_allclose(interval["lower"], 5.0 - Z90 * sigma * np.sqrt([1, 2, 3]))


def test_seasonal_naive_repeats_last_season_and_widens_per_season():
    y = make_series([1.0, 2.0, 3.0, 2.0, 4.0, 5.0])
    model = SeasonalNaiveForecaster(season_length=3, horizon=7).fit(y)
    assert model.predict().tolist() == [2.0, 4.0, 5.0, 2.0, 4.0, 5.0, 2.0]
    sigma = np.sqrt(np.mean(np.array([1.0, 2.0, 2.0]) ** 2))
    half = (model.predict_interval()["upper"] - model.predict()).to_numpy()
    np.testing.assert_allclose(half, Z90 * sigma * np.sqrt([1, 1, 1, 2, 2, 2, 3]))


def test_seasonal_naive_infers_season_from_frequency(seasonal_series):
    model = SeasonalNaiveForecaster().fit(seasonal_series)
    assert model.season_length_ == 7
    np.testing.assert_array_equal(model.predict(7).to_numpy(), seasonal_series.to_numpy()[-7:])
    business = SeasonalNaiveForecaster().fit(make_series(np.arange(20.0), freq="B"))
    assert business.season_length_ == 5


def test_drift_extends_line_through_first_and_last():
    y = make_series([1.0, 2.0, 4.0, 7.0])
    model = DriftForecaster(horizon=2).fit(y)
    assert model.predict().tolist() == [9.0, 11.0]
    residuals = np.diff(y.to_numpy()) - 2.0
    sigma = np.sqrt(np.sum(residuals**2) / (len(residuals) - 1))
    half = (model.predict_interval(coverage=0.9)["upper"] - model.predict()).to_numpy()
    h = np.array([1, 2])
    np.testing.assert_allclose(half, Z90 * sigma * np.sqrt(h * (1 + h / 3)))


@pytest.mark.parametrize("model", [NaiveForecaster(), SeasonalNaiveForecaster(), DriftForecaster()])
def test_update_equals_refit_on_longer_series(model, seasonal_series):
    head, tail = seasonal_series[:100], seasonal_series[100:]
    updated = model.fit(head).update(tail).predict(5)
    refit = type(model)().fit(seasonal_series).predict(5)
    pd.testing.assert_series_equal(updated, refit)


def test_update_rejects_a_gap_and_rows_already_seen(seasonal_series):
    model = NaiveForecaster().fit(seasonal_series[:100])
    with pytest.raises(DataError, match="10 row\\(s\\) at or before"):
        model.update(seasonal_series[90:101])  # seen rows are refused, not ignored
    assert model.cutoff_ == seasonal_series.index[99]
    model.update(seasonal_series[100:101])
    assert model.cutoff_ == seasonal_series.index[100]
    with pytest.raises(ValueError, match="must continue the data at"):
        model.update(seasonal_series[105:])


def test_constant_series_forecasts_the_constant_with_zero_width():
    y = make_series([4.2] * 30)
    for model in (NaiveForecaster(), SeasonalNaiveForecaster(), DriftForecaster()):
        model.fit(y)
        assert np.allclose(model.predict(), 4.2)
        interval = model.predict_interval()
        assert np.allclose(interval["lower"], 4.2) and np.allclose(interval["upper"], 4.2)


@pytest.mark.parametrize("scale", [1e12, 1e-9])
def test_extreme_magnitudes_give_finite_forecasts(scale, seasonal_series):
    y = seasonal_series * scale
    for model in (NaiveForecaster(), SeasonalNaiveForecaster(), DriftForecaster()):
        interval = model.fit(y).predict_interval()
        assert np.isfinite(interval.to_numpy()).all()
        assert np.isfinite(model.predict()).all()


def test_interval_coverage_on_random_walk_is_close_to_nominal():
    rng = np.random.default_rng(7)
    hits = []
    for _ in range(300):
        path = np.cumsum(rng.normal(0, 1, 60))
        model = NaiveForecaster(horizon=5).fit(make_series(path[:55]))
        interval = model.predict_interval(coverage=0.8)
        actual = path[55:]
        hits.append(((actual >= interval["lower"]) & (actual <= interval["upper"])).mean())
    assert 0.74 < np.mean(hits) < 0.86
