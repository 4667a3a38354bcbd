"""LSTM, GRU and simple-RNN forecasters: presets of the neural core.

Each class is :class:`tsrnn.neural.NeuralForecaster` with a row of the network table
(:data:`tsrnn.nn.networks.NETWORKS`) named by ``_network``. This module does not import
torch; see :mod:`tsrnn.neural` for the pipeline (time split, per-series scaling,
training, conformal intervals, roll-out, update and persistence).
"""

from __future__ import annotations

from tsrnn._neural_params import PARAMS_DOC
from tsrnn.neural import NeuralForecaster

__all__ = ["LSTMForecaster", "GRUForecaster", "RNNForecaster"]

#: The pre-carve name of the shared implementation, kept for code that imported it.
_RecurrentForecaster = NeuralForecaster


class LSTMForecaster(NeuralForecaster):
    _network = "lstm"
    __doc__ = PARAMS_DOC.format(cell="LSTM", module="nn.LSTM")


class GRUForecaster(NeuralForecaster):
    _network = "gru"
    __doc__ = PARAMS_DOC.format(cell="GRU", module="nn.GRU")


class RNNForecaster(NeuralForecaster):
    _network = "rnn"
    __doc__ = PARAMS_DOC.format(cell="RNN", module="nn.RNN")
