"""The panel contract over every forecaster (the factories of tests/test_common.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tests.conftest import make_series
from tests.test_common import IDS, MAKERS
from tsrnn.panel import join_panel


@pytest.fixture
def panel() -> dict[str, pd.Series]:
    rng = np.random.default_rng(5)
    t = np.arange(80)
    a = make_series(20 + 2 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.2, 80), name="load")
    b = make_series(5 + np.sin(2 * np.pi * t[:60] / 7), start="2024-01-10", name="load")
    return {"a": a, "b": b}


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_panel_round_trip_for_every_forecaster(make, panel, tmp_path):
    model = make().fit(join_panel(panel))
    point, bounds = model.predict(), model.predict_interval(coverage=0.8)
    assert point.index.names == ["series", "date"] and point.name == "load"
    assert list(point.index.unique("series")) == ["a", "b"]
    for key, y in panel.items():
        dates = point.loc[key].index
        assert dates[0] == y.index[-1] + pd.Timedelta(days=1) and len(dates) == model.horizon
    assert bounds.index.equals(point.index) and (bounds["lower"] <= bounds["upper"]).all()
    assert np.isfinite(point).all()
    model.save(tmp_path / "m.tsrnn")
    pd.testing.assert_series_equal(tsrnn.load(tmp_path / "m.tsrnn").predict(), point)
    longer = make_series(5 + np.sin(2 * np.pi * np.arange(62) / 7), start="2024-01-10")
    newer = {"b": longer.iloc[60:].rename("load")}
    after = model.update(newer).predict()
    assert after.loc["b"].index[0] == pd.Timestamp("2024-03-12")
    pd.testing.assert_series_equal(after.loc[["a"]], point.loc[["a"]])


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_one_series_panel_equals_the_plain_series(make, panel):
    plain = make().fit(panel["a"])
    one = make().fit({"a": panel["a"]})
    np.testing.assert_allclose(one.predict().loc["a"].to_numpy(), plain.predict().to_numpy())
    np.testing.assert_allclose(
        one.predict_interval().loc["a"].to_numpy(), plain.predict_interval().to_numpy()
    )
