"""The LSTM/GRU/RNN forecasters through their public API: values, not just shapes.

Tiny networks and few epochs keep this file fast; the two real-data accuracy checks
use the default settings (fewer epochs would not be the defaults) and take a few
seconds each.
"""

from __future__ import annotations

import copy
import io
import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import PowerTransformer, QuantileTransformer

torch = pytest.importorskip("torch")

import tsrnn  # noqa: E402
from tests.conftest import make_series  # noqa: E402
from tsrnn.exceptions import InputError, ModelFileError, NotEnoughDataError  # noqa: E402
from tsrnn.metrics import mase  # noqa: E402
from tsrnn.rnn import GRUForecaster, LSTMForecaster, RNNForecaster  # noqa: E402
from tsrnn.scaling import inverse_target, make_scaler  # noqa: E402

TINY = dict(lookback=8, horizon=3, hidden_size=8, epochs=3, batch_size=16, random_state=0)
CLASSES = [LSTMForecaster, GRUForecaster, RNNForecaster]


def _sine(n=200, noise=0.1, seed=0, freq="D", name="y"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return make_series(
        10 + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, n), freq=freq, name=name
    )


def _frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="D", name="date")
    rain = rng.gamma(1.0, 2.0, n)
    wind = rng.normal(4, 1, n)
    temp = 15 + 5 * np.sin(np.arange(n) / 9) - 0.3 * rain + rng.normal(0, 0.3, n)
    station = ["sea"] * n  # not numeric: ignored
    return pd.DataFrame({"temp": temp, "rain": rain, "wind": wind, "station": station}, index)


# ------------------------------------------------------------------ windows
def test_estimator_builds_exact_windows_and_splits_in_time(monkeypatch):
    from tsrnn.nn import forecasting

    seen = {}
    real = forecasting.train_network

    def spy(net, X, Y, train_idx, val_idx, **kwargs):
        seen.update(X=X.clone(), Y=Y.clone(), train=np.asarray(train_idx), val=np.asarray(val_idx))
        return real(net, X, Y, train_idx, val_idx, **kwargs)

    monkeypatch.setattr(forecasting, "train_network", spy)
    model = LSTMForecaster(
        lookback=3,
        horizon=2,
        hidden_size=2,
        epochs=1,
        validation_fraction=0.25,
        scaler=None,
        random_state=0,
    )
    model.fit(make_series(np.arange(20.0)))
    # 20 - 3 - 2 + 1 = 16 windows: X[i] = [i, i+1, i+2], Y[i] = [i+3, i+4]
    assert seen["X"][:, :, 0].tolist() == [[i, i + 1, i + 2] for i in range(16)]
    assert seen["Y"].tolist() == [[i + 3, i + 4] for i in range(16)]
    # 4 validation windows at the end, a gap of horizon - 1 = 1 window before them
    assert seen["train"].tolist() == list(range(11))
    assert seen["val"].tolist() == [12, 13, 14, 15]
    last_train_target = seen["Y"][seen["train"]].max().item()
    first_val_target = seen["Y"][seen["val"]].min().item()
    assert last_train_target < first_val_target  # no target is both trained on and validated
    assert model.calibration_residuals_.shape == (4, 2)
    assert model.recent_[:, 0].tolist() == [17.0, 18.0, 19.0]


# ------------------------------------------------------------------ scaling
def test_scaler_is_fitted_on_training_rows_only():
    y = _sine(100)
    model = LSTMForecaster(**TINY).fit(y)
    covered = model._split(len(y))[2]
    assert 0 < covered < len(y)
    np.testing.assert_allclose(model.scaler_.mean_, [y.iloc[:covered].mean()])
    tail_changed = y.copy()
    tail_changed.iloc[covered:] += 1000.0
    other = LSTMForecaster(**TINY).fit(tail_changed)
    np.testing.assert_array_equal(other.scaler_.mean_, model.scaler_.mean_)
    np.testing.assert_array_equal(other.scaler_.scale_, model.scaler_.scale_)
    head_changed = y.copy()
    head_changed.iloc[covered - 1] += 1000.0
    assert LSTMForecaster(**TINY).fit(head_changed).scaler_.mean_[0] != model.scaler_.mean_[0]


