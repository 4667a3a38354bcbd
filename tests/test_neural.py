"""The neural core as a global model, through its panel hooks (HELPERS interface 2).

These tests drive ``_fit_panel`` / ``_predict_panel`` / ``_update_panel`` directly, as
the base layer does, so they pin the core's behaviour independent of panel parsing;
``tests/test_neural_panels.py`` goes through the public panel API.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from tests.conftest import make_series  # noqa: E402
from tsrnn.rnn import GRUForecaster, LSTMForecaster  # noqa: E402

TINY = dict(lookback=6, horizon=3, hidden_size=8, epochs=3, batch_size=16, random_state=0)


def _panel(lengths=(60, 45), levels=(10.0, 1000.0), seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n, level in zip(lengths, levels, strict=True):
        t = np.arange(n)
        out.append(level * (1 + 0.1 * np.sin(2 * np.pi * t / 7)) + rng.normal(0, level / 100, n))
    return out


def _fit_hooks(model, ys, end="2024-06-30"):
    """What the base layer does before ``_fit_panel``: ids, cutoffs, frequency, target."""
    model.freq_, model.target_name_, model.covariate_names_ = "D", "y", []
    model.series_ids_ = [f"s{k}" for k in range(len(ys))]
    model.cutoffs_ = [pd.Timestamp(end) - pd.Timedelta(days=k) for k in range(len(ys))]
    model.cutoff_ = max(model.cutoffs_)
    model._check_params()
    model._fit_panel(ys, [None] * len(ys))
    return model


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
    single = LSTMForecaster(**TINY, calendar_features=True).fit(make_series(y, end_date(70)))
    panel = _fit_hooks(LSTMForecaster(**TINY, calendar_features=True), [y], end="2024-03-10")
    np.testing.assert_array_equal(panel._predict_panel(5)[0], single.predict(5).to_numpy())
    lower, upper = panel._predict_interval_panel(3, 0.8)[0]
    reference = single.predict_interval(coverage=0.8)
    np.testing.assert_array_equal(lower, reference["lower"].to_numpy())
    np.testing.assert_array_equal(upper, reference["upper"].to_numpy())


def end_date(n):
    """Start date such that ``n`` daily rows end on 2024-03-10."""
    return str((pd.Timestamp("2024-03-10") - pd.Timedelta(days=n - 1)).date())


def test_per_series_scaling_keeps_each_forecast_on_its_own_level():
    ys = _panel()
    model = _fit_hooks(GRUForecaster(**TINY), ys)
    forecasts = model._predict_panel(3)
    assert abs(forecasts[0].mean() - 10) < 2 and abs(forecasts[1].mean() - 1000) < 200
    intervals = model._predict_interval_panel(3, 0.9)
    widths = [np.mean(upper - lower) for lower, upper in intervals]
    assert widths[1] > 20 * widths[0]  # calibrated per series, in each series' units
    with pytest.raises(AttributeError, match="use series_scalers_"):
        _ = model.scaler_


def test_update_moves_only_the_named_series_and_fine_tunes_on_them():
    ys = _panel()
    model = _fit_hooks(LSTMForecaster(**TINY), ys)
    before = [f.copy() for f in model._predict_panel(3)]
    weights = {k: v.clone() for k, v in model.net_.state_dict().items()}
    model._update_panel({1: (np.array([900.0, 950.0]), None)})
    after = model._predict_panel(3)
    np.testing.assert_array_equal(after[0], before[0])
    assert not np.array_equal(after[1], before[1])
    np.testing.assert_array_equal(model.series_recent_[1][-2:, 0], [900.0, 950.0])
    for k, v in model.net_.state_dict().items():
        torch.testing.assert_close(v, weights[k])  # fine_tune_epochs=0: weights unchanged
    tuned = _fit_hooks(LSTMForecaster(**TINY, fine_tune_epochs=2), ys)
    tuned._update_panel({1: (np.array([900.0, 950.0]), None)})
    assert any(not torch.equal(v, weights[k]) for k, v in tuned.net_.state_dict().items())


def test_panel_model_saves_and_loads_as_one_file(tmp_path):
    import tsrnn

    model = _fit_hooks(LSTMForecaster(**TINY, calendar_features=True), _panel())
    model.save(tmp_path / "panel.tsrnn")
    loaded = tsrnn.load(tmp_path / "panel.tsrnn")
    assert loaded.series_ids_ == ["s0", "s1"]
    assert loaded.cutoffs_ == model.cutoffs_
    for a, b in zip(loaded._predict_panel(5), model._predict_panel(5), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.series_scalers_[1].mean_, model.series_scalers_[1].mean_)
