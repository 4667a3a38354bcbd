"""The table of networks the neural forecasters can train: name -> torch module class.

A neural forecaster (:class:`tsrnn.neural.NeuralForecaster`) names its network with the
class attribute ``_network``; the estimator builds ``NETWORKS[name](...)`` at ``fit``.

The module contract
-------------------
A network class in the table must:

- be constructible with keyword arguments only::

      Net(input_size=F, lookback=L, horizon=H, future_size=K,
          hidden_size=..., num_layers=..., dropout=...)

  ``input_size`` features per input step (target first, then past covariates),
  ``lookback`` input steps, ``horizon`` output steps, ``future_size`` future-known
  features per output step (0: none). ``hidden_size``, ``num_layers`` and ``dropout``
  are the estimator's parameters of the same names; a network may read them as it likes
  (width, depth, regularisation) or ignore them;
- map ``forward(x, future=None)`` with ``x`` of shape ``(batch, lookback, input_size)``
  and ``future`` of shape ``(batch, horizon, future_size)`` (or None when
  ``future_size == 0``) to point forecasts of shape ``(batch, horizon)`` in scaled units;
- expose ``horizon`` (int) and ``head``: the final ``torch.nn.Linear`` producing the
  ``horizon`` outputs. The estimator zeroes ``head`` for a constant series (with the
  last-value anchor the network then forecasts exactly "no change").

Windows, scaling, the last-value anchor (:class:`~tsrnn.nn.modules.LastValueAnchor`),
training and persistence are the estimator's job; a network knows only tensors.

Adding a network is one module, one row (:func:`register_network`) and a small estimator
subclass that sets ``_network``; ``tests/nn/test_networks.py`` shows it end to end.
"""

from __future__ import annotations

import threading

import torch
from torch import nn

from tsrnn.nn.modules import RecurrentNet

__all__ = ["NETWORKS", "GRUNet", "LSTMNet", "RNNNet", "build", "register_network"]


class _CellNet(RecurrentNet):
    """:class:`RecurrentNet` with the cell fixed by the class and the contract's constructor."""

    cell_name = "lstm"

    def __init__(
        self,
        *,
        input_size: int,
        lookback: int,
        horizon: int,
        future_size: int = 0,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        del lookback  # a recurrent encoder reads windows of any length
        super().__init__(
            self.cell_name, input_size, hidden_size, num_layers, dropout, horizon, future_size
        )


class LSTMNet(_CellNet):
    """``torch.nn.LSTM`` encoder + linear multi-horizon head (see :class:`RecurrentNet`)."""

    cell_name = "lstm"


class GRUNet(_CellNet):
    """``torch.nn.GRU`` encoder + linear multi-horizon head (see :class:`RecurrentNet`)."""

    cell_name = "gru"


class RNNNet(_CellNet):
    """``torch.nn.RNN`` (tanh) encoder + linear multi-horizon head (see :class:`RecurrentNet`)."""

    cell_name = "rnn"


#: name -> module class following the contract in the module docstring.
NETWORKS: dict[str, type[nn.Module]] = {"lstm": LSTMNet, "gru": GRUNet, "rnn": RNNNet}

#: Held while a network draws its initial weights from the seeded global generator.
_INIT_LOCK = threading.Lock()


def register_network(name: str, module: type[nn.Module]) -> None:
    """Add (or replace) a row of :data:`NETWORKS`.

    Parameters
    ----------
    name : str
        The key an estimator's ``_network`` attribute names.
    module : type
        A ``torch.nn.Module`` subclass following the module contract.
    """
    if not (isinstance(module, type) and issubclass(module, nn.Module)):
        raise TypeError(f"module must be a torch.nn.Module subclass; got {module!r}.")
    NETWORKS[str(name)] = module


def build(
    name: str,
    *,
    input_size: int,
    lookback: int,
    horizon: int,
    future_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    seed: int,
) -> nn.Module:
    """Create network ``name`` with weights seeded by ``seed``.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`NETWORKS`.
    """
    if name not in NETWORKS:
        raise ValueError(f"network {name!r} is not in the table; known: {', '.join(NETWORKS)}.")
    # Weights come from torch's global generator: seed it under a lock, and restore it
    # afterwards, so fits in threads (joblib's threading or Dask's in-process workers)
    # cannot interleave their draws and break seed determinism.
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return NETWORKS[name](
            input_size=input_size,
            lookback=lookback,
            horizon=horizon,
            future_size=future_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout,
        )
