"""The torch modules: a recurrent encoder with a direct multi-horizon linear head, and the
per-window normalisation that wraps it.

The modules know only tensors. Windowing, scaling and training live elsewhere
(:mod:`tsrnn.nn.windows`, :mod:`tsrnn.nn.training` and the estimator).
"""

from __future__ import annotations

import threading

import torch
from torch import nn

from tsrnn.nn.stacked_cells import Workspace, gru_layer

CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}

#: Cells whose CPU passes go through the hand-written layers of
#: :mod:`tsrnn.nn.stacked_cells` (with K = 1) rather than ``torch.nn``'s module: torch's
#: CPU GRU runs step by step under autograd, and its training steps took 1.2-2.1x the
#: hand-written layer's time, its forecast passes up to 2x (``benchmarks/bench_gru_cell.py``).
#: torch's CPU LSTM is one fused oneDNN kernel, faster than the hand-written layer for
#: one network.
_HAND_WRITTEN_CPU = {"gru": gru_layer}


class RecurrentNet(nn.Module):
    """Map a lookback window to ``horizon`` future values in one shot.

    A recurrent encoder (``torch.nn.LSTM``, ``GRU`` or ``RNN``) reads the window;
    the hidden output of its last time step, concatenated with the flattened
    future-known features when ``future_size > 0``, goes through one linear layer
    that emits all ``horizon`` steps at once (direct multi-horizon forecasting).
    On CPU a GRU's passes run through :func:`tsrnn.nn.stacked_cells.gru_layer` with
    ``rnn``'s weights (the same equations, faster than torch's CPU GRU), except in
    training with dropout between layers.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}
        Recurrent cell type.
    input_size : int
        Number of features per time step in the input window.
    hidden_size : int
        Width of the recurrent hidden state.
    num_layers : int
        Number of stacked recurrent layers.
    dropout : float
        Dropout between stacked recurrent layers; applied only when
        ``num_layers > 1``.
    horizon : int
        Number of future steps predicted.
    future_size : int, default=0
        Number of future-known features per forecast step (0 = none).

    Raises
    ------
    ValueError
        If ``cell`` is not one of ``'lstm'``, ``'gru'``, ``'rnn'``.

    Notes
    -----
    Shapes in :meth:`forward`:

    - ``x``: ``(batch, lookback, input_size)``
    - ``future``: ``(batch, horizon, future_size)`` or ``None``
    - output: ``(batch, horizon)``

    Examples
    --------
    >>> net = RecurrentNet("gru", input_size=3, hidden_size=8, num_layers=1,
    ...                    dropout=0.0, horizon=5)
    >>> net(torch.zeros(4, 12, 3)).shape
    torch.Size([4, 5])
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        horizon: int,
        future_size: int = 0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}; got {cell!r}.")
        self.cell = cell
        self.horizon = horizon
        self.future_size = future_size
        self.rnn = CELLS[cell](
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Linear(hidden_size + horizon * future_size, horizon)

    def forward(self, x: torch.Tensor, future: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast ``horizon`` steps for each window in the batch.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, lookback, input_size)
            Input windows.
        future : torch.Tensor of shape (batch, horizon, future_size), optional
            Future-known features; required when ``future_size > 0``, ignored
            otherwise.

        Returns
        -------
        torch.Tensor of shape (batch, horizon)
            Point forecasts.

        Raises
        ------
        ValueError
            If the module was built with ``future_size > 0`` and ``future`` is None.
        """
        features = self._last_hidden(x)
        if self.future_size > 0:
            if future is None:
                raise ValueError(
                    f"future is required: the net was built with future_size={self.future_size}."
                )
            features = torch.cat([features, future.reshape(future.shape[0], -1)], dim=1)
        return self.head(features)

    def _last_hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's hidden output at the last step, (batch, hidden)."""
        rnn, layer_fn = self.rnn, _HAND_WRITTEN_CPU.get(self.cell)
        dropping = self.training and rnn.num_layers > 1 and rnn.dropout > 0
        if (
            layer_fn is None
            or dropping  # nn.GRU's own dropout masks
            or x.device.type != "cpu"
            or x.shape[0] == 0
            or x.dtype != rnn.weight_hh_l0.dtype
        ):
            output, _ = rnn(x)
            return output[:, -1, :]
        workspaces = self._workspaces()
        seq = x.permute(1, 2, 0).unsqueeze(1).contiguous()  # (L, 1, F, B)
        for layer in range(rnn.num_layers):
            weights = (
                getattr(rnn, f"{name}_l{layer}").unsqueeze(0)
                for name in ("weight_ih", "bias_ih", "weight_hh", "bias_hh")
            )
            last = layer == rnn.num_layers - 1
            seq = layer_fn(seq, *weights, full=not last, workspace=workspaces[layer])
        return seq[0].t()

    def _workspaces(self) -> list[Workspace]:
        """This thread's buffers for the hand-written layers, one per layer and mode.

        Per thread: fits in threads may share a module. Not part of the module's state:
        dropped by pickling and copying, recreated on use.
        """
        local = self.__dict__.setdefault("_workspace_local", threading.local())
        mode = "train" if torch.is_grad_enabled() else "eval"
        found = getattr(local, mode, None)
        if found is None:
            found = [Workspace() for _ in range(self.rnn.num_layers)]
            setattr(local, mode, found)
        return found

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_workspace_local", None)
        return state


class LastValueAnchor(nn.Module):
    """Per-window normalisation: forecast changes relative to the window's last target value.

    The target channel (column 0) of every input window has its last value subtracted,
    and that value is added back to the outputs, so the wrapped network learns changes,
    not levels. A network that outputs zeros is exactly the naive forecast; levels never
    seen in training (a stock at an all-time high) are no harder than familiar ones.

    Parameters
    ----------
    net : torch.nn.Module
        Maps ``(batch, lookback, F)`` (and ``future``) to ``(batch, horizon)``.

    Examples
    --------
    >>> net = LastValueAnchor(RecurrentNet("lstm", 1, 4, 1, 0.0, horizon=2))
    >>> with torch.no_grad():
    ...     net.net.head.weight.zero_(), net.net.head.bias.zero_()  # doctest: +ELLIPSIS
    (...)
    >>> net(torch.tensor([[[1.0], [5.0]]])).tolist()  # zero changes: the naive forecast
    [[5.0, 5.0]]
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    @property
    def horizon(self) -> int | None:
        """The wrapped network's number of output steps."""
        return getattr(self.net, "horizon", None)

    def forward(self, x: torch.Tensor, future: torch.Tensor | None = None) -> torch.Tensor:
        """Shapes as :meth:`RecurrentNet.forward`: ``(batch, lookback, F) -> (batch, horizon)``."""
        anchor = x[:, -1:, 0]
        relative = torch.cat([x[..., :1] - anchor.unsqueeze(-1), x[..., 1:]], dim=-1)
        return self.net(relative, future) + anchor

    @staticmethod
    def relative_(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Anchor a training batch in place: ``net(x_rel)`` vs ``y_rel`` gives the same loss.

        ``net(x_rel) - y_rel == forward(x) - y`` for every window, so training the inner
        ``net`` on anchored batches is training this module, without four autograd-tracked
        operations per step. ``x`` and ``y`` must be copies (a gathered batch), not views
        of the series.
        """
        anchor = x[:, -1:, 0].clone()
        x[..., 0] -= anchor
        y -= anchor
        return x, y
