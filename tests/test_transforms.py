"""Log / Box-Cox targets for any forecaster, inverted on output."""

import numpy as np
import pandas as pd
import pytest

from tsrnn import ARIMAForecaster, DriftForecaster, NaiveForecaster
from tsrnn.exceptions import DataError, InputError
from tsrnn.transforms import TransformedTargetForecaster


def _growth(n=60):
    rng = np.random.default_rng(0)
    values = 50 * np.exp(np.cumsum(0.01 + 0.02 * rng.normal(size=n)))
    return pd.Series(values, index=pd.bdate_range("2021-01-04", periods=n), name="close")


def test_log_drift_compounds_and_bounds_are_inverted():
    y = _growth()
    model = TransformedTargetForecaster(DriftForecaster(), "log", horizon=5).fit(y)
    log_drift = DriftForecaster(horizon=5).fit(np.log(y))
    np.testing.assert_allclose(model.predict(), np.exp(log_drift.predict()), rtol=1e-12)
    bounds = model.predict_interval(coverage=0.8)
    inner = log_drift.predict_interval(coverage=0.8)
    np.testing.assert_allclose(bounds["lower"], np.exp(inner["lower"]), rtol=1e-12)
    assert (bounds["lower"] > 0).all() and model.predict().index.equals(bounds.index)


def test_boxcox_lambda_is_estimated_and_round_trips():
    y = _growth()
    model = TransformedTargetForecaster(NaiveForecaster(), "boxcox", horizon=3).fit(y)
    from scipy import stats

    assert model.lambda_ == pytest.approx(stats.boxcox_normmax(y.to_numpy(), method="mle"))
    # naive on any monotone transform forecasts the last value back
    np.testing.assert_allclose(model.predict(), np.full(3, y.iloc[-1]), rtol=1e-9)


def test_update_and_arima_inside():
    y = _growth(120)
    model = TransformedTargetForecaster(ARIMAForecaster(order=(1, 1, 0)), "log", horizon=4)
    model.fit(y.iloc[:100]).update(y.iloc[100:])
    assert model.predict().index[0] == y.index[-1] + pd.offsets.BDay(1)
    assert model.forecaster_.horizon == 4


def test_non_positive_target_and_bad_transform_are_refused():
    y = _growth()
    y.iloc[7] = -1.0
    with pytest.raises(DataError, match="row 7.*positive"):
        TransformedTargetForecaster(NaiveForecaster(), "log").fit(y)
    with pytest.raises(InputError, match="transform must be"):
        TransformedTargetForecaster(NaiveForecaster(), "sqrt").fit(_growth())
