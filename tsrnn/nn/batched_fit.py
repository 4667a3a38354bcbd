"""Batch estimator fits: :func:`fit_networks` runs many ``fit_network`` calls as few passes.

The calls that can train together (one series each, a stock recurrent network without
dropout, the same settings but the seed) go to :func:`tsrnn.nn.batched.train_networks`;
the others run one by one through :func:`tsrnn.nn.forecasting.fit_network`.
"""

from __future__ import annotations

import numpy as np
import torch

from tsrnn.nn import forecasting, fused
from tsrnn.nn.batched import NetworkJob, _inner, can_batch, train_networks
from tsrnn.nn.training import predict_network, resolve_device, thread_policy
from tsrnn.nn.windows import make_windows

__all__ = ["fit_networks", "CPU_BATCHED_MAX_HIDDEN", "CPU_BATCHED_MAX_HIDDEN_COMPILED"]

#: Training settings that must agree for fits to train together (seeds may differ).
_SHARED = ("epochs", "batch_size", "learning_rate", "loss", "gradient_clip", "early_stopping")
_SHARED += ("lr_patience", "device", "max_steps")
#: Largest hidden size at which each cell's networks train together on CPU (None: any).
#: For 10 networks (batch 32, lookback 30, 1 thread, forward and backward) the stacked
#: cells with their hand-written backward pass (:mod:`tsrnn.nn.stacked_cells`) took,
#: against one network after another (each through its own forward: the hand-written GRU
#: layer, ``nn.LSTM``, ``nn.RNN``), two runs: GRU 1/3.2-1/3.5 of the time at hidden 32,
#: 1/1.8-1/2.0 at 64, 1/1.3 at 128 (RNN, autograd: 6.4x, 3.3x, 1.9x); LSTM 1.2-1.3x at
#: 32, 1.1-1.2x at 64 but 0.8-1.0x at 128, where torch's fused oneDNN LSTM kernel is hard
#: to beat. ``benchmarks/bench_batched_cells.py``; ``benchmarks/RESULTS_backtest.md``.
CPU_BATCHED_MAX_HIDDEN: dict[str, int | None] = {"lstm": 64, "gru": None, "rnn": None}
#: The same with the compiled cells of :mod:`tsrnn.nn.fused` (``tsrnn build-kernels``):
#: the stacked LSTM then beats one ``nn.LSTM`` after another at hidden 128 too (10
#: networks, forward and backward, two runs: 1.10x and 1.35x; Python cells 0.91x and
#: 1.04x; at 32: 2.79x against 1.59x), so every size batches.
CPU_BATCHED_MAX_HIDDEN_COMPILED: dict[str, int | None] = {"lstm": None, "gru": None, "rnn": None}


def _batchable(call: dict) -> bool:
    settings = call["settings"]
    inner, _ = _inner(call["net"])
    on_cpu = resolve_device(str(settings.get("device", "cpu"))).type == "cpu"
    if on_cpu:
        cell = getattr(inner, "cell", None)
        limits = CPU_BATCHED_MAX_HIDDEN_COMPILED if fused.available() else CPU_BATCHED_MAX_HIDDEN
        if cell not in limits:
            return False
        largest = limits[cell]
        if largest is not None and inner.rnn.hidden_size > largest:
            return False
    return (
        len(call["series"]) == 1
        and settings.get("epochs", 100) > 0
        and not settings.get("verbose")
        and settings.get("epoch_callback") is None
        and can_batch([call["net"]])
    )


def _group_key(call: dict) -> tuple:
    inner, anchored = _inner(call["net"])
    shapes = tuple((k, tuple(v.shape)) for k, v in inner.state_dict().items())
    settings = tuple(repr(call["settings"].get(name)) for name in _SHARED)
    future = call["future"] is not None
    return (inner.cell, anchored, shapes, settings, call["lookback"], call["horizon"], future)


def fit_networks(calls: list[dict]) -> list[forecasting.FitOutcome]:
    """:func:`~tsrnn.nn.forecasting.fit_network` for each call, batching what can be.

    Calls on one series each, with networks and settings that agree (seeds may
    differ), train together in :func:`train_networks`; the others (panels, dropout,
    constant series, custom networks, progress bars) one after another.

    Parameters
    ----------
    calls : list of dict
        Keyword arguments of :func:`~tsrnn.nn.forecasting.fit_network`.

    Returns
    -------
    list of FitOutcome
        In the order of ``calls``.
    """
    outcomes: list[forecasting.FitOutcome | None] = [None] * len(calls)
    groups: dict[tuple, list[int]] = {}
    for i, call in enumerate(calls):
        if _batchable(call):
            groups.setdefault(_group_key(call), []).append(i)
    for members in groups.values():
        if len(members) > 1:
            for i, outcome in zip(members, _fit_group([calls[i] for i in members]), strict=True):
                outcomes[i] = outcome
    for i, call in enumerate(calls):
        if outcomes[i] is None:
            outcomes[i] = forecasting.fit_network(**call)
    return outcomes


def _fit_group(calls: list[dict]) -> list[forecasting.FitOutcome]:
    first = calls[0]
    lookback, horizon, settings = first["lookback"], first["horizon"], first["settings"]
    jobs = [
        NetworkJob(
            call["net"],
            forecasting._tensor(call["series"][0]),
            None if call["future"] is None else forecasting._tensor(call["future"][0]),
            np.asarray(call["train_idx"][0]),
            np.asarray(call["val_idx"][0]),
            int(call["settings"].get("seed", 0)),
        )
        for call in calls
    ]
    options = {k: settings[k] for k in _SHARED if k in settings}
    n_params = sum(p.numel() for call in calls for p in call["net"].parameters())
    with thread_policy(n_params, first["n_threads"]):
        results = train_networks(jobs, lookback=lookback, horizon=horizon, **options)
        outcomes = []
        for call, job, result in zip(calls, jobs, results, strict=True):
            X, Y = make_windows(job.series, lookback, horizon)
            future = forecasting._future_windows(call["future"], lookback, horizon)
            calib = call["calib_idx"][0] if call.get("calib_idx") else call["val_idx"][0]
            calib = torch.as_tensor(np.asarray(calib), dtype=torch.long)
            device = options.get("device", "cpu")
            forecasts = predict_network(job.net, X, future, device=device, index=calib)
            outcomes.append(forecasting.FitOutcome(result, [forecasts], [Y[calib].numpy().copy()]))
    return outcomes
