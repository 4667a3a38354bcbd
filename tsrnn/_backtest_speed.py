"""The two ways a backtest saves work: one structure search, and folds fitted together.

Used by :func:`tsrnn.backtesting.backtest`; see its ``search_once`` and ``fit_together``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsrnn.exceptions import TsrnnError

_COLUMNS = ["model", "fold", "cutoff", "date", "step", "actual", "forecast", "lower", "upper"]
_COLUMNS += ["filled"]


def search_first_fold(name: str, model, y, fold) -> tuple[object, dict | None]:
    """Fit ``model`` on the first fold; return it with the search's result fixed."""
    _, train_idx, _ = fold
    start = time.perf_counter()
    try:
        found = clone(model).fit(y.iloc[train_idx])._search_result()
    except TsrnnError as exc:
        raise type(exc)(f"{name}, fold 0 (order search): {exc}") from exc
    if not found:
        return model, None
    seconds = time.perf_counter() - start
    row = {"model": name, "fold": 0, "action": "search", "seconds": seconds}
    return clone(model).set_params(**found), row


def run_together(
    task, y: pd.Series | pd.DataFrame, coverage: float, filled: pd.DataFrame
) -> tuple[list[pd.DataFrame], list[dict], object]:
    """Fit a fresh clone per fold, all networks trained in one pass, then forecast each.

    Each fold's timing is its share of the joint fit plus its own forecasts.
    """
    from tsrnn.neural_batch import fit_together

    start = time.perf_counter()
    clones = [clone(task.model) for _ in task.folds]
    try:
        fit_together(clones, [y.iloc[train_idx] for _, train_idx, _ in task.folds])
    except TsrnnError as exc:
        raise type(exc)(f"{task.name}, folds fitted together: {exc}") from exc
    share = (time.perf_counter() - start) / len(task.folds)
    tables, timings = [], []
    for model, (fold, train_idx, test_idx) in zip(clones, task.folds, strict=True):
        start = time.perf_counter()
        try:
            tables.append(
                fold_table(task.name, model, y, fold, train_idx, test_idx, coverage, filled)
            )
        except TsrnnError as exc:
            raise type(exc)(f"{task.name}, fold {fold}: {exc}") from exc
        seconds = share + time.perf_counter() - start
        timings.append({"model": task.name, "fold": fold, "action": "fit", "seconds": seconds})
    return tables, timings, clones[-1]


def fold_table(name, model, y, fold, train_idx, test_idx, coverage, filled) -> pd.DataFrame:
    """Forecast one fold's test window with a fitted model: rows of the forecasts table.

    ``filled`` (a boolean frame like ``y``) marks values tsrnn filled: never an actual."""
    ahead = int(test_idx[-1] - train_idx[-1])  # gap + horizon steps after the cutoff
    point = model.predict(ahead).iloc[-len(test_idx) :]
    interval = model.predict_interval(ahead, coverage=coverage).iloc[-len(test_idx) :]
    column = filled.iloc[:, 0] if isinstance(y, pd.Series) else filled[model.target_name_]
    made_up = column.iloc[test_idx].to_numpy(dtype=bool)
    actual = scored_target(y, model).iloc[test_idx].to_numpy(dtype=float)
    table = {
        "model": name,
        "fold": fold,
        "cutoff": y.index[train_idx[-1]],
        "date": point.index,
        "step": np.arange(ahead - len(test_idx) + 1, ahead + 1),
        "actual": np.where(made_up, np.nan, actual),  # a filled value is no actual
        "forecast": point.to_numpy(dtype=float),
        "lower": interval["lower"].to_numpy(dtype=float),
        "upper": interval["upper"].to_numpy(dtype=float),
        "filled": made_up,
    }
    return pd.DataFrame(table, columns=_COLUMNS)


def scored_target(y: pd.Series | pd.DataFrame, model) -> pd.Series:
    """The column of ``y`` that a fitted model forecasts (``y`` itself for a Series)."""
    return y if isinstance(y, pd.Series) else y[model.target_name_]