SCALERS = [
    "standard",
    "minmax",
    "robust",
    None,
    PowerTransformer(),
    QuantileTransformer(n_quantiles=50),
]


@pytest.mark.parametrize("spec", SCALERS, ids=lambda s: str(s))
def test_inverse_scaling_round_trips(spec):
    rng = np.random.default_rng(0)
    values = np.column_stack([rng.gamma(2.0, 50.0, 80), rng.normal(-3, 0.1, 80), np.ones(80)])
    scaler = make_scaler(spec).fit(values)
    scaled = scaler.transform(values)
    np.testing.assert_allclose(inverse_target(scaler, scaled[:, 0], 3), values[:, 0], rtol=1e-9)
    block = scaled[:12, 0].reshape(4, 3)  # any shape, e.g. (windows, horizon)
    np.testing.assert_allclose(inverse_target(scaler, block, 3), values[:12, 0].reshape(4, 3))


@pytest.mark.parametrize("spec", SCALERS, ids=lambda s: str(s))
def test_every_scaler_gives_forecasts_on_the_data_scale(spec):
    y = 1000 + 50 * (_sine(120) - 10)
    forecast = LSTMForecaster(**TINY, scaler=spec).fit(y).predict()
    assert np.all(np.abs(forecast - y.iloc[-20:].mean()) < 500)


def test_custom_scaler_objects_cannot_be_saved_and_say_why(tmp_path):
    model = LSTMForecaster(**TINY, scaler=PowerTransformer()).fit(_sine(80))
    with pytest.raises(InputError, match="scaler"):
        model.save(tmp_path / "m.tsrnn")
    assert not (tmp_path / "m.tsrnn").exists()


def test_unknown_scaler_name_is_rejected():
    with pytest.raises(InputError, match="scaler='zscore'"):
        LSTMForecaster(**TINY, scaler="zscore").fit(_sine(80))


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("cls", CLASSES)
def test_loss_decreases_on_a_sine(cls):
    model = cls(
        lookback=12,
        horizon=3,
        hidden_size=16,
        epochs=25,
        early_stopping=None,
        learning_rate=1e-2,
        random_state=0,
    ).fit(_sine(200, noise=0.0))
    losses = [h["train_loss"] for h in model.history_]
    assert len(losses) == 25
    assert losses[-1] < 0.25 * losses[0]
    assert model.history_[-1]["val_loss"] < 0.25 * model.history_[0]["val_loss"]
    assert set(model.history_[0]) == {"epoch", "train_loss", "val_loss", "lr", "seconds"}


def test_same_seed_same_forecasts_other_seed_other_forecasts():
    y = _sine(100)
    a = LSTMForecaster(**TINY).fit(y)
    b = LSTMForecaster(**TINY).fit(y)
    c = LSTMForecaster(**{**TINY, "random_state": 1}).fit(y)
    pd.testing.assert_series_equal(a.predict(), b.predict())
    pd.testing.assert_frame_equal(a.predict_interval(), b.predict_interval())
    assert not np.allclose(a.predict(), c.predict())


def test_warm_start_continues_from_the_current_weights():
    y = _sine(160)
    params = dict(TINY, epochs=8, early_stopping=None)
    warm = LSTMForecaster(**params, warm_start=True).fit(y)
    first_weights = copy.deepcopy(warm.net_.state_dict())
    warm.fit(y)
    fresh = LSTMForecaster(**params).fit(y)
    assert warm.history_[0]["train_loss"] < fresh.history_[0]["train_loss"]
    assert not all(torch.equal(v, warm.net_.state_dict()[k]) for k, v in first_weights.items())
    cold = LSTMForecaster(**params).fit(y[:120]).fit(y)  # warm_start=False: a fresh fit
    pd.testing.assert_series_equal(cold.predict(), fresh.predict())


