"""tsrnn: LSTM, GRU and RNN time-series forecasting with honest baselines.

Public names are imported lazily (PEP 562), so ``import tsrnn`` and ``tsrnn --help``
stay fast and never load torch or statsmodels until a model that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tsrnn._version import __version__
from tsrnn.exceptions import (
    DataError,
    DatasetNotFoundError,
    DataWarning,
    InputError,
    ModelFileError,
    NotEnoughDataError,
    TsrnnError,
)

_LAZY = {
    "NaiveForecaster": "tsrnn.baselines",
    "SeasonalNaiveForecaster": "tsrnn.baselines",
    "DriftForecaster": "tsrnn.baselines",
    "ARIMAForecaster": "tsrnn.arima",
    "LSTMForecaster": "tsrnn.rnn",
    "GRUForecaster": "tsrnn.rnn",
    "RNNForecaster": "tsrnn.rnn",
    "NeuralForecaster": "tsrnn.neural",
    "backtest": "tsrnn.backtesting",
    "BacktestResult": "tsrnn.backtesting",
    "ExpandingWindowSplitter": "tsrnn.splitters",
    "SlidingWindowSplitter": "tsrnn.splitters",
    "read_csv": "tsrnn.io",
    "load": "tsrnn.persistence",
}

__all__ = [
    "__version__",
    "TsrnnError",
    "InputError",
    "DataError",
    "NotEnoughDataError",
    "DatasetNotFoundError",
    "ModelFileError",
    "DataWarning",
    "NaiveForecaster",
    "SeasonalNaiveForecaster",
    "DriftForecaster",
    "ARIMAForecaster",
    "LSTMForecaster",
    "GRUForecaster",
    "RNNForecaster",
    "NeuralForecaster",
    "backtest",
    "BacktestResult",
    "ExpandingWindowSplitter",
    "SlidingWindowSplitter",
    "read_csv",
    "load",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tsrnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    # ruff: noqa: F401
    from tsrnn.baselines import DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster
    from tsrnn.io import read_csv
    from tsrnn.persistence import load
    from tsrnn.splitters import ExpandingWindowSplitter, SlidingWindowSplitter
