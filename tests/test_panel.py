"""Panels: many series at once through every forecaster's fit/predict/update/save."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tests.conftest import make_series
from tsrnn.arima import ARIMAForecaster
from tsrnn.base import BaseForecaster
from tsrnn.baselines import DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster
from tsrnn.exceptions import DataError, DataWarning, InputError, NotEnoughDataError
from tsrnn.panel import drop_short_series, is_panel, join_panel, split_panel


def _walk(seed: int, n: int, start: str = "2024-01-01", freq: str = "D") -> pd.Series:
    rng = np.random.default_rng(seed)
    return make_series(50 + np.cumsum(rng.normal(0, 1, n)), start=start, freq=freq, name="close")


@pytest.fixture
def ragged() -> dict[str, pd.Series]:
    """Three series starting and ending on different days."""
    return {"a": _walk(0, 40), "b": _walk(1, 30, start="2024-01-05"), "c": _walk(2, 25)}


def _multi(parts: dict) -> pd.Series:
    return join_panel(parts, names=("ticker", "day"))


def test_shapes_round_trip(ragged):
    y = _multi(ragged)
    assert is_panel(y) and is_panel(ragged) and not is_panel(ragged["a"])
    back = split_panel(y)
    assert list(back) == ["a", "b", "c"]
    pd.testing.assert_series_equal(back["b"], ragged["b"], check_names=False, check_freq=False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: NaiveForecaster(horizon=3),
        lambda: SeasonalNaiveForecaster(horizon=3),
        lambda: DriftForecaster(horizon=3),
        lambda: ARIMAForecaster(order=(1, 1, 0), horizon=3),
    ],
    ids=["naive", "seasonal-naive", "drift", "arima"],
)
def test_local_panel_equals_one_fit_per_series(make, ragged):
    model = make().fit(_multi(ragged))
    point, bounds = model.predict(), model.predict_interval(coverage=0.8)
    assert point.index.names == ["ticker", "day"] and point.name == "close"
    assert list(bounds.columns) == ["lower", "upper"] and bounds.index.equals(point.index)
    assert model.series_ids_ == ["a", "b", "c"]
    assert model.cutoffs_ == [s.index[-1] for s in ragged.values()]
    for key, series in ragged.items():
        alone = make().fit(series)
        np.testing.assert_array_equal(point[key].to_numpy(), alone.predict().to_numpy())
        np.testing.assert_array_equal(point[key].index, alone.predict().index)
        np.testing.assert_allclose(bounds.loc[key].to_numpy(), alone.predict_interval(coverage=0.8))
    # each series continues its own data
    assert point["b"].index[0] == ragged["b"].index[-1] + pd.Timedelta(days=1)


def test_dict_panel_gets_default_level_names(ragged):
    forecast = NaiveForecaster(horizon=2).fit(ragged).predict()
    assert forecast.index.names == ["series", "date"]
    assert forecast.loc["c"].tolist() == [ragged["c"].iloc[-1]] * 2


def test_one_series_panel_equals_plain_series(ragged):
    plain = ARIMAForecaster(order=(1, 1, 1), horizon=4).fit(ragged["a"])
    panel = ARIMAForecaster(order=(1, 1, 1), horizon=4).fit({"a": ragged["a"]})
    pd.testing.assert_series_equal(panel.predict().loc["a"], plain.predict(), check_names=False)
    pd.testing.assert_frame_equal(
        panel.predict_interval().loc["a"], plain.predict_interval(), check_names=False
    )


def test_refit_on_a_single_series_forgets_the_panel(ragged):
    model = NaiveForecaster(horizon=2).fit(ragged).fit(ragged["a"])
    assert not hasattr(model, "series_ids_") and model.predict().index.nlevels == 1


def test_update_continues_the_named_series_only(ragged):
    full = _walk(1, 35, start="2024-01-05")
    model = ARIMAForecaster(order=(1, 1, 0), horizon=2).fit(ragged)
    before = model.predict()
    model.update({"b": full.iloc[30:]})  # 5 newer rows of b
    after = model.predict()
    assert model.cutoffs_[1] == full.index[-1] and after.loc["b"].index[0] == pd.Timestamp(
        "2024-02-09"
    )
    pd.testing.assert_series_equal(after.loc[["a", "c"]], before.loc[["a", "c"]])
    alone = ARIMAForecaster(order=(1, 1, 0), horizon=2).fit(ragged["b"]).update(full.iloc[30:])
    np.testing.assert_allclose(after.loc["b"].to_numpy(), alone.predict().to_numpy())


def test_update_is_all_or_nothing(ragged):
    model = NaiveForecaster(horizon=1).fit(ragged)
    good = _walk(0, 42).iloc[40:]
    gap = _walk(1, 40, start="2024-01-05").iloc[32:]  # starts 2 days after b's end
    with pytest.raises(DataError, match="series 'b'.*must continue the data"):
        model.update({"a": good, "b": gap})
    assert model.cutoffs_[0] == ragged["a"].index[-1]
    assert model.predict().loc["a"].iloc[0] == ragged["a"].iloc[-1]


def test_update_naming_an_unknown_series(ragged):
    model = NaiveForecaster().fit(ragged)
    with pytest.raises(DataError, match="not fitted on: 'zzz'"):
        model.update({"zzz": _walk(5, 50)})
    with pytest.raises(DataError, match="panel of 3 series"):
        model.update(_walk(0, 45))
    with pytest.raises(DataError, match="fitted on a single series"):
        NaiveForecaster().fit(ragged["a"]).update(ragged)


def test_panel_model_saves_and_loads_as_one_file(ragged, tmp_path):
    model = ARIMAForecaster(order=(1, 1, 0), horizon=3).fit(_multi(ragged))
    model.save(tmp_path / "panel.tsrnn")
    loaded = tsrnn.load(tmp_path / "panel.tsrnn")
    assert [p.name for p in tmp_path.iterdir()] == ["panel.tsrnn"]
    pd.testing.assert_series_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict_interval(), model.predict_interval())
    more = {"c": _walk(2, 27).iloc[25:]}
    pd.testing.assert_series_equal(loaded.update(more).predict(), model.update(more).predict())


def test_duplicate_series_timestamp_pairs(ragged):
    y = _multi(ragged)
    y = pd.concat([y, y.iloc[[41]]])
    with pytest.raises(DataError, match="series 'b': duplicate timestamp 2024-01-06"):
        NaiveForecaster().fit(y)


def test_series_too_short_names_it_and_the_minimum(ragged):
    ragged["tiny"] = _walk(3, 3)
    model = ARIMAForecaster(order=(2, 1, 0))
    with pytest.raises(NotEnoughDataError, match="series 'tiny' has 3 observations.*at least 6"):
        model.fit(ragged)
    assert not hasattr(model, "cutoff_")
    with pytest.warns(DataWarning, match="dropped 1 series shorter than 6 observations: 'tiny'"):
        kept = drop_short_series(_multi(ragged), model)
    assert model.fit(kept).series_ids_ == ["a", "b", "c"]


def test_missing_or_blank_ids(ragged):
    y = _multi(ragged)
    codes = y.index.codes[0].copy()
    codes[5] = -1
    missing = y.copy()
    missing.index = y.index.set_codes(codes, level=0)
    with pytest.raises(DataError, match="row 5: the series id is missing"):
        NaiveForecaster().fit(missing)
    with pytest.raises(DataError, match="series id is blank"):
        NaiveForecaster().fit({"a": ragged["a"], "  ": ragged["b"]})


def test_series_of_different_frequencies(ragged):
    ragged["weekly"] = _walk(4, 20, freq="W-SUN")
    with pytest.raises(DataError, match="series 'weekly' has frequency 'W-SUN'.*'a' has 'D'"):
        NaiveForecaster().fit(ragged)


def test_each_series_is_validated_as_a_single_series(ragged):
    bad = ragged["b"].copy()
    bad.iloc[3] = np.inf
    with pytest.raises(DataError, match=r"series 'b': y.*infinite"):
        NaiveForecaster().fit({"a": ragged["a"], "b": bad})


def test_dask_cluster_runs_the_fits_and_matches_n_jobs_1(ragged):
    distributed = pytest.importorskip("dask.distributed")
    import joblib

    serial = ARIMAForecaster(order=(1, 1, 0), horizon=3, n_jobs=1).fit(ragged)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        joblib.parallel_config(backend="dask"),
        distributed.get_task_stream(client) as stream,
    ):
        parallel = ARIMAForecaster(order=(1, 1, 0), horizon=3, n_jobs=2).fit(ragged)
    assert len(stream.data) >= 1  # the fits ran as tasks on the cluster
    pd.testing.assert_series_equal(parallel.predict(), serial.predict())
    pd.testing.assert_frame_equal(parallel.predict_interval(), serial.predict_interval())


class _PooledNaive(BaseForecaster):
    """A tiny global model (test-only): naive forecasts with one pooled residual sigma."""

    _global_model = True

    def __init__(self, horizon: int = 2, target: str | None = None, freq: str | None = None):
        self.horizon = horizon
        self.target = target
        self.freq = freq

    def _fit_panel(self, ys, covariates):
        assert len(ys) == len(self.series_ids_) == len(self.cutoffs_)
        self.last_ = np.array([y[-1] for y in ys])
        self.sigma_ = float(np.std(np.concatenate([np.diff(y) for y in ys])))

    def _predict_panel(self, horizon):
        return [np.full(horizon, v) for v in self.last_]

    def _predict_interval_panel(self, horizon, coverage):
        return [(p - self.sigma_, p + self.sigma_) for p in self._predict_panel(horizon)]

    def _update_panel(self, updates):
        for pos, (y, _) in updates.items():
            self.last_[pos] = y[-1]


def test_global_model_hooks_get_the_whole_panel(ragged):
    model = _PooledNaive().fit(_multi(ragged))
    point = model.predict()
    assert point.loc["b"].index[0] == ragged["b"].index[-1] + pd.Timedelta(days=1)
    assert point.loc["c"].tolist() == [ragged["c"].iloc[-1]] * 2
    bounds = model.predict_interval()
    np.testing.assert_allclose(bounds["upper"] - bounds["lower"], 2 * model.sigma_)
    longer = _walk(2, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.update({"c": longer.iloc[25:]})
    assert model.cutoffs_[2] == longer.index[-1]
    assert model.predict().loc["c"].tolist() == [longer.iloc[-1]] * 2


def test_arima_x_on_a_panel_is_a_panel_of_x():
    rng = np.random.default_rng(7)
    ys, Xs = {}, {}
    for key, n in (("a", 50), ("b", 40)):
        X = pd.DataFrame(
            {"x": rng.normal(size=n + 3)}, index=pd.date_range("2024-01-01", periods=n + 3)
        )
        ys[key] = pd.Series(
            2 * X["x"].to_numpy()[:n] + np.cumsum(rng.normal(size=n)), index=X.index[:n], name="y"
        )
        Xs[key] = X
    model = ARIMAForecaster(order=(1, 1, 0), horizon=3)
    model.fit(ys, X={k: X.iloc[:-3] for k, X in Xs.items()})
    point = model.predict(X={k: X.iloc[-3:] for k, X in Xs.items()})
    alone = ARIMAForecaster(order=(1, 1, 0), horizon=3).fit(ys["b"], X=Xs["b"].iloc[:-3])
    np.testing.assert_allclose(point.loc["b"], alone.predict(X=Xs["b"].iloc[-3:]))
    with pytest.raises(DataError, match="series 'a': the model was fitted with X"):
        model.predict()
    with pytest.raises(InputError, match="X for predict on a panel must be a panel too"):
        model.predict(X=Xs["a"])


def test_a_tampered_panel_model_file_is_refused(ragged, tmp_path):
    import json
    import zipfile

    path = tmp_path / "panel.tsrnn"
    NaiveForecaster().fit(ragged).save(path)
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("model.json"))
        npz = archive.read("arrays.npz")
    header["state"]["__dict__"]["series_ids_"].pop()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", json.dumps(header))
        archive.writestr("arrays.npz", npz)
    with pytest.raises(tsrnn.exceptions.ModelFileError, match="2 series ids but 3 cutoffs"):
        tsrnn.load(path)


def test_a_series_of_two_rows_takes_the_panels_frequency(ragged):
    ragged["new"] = _walk(9, 2, start="2024-02-01")
    model = NaiveForecaster(horizon=2).fit(ragged)
    assert model.freq_ == "D" and model.predict().loc["new"].index[0] == pd.Timestamp("2024-02-03")