def test_verbose_false_prints_nothing_and_true_goes_to_stderr(capsys):
    LSTMForecaster(**TINY).fit(_sine(80)).predict()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    LSTMForecaster(**TINY, verbose=True).fit(_sine(80))
    captured = capsys.readouterr()
    assert captured.out == "" and "3/3" in captured.err


def test_bad_parameters_name_the_parameter():
    y = _sine(80)
    for bad, match in [
        (dict(loss="l2"), "loss must be one of"),
        (dict(n_threads=0), "n_threads must be a positive integer"),
        (dict(early_stopping=0), "early_stopping must be a positive integer"),
        (dict(fine_tune_epochs=-1), "fine_tune_epochs"),
        (dict(device="tpu"), "device must be"),
        (dict(window_normalization="mean"), "window_normalization"),
    ]:
        with pytest.raises(InputError, match=match):
            LSTMForecaster(**{**TINY, **bad}).fit(y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the error without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(InputError, match="device='cuda' but CUDA is not available.*device='cpu'"):
        LSTMForecaster(**TINY, device="cuda").fit(_sine(80))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_matches_cpu_closely():
    y = _sine(200)
    gpu = LSTMForecaster(**TINY, device="cuda").fit(y)
    cpu = LSTMForecaster(**TINY, device="cpu").fit(y)
    assert next(gpu.net_.parameters()).device.type == "cuda"
    np.testing.assert_allclose(gpu.predict(), cpu.predict(), atol=0.05)


def test_too_short_series_error_gives_the_exact_minimum():
    model = LSTMForecaster(**TINY)
    minimum = model._min_length()
    with pytest.raises(NotEnoughDataError, match=f"needs at least {minimum};"):
        model.fit(_sine(minimum - 1))
    assert np.isfinite(LSTMForecaster(**TINY).fit(_sine(minimum)).predict()).all()


def test_minimum_length_for_a_huge_horizon_is_found_quickly():
    """A horizon in the millions must give the too-short error, not a minutes-long search."""
    for lookback, horizon, fraction in [(5, 1, 0.0), (30, 7, 0.2), (3, 1_000_000, 0.2)]:
        model = LSTMForecaster(lookback=lookback, horizon=horizon, validation_fraction=fraction)
        minimum = model._min_length()
        assert len(model._split(minimum)[0]) >= 1
        assert len(model._split(minimum - 1)[0]) < 1
    # 10**8 steps would need a 3.3-billion-weight output layer: refused before anything is built
    with pytest.raises(InputError, match="network of about 3,300,004,480 weights"):
        LSTMForecaster(lookback=3, horizon=100_000_000)._min_length()


# ------------------------------------------------------------------ edge values
@pytest.mark.parametrize("value", [5.0, 0.0, -3e-7, 1e12])
@pytest.mark.parametrize("scaler", ["standard", "minmax", "robust"])
def test_constant_series_forecasts_the_constant(value, scaler):
    model = LSTMForecaster(**TINY, scaler=scaler).fit(make_series(np.full(60, value)))
    assert (model.predict() == value).all()
    interval = model.predict_interval(coverage=0.9)
    assert np.isfinite(interval.to_numpy()).all()
    assert (interval["lower"] <= value).all() and (interval["upper"] >= value).all()


@pytest.mark.parametrize("magnitude", [1e12, 1e-9])
def test_huge_and_tiny_magnitudes_give_finite_forecasts_of_that_order(magnitude):
    y = _sine(120) * magnitude  # between 7 and 13 times the magnitude
    model = LSTMForecaster(**TINY).fit(y)
    forecast = model.predict()
    assert np.isfinite(forecast).all()
    assert ((forecast > 3 * magnitude) & (forecast < 20 * magnitude)).all()
    interval = model.predict_interval()
    width = interval["upper"] - interval["lower"]
    assert np.isfinite(width).all() and (width < 10 * magnitude).all()


# ------------------------------------------------------------------ intervals
def test_interval_coverage_on_an_ar1_process():
    rng = np.random.default_rng(42)
    n, phi = 900, 0.7
    values = np.zeros(n)
    for t in range(1, n):
        values[t] = phi * values[t - 1] + rng.normal()
    y = make_series(values + 50)
    train = 600
    model = LSTMForecaster(
        lookback=10, horizon=1, hidden_size=8, epochs=15, validation_fraction=0.3, random_state=0
    ).fit(y[:train])
    assert 0.75 < model.interval_coverage_ <= 1.0  # leave-one-out on the calibration tail
    hits = []
    for i in range(train, n):
        interval = model.predict_interval(coverage=0.8)
        hits.append(interval["lower"].iloc[0] <= y.iloc[i] <= interval["upper"].iloc[0])
        model.update(y[i : i + 1])
    assert abs(np.mean(hits) - 0.8) <= 0.1


def test_fast_leave_one_out_coverage_equals_the_definition():
    from tsrnn.conformal import conformal_quantile, loo_coverage

    rng = np.random.default_rng(0)
    for n, coverage in [(2, 0.5), (9, 0.8), (30, 0.9), (31, 0.95)]:
        residuals = np.round(rng.exponential(size=(n, 3)), 1)  # with ties
        hits = [
            residuals[i] <= conformal_quantile(np.delete(residuals, i, axis=0), coverage)
            for i in range(n)
        ]
        assert loo_coverage(residuals, coverage) == np.mean(hits)


def test_intervals_widen_with_coverage_and_contain_the_forecast():
    model = LSTMForecaster(**TINY).fit(_sine(120))
    point = model.predict()
    narrow, wide = model.predict_interval(coverage=0.5), model.predict_interval(coverage=0.95)
    assert (narrow["lower"] <= point).all() and (point <= narrow["upper"]).all()
    assert (wide["lower"] <= narrow["lower"]).all() and (narrow["upper"] <= wide["upper"]).all()


# ------------------------------------------------------------------ horizon
def test_longer_horizon_rolls_out_recursively():
    model = LSTMForecaster(**TINY).fit(_sine(100))
    long = model.predict(horizon=7)
    assert len(long) == 7
    expected = pd.date_range(model.cutoff_, periods=8, freq="D")[1:]
    assert (long.index == expected).all()
    pd.testing.assert_series_equal(long.iloc[:3], model.predict())
    # the next block is the forecast from a window that ends with the first block
    shifted = copy.deepcopy(model)
    shifted.recent_ = np.concatenate([model.recent_, long.to_numpy()[:3, None]])[-8:]
    shifted.cutoff_ = long.index[2]
    np.testing.assert_allclose(long.iloc[3:6].to_numpy(), shifted.predict().to_numpy())
    interval = model.predict_interval(horizon=7)
    assert len(interval) == 7 and np.isfinite(interval.to_numpy()).all()
    width = (interval["upper"] - interval["lower"]).to_numpy()
    assert width[6] >= width[2]  # roll-out rounds widen like a random walk


def test_longer_horizon_with_covariates_names_both_numbers():
    model = LSTMForecaster(**TINY, target="temp").fit(_frame())
    with pytest.raises(InputError, match=r"horizon=5 exceeds the trained horizon 3"):
        model.predict(horizon=5)
    assert len(model.predict(horizon=2)) == 2


# ------------------------------------------------------------------ covariates
def test_dataframe_with_target_uses_the_other_numeric_columns():
    frame = _frame()
    model = LSTMForecaster(**TINY, target="temp").fit(frame)
    assert model.n_inputs_ == 3
    assert model.covariate_names_ == ["rain", "wind"]
    assert model.recent_.shape == (8, 3)
    forecast = model.predict()
    assert forecast.name == "temp" and np.isfinite(forecast).all()
    univariate = LSTMForecaster(**TINY).fit(frame["temp"])
    assert univariate.n_inputs_ == 1
    assert not np.allclose(univariate.predict(), forecast)


def test_update_with_covariate_columns():
    frame = _frame(130)
    model = LSTMForecaster(**TINY, target="temp").fit(frame.iloc[:120])
    model.update(frame.iloc[120:])
    assert model.cutoff_ == frame.index[-1]
    np.testing.assert_array_equal(
        model.recent_, frame.iloc[-8:][["temp", "rain", "wind"]].to_numpy()
    )
    later = frame[["temp"]].iloc[-3:].set_axis(frame.index[-3:] + pd.Timedelta(days=3))
    with pytest.raises(ValueError, match="lacks the covariate column.*rain, wind"):
        model.update(later)


@pytest.mark.parametrize(("freq", "n_features"), [("D", 4), ("h", 6)])
def test_calendar_features_for_daily_and_hourly_data(freq, n_features, tmp_path):
    y = _sine(150, freq=freq)
    model = LSTMForecaster(**TINY, calendar_features=True).fit(y)
    assert model.future_size_ == n_features
    forecast = model.predict()
    assert np.isfinite(forecast).all()
    plain = LSTMForecaster(**TINY).fit(y)
    assert not np.allclose(plain.predict(), forecast)
    assert len(model.predict(horizon=5)) == 5  # known for the future: roll-out works
    model.save(tmp_path / "cal.tsrnn")
    pd.testing.assert_series_equal(tsrnn.load(tmp_path / "cal.tsrnn").predict(), forecast)


# ------------------------------------------------------------------ update
def test_update_shifts_the_window_without_refitting():
    y = _sine(120)
    model = LSTMForecaster(**TINY).fit(y[:100])
    weights = copy.deepcopy(model.net_.state_dict())
    reference = copy.deepcopy(model)
    model.update(y[100:110])
    assert all(torch.equal(v, model.net_.state_dict()[k]) for k, v in weights.items())
    reference.recent_ = y.iloc[:110].to_numpy()[-8:, None]
    reference.cutoff_ = y.index[109]
    pd.testing.assert_series_equal(model.predict(), reference.predict())
    pd.testing.assert_frame_equal(model.predict_interval(), reference.predict_interval())
    model.update(y[110:112])
    assert model.cutoff_ == y.index[111]
    np.testing.assert_array_equal(model.recent_[:, 0], y.iloc[104:112].to_numpy())


def test_update_can_fine_tune():
    y = _sine(140)
    tuned = LSTMForecaster(**TINY, fine_tune_epochs=2).fit(y[:120])
    shifted = LSTMForecaster(**TINY).fit(y[:120])
    pd.testing.assert_series_equal(tuned.predict(), shifted.predict())
    tuned.update(y[120:])
    shifted.update(y[120:])
    np.testing.assert_array_equal(tuned.recent_, shifted.recent_)
    assert not np.allclose(tuned.predict(), shifted.predict())
    again = LSTMForecaster(**TINY, fine_tune_epochs=2).fit(y[:120]).update(y[120:])
    pd.testing.assert_series_equal(again.predict(), tuned.predict())


# ------------------------------------------------------------------ persistence
def test_save_load_identical_forecasts_intervals_and_updates(tmp_path):
    frame = _frame(130)
    model = GRUForecaster(**TINY, target="temp").fit(frame.iloc[:120])
    model.save(tmp_path / "m.tsrnn")
    loaded = tsrnn.load(tmp_path / "m.tsrnn")
    pd.testing.assert_series_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(
        loaded.predict_interval(coverage=0.8), model.predict_interval(coverage=0.8)
    )
    loaded.update(frame.iloc[120:])
    model.update(frame.iloc[120:])
    pd.testing.assert_series_equal(loaded.predict(), model.predict())
    assert loaded.history_ == model.history_


class _Evil:
    """Unpickling this would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _zip(path, header, arrays_bytes):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.json", json.dumps(header))
        archive.writestr("arrays.npz", arrays_bytes)


def _npz(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.tsrnn"
    path.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(ModelFileError, match="not a tsrnn model file"):
        tsrnn.load(path)
    assert not marker.exists()


def test_a_pickled_array_inside_a_model_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    model = LSTMForecaster(**TINY).fit(_sine(80))
    model.save(tmp_path / "good.tsrnn")
    with zipfile.ZipFile(tmp_path / "good.tsrnn") as archive:
        header = json.loads(archive.read("model.json"))
    evil = np.array([_Evil(marker)], dtype=object)
    _zip(tmp_path / "evil.tsrnn", header, _npz(**{"state.recent_": evil}))
    with pytest.raises(ModelFileError):
        tsrnn.load(tmp_path / "evil.tsrnn")
    assert not marker.exists()


def test_a_class_outside_the_registry_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    header = {
        "format": "tsrnn-model",
        "format_version": 1,
        "tsrnn_version": tsrnn.__version__,
        "class": "os.system",
        "params": {"command": f"touch {marker}"},
        "state": {},
    }
    _zip(tmp_path / "evil.tsrnn", header, _npz(x=np.zeros(1)))
    with pytest.raises(ModelFileError, match="unknown model class 'os.system'"):
        tsrnn.load(tmp_path / "evil.tsrnn")
    assert not marker.exists()


def test_truncated_and_incompatible_files_are_clear_errors(tmp_path):
    model = LSTMForecaster(**TINY).fit(_sine(80))
    path = tmp_path / "m.tsrnn"
    model.save(path)
    data = path.read_bytes()
    (tmp_path / "cut.tsrnn").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupted"):
        tsrnn.load(tmp_path / "cut.tsrnn")
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read("model.json"))
        arrays = archive.read("arrays.npz")
    _zip(tmp_path / "future.tsrnn", {**header, "format_version": 99}, arrays)
    with pytest.raises(ModelFileError, match="format 99"):
        tsrnn.load(tmp_path / "future.tsrnn")


# ------------------------------------------------------------------ real data
def _rolling_mase(model, y, horizon=7, season_length=5):
    """Fit on the first 80%, then forecast from every origin in the last 20% via update()."""
    n_train = int(len(y) * 0.8)
    values = y.to_numpy()
    model.fit(y.iloc[:n_train])
    actual, forecasts = [], {"model": [], "naive": [], "seasonal": []}
    for origin in range(n_train, len(y) - horizon + 1):
        if origin > n_train:
            model.update(y.iloc[origin - 1 : origin])
        actual.append(values[origin : origin + horizon])
        forecasts["model"].append(model.predict(horizon).to_numpy())
        forecasts["naive"].append(np.full(horizon, values[origin - 1]))
        last_season = values[origin - season_length : origin]
        forecasts["seasonal"].append(last_season[np.arange(horizon) % season_length])
    return {
        name: mase(np.ravel(actual), np.ravel(f), values[:n_train]) for name, f in forecasts.items()
    }


def test_lstm_beats_naive_and_seasonal_naive_on_seattle_temperature():
    from tsrnn.datasets import load_dataset

    y = load_dataset("seattle")
    scores = _rolling_mase(LSTMForecaster(horizon=7, random_state=0), y, season_length=7)
    assert scores["model"] < scores["naive"]
    assert scores["model"] < scores["seasonal"]


def test_lstm_is_not_worse_than_naive_on_msft_closes():
    from tsrnn.datasets import load_dataset

    y = load_dataset("msft").iloc[-3000:]
    scores = _rolling_mase(LSTMForecaster(horizon=7, random_state=0), y, season_length=5)
    assert scores["model"] <= 1.05 * scores["naive"]
