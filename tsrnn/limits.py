"""Bounds on what one call, one option or one model file may ask of the machine.

A small input must not be able to demand unbounded time or memory: a horizon of
10**9 steps, a network of 10**12 weights, a million threads, a thousand worker
processes for three tasks. Each bound here is far above any sensible use and comes
with an error that says what was asked, what the bound is and what to do. Pure
Python: no torch, no statsmodels.
"""

from __future__ import annotations

import os

from tsrnn.exceptions import InputError

__all__ = [
    "MAX_HORIZON",
    "HORIZON_PER_OBSERVATION",
    "MAX_NETWORK_PARAMETERS",
    "MAX_THREADS",
    "MAX_ROLLOUT_ROUNDS",
    "max_horizon",
    "check_horizon_bound",
    "check_network_size",
    "usable_threads",
    "effective_jobs",
]

#: No forecast is longer than this many steps (273 years of daily data).
MAX_HORIZON = 100_000
#: ... nor longer than this many times the observations the model saw (and at least 1,000).
HORIZON_PER_OBSERVATION = 10
_MIN_HORIZON_BOUND = 1_000
#: Weights a recurrent network may have (400 MB of float32); a 3-layer hidden-1024 LSTM has 21M.
MAX_NETWORK_PARAMETERS = 100_000_000
#: Threads a model may ask torch for.
MAX_THREADS = 1024
#: Recursive roll-out rounds of a neural forecast beyond its trained horizon.
MAX_ROLLOUT_ROUNDS = 1_000

_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def max_horizon(n_obs: int) -> int:
    """The longest forecast tsrnn makes from ``n_obs`` observations.

    ``HORIZON_PER_OBSERVATION`` times the data, at least 1,000 steps and never more
    than :data:`MAX_HORIZON`: far beyond any forecast the data can support, and small
    enough that the forecast table fits in memory in seconds.

    Examples
    --------
    >>> max_horizon(60), max_horizon(5_000), max_horizon(10**6)
    (1000, 50000, 100000)
    """
    return min(MAX_HORIZON, max(_MIN_HORIZON_BOUND, HORIZON_PER_OBSERVATION * int(n_obs)))


def check_horizon_bound(horizon: int, n_obs: int, source: str = "y") -> None:
    """Raise :class:`InputError` when ``horizon`` exceeds :func:`max_horizon` of ``n_obs``."""
    bound = max_horizon(n_obs)
    if horizon > bound:
        raise InputError(
            f"horizon={horizon:,} is too long for {source} ({n_obs:,} observations): tsrnn "
            f"forecasts at most {bound:,} steps ({HORIZON_PER_OBSERVATION} times the data, "
            f"at least {_MIN_HORIZON_BOUND:,}, never above {MAX_HORIZON:,}). "
            "Ask for fewer steps."
        )


def network_parameters(
    cell: str, n_inputs: int, hidden_size: int, num_layers: int, horizon: int
) -> int:
    """Number of weights of a stacked recurrent network with a linear head (an estimate
    exact to the bias terms, computed without building it)."""
    gates = _GATES.get(cell, 4)
    first = gates * hidden_size * (n_inputs + hidden_size + 2)
    others = (num_layers - 1) * gates * hidden_size * (2 * hidden_size + 2)
    return first + others + (hidden_size + 1) * horizon


def check_network_size(
    cell: str, n_inputs: int, hidden_size: int, num_layers: int, horizon: int
) -> None:
    """Refuse a network above :data:`MAX_NETWORK_PARAMETERS` weights before it is built."""
    count = network_parameters(cell, n_inputs, hidden_size, num_layers, horizon)
    if count > MAX_NETWORK_PARAMETERS:
        raise InputError(
            f"hidden_size={hidden_size:,}, num_layers={num_layers:,} and horizon={horizon:,} "
            f"make a network of about {count:,} weights; tsrnn builds at most "
            f"{MAX_NETWORK_PARAMETERS:,}. Choose a smaller hidden_size, num_layers or horizon."
        )


def usable_threads(n_threads: int) -> int:
    """``n_threads`` capped at the machine's cores (more threads than cores only wait)."""
    return max(1, min(int(n_threads), os.cpu_count() or 1))


def effective_jobs(n_jobs: int | None, n_tasks: int) -> int:
    """Worker processes worth starting: never more than the tasks, nor than the cores.

    Parameters
    ----------
    n_jobs : int or None
        As joblib takes it: a positive count, -1 for all cores (-2 all but one, ...),
        None for 1.
    n_tasks : int
        Independent pieces of work.

    Examples
    --------
    >>> effective_jobs(16, 3) <= 3
    True
    """
    cores = os.cpu_count() or 1
    if n_jobs is None:
        wanted = 1
    elif n_jobs < 0:
        wanted = max(1, cores + 1 + int(n_jobs))
    else:
        wanted = int(n_jobs)
    return max(1, min(wanted, cores, max(int(n_tasks), 1)))


def check_threads(n_threads: object) -> None:
    """Refuse a thread count above :data:`MAX_THREADS` (a model file or a typo)."""
    if n_threads is not None and n_threads > MAX_THREADS:
        raise InputError(
            f"n_threads={n_threads:,} is more than tsrnn allows ({MAX_THREADS}); "
            "use at most the number of cores, or None for the automatic choice."
        )
