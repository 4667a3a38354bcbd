"""The neural core as a global model: one network over a panel, through the public API.

Windows, per-series scaling and calibration are checked against hand computations;
forecasts against their own series' levels and dates; a one-series panel against the
plain-series fit, exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from tests.conftest import make_series  # noqa: E402
from tsrnn.exceptions import InputError  # noqa: E402
from tsrnn.rnn import GRUForecaster, LSTMForecaster  # noqa: E402

TINY = dict(lookback=6, horizon=3, hidden_size=8, epochs=3, batch_size=16, random_state=0)


def _panel(lengths=(60, 45), levels=(10.0, 1000.0), seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n, level in zip(lengths, levels, strict=True):
        t = np.arange(n)
        out.append(level * (1 + 0.1 * np.sin(2 * np.pi * t / 7)) + rng.normal(0, level / 100, n))
    return out


def _as_panel(ys, end="2024-06-30"):
    """A ragged dict panel: series k ends k days before ``end``."""
    out = {}
    for k, y in enumerate(ys):
        last = pd.Timestamp(end) - pd.Timedelta(days=k)
        index = pd.date_range(end=last, periods=len(y), freq="D", name="date")
        out[f"s{k}"] = pd.Series(y, index=index, name="y")
    return out


def _fit_hooks(model, ys, end="2024-06-30"):
    return model.fit(_as_panel(ys, end))


def test_one_network_trains_on_windows_of_every_series_and_none_straddles(monkeypatch):
    from tsrnn.nn import forecasting

    seen = {}
    real = forecasting.train_network

    def spy(net, X, Y, train_idx, val_idx, **kwargs):
        seen.update(X=X, Y=Y, train=np.asarray(train_idx), val=np.asarray(val_idx))
        return real(net, X, Y, train_idx, val_idx, **kwargs)

    monkeypatch.setattr(forecasting, "train_network", spy)
    ys = [np.arange(30.0), 100 + np.arange(20.0)]
    model = _fit_hooks(LSTMForecaster(**TINY, validation_fraction=0.25), ys)
    # Series 0: 30 - 6 - 3 + 1 = 22 windows, 6 validation, gap 2, 14 training;
    # series 1: 12 windows, 3 validation, gap 2, 7 training; offsets 0 and 30 rows.
    np.testing.assert_array_equal(seen["train"], np.r_[0:14, 30:37])
    np.testing.assert_array_equal(seen["val"], np.r_[16:22, 39:42])
    scaled = [model.series_scalers_[k].transform(y[:, None])[:, 0] for k, y in enumerate(ys)]
    for position in np.r_[seen["train"], seen["val"]]:
        k, i = (0, position) if position < 30 else (1, position - 30)
        np.testing.assert_allclose(seen["X"][position, :, 0].numpy(), scaled[k][i : i + 6], 1e-6)
        np.testing.assert_allclose(seen["Y"][position].numpy(), scaled[k][i + 6 : i + 9], 1e-6)
    # Per-series scalers on each series' training rows only (14 + 6 + 3 - 1 = 22 rows).
    np.testing.assert_allclose(model.series_scalers_[0].mean_, [np.mean(ys[0][:22])])
    np.testing.assert_allclose(model.series_scalers_[1].mean_, [np.mean(ys[1][:15])])
    assert [r.shape for r in model.series_residuals_] == [(6, 3), (3, 3)]
    assert [len(r) for r in model.series_recent_] == [6, 6]


def test_one_series_panel_equals_the_plain_series_fit():
    y = _panel(lengths=(70,), levels=(10.0,))[0]
    single = LSTMForecaster(**TINY, calendar_features=True).fit(make_series(y, "2024-01-01"))
    panel = LSTMForecaster(**TINY, calendar_features=True).fit({"only": single_series(y)})
    forecast = panel.predict(5)
    assert forecast.index.names == ["series", "date"]
    np.testing.assert_array_equal(forecast.loc["only"].to_numpy(), single.predict(5).to_numpy())
    assert forecast.loc["only"].index.equals(single.predict(5).index)
    np.testing.assert_array_equal(
        panel.predict_interval(coverage=0.8).loc["only"].to_numpy(),
        single.predict_interval(coverage=0.8).to_numpy(),
    )


def single_series(y):
    return make_series(y, "2024-01-01")


def test_forecasts_continue_each_series_on_its_own_level_and_dates():
    ys = _panel()
    model = GRUForecaster(**TINY).fit(_as_panel(ys))
    forecast = model.predict(4)  # past the trained horizon 3: a recursive roll-out
    assert list(forecast.index.get_level_values("series").unique()) == ["s0", "s1"]
    s0, s1 = forecast.loc["s0"], forecast.loc["s1"]
    assert s0.index[0] == pd.Timestamp("2024-07-01") and s1.index[0] == pd.Timestamp("2024-06-30")
    assert len(s0) == len(s1) == 4
    assert abs(s0.mean() - 10) < 2 and abs(s1.mean() - 1000) < 200
    intervals = model.predict_interval(coverage=0.9)
    widths = (intervals["upper"] - intervals["lower"]).groupby(level="series").mean()
    assert widths["s1"] > 20 * widths["s0"]  # calibrated per series, in each series' units
    point = model.predict()
    assert ((intervals["lower"] < point) & (point < intervals["upper"])).all()
    with pytest.raises(AttributeError, match="use series_scalers_"):
        _ = model.scaler_


def test_update_moves_only_the_named_series_and_fine_tunes_on_them():
    ys = _panel()
    model = LSTMForecaster(**TINY).fit(_as_panel(ys))
    before = model.predict()
    weights = {k: v.clone() for k, v in model.net_.state_dict().items()}
    newer = pd.Series([900.0, 950.0], index=pd.date_range("2024-06-30", periods=2), name="y")
    model.update({"s1": newer})
    after = model.predict()
    pd.testing.assert_series_equal(after.loc["s0"], before.loc["s0"])
    assert after.loc["s1"].index[0] == pd.Timestamp("2024-07-02")
    assert model.cutoffs_ == [pd.Timestamp("2024-06-30"), pd.Timestamp("2024-07-01")]
    np.testing.assert_array_equal(model.series_recent_[1][-2:, 0], [900.0, 950.0])
    for k, v in model.net_.state_dict().items():
        torch.testing.assert_close(v, weights[k])  # fine_tune_epochs=0: weights unchanged
    tuned = LSTMForecaster(**TINY, fine_tune_epochs=2).fit(_as_panel(ys))
    tuned.update({"s1": newer})
    assert any(not torch.equal(v, weights[k]) for k, v in tuned.net_.state_dict().items())


def test_panel_model_saves_and_loads_as_one_file(tmp_path):
    import tsrnn

    model = LSTMForecaster(**TINY, calendar_features=True).fit(_as_panel(_panel()))
    model.save(tmp_path / "panel.tsrnn")
    loaded = tsrnn.load(tmp_path / "panel.tsrnn")
    assert loaded.series_ids_ == ["s0", "s1"]
    assert loaded.cutoffs_ == model.cutoffs_
    pd.testing.assert_series_equal(loaded.predict(5), model.predict(5))
    pd.testing.assert_frame_equal(loaded.predict_interval(), model.predict_interval())
    np.testing.assert_allclose(loaded.series_scalers_[1].mean_, model.series_scalers_[1].mean_)


def test_global_model_trains_on_the_bundled_stock_panel():
    from tsrnn.datasets import load_panel

    y = load_panel("stocks")
    y = y.groupby(level="series", sort=False).tail(300)
    model = LSTMForecaster(lookback=20, horizon=5, hidden_size=8, epochs=2, random_state=0)
    forecast = model.fit(y).predict()
    assert model.series_ids_ == ["aapl", "ibm", "goog", "msft"]
    assert len(model.series_scalers_) == 4
    last = y.groupby(level="series", sort=False).last()
    ratio = forecast.groupby(level="series", sort=False).mean() / last
    assert ((ratio > 0.9) & (ratio < 1.1)).all()  # each stock near its own last price
    assert forecast.loc["msft"].index[0] == pd.Timestamp("2017-11-13")


def test_warm_start_on_the_same_panel_continues_from_the_fitted_network():
    ys = _panel()
    model = LSTMForecaster(**dict(TINY, epochs=1), warm_start=True).fit(_as_panel(ys))
    net, scalers = model.net_, model.series_scalers_
    longer = _as_panel([np.r_[y, y[-7:]] for y in ys], end="2024-07-07")
    model.fit(longer)
    assert model.net_ is net and model.series_scalers_ is scalers
    assert model.cutoffs_[0] == pd.Timestamp("2024-07-07")
    other = {"s0": _as_panel(ys)["s0"], "new": _as_panel(ys)["s1"]}
    model.fit(other)  # other series: a fresh network and fresh scalers
    assert model.net_ is not net and model.series_ids_ == ["s0", "new"]


def test_panel_with_covariates_trains_on_every_column_of_every_series():
    rng = np.random.default_rng(1)
    frames = {}
    for k, level in enumerate((5.0, 50.0)):
        index = pd.date_range("2024-01-01", periods=50 + 5 * k, freq="D", name="date")
        rain = rng.gamma(1.0, 2.0, len(index))
        temp = level - 0.5 * rain + rng.normal(0, 0.1, len(index))
        frames[f"st{k}"] = pd.DataFrame({"temp": temp, "rain": rain}, index=index)
    model = LSTMForecaster(**TINY, target="temp").fit(frames)
    assert model.n_inputs_ == 2 and model.covariate_names_ == ["rain"]
    assert [r.shape for r in model.series_recent_] == [(6, 2), (6, 2)]
    np.testing.assert_allclose(
        model.series_scalers_[1].mean_[1],
        frames["st1"]["rain"].iloc[: len(frames["st1"]) - 11].mean(),
    )
    assert model.predict().groupby(level="series").size().tolist() == [3, 3]
    with pytest.raises(InputError, match="exceeds the trained horizon 3"):
        model.predict(4)


def test_a_constant_series_in_a_mixed_panel_is_forecast_exactly():
    index = pd.date_range("2024-01-01", periods=60, freq="D", name="date")
    panel = {
        "flat": pd.Series(5.0, index=index, name="y"),
        "wave": pd.Series(10 + np.sin(np.arange(60.0)), index=index, name="y"),
    }
    model = LSTMForecaster(**TINY).fit(panel)
    assert model.series_constant_ == [True, False]
    np.testing.assert_array_equal(model.predict(5).loc["flat"].to_numpy(), 5.0)
    interval = model.predict_interval().loc["flat"]
    np.testing.assert_array_equal(interval.to_numpy(), 5.0)
    newer = pd.Series([6.0], index=pd.date_range("2024-03-01", periods=1), name="y")
    model.update({"flat": newer})  # then its last value, the naive forecast
    np.testing.assert_array_equal(model.predict().loc["flat"].to_numpy(), 6.0)
    assert LSTMForecaster(**TINY).fit(panel["wave"]).series_constant_ is None
