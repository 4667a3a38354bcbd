"""Glue between the neural core (numpy) and the torch pieces: build, train, forecast.

The estimators (:mod:`tsrnn.neural`) never import torch; they call these functions with
lists of scaled series (one array per series; a single series is a list of one) and keep
the returned module in ``net_``. Windows of all series are zero-copy views of one
concatenated tensor, addressed by per-series offsets (:func:`~tsrnn.nn.windows.panel_windows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tsrnn.nn import networks
from tsrnn.nn.modules import LastValueAnchor
from tsrnn.nn.training import (
    TrainResult,
    arrays_to_state,
    predict_network,
    state_to_arrays,
    thread_policy,
    train_network,
)
from tsrnn.nn.windows import panel_windows

__all__ = [
    "FitOutcome",
    "build_network",
    "export_weights",
    "fine_tune",
    "fit_network",
    "forecast_windows",
    "import_weights",
    "zero_output",
]


def build_network(
    network: str,
    n_features: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    horizon: int,
    future_size: int,
    anchor_last_value: bool,
    seed: int,
    lookback: int,
) -> nn.Module:
    """Create table network ``network`` (:data:`~tsrnn.nn.networks.NETWORKS`), seeded."""
    net = networks.build(
        network,
        input_size=n_features,
        lookback=lookback,
        horizon=horizon,
        future_size=future_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        dropout=dropout,
        seed=seed,
    )
    return LastValueAnchor(net) if anchor_last_value else net


def zero_output(net: nn.Module) -> None:
    """Zero the output layer (``head``): the net then forecasts 0 scaled, or "no change".

    Used when every series is constant: the scaled target is then exactly 0 and this
    gives exactly the constant back (training could only approximate it).
    """
    inner = net.net if isinstance(net, LastValueAnchor) else net
    with torch.no_grad():
        inner.head.weight.zero_()
        inner.head.bias.zero_()


@dataclass
class FitOutcome:
    """Training report plus each series' calibration forecasts and targets (scaled)."""

    result: TrainResult
    val_forecasts: list[np.ndarray]
    val_targets: list[np.ndarray]


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _future_windows(
    future: list[np.ndarray] | None, lookback: int, horizon: int
) -> torch.Tensor | None:
    if future is None:
        return None
    joined = _tensor(future[0] if len(future) == 1 else np.concatenate(future))
    return joined[lookback:].unfold(0, horizon, 1).transpose(1, 2)


def _global(positions: list[np.ndarray], offsets: list[int]) -> np.ndarray:
    """Per-series window positions -> positions in the concatenated windows."""
    parts = [np.asarray(p, dtype=np.int64) + o for p, o in zip(positions, offsets, strict=True)]
    return np.concatenate(parts) if parts else np.array([], dtype=np.int64)


def fit_network(
    net: nn.Module,
    series: list[np.ndarray],
    future: list[np.ndarray] | None,
    *,
    lookback: int,
    horizon: int,
    train_idx: list[np.ndarray],
    val_idx: list[np.ndarray],
    calib_idx: list[np.ndarray] | None = None,
    settings: dict,
    n_threads: int | None,
) -> FitOutcome:
    """Train ``net`` on windows drawn from every scaled series, then score calibration windows.

    Parameters
    ----------
    net : torch.nn.Module
        From :func:`build_network`.
    series : list of np.ndarray of shape (T_k, F)
        Scaled data per series, target in column 0.
    future : list of np.ndarray of shape (T_k, K), optional
        Future-known features aligned with each series (window ``i`` uses rows
        ``i + lookback`` to ``i + lookback + horizon - 1``).
    lookback, horizon : int
        Window sizes.
    train_idx, val_idx : list of np.ndarray
        Per series, window positions for training and for validation (early stopping,
        learning-rate plateaus). A series' ``val_idx`` may be empty; all empty: training
        monitors the training loss. One network is trained on the union, shuffled.
    calib_idx : list of np.ndarray, optional
        Per series, windows forecast after training for the conformal intervals; default
        ``val_idx``. Not evaluated during training.
    settings : dict
        Keyword arguments of :func:`~tsrnn.nn.training.train_network`.
    n_threads : int, optional
        See :func:`~tsrnn.nn.training.thread_policy`.
    """
    X, Y, offsets = panel_windows([_tensor(s) for s in series], lookback, horizon)
    windows_future = _future_windows(future, lookback, horizon)
    calib_idx = val_idx if calib_idx is None else calib_idx
    n_params = sum(p.numel() for p in net.parameters())
    with thread_policy(n_params, n_threads):
        result = train_network(
            net,
            X,
            Y,
            _global(train_idx, offsets),
            _global(val_idx, offsets),
            future=windows_future,
            **settings,
        )
        calib = torch.as_tensor(_global(calib_idx, offsets), dtype=torch.long)
        device = settings.get("device", "cpu")
        forecasts = predict_network(net, X, windows_future, device=device, index=calib)
    targets = Y[calib].numpy().copy()
    cuts = np.cumsum([len(c) for c in calib_idx])[:-1]
    return FitOutcome(result, np.split(forecasts, cuts), np.split(targets, cuts))


def fine_tune(
    net: nn.Module,
    series: list[np.ndarray],
    future: list[np.ndarray] | None,
    *,
    lookback: int,
    horizon: int,
    settings: dict,
    n_threads: int | None,
) -> TrainResult:
    """Continue training ``net`` on every window of each scaled series (T_k, F).

    Used by ``update`` with ``fine_tune_epochs > 0``; ``settings`` as in :func:`fit_network`.
    """
    X, Y, offsets = panel_windows([_tensor(s) for s in series], lookback, horizon)
    counts = [len(s) - lookback - horizon + 1 for s in series]
    n_params = sum(p.numel() for p in net.parameters())
    with thread_policy(n_params, n_threads):
        return train_network(
            net,
            X,
            Y,
            _global([np.arange(c) for c in counts], offsets),
            np.array([], dtype=np.int64),
            future=_future_windows(future, lookback, horizon),
            **settings,
        )


def forecast_windows(
    net: nn.Module,
    windows: np.ndarray,
    future: np.ndarray | None,
    device: str,
    n_threads: int | None,
) -> np.ndarray:
    """Forecast ``horizon`` scaled values from each input window (S, lookback, F) at once.

    ``future`` is (S, horizon, K) or None; returns (S, horizon).
    """
    x = _tensor(windows)
    f = None if future is None else _tensor(future)
    n_params = sum(p.numel() for p in net.parameters())
    with thread_policy(n_params, n_threads):
        return predict_network(net, x, f, device=device)


def export_weights(net: nn.Module) -> dict[str, np.ndarray]:
    """Network weights as numpy arrays (stored in model files without pickle)."""
    return state_to_arrays(net)


def import_weights(net: nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load arrays from :func:`export_weights` into ``net``."""
    arrays_to_state(net, arrays)
