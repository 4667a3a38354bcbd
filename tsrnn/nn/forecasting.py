"""Glue between the estimator (numpy) and the torch pieces: build, train, forecast.

The estimators in :mod:`tsrnn.rnn` never import torch; they call these functions with
numpy arrays of the scaled series and keep the returned module in ``net_``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tsrnn.nn.modules import LastValueAnchor, RecurrentNet
from tsrnn.nn.training import (
    TrainResult,
    arrays_to_state,
    predict_network,
    state_to_arrays,
    thread_policy,
    train_network,
)
from tsrnn.nn.windows import make_windows

__all__ = [
    "LastValueAnchor",
    "build_network",
    "fine_tune",
    "fit_network",
    "forecast_window",
    "zero_output",
    "FitOutcome",
]


def build_network(
    cell: str,
    n_features: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    horizon: int,
    future_size: int,
    anchor_last_value: bool,
    seed: int,
) -> nn.Module:
    """Create the network with seeded initial weights."""
    torch.manual_seed(seed)
    net = RecurrentNet(cell, n_features, hidden_size, num_layers, dropout, horizon, future_size)
    return LastValueAnchor(net) if anchor_last_value else net


def zero_output(net: nn.Module) -> None:
    """Zero the output layer: the net then forecasts 0 in scaled units, or "no change" anchored.

    Used for a constant series, where the scaled target is exactly 0 and this gives
    exactly the constant back (training could only approximate it).
    """
    head = next(m for m in net.modules() if isinstance(m, RecurrentNet)).head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()


@dataclass
class FitOutcome:
    """Training report plus the validation windows' forecasts (for conformal intervals)."""

    result: TrainResult
    val_forecasts: np.ndarray
    val_targets: np.ndarray


def _future_windows(future: np.ndarray | None, lookback: int, horizon: int) -> torch.Tensor | None:
    if future is None:
        return None
    tensor = torch.from_numpy(np.ascontiguousarray(future, dtype=np.float32))
    return tensor[lookback:].unfold(0, horizon, 1).transpose(1, 2)


def fit_network(
    net: nn.Module,
    series: np.ndarray,
    future: np.ndarray | None,
    *,
    lookback: int,
    horizon: int,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    calib_idx: np.ndarray | None = None,
    settings: dict,
    n_threads: int | None,
) -> FitOutcome:
    """Train ``net`` on windows of the scaled ``series`` (T, F) and score the calibration windows.

    Parameters
    ----------
    net : torch.nn.Module
        From :func:`build_network`.
    series : np.ndarray of shape (T, F)
        Scaled data, target in column 0.
    future : np.ndarray of shape (T, K), optional
        Future-known features aligned with ``series`` (window ``i`` uses rows
        ``i + lookback`` to ``i + lookback + horizon - 1``).
    lookback, horizon : int
        Window sizes.
    train_idx, val_idx : np.ndarray
        Window positions for training and for validation (early stopping, learning-rate
        plateaus). ``val_idx`` may be empty: training then monitors the training loss.
    calib_idx : np.ndarray, optional
        Windows forecast after training for the conformal intervals; default ``val_idx``.
        Not evaluated during training, so calibrating on the training windows (when there
        is no validation tail) costs one forward pass, not one per epoch.
    settings : dict
        Keyword arguments of :func:`~tsrnn.nn.training.train_network`.
    n_threads : int, optional
        See :func:`~tsrnn.nn.training.thread_policy`.
    """
    tensor = torch.from_numpy(np.ascontiguousarray(series, dtype=np.float32))
    X, Y = make_windows(tensor, lookback, horizon)
    windows_future = _future_windows(future, lookback, horizon)
    n_params = sum(p.numel() for p in net.parameters())
    with thread_policy(n_params, n_threads):
        result = train_network(net, X, Y, train_idx, val_idx, future=windows_future, **settings)
        calib = torch.as_tensor(val_idx if calib_idx is None else calib_idx, dtype=torch.long)
        device = settings.get("device", "cpu")
        forecasts = predict_network(net, X, windows_future, device=device, index=calib)
    return FitOutcome(result, forecasts, Y[calib].numpy().copy())


def fine_tune(
    net: nn.Module,
    series: np.ndarray,
    future: np.ndarray | None,
    *,
    lookback: int,
    horizon: int,
    settings: dict,
    n_threads: int | None,
) -> TrainResult:
    """Continue training ``net`` on every window of the scaled ``series`` (T, F).

    Used by ``update`` with ``fine_tune_epochs > 0``; ``settings`` as in :func:`fit_network`.
    """
    tensor = torch.from_numpy(np.ascontiguousarray(series, dtype=np.float32))
    X, Y = make_windows(tensor, lookback, horizon)
    n_params = sum(p.numel() for p in net.parameters())
    with thread_policy(n_params, n_threads):
        return train_network(
            net,
            X,
            Y,
            np.arange(len(X)),
            np.array([], dtype=np.int64),
            future=_future_windows(future, lookback, horizon),
            **settings,
        )


def forecast_window(
    net: nn.Module,
    window: np.ndarray,
    future: np.ndarray | None,
    device: str,
    n_threads: int | None,
) -> np.ndarray:
    """Forecast ``horizon`` scaled values from one input window of shape (lookback, F)."""
    x = torch.from_numpy(np.ascontiguousarray(window, dtype=np.float32)).unsqueeze(0)
    f = None if future is None else torch.from_numpy(np.asarray(future, np.float32)).unsqueeze(0)
    n_params = sum(p.numel() for p in net.parameters())
    with thread_policy(n_params, n_threads):
        return predict_network(net, x, f, device=device)[0]


def export_weights(net: nn.Module) -> dict[str, np.ndarray]:
    """Network weights as numpy arrays (stored in model files without pickle)."""
    return state_to_arrays(net)


def import_weights(net: nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load arrays from :func:`export_weights` into ``net``."""
    arrays_to_state(net, arrays)
