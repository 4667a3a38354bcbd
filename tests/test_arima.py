"""ARIMAForecaster: equality with statsmodels, automatic orders, updates, X, persistence."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.arima_process import arma_generate_sample

import tsrnn
from tsrnn import _autoarima as auto
from tsrnn.arima import ARIMAConvergenceWarning, ARIMAForecaster
from tsrnn.exceptions import DataError, InputError, NotEnoughDataError

# update-then-predict vs refit-on-all-data: documented tolerance, in series std units
UPDATE_VS_REFIT_TOLERANCE = 0.05


def _arma(ar, ma, n, seed, integrate=False, start="2020-01-01", freq="D"):
    x = arma_generate_sample(
        ar, ma, n, distrvs=np.random.default_rng(seed).standard_normal, burnin=100
    )
    x = np.cumsum(x) if integrate else x
    return pd.Series(x + 10.0, index=pd.date_range(start, periods=n, freq=freq), name="y")


@pytest.fixture(scope="module")
def ar1():
    return _arma([1, -0.6], [1], 300, seed=1)


@pytest.fixture(scope="module")
def walk():
    return _arma([1], [1], 300, seed=2, integrate=True)


def _no_foreign_warnings(caught):
    foreign = [w for w in caught if not issubclass(w.category, ARIMAConvergenceWarning)]
    assert not foreign, [str(w.message) for w in foreign]


# ------------------------------------------------------------- statsmodels equality
@pytest.mark.parametrize(
    ("order", "seasonal_order", "trend"),
    [((1, 0, 1), None, None), ((1, 1, 1), None, "t"), ((2, 1, 0), None, "n"),
     ((1, 0, 0), (1, 0, 0, 7), "c")],
)  # fmt: skip
def test_fixed_order_equals_statsmodels(walk, order, seasonal_order, trend):
    y = walk.iloc[-100:] if seasonal_order else walk.iloc[-150:]
    model = ARIMAForecaster(
        order=order, seasonal_order=seasonal_order, trend=trend, horizon=6, interval="model"
    )
    model.fit(y)
    kwargs = {"seasonal_order": seasonal_order} if seasonal_order else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARIMA(y.to_numpy(), order=order, trend=trend, **kwargs).fit()
    assert_allclose(model.results_.params, ref.params, rtol=1e-10)
    assert_allclose(model.predict().to_numpy(), ref.forecast(6), rtol=1e-10)
    interval = model.predict_interval(coverage=0.8)
    assert_allclose(interval.to_numpy(), ref.get_forecast(6).conf_int(alpha=0.2), rtol=1e-10)
    assert list(interval.columns) == ["lower", "upper"]


def test_css_ml_matches_statsmodels_likelihood():
    y = _arma([1, -0.6], [1, 0.4], 300, seed=5, integrate=True)
    ours = ARIMAForecaster(order=(1, 1, 1), trend="t", method="css-ml").fit(y)
    ref = ARIMAForecaster(order=(1, 1, 1), trend="t").fit(y)
    assert ours.results_.llf >= ref.results_.llf - 1e-4
    assert_allclose(ours.predict(), ref.predict(), rtol=1e-3)


def test_intervals_widen_with_coverage_and_horizon(ar1):
    model = ARIMAForecaster(order=(1, 0, 0), horizon=5).fit(ar1)
    narrow, wide = model.predict_interval(coverage=0.5), model.predict_interval(coverage=0.95)
    assert (wide["lower"] < narrow["lower"]).all() and (wide["upper"] > narrow["upper"]).all()
    assert np.all(np.diff((wide["upper"] - wide["lower"]).to_numpy()) >= 0)


# ------------------------------------------------------------------ automatic orders
PROCESSES = {  # name: (ar polynomial, ma polynomial, integrate, true order)
    "ar1": ([1, -0.5], [1], False, (1, 0, 0)),
    "ma1": ([1], [1, 0.5], False, (0, 0, 1)),
    "arma11": ([1, -0.6], [1, 0.4], False, (1, 0, 1)),
    "ima11": ([1], [1, 0.4], True, (0, 1, 1)),
}


@pytest.mark.parametrize("name", list(PROCESSES))
def test_auto_recovers_order_and_coefficients(name):
    ar, ma, integrate, order = PROCESSES[name]
    truth = np.r_[-np.array(ar[1:]), ma[1:]]
    hits = 0
    for seed in range(10):
        y = _arma(ar, ma, 500, seed, integrate)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = ARIMAForecaster(season_length=1).fit(y)
        _no_foreign_warnings(caught)
        if model.order_ == order:
            hits += 1
            estimate = np.r_[model.results_.arparams, model.results_.maparams]
            assert_allclose(estimate, truth, atol=0.15)
    assert hits >= 6, f"{name}: true order {order} recovered in {hits}/10 seeds"


def test_ndiffs_random_walk_and_stationary():
    rng = np.random.default_rng(0)
    walks = [auto.ndiffs(np.cumsum(rng.normal(size=400))) for _ in range(10)]
    stationary = [auto.ndiffs(_arma([1, -0.5], [1], 400, seed).to_numpy()) for seed in range(10)]
    assert walks.count(1) >= 9, walks
    assert stationary.count(0) >= 8, stationary  # KPSS at 5% is oversized for AR data


def test_auto_chooses_d(walk, ar1):
    assert ARIMAForecaster(season_length=1).fit(walk).order_[1] == 1
    assert ARIMAForecaster(season_length=1).fit(ar1).order_[1] == 0


def test_seasonal_difference_on_strong_seasonality():
    rng = np.random.default_rng(0)
    t = np.arange(120)
    values = 50 + 0.1 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 120)
    y = pd.Series(values, index=pd.date_range("2010-01-01", periods=120, freq="MS"))
    assert auto.seasonal_strength(values, 12) > 0.9
    assert auto.nsdiffs(values, 12) == 1
    assert auto.nsdiffs(rng.normal(size=120), 12) == 0
    model = ARIMAForecaster(max_p=1, max_q=1, max_P=1, max_Q=1, horizon=12).fit(y)
    assert model.seasonal_order_[1] == 1 and model.seasonal_order_[3] == 12
    future = 50 + 0.1 * np.arange(120, 132) + 10 * np.sin(2 * np.pi * np.arange(120, 132) / 12)
    assert np.max(np.abs(model.predict().to_numpy() - future)) < 4


def test_search_trace_records_every_candidate(ar1):
    model = ARIMAForecaster(season_length=1).fit(ar1)
    keys = {"order", "seasonal_order", "trend", "method", "ic", "converged", "seconds", "error"}
    assert model.search_trace_ and all(set(entry) == keys for entry in model.search_trace_)
    orders = [entry["order"] for entry in model.search_trace_]
    assert orders[:4] == [(2, 0, 2), (0, 0, 0), (1, 0, 0), (0, 0, 1)]
    assert model.order_ in orders
    assert np.isfinite(model.aicc_)


@pytest.mark.parametrize(("approximation", "name"), [(True, "fit_css"), (False, "fit_css_ml")])
def test_failed_candidates_are_skipped(ar1, monkeypatch, approximation, name):
    real = getattr(auto, name)

    def flaky(y, exog, candidate, settings, **kwargs):
        if candidate.p == 2:
            raise np.linalg.LinAlgError("singular matrix")
        return real(y, exog, candidate, settings, **kwargs)

    monkeypatch.setattr(auto, name, flaky)
    model = ARIMAForecaster(season_length=1, approximation=approximation).fit(ar1)
    failed = [e for e in model.search_trace_ if e["error"] and "singular" in e["error"]]
    assert failed and all(e["ic"] is None for e in failed)
    assert model.order_[0] != 2 and np.isfinite(model.predict()).all()


def test_innovations_likelihood_equals_statsmodels(walk):
    settings = auto.SearchSettings(1, 0, 7, trend="t")
    candidate = auto.Candidate(1, 1, 1, 0, False)
    fit = auto.fit_css_ml(walk.to_numpy(), None, candidate, settings)
    model = auto.build_model(walk.to_numpy(), None, (1, 1, 1), (1, 0, 0, 7), "t")
    assert_allclose(fit.llf, model.loglike(fit.params), rtol=1e-9)


def test_exhaustive_search_agrees_on_small_grid(ar1):
    kwargs = {"season_length": 1, "max_p": 2, "max_q": 2}
    stepwise = ARIMAForecaster(**kwargs).fit(ar1)
    grid = ARIMAForecaster(stepwise=False, **kwargs).fit(ar1)
    assert grid.aicc_ <= stepwise.aicc_ + 1e-6
    assert len(grid.search_trace_) >= 18


def test_time_budget_stops_with_one_warning(ar1):
    with pytest.warns(ARIMAConvergenceWarning, match="time_budget") as record:
        model = ARIMAForecaster(season_length=1, time_budget=1e-9).fit(ar1)
    assert len([w for w in record if w.category is ARIMAConvergenceWarning]) == 1
    assert np.isfinite(model.predict()).all()


def test_non_convergence_gives_one_clear_warning(ar1, monkeypatch):
    real = auto.fit_css_ml
    monkeypatch.setattr(auto, "fit_css_ml", lambda *a, **k: replace(real(*a, **k), converged=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ARIMAForecaster(season_length=1, approximation=False).fit(ar1)
    ours = [w for w in caught if issubclass(w.category, ARIMAConvergenceWarning)]
    assert len(ours) == 1 and len(caught) == 1
    assert "lower order" in str(ours[0].message) and "differencing" in str(ours[0].message)


# ------------------------------------------------------------------------- update
def test_update_equals_statsmodels_append():
    walk = _arma([1, -0.5], [1], 300, seed=7, integrate=True)
    train, new = walk.iloc[:-20], walk.iloc[-20:]
    model = ARIMAForecaster(order=(1, 1, 0), trend="t", horizon=4, interval="model").fit(train)
    for start in range(0, 20, 5):
        model.update(new.iloc[start : start + 5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ARIMA(train.to_numpy(), order=(1, 1, 0), trend="t").fit()
        ref = ref.append(new.to_numpy())
    prediction = model.predict()
    assert_allclose(prediction.to_numpy(), ref.forecast(4), rtol=1e-8)
    assert_allclose(
        model.predict_interval().to_numpy(), ref.get_forecast(4).conf_int(alpha=0.1), rtol=1e-8
    )
    assert prediction.index[0] == walk.index[-1] + pd.Timedelta(days=1)
    assert model.cutoff_ == walk.index[-1] and model.n_obs_ == len(walk)


def test_update_close_to_refit(ar1):
    train = ar1.iloc[:-20]
    updated = ARIMAForecaster(order=(1, 0, 0), horizon=5).fit(train).update(ar1.iloc[-20:])
    refitted = ARIMAForecaster(order=(1, 0, 0), horizon=5).fit(ar1)
    gap = np.max(np.abs(updated.predict() - refitted.predict()))
    assert gap < UPDATE_VS_REFIT_TOLERANCE * ar1.std()
    assert_allclose(updated.refit().predict(), refitted.predict(), rtol=1e-8)


def test_update_keeps_auto_order_and_parameters(ar1):
    model = ARIMAForecaster(season_length=1).fit(ar1.iloc[:-10])
    params, order = model.results_.params.copy(), model.order_
    model.update(ar1.iloc[-10:])
    assert model.order_ == order
    assert_allclose(model.results_.params, params)


# ---------------------------------------------------------------------- exogenous X
@pytest.fixture(scope="module")
def with_x():
    rng = np.random.default_rng(3)
    index = pd.date_range("2021-01-01", periods=260, freq="D")
    X = pd.DataFrame({"promo": rng.normal(size=260)}, index=index)
    noise = _arma([1, -0.5], [1], 260, seed=4).to_numpy()
    return pd.Series(3.0 * X["promo"].to_numpy() + noise, index=index, name="sales"), X


def test_exog_in_fit_and_predict(with_x):
    y, X = with_x
    model = ARIMAForecaster(order=(1, 0, 0), horizon=3).fit(y.iloc[:-3], X=X.iloc[:-3])
    assert model.exog_names_ == ["promo"]
    assert_allclose(model.results_.params[1], 3.0, atol=0.15)
    future = X.iloc[-3:]
    shifted = future + 1.0
    gap = model.predict(X=shifted) - model.predict(X=future)
    assert_allclose(gap.to_numpy(), model.results_.params[1])
    as_array = model.predict(X=future.to_numpy())
    assert_allclose(as_array, model.predict(X=X))  # by timestamp from a longer frame
    assert model.predict_interval(X=future).shape == (3, 2)


def test_exog_auto_order_and_update(with_x):
    y, X = with_x
    model = ARIMAForecaster(season_length=1, horizon=2).fit(y.iloc[:-5], X=X.iloc[:-5])
    model.update(y.iloc[-5:-2], X=X.iloc[-5:-2])
    assert model.predict(X=X).index[0] == y.index[-2]


@pytest.mark.parametrize("bad", [np.ones((2, 1)), np.ones((3, 2)), None])
def test_exog_wrong_shape_raises(with_x, bad):
    y, X = with_x
    model = ARIMAForecaster(order=(1, 0, 0), horizon=3).fit(y.iloc[:-3], X=X.iloc[:-3])
    with pytest.raises(DataError, match="X"):
        model.predict(X=bad)


def test_exog_errors_in_fit_and_without_x(with_x, ar1):
    y, X = with_x
    with pytest.raises(DataError, match="rows"):
        ARIMAForecaster(order=(1, 0, 0)).fit(y, X=X.to_numpy()[:-1])
    with pytest.raises(DataError, match="no row"):
        ARIMAForecaster(order=(1, 0, 0)).fit(y, X=X.iloc[5:])
    plain = ARIMAForecaster(order=(1, 0, 0)).fit(ar1)
    with pytest.raises(DataError, match="without X"):
        plain.predict(X=np.ones((7, 1)))


# -------------------------------------------------------------------- persistence
def test_save_load_round_trip(tmp_path, with_x):
    y, X = with_x
    model = ARIMAForecaster(season_length=1, horizon=4).fit(y.iloc[:-10], X=X.iloc[:-10])
    model.update(y.iloc[-10:-4], X=X)
    path = tmp_path / "arima.tsrnn"
    model.save(path)
    loaded = tsrnn.load(path)
    assert loaded.order_ == model.order_ and loaded.search_trace_ == model.search_trace_
    assert_allclose(loaded.predict(X=X), model.predict(X=X), rtol=1e-8)
    assert_allclose(loaded.predict_interval(X=X), model.predict_interval(X=X), rtol=1e-8)
    loaded.update(y.iloc[-4:-2], X=X)
    model.update(y.iloc[-4:-2], X=X)
    assert_allclose(loaded.predict(2, X=X), model.predict(2, X=X), rtol=1e-8)


def test_save_load_seasonal_drift(tmp_path, walk):
    model = ARIMAForecaster(order=(1, 1, 0), seasonal_order=(1, 0, 0, 7), trend="t").fit(walk)
    model.save(tmp_path / "m.tsrnn")
    assert_allclose(tsrnn.load(tmp_path / "m.tsrnn").predict(), model.predict(), rtol=1e-10)


# --------------------------------------------------------------- awkward series
@pytest.mark.parametrize("order", ["auto", (1, 1, 1)])
def test_constant_series(order):
    y = pd.Series(4.2, index=pd.date_range("2022-01-01", periods=60))
    model = ARIMAForecaster(order=order, horizon=5).fit(y)
    assert_allclose(model.predict(), 4.2)
    interval = model.predict_interval()
    assert_allclose(interval["lower"], 4.2) and assert_allclose(interval["upper"], 4.2)
    model.update(pd.Series(4.2, index=pd.date_range("2022-03-02", periods=3)))
    assert_allclose(model.predict(), 4.2)


@pytest.mark.parametrize("factor", [1e12, 1e-9])
def test_huge_and_tiny_magnitudes(walk, factor):
    base = ARIMAForecaster(season_length=1, horizon=5).fit(walk)
    scaled = ARIMAForecaster(season_length=1, horizon=5).fit(walk * factor)
    prediction = scaled.predict()
    assert np.isfinite(prediction).all() and np.isfinite(scaled.predict_interval()).all().all()
    assert scaled.order_ == base.order_
    assert_allclose(prediction / factor, base.predict(), rtol=1e-4)


def test_business_day_index():
    index = pd.bdate_range("2024-01-01", periods=120)
    y = pd.Series(100 + np.cumsum(np.random.default_rng(5).normal(size=120)), index=index)
    prediction = ARIMAForecaster(horizon=6).fit(y).predict()
    assert prediction.index.freqstr == "B"
    assert (prediction.index.day_of_week < 5).all()
    assert prediction.index[0] == pd.Timestamp("2024-06-17")  # Friday 14th -> Monday


# ------------------------------------------------------------ estimator contract
def test_clone_and_params():
    model = ARIMAForecaster(order=(2, 1, 0), trend="t", time_budget=5.0)
    assert clone(model).get_params() == model.get_params()
    assert "kwargs" not in model.get_params()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"order": (1, 1)}, "order"), ({"order": "best"}, "order"),
     ({"seasonal_order": (1, 0, 0, 7)}, "seasonal_order"),
     ({"order": (1, 1, 0), "seasonal_order": (1, 0, 0, 1)}, "season length"),
     ({"order": (1, 1, 0), "trend": "c"}, "trend"), ({"trend": "x"}, "trend"),
     ({"information_criterion": "hqic"}, "information_criterion"),
     ({"max_p": -1}, "max_p"), ({"time_budget": 0}, "time_budget"),
     ({"method": "magic"}, "method"), ({"approximation": "yes"}, "approximation")],
)  # fmt: skip
def test_bad_parameters_raise_input_error(ar1, kwargs, match):
    with pytest.raises(InputError, match=match):
        ARIMAForecaster(**kwargs).fit(ar1)


def test_short_series_names_the_minimum():
    y = pd.Series(np.arange(6.0), index=pd.date_range("2024-01-01", periods=6))
    with pytest.raises(NotEnoughDataError, match="at least"):
        ARIMAForecaster(order=(3, 1, 2)).fit(y)


def test_search_with_no_fitted_candidate_falls_back_to_pure_differencing(monkeypatch):
    from types import SimpleNamespace

    import tsrnn._arima_estimation as estimation

    failed = {"order": (1, 1, 1), "error": "AR or MA roots too close to the unit circle"}
    nothing = SimpleNamespace(best=SimpleNamespace(params=None), trace=[failed], timed_out=False)
    monkeypatch.setattr(estimation, "select_order", lambda *args: nothing)
    rng = np.random.default_rng(5)
    index = pd.date_range("2024-01-01", periods=200, freq="D")
    y = pd.Series(np.cumsum(rng.normal(size=200)) + 50, index=index)
    with pytest.warns(tsrnn.DataWarning, match=r"fell back to ARIMA\(0, 1, 0\)"):
        model = ARIMAForecaster(season_length=1, max_d=1, horizon=3).fit(y)
    assert model.order_ == (0, 1, 0)
    assert_allclose(
        model.predict().to_numpy(), y.iloc[-1]
    )  # a random walk forecasts the last value
    assert model.search_trace_[0]["error"].startswith("AR or MA roots")
