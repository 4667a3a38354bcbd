"""The forecaster contract, checked over every forecaster (STYLE.md, CONTRACT.md)."""

from __future__ import annotations

import importlib
import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import tsrnn
from tests.conftest import make_series
from tsrnn.exceptions import NotEnoughDataError


def _factories():
    """(id, factory) for every forecaster; small configurations keep the suite fast."""
    from tsrnn.baselines import DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster

    items = [
        ("naive", lambda: NaiveForecaster(horizon=3)),
        ("seasonal-naive", lambda: SeasonalNaiveForecaster(horizon=3)),
        ("drift", lambda: DriftForecaster(horizon=3)),
    ]
    if importlib.util.find_spec("tsrnn.arima"):
        from tsrnn.arima import ARIMAForecaster

        items.append(("arima", lambda: ARIMAForecaster(order=(1, 0, 0), horizon=3)))
    if importlib.util.find_spec("tsrnn.rnn"):
        from tsrnn.rnn import GRUForecaster, LSTMForecaster, RNNForecaster

        tiny = dict(lookback=8, horizon=3, hidden_size=4, epochs=2, batch_size=16, random_state=0)
        items += [
            ("lstm", lambda: LSTMForecaster(**tiny)),
            ("gru", lambda: GRUForecaster(**tiny)),
            ("rnn", lambda: RNNForecaster(**tiny)),
        ]
    return items


FACTORIES = _factories()
IDS = [name for name, _ in FACTORIES]
MAKERS = [make for _, make in FACTORIES]


@pytest.fixture
def y():
    rng = np.random.default_rng(3)
    t = np.arange(80)
    return make_series(20 + 2 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.2, t.size), name="load")


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_init_stores_params_unchanged_and_they_round_trip(make):
    model = make()
    params = model.get_params()
    assert set(params) == set(inspect.signature(type(model).__init__).parameters) - {"self"}
    assert type(model)(**params).get_params() == params
    model.set_params(horizon=5)
    assert model.get_params()["horizon"] == 5


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_unfitted_forecaster_raises_not_fitted(make):
    with pytest.raises(NotFittedError):
        make().predict()
    with pytest.raises(NotFittedError):
        make().predict_interval()


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_fit_returns_self_and_predict_is_indexed_by_future_dates(make, y):
    model = make()
    assert model.fit(y) is model
    forecast = model.predict()
    assert forecast.name == "load"
    expected = pd.date_range(y.index[-1], periods=4, freq="D")[1:]
    assert (forecast.index == expected).all()
    assert np.isfinite(forecast).all()
    interval = model.predict_interval(coverage=0.8)
    assert list(interval.columns) == ["lower", "upper"]
    assert (interval["lower"] <= interval["upper"]).all()
    assert (interval.index == expected).all()


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_clone_before_and_after_fit(make, y):
    model = make()
    unfitted = clone(model)
    assert unfitted.get_params() == model.get_params()
    model.fit(y)
    fresh = clone(model)
    assert not hasattr(fresh, "cutoff_")
    with pytest.raises(NotFittedError):
        fresh.predict()


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_refit_equals_fresh_fit_and_is_deterministic(make, y):
    model = make().fit(y[:60])
    refit = model.fit(y).predict()
    fresh = make().fit(y).predict()
    pd.testing.assert_series_equal(refit, fresh)


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_save_load_round_trip(make, y, tmp_path):
    model = make().fit(y)
    path = tmp_path / "model.tsrnn"
    model.save(path)
    loaded = tsrnn.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    pd.testing.assert_series_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict_interval(), model.predict_interval())


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_update_moves_the_forecast_origin(make, y):
    model = make().fit(y[:70])
    model.update(y[70:])
    assert model.cutoff_ == y.index[-1]
    assert model.predict().index[0] == y.index[-1] + pd.Timedelta(days=1)


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_too_short_series_gives_the_minimum_length(make):
    with pytest.raises(NotEnoughDataError, match=r"at least \d+"):
        make().fit(make_series([1.0]))


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_bad_input_types_and_values_are_rejected_clearly(make, y):
    with pytest.raises(ValueError, match="DatetimeIndex"):
        make().fit(pd.Series(np.arange(30.0)))
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        make().set_params(horizon=0).fit(y)
    bad = y.copy()
    bad.iloc[5] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        make().fit(bad)
    with pytest.raises(ValueError, match="coverage"):
        make().fit(y).predict_interval(coverage=1.5)


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_X_a_model_does_not_use_is_refused(make):
    from tsrnn.datasets import load_dataset
    from tsrnn.exceptions import InputError

    ibm = load_dataset("ibm", as_frame=True).iloc[-120:]
    y, X = ibm["adj_close"], ibm[["volume"]].astype(float)
    model = make()
    if getattr(type(model), "_uses_X", False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ARIMA(1,0,0) on prices may not converge
            assert model.fit(y, X) is model  # a model that uses X takes it
        assert model.predict(X=X.iloc[-3:].set_axis(model._future_index(3))).notna().all()
    else:
        with pytest.raises(InputError, match=f"{type(model).__name__} does not use X"):
            model.fit(y, X)
        assert not hasattr(model, "cutoff_")  # refused before any work
