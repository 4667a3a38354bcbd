"""Hostile and odd input, from the reliability sweep's reproductions (issue 12): the Python
API and model files. Each test names the failure it reproduces (see REPORT.md's IDs)."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn.exceptions import DataError, InputError, ModelFileError, TsrnnError
from tsrnn.limits import MAX_HORIZON, effective_jobs, max_horizon

IDX = pd.date_range("2024-01-01", periods=120, freq="D")
Y = pd.Series(10 + np.sin(np.arange(120) / 4), index=IDX, name="y")
TINY = dict(lookback=10, horizon=3, epochs=2, hidden_size=4, random_state=0)


# ------------------------------------------------------------------ W5: not numbers
@pytest.mark.parametrize(
    "values",
    [pd.Series(IDX, index=IDX), pd.Series(IDX - IDX[0], index=IDX), Y + 5j],
    ids=["datetime", "timedelta", "complex"],
)
def test_values_that_are_not_real_numbers_are_refused(values):
    with pytest.raises(DataError, match="not real numbers"):
        tsrnn.NaiveForecaster(horizon=1).fit(values)


# ------------------------------------------------------ W6, C6: neural parameters
@pytest.mark.parametrize(
    "params",
    [
        {"gradient_clip": 0},
        {"gradient_clip": -1},
        {"gradient_clip": float("nan")},
        {"learning_rate": float("inf")},
        {"random_state": "a"},
        {"random_state": 1.5},
        {"random_state": -1},
        {"hidden_size": 10**7},
        {"n_threads": 10**6},
    ],
)
def test_neural_parameters_that_break_training_are_refused(params):
    with pytest.raises(InputError, match=next(iter(params))):
        tsrnn.LSTMForecaster(**{**TINY, **params}).fit(Y)


# ------------------------------------------------------------------ W4: huge values
@pytest.mark.parametrize(
    "model",
    [
        tsrnn.NaiveForecaster(horizon=3),
        tsrnn.DriftForecaster(horizon=3),
        tsrnn.ARIMAForecaster(order=(1, 0, 0), horizon=3),
        tsrnn.LSTMForecaster(**TINY),
    ],
    ids=["naive", "drift", "arima", "lstm"],
)
def test_values_above_1e154_give_finite_forecasts(model):
    big = Y * 1e155
    model.fit(big)
    point, interval = model.predict(), model.predict_interval()
    assert np.isfinite(point.to_numpy()).all() and np.isfinite(interval.to_numpy()).all()
    assert 1e155 < point.abs().min() < 1e157
    assert (interval["lower"] <= point).all() and (point <= interval["upper"]).all()


# ------------------------------------------------------------ R3, C6: horizons
def test_horizons_are_bounded_by_the_data():
    assert max_horizon(120) == 1200 and max_horizon(10**7) == MAX_HORIZON
    model = tsrnn.NaiveForecaster().fit(Y)
    assert len(model.predict(1200)) == 1200
    for steps in (1201, 10**12):
        with pytest.raises(InputError, match="at most 1,200 steps"):
            model.predict(steps)
    with pytest.raises(InputError, match="at most"):
        tsrnn.DriftForecaster().fit(Y).predict(10**9)


def test_neural_roll_out_is_bounded():
    model = tsrnn.LSTMForecaster(**{**TINY, "horizon": 1}).fit(Y)
    with pytest.raises(InputError, match="roll the network out 1,001 times"):
        model.predict(1_001)


# ------------------------------------------------------------------ C3: update
def test_update_in_another_time_zone_is_refused_and_a_renamed_series_accepted():
    model = tsrnn.NaiveForecaster().fit(Y.iloc[:100])
    with pytest.raises(DataError, match="time zone UTC"):
        model.update(Y.iloc[100:].tz_localize("UTC"))
    model.update(Y.iloc[100:].rename("other"))
    assert model.cutoff_ == Y.index[-1]


def test_update_refuses_rows_already_seen():
    model = tsrnn.NaiveForecaster().fit(Y.iloc[:100])
    changed = Y.iloc[95:105] + 100
    with pytest.raises(DataError, match="5 row\\(s\\) at or before"):
        model.update(changed)
    assert model.cutoff_ == Y.index[99] and model.last_value_ == Y.iloc[99]


# ------------------------------------------------------------ R4, C6: backtests
def test_workers_are_bounded_by_tasks_and_cores():
    assert effective_jobs(16, 3) <= min(3, os.cpu_count())
    assert effective_jobs(1000, 1) == 1 and effective_jobs(None, 5) == 1
    assert effective_jobs(-1, 100) == os.cpu_count()


def test_backtest_with_a_number_as_splitter_is_refused():
    with pytest.raises(InputError, match="splitter must be a splitter"):
        tsrnn.backtest(tsrnn.NaiveForecaster(), Y, 5)


def test_report_onto_a_directory_is_refused(tmp_path):
    result = tsrnn.backtest(tsrnn.NaiveForecaster(), Y, tsrnn.ExpandingWindowSplitter(3, 2))
    with pytest.raises(InputError, match="is a directory"):
        result.to_html(tmp_path)


# ------------------------------------------------- R1, R2, C4, C5, M1: model files
def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite(path, header=None, arrays=None, name="bad.tsrnn"):
    members = _members(path)
    out = path.parent / name
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.json", header if header is not None else members["model.json"])
        archive.writestr("arrays.npz", arrays if arrays is not None else members["arrays.npz"])
    return out


@pytest.fixture(scope="module")
def naive_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "naive.tsrnn"
    tsrnn.NaiveForecaster(horizon=3).fit(Y).save(path)
    return path


@pytest.fixture(scope="module")
def lstm_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "lstm.tsrnn"
    tsrnn.LSTMForecaster(**TINY).fit(Y).save(path)
    return path


def _header(path):
    return json.loads(_members(path)["model.json"])


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h: h["state"]["__dict__"].pop("last_value_"), "last_value_"),
        (lambda h: h["state"]["__dict__"].update(freq_="bogus"), "bogus"),
        (lambda h: h["state"]["__dict__"].update(last_value_=float("nan")), "not finite"),
        (lambda h: h["state"]["__dict__"].update(predict=1), "not a fitted attribute"),
        (lambda h: h["params"]["__dict__"].update(horizon=-1), "horizon"),
        (lambda h: h.update({"class": ["NaiveForecaster"]}), "unknown model class"),
    ],
)
def test_tampered_state_is_refused_at_load(naive_file, edit, message):
    header = _header(naive_file)
    edit(header)
    with pytest.raises(ModelFileError, match=message):
        tsrnn.load(_rewrite(naive_file, json.dumps(header)))


@pytest.mark.parametrize(
    "param, value, message",
    [
        ("hidden_size", 100_000, "at most 100,000,000"),
        ("hidden_size", 12, "hidden_size is 12"),
        ("num_layers", 10_000, "num_layers is 10000"),
        ("n_threads", 10**6, "n_threads"),
        ("scaler", "minmax", "inconsistent"),
    ],
)
def test_declared_sizes_are_checked_before_building(lstm_file, param, value, message):
    header = _header(lstm_file)
    header["params"]["__dict__"][param] = value
    with pytest.raises(ModelFileError, match=message) as info:
        tsrnn.load(_rewrite(lstm_file, json.dumps(header)))
    assert len(str(info.value)) < 600


def test_corrupted_archives_are_model_file_errors(naive_file):
    header = _header(naive_file)
    deep = json.dumps({**header, "extra": "@@"}).replace('"@@"', "[" * 5000 + "]" * 5000)
    cases = [
        _rewrite(naive_file, deep, name="deep.tsrnn"),
        _rewrite(naive_file, arrays=b"garbage" * 100, name="garbage.tsrnn"),
    ]
    raw = bytearray(naive_file.read_bytes())
    raw[40:60] = b"\x07" * 20  # inside the first deflate stream
    flipped = naive_file.parent / "flipped.tsrnn"
    flipped.write_bytes(bytes(raw))
    for path in [*cases, flipped]:
        with pytest.raises(ModelFileError) as info:
            tsrnn.load(path)
        assert "pickle" not in str(info.value)


def test_unreferenced_and_oversized_arrays_are_never_read(naive_file):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as npz:
        with zipfile.ZipFile(io.BytesIO(_members(naive_file)["arrays.npz"])) as old:
            for name in old.namelist():
                npz.writestr(name, old.read(name))
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        npz.writestr(
            "unused.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
        )
    model = tsrnn.load(_rewrite(naive_file, arrays=buffer.getvalue(), name="extra.tsrnn"))
    assert len(model.predict()) == 3


def test_every_tsrnn_error_from_load_is_a_model_file_error(tmp_path):
    path = tmp_path / "x.tsrnn"
    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    with pytest.raises(ModelFileError):
        tsrnn.load(path)
    assert issubclass(ModelFileError, TsrnnError)


def test_baselines_stay_finite_next_to_the_largest_float():
    y = pd.Series(np.tile([-1.7e308, 1.7e308], 15), index=pd.date_range("2024-01-01", periods=30))
    for model in (
        tsrnn.NaiveForecaster(),
        tsrnn.DriftForecaster(),
        tsrnn.SeasonalNaiveForecaster(),
    ):
        model.fit(y)
        assert np.isfinite(model.predict().to_numpy()).all()
        assert np.isfinite(model.predict_interval().to_numpy()).all()


def test_a_huge_lookback_is_too_short_at_once():
    import time

    start = time.perf_counter()
    with pytest.raises(tsrnn.NotEnoughDataError, match="at least 1000000"):
        tsrnn.LSTMForecaster(lookback=10**9, horizon=3).fit(Y)
    assert time.perf_counter() - start < 5
