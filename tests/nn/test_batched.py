"""Batched training of K networks equals K separate fits with the same seeds."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tsrnn.nn import LastValueAnchor, RecurrentNet, make_windows, predict_network  # noqa: E402
from tsrnn.nn.batched import NetworkJob, can_batch, train_networks  # noqa: E402
from tsrnn.nn.training import train_network  # noqa: E402

LOOKBACK, HORIZON = 10, 3


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _series(n: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = np.sin(t / 5) + 0.1 * rng.normal(size=n)
    return torch.tensor(values, dtype=torch.float32).unsqueeze(1)


def _jobs(cell: str, anchored: bool, layers: int = 1, future: bool = False) -> list[NetworkJob]:
    jobs = []
    for k, n in enumerate([90, 97, 104]):  # three folds of an expanding window
        torch.manual_seed(k)
        net = RecurrentNet(cell, 1, 8, layers, 0.0, HORIZON, future_size=2 if future else 0)
        net = LastValueAnchor(net) if anchored else net
        series = _series(n, seed=0)[:n]
        feats = torch.randn(n, 2, generator=torch.Generator().manual_seed(5)) if future else None
        n_windows = n - LOOKBACK - HORIZON + 1
        train_idx, val_idx = np.arange(n_windows - 14), np.arange(n_windows - 12, n_windows)
        jobs.append(NetworkJob(net, series, feats, train_idx, val_idx, seed=10 + k))
    return jobs


def _future_windows(feats):
    return None if feats is None else feats[LOOKBACK:].unfold(0, HORIZON, 1).transpose(1, 2)


def _alone(job: NetworkJob, **settings):
    net = copy.deepcopy(job.net)
    X, Y = make_windows(job.series, LOOKBACK, HORIZON)
    fw = _future_windows(job.future)
    result = train_network(
        net, X, Y, job.train_idx, job.val_idx, future=fw, seed=job.seed, **settings
    )
    return net, result, predict_network(net, X, fw, index=job.val_idx)


@pytest.mark.parametrize(
    "cell, anchored, layers, future",
    [("lstm", True, 1, False), ("gru", False, 2, False), ("rnn", True, 1, True)],
)
def test_batched_fit_equals_separate_fits(cell, anchored, layers, future, cell_path):
    settings = dict(epochs=6, batch_size=16, learning_rate=1e-2, early_stopping=2, lr_patience=1)
    jobs = _jobs(cell, anchored, layers, future)
    alone = [_alone(job, **settings) for job in jobs]
    results = train_networks(jobs, lookback=LOOKBACK, horizon=HORIZON, **settings)
    for job, result, (_, ref, ref_forecast) in zip(jobs, results, alone, strict=True):
        X, _ = make_windows(job.series, LOOKBACK, HORIZON)
        forecast = predict_network(job.net, X, _future_windows(job.future), index=job.val_idx)
        # Same batches, same Adam arithmetic: only float32 summation order differs
        # (grouped products vs nn.LSTM's kernels), ~1e-7 per operation; after ~30 steps
        # that stays far below 1e-4 on forecasts of unit scale.
        np.testing.assert_allclose(forecast, ref_forecast, atol=1e-4)
        assert result.best_epoch == ref.best_epoch
        assert result.stopped_early == ref.stopped_early
        assert len(result.history) == len(ref.history)
        for mine, theirs in zip(result.history, ref.history, strict=True):
            assert mine["lr"] == pytest.approx(theirs["lr"])
            assert mine["val_loss"] == pytest.approx(theirs["val_loss"], rel=1e-4)


def test_networks_stay_independent():
    """A network trained next to others ends exactly as when trained with copies of itself."""
    jobs = _jobs("lstm", True)
    twin = [copy.deepcopy(jobs[0]) for _ in range(2)]
    train_networks(jobs, lookback=LOOKBACK, horizon=HORIZON, epochs=3, early_stopping=None)
    train_networks(twin, lookback=LOOKBACK, horizon=HORIZON, epochs=3, early_stopping=None)
    for name, value in jobs[0].net.state_dict().items():
        torch.testing.assert_close(value, twin[0].net.state_dict()[name], rtol=0, atol=1e-6)


def test_max_steps_budget_as_in_a_separate_fit():
    settings = dict(epochs=50, batch_size=16, max_steps=7, early_stopping=None)
    jobs = _jobs("gru", False)
    alone = [_alone(job, **settings) for job in jobs]
    results = train_networks(jobs, lookback=LOOKBACK, horizon=HORIZON, **settings)
    # 63-77 training windows: 4-5 batches an epoch, so 7 steps end in the second epoch
    assert [len(r.history) for r in results] == [2, 2, 2]
    for job, result, (_, ref, ref_forecast) in zip(jobs, results, alone, strict=True):
        assert len(ref.history) == 2 and result.stopped_early and ref.stopped_early
        X, _ = make_windows(job.series, LOOKBACK, HORIZON)
        forecast = predict_network(job.net, X, None, index=job.val_idx)
        np.testing.assert_allclose(forecast, ref_forecast, atol=1e-5)


def test_can_batch_refuses_mixed_or_dropout():
    a = RecurrentNet("lstm", 1, 8, 1, 0.0, HORIZON)
    assert can_batch([a, RecurrentNet("lstm", 1, 8, 1, 0.0, HORIZON)])
    assert not can_batch([a, RecurrentNet("gru", 1, 8, 1, 0.0, HORIZON)])
    assert not can_batch([RecurrentNet("lstm", 1, 8, 2, 0.3, HORIZON)])
    assert not can_batch([a, LastValueAnchor(RecurrentNet("lstm", 1, 8, 1, 0.0, HORIZON))])


def _wavy(n: int = 160):
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.Series(
        10 + np.sin(np.arange(n) / 4) + 0.1 * rng.normal(size=n),
        index=pd.date_range("2024-01-01", periods=n),
    )


def test_backtest_folds_fitted_together_match_separate_fits():
    from tsrnn import ExpandingWindowSplitter, GRUForecaster, backtest

    y = _wavy()
    model = GRUForecaster(lookback=8, horizon=3, hidden_size=8, epochs=4, random_state=0)
    splitter = ExpandingWindowSplitter(horizon=3, n_folds=3, step=5)
    joint = backtest(model, y, splitter)
    alone = backtest(model, y, splitter, fit_together=False)
    # the same trajectories up to float32 rounding (see above): 1e-4 on values of ~10
    np.testing.assert_allclose(joint.forecasts["forecast"], alone.forecasts["forecast"], atol=1e-4)
    np.testing.assert_allclose(joint.forecasts["upper"], alone.forecasts["upper"], atol=1e-3)
    assert list(joint.timings["action"]) == ["fit"] * 3
    assert joint.final_models["gru"].best_epoch_ == alone.final_models["gru"].best_epoch_


@pytest.fixture
def stacked_sizes(monkeypatch):
    """The number of networks of each stacked pass that estimator fits start, in order."""
    from tsrnn.nn import batched_fit

    sizes = []
    real = batched_fit.train_networks
    monkeypatch.setattr(
        batched_fit,
        "train_networks",
        lambda jobs, **kw: sizes.append(len(jobs)) or real(jobs, **kw),
    )
    return sizes


@pytest.mark.parametrize(
    ("cls_name", "hidden", "batched"),
    [
        ("GRUForecaster", 8, 1),
        ("RNNForecaster", 8, 1),
        ("LSTMForecaster", 8, 1),
        ("LSTMForecaster", 64, 1),
        ("LSTMForecaster", 65, 0),
        ("GRUForecaster", 65, 1),
    ],
)
def test_cpu_batches_folds_up_to_the_cells_hidden_size_limit(
    stacked_sizes, cls_name, hidden, batched, cell_path
):
    # On CPU torch's fused LSTM kernel beats the Python stacked LSTM above hidden 64
    # (CPU_BATCHED_MAX_HIDDEN), not the compiled one; GRU and RNN folds train together
    # at any size
    import tsrnn
    from tsrnn import ExpandingWindowSplitter, backtest

    cls = getattr(tsrnn, cls_name)
    model = cls(lookback=8, horizon=3, hidden_size=hidden, epochs=2, random_state=0, device="cpu")
    backtest(model, _wavy(), ExpandingWindowSplitter(horizon=3, n_folds=3, step=5))
    assert stacked_sizes == [3] * (batched or cell_path == "compiled")


def test_backtest_deals_one_models_folds_to_idle_workers(monkeypatch, stacked_sizes):
    # n_jobs=2 and one neural model: its 4 folds train as two stacked groups (folds 0, 2
    # and 1, 3), one per worker; forecasts as separate fits, the last fold's model kept
    import joblib

    import tsrnn.limits
    from tsrnn import ExpandingWindowSplitter, GRUForecaster, NaiveForecaster, backtest

    monkeypatch.setattr(tsrnn.limits.os, "cpu_count", lambda: 2)
    y = _wavy()
    model = GRUForecaster(lookback=8, horizon=3, hidden_size=8, epochs=4, random_state=0)
    splitter = ExpandingWindowSplitter(horizon=3, n_folds=4, step=5)
    with joblib.parallel_config(backend="threading"):
        split = backtest([NaiveForecaster(), model], y, splitter, n_jobs=2)
    assert stacked_sizes == [2, 2]
    alone = backtest([NaiveForecaster(), model], y, splitter, fit_together=False)
    np.testing.assert_allclose(split.forecasts["forecast"], alone.forecasts["forecast"], atol=1e-4)
    assert list(split.timings["fold"]) == list(alone.timings["fold"])
    assert split.final_models["gru"].best_epoch_ == alone.final_models["gru"].best_epoch_


@pytest.mark.parametrize(
    ("workers", "models", "folds", "groups"),
    [(1, 1, 10, 1), (2, 1, 10, 2), (2, 2, 10, 1), (3, 2, 10, 1), (4, 2, 10, 2), (8, 1, 5, 2)],
)
def test_together_groups_only_fill_idle_workers(workers, models, folds, groups):
    from tsrnn.backtesting import _together_groups

    assert _together_groups(workers, models, folds) == groups
