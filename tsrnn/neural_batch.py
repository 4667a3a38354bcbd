"""Fit several neural forecasters at once: K fold models, or a seed ensemble.

:func:`fit_together` fits each forecaster as its own ``fit`` would (its own series,
scaler, time split, seed and early stopping) but trains the networks in one pass
(:mod:`tsrnn.nn.batched`: stacked weights, grouped matrix products), so K small
networks cost much less than K separate fits where per-operation overhead dominates
(small models on CPU, any model on a GPU). ``backtest(refit=True)`` uses it for the
folds of a neural model. Forecasts equal separate fits with the same seeds up to
floating-point rounding (``tests/nn/test_batched.py``). This module does not import torch
until a fit runs.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["fit_together"]


def fit_together(models: list, ys: list[pd.Series | pd.DataFrame]) -> list:
    """Fit ``models[k]`` on ``ys[k]`` for every k, training the networks together.

    Parameters
    ----------
    models : list of NeuralForecaster
        Unfitted or refittable forecasters (typically clones of one, with different
        series or different ``random_state``).
    ys : list of pd.Series or pd.DataFrame
        One training series per model.

    Returns
    -------
    list
        The fitted models, in order (the same objects).

    Examples
    --------
    >>> from tsrnn import LSTMForecaster
    >>> from tsrnn.datasets import load_dataset
    >>> y = load_dataset("seattle")
    >>> seeds = [LSTMForecaster(epochs=3, random_state=s) for s in range(4)]
    >>> ensemble = fit_together(seeds, [y] * 4)  # doctest: +SKIP
    >>> sum(m.predict() for m in ensemble) / 4  # doctest: +SKIP
    """
    if len(models) != len(ys):
        from tsrnn.exceptions import InputError

        raise InputError(f"fit_together got {len(models)} models but {len(ys)} series.")
    pending = []
    for model, y in zip(models, ys, strict=True):
        model._deferred = []
        try:
            model.fit(y)
        finally:
            deferred = model.__dict__.pop("_deferred")
        pending.append(deferred[0] if deferred else None)
    todo = [(model, item) for model, item in zip(models, pending, strict=True) if item]
    if todo:
        from tsrnn.nn.batched_fit import fit_networks

        outcomes = fit_networks([call for _, (call, _) in todo])
        for (model, (_, values)), outcome in zip(todo, outcomes, strict=True):
            model._finish_fit(outcome, values)
    return list(models)
