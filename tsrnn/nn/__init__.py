"""Torch code of tsrnn: the recurrent module, zero-copy windows and the training loop.

This is the only package that imports torch; ``import tsrnn`` does not load it.
"""

from .modules import LastValueAnchor, RecurrentNet
from .networks import NETWORKS, register_network
from .training import (
    TrainResult,
    arrays_to_state,
    predict_network,
    resolve_device,
    state_to_arrays,
    thread_policy,
    train_network,
)
from .windows import last_window, make_windows, panel_windows

__all__ = [
    "NETWORKS",
    "LastValueAnchor",
    "RecurrentNet",
    "TrainResult",
    "arrays_to_state",
    "last_window",
    "make_windows",
    "panel_windows",
    "predict_network",
    "register_network",
    "resolve_device",
    "state_to_arrays",
    "thread_policy",
    "train_network",
]
