"""Sliding windows over a series as zero-copy tensor views.

For a series of length ``T``, ``lookback=3`` and ``horizon=2``::

    t:        0  1  2  3  4  5  6
    window 0  x  x  x  y  y
    window 1     x  x  x  y  y
    window 2        x  x  x  y  y

``make_windows`` returns ``N = T - lookback - horizon + 1`` such windows as views
of the series (made with :meth:`torch.Tensor.unfold`), so windowing a long series
costs no memory; a training batch copies only the windows it gathers.
"""

from __future__ import annotations

import torch


def _as_2d(series: torch.Tensor) -> torch.Tensor:
    if series.ndim == 1:
        return series.unsqueeze(1)
    if series.ndim != 2:
        raise ValueError(f"series must be 2-D (time, features); got shape {tuple(series.shape)}.")
    return series


def make_windows(
    series: torch.Tensor, lookback: int, horizon: int, target_index: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a series into (input window, target window) pairs without copying.

    Parameters
    ----------
    series : torch.Tensor of shape (T, F)
        The (scaled) series; column ``target_index`` is the target. A 1-D
        tensor is treated as a single feature.
    lookback : int
        Length of each input window (>= 1).
    horizon : int
        Number of target steps after each input window (>= 1).
    target_index : int, default=0
        Column of ``series`` that holds the target.

    Returns
    -------
    X : torch.Tensor of shape (N, lookback, F)
        ``X[i] = series[i : i + lookback]``; a view of ``series``.
    Y : torch.Tensor of shape (N, horizon)
        ``Y[i] = series[i + lookback : i + lookback + horizon, target_index]``;
        a view of ``series``.

    Raises
    ------
    ValueError
        If ``lookback`` or ``horizon`` is below 1, ``target_index`` is out of
        range, or the series is shorter than ``lookback + horizon``.

    Examples
    --------
    >>> X, Y = make_windows(torch.arange(6.0).reshape(6, 1), lookback=3, horizon=2)
    >>> X.shape, Y.tolist()
    (torch.Size([2, 3, 1]), [[3.0, 4.0], [4.0, 5.0]])
    """
    series = _as_2d(series)
    n_steps, n_features = series.shape
    if lookback < 1 or horizon < 1:
        raise ValueError(
            f"lookback and horizon must be >= 1; got lookback={lookback}, horizon={horizon}."
        )
    if not -n_features <= target_index < n_features:
        raise ValueError(
            f"target_index must index one of the {n_features} columns; got {target_index}."
        )
    n_windows = n_steps - lookback - horizon + 1
    if n_windows < 1:
        raise ValueError(
            f"series has {n_steps} steps; lookback + horizon needs at least {lookback + horizon}."
        )
    X = series.unfold(0, lookback, 1).transpose(1, 2)[:n_windows]
    Y = series[lookback:, target_index].unfold(0, horizon, 1)
    return X, Y


def last_window(series: torch.Tensor, lookback: int) -> torch.Tensor:
    """Return the final input window, ready for a one-step-ahead forecast.

    Parameters
    ----------
    series : torch.Tensor of shape (T, F)
        The (scaled) series; a 1-D tensor is treated as a single feature.
    lookback : int
        Window length (>= 1 and <= T).

    Returns
    -------
    torch.Tensor of shape (1, lookback, F)
        ``series[T - lookback :]`` as a view with a leading batch axis.

    Raises
    ------
    ValueError
        If ``lookback`` is below 1 or longer than the series.
    """
    series = _as_2d(series)
    if not 1 <= lookback <= series.shape[0]:
        raise ValueError(
            f"lookback must be between 1 and the series length {series.shape[0]}; got {lookback}."
        )
    return series[series.shape[0] - lookback :].unsqueeze(0)


def panel_windows(
    series: list[torch.Tensor], lookback: int, horizon: int
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Windows over many series as views of one concatenated tensor, plus offsets.

    The series are concatenated once (a copy of the rows, never of the windows) and
    windowed with :func:`make_windows`; window ``offsets[k] + i`` is window ``i`` of
    series ``k``. Windows that would straddle two series exist in the views but are
    never indexed by callers that add offsets to per-series window positions.

    Parameters
    ----------
    series : list of torch.Tensor of shape (T_k, F)
        Each at least ``lookback + horizon`` rows long, with the same ``F``.
    lookback, horizon : int

    Returns
    -------
    X : torch.Tensor of shape (N, lookback, F)
    Y : torch.Tensor of shape (N, horizon)
    offsets : list of int
        Row (and window) offset of each series in the concatenation.

    Examples
    --------
    >>> X, Y, offsets = panel_windows([torch.arange(5.0), torch.arange(10.0, 14.0)], 2, 1)
    >>> offsets, X[offsets[1] + 0, :, 0].tolist(), Y[offsets[1] + 1].tolist()
    ([0, 5], [10.0, 11.0], [13.0])
    """
    tensors = [_as_2d(s) for s in series]
    for k, tensor in enumerate(tensors):
        if len(tensor) < lookback + horizon:
            raise ValueError(
                f"series {k} has {len(tensor)} steps; lookback + horizon needs at least "
                f"{lookback + horizon}."
            )
    lengths = [len(t) for t in tensors]
    offsets = [0]
    for length in lengths[:-1]:
        offsets.append(offsets[-1] + length)
    joined = tensors[0] if len(tensors) == 1 else torch.cat(tensors)
    X, Y = make_windows(joined, lookback, horizon)
    return X, Y, offsets
