"""Parameter checks of the neural forecasters that guard against silent or unbounded failure.

Torch-free, so they run before anything is allocated: a ``gradient_clip`` of 0 (the
network never trains) or below 0 (gradient ascent), a learning rate that is not finite,
a seed that is not a non-negative integer, a thread count or network size that would
exhaust the machine, and a model file whose declared sizes disagree with its weights.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from tsrnn.exceptions import InputError
from tsrnn.limits import MAX_ROLLOUT_ROUNDS, check_network_size, check_threads

__all__ = ["check_neural_params", "check_declared_shapes", "check_rollout"]
_RECURRENT = ("lstm", "gru", "rnn")

_HIDDEN_WEIGHT = re.compile(r"(^|\.)weight_hh_l(\d+)$")


def _positive_finite(value: object) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def check_neural_params(estimator: object) -> None:
    """Checks beyond the types: run by ``_check_params`` of every neural forecaster.

    Raises
    ------
    InputError
        Naming the parameter, the value and what is expected.
    """
    if not _positive_finite(estimator.learning_rate):
        raise InputError(
            f"learning_rate must be a positive finite number; got {estimator.learning_rate!r}."
        )
    clip = estimator.gradient_clip
    if clip is not None and not _positive_finite(clip):
        raise InputError(
            f"gradient_clip must be a positive finite number (the largest gradient norm) or "
            f"None for no clipping; got {clip!r}. 0 would stop training and a negative value "
            "would climb the loss."
        )
    seed = estimator.random_state
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32
    ):
        raise InputError(
            f"random_state must be None or an integer from 0 to 2**32 - 1; got {seed!r}."
        )
    check_threads(estimator.n_threads)
    network = getattr(estimator, "_network", getattr(estimator, "_cell", "lstm"))
    check_network_size(network, 1, estimator.hidden_size, estimator.num_layers, estimator.horizon)


def check_rollout(horizon: int, trained: int) -> None:
    """Refuse a recursive roll-out of more than :data:`MAX_ROLLOUT_ROUNDS` network calls."""
    rounds = -(-horizon // trained)
    if rounds > MAX_ROLLOUT_ROUNDS:
        raise InputError(
            f"horizon={horizon:,} would roll the network out {rounds:,} times beyond its "
            f"trained horizon {trained}; at most {MAX_ROLLOUT_ROUNDS:,} rounds "
            f"({MAX_ROLLOUT_ROUNDS * trained:,} steps). Ask for fewer steps, or fit with a "
            "larger horizon."
        )


def check_declared_shapes(network: str, hidden_size: int, num_layers: int, weights: dict) -> None:
    """Compare a model file's ``hidden_size`` and ``num_layers`` with its stored weights
    before the network is built (a tampered size would otherwise allocate first).

    Raises
    ------
    ValueError
        If the recurrent weights do not have ``num_layers`` layers of ``hidden_size`` units.
    """
    if network not in _RECURRENT:
        return  # other networks of the table: their import checks every shape
    layers = {}
    for name, array in weights.items():
        match = _HIDDEN_WEIGHT.search(str(name))
        if match:
            layers[int(match.group(2))] = np.shape(array)
    if len(layers) != num_layers:
        raise ValueError(
            f"num_layers is {num_layers} but the file holds weights for {len(layers)} layer(s)"
        )
    for layer, shape in layers.items():
        if len(shape) != 2 or shape[1] != hidden_size:
            raise ValueError(
                f"hidden_size is {hidden_size} but layer {layer}'s weights have shape {shape}"
            )
