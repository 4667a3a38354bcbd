"""The torch module: a recurrent encoder with a direct multi-horizon linear head.

The module knows only tensors. Windowing, scaling and training live elsewhere
(:mod:`tsrnn.nn.windows`, :mod:`tsrnn.nn.training` and the estimator).
"""

from __future__ import annotations

import torch
from torch import nn

CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class RecurrentNet(nn.Module):
    """Map a lookback window to ``horizon`` future values in one shot.

    A recurrent encoder (``torch.nn.LSTM``, ``GRU`` or ``RNN``) reads the window;
    the hidden output of its last time step, concatenated with the flattened
    future-known features when ``future_size > 0``, goes through one linear layer
    that emits all ``horizon`` steps at once (direct multi-horizon forecasting).

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
        output, _ = self.rnn(x)
        features = output[:, -1, :]
        if self.future_size > 0:
            if future is None:
                raise ValueError(
                    f"future is required: the net was built with future_size={self.future_size}."
                )
            features = torch.cat([features, future.reshape(future.shape[0], -1)], dim=1)
        return self.head(features)
