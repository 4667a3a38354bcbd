"""Glue between the estimator (numpy) and the torch pieces: build, train, forecast.

The estimators in :mod:`tsrnn.rnn` never import torch; they call these functions with
numpy arrays of the scaled series and keep the returned module in ``net_``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tsrnn.nn.modules import RecurrentNet
from tsrnn.nn.training import (
    TrainResult,
    arrays_to_state,
    predict_network,
    state_to_arrays,
    thread_policy,
    train_network,
)
from tsrnn.nn.windows import make_windows

__all__ = ["LastValueAnchor", "build_network", "fit_network", "forecast_window", "FitOutcome"]


class LastValueAnchor(nn.Module):
    """Per-window normalisation: forecast changes relative to the window's last target value.

    The target channel of every input window has its last value subtracted, and that
    value is added back to the outputs, so the network learns changes, not levels. A
    network that outputs zeros is exactly the naive forecast; levels never seen in
    training (a stock at an all-time high) are no harder than familiar ones.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, future: torch.Tensor | None = None) -> torch.Tensor:
        """Shapes as :meth:`RecurrentNet.forward`: ``(batch, lookback, F) -> (batch, horizon)``."""
        anchor = x[:, -1:, 0]
        relative = torch.cat([x[..., :1] - anchor.unsqueeze(-1), x[..., 1:]], dim=-1)
        return self.net(relative, future) + anchor


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
    settings: dict,
    n_threads: int | None,
) -> FitOutcome:
    """Train ``net`` on windows of the scaled ``series`` (T, F) and score the validation tail.

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
        Window positions for training and validation.
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
        val = torch.as_tensor(val_idx, dtype=torch.long)
        fv = None if windows_future is None else windows_future[val]
        val_forecasts = predict_network(net, X[val], fv, device=settings.get("device", "cpu"))
    return FitOutcome(result, val_forecasts, Y[val].numpy().copy())


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
