"""Rolling-origin backtests of several forecasters on the same folds.

:func:`backtest` cuts folds with a splitter, runs every model through them under a
refit policy, and returns a :class:`BacktestResult` with one tidy table of forecasts
(statsforecast's ``cross_validation`` shape, with a ``cutoff`` column), metrics per
model, fold and horizon step, and Diebold-Mariano comparisons. This module never
imports torch: it runs whatever forecasters it is given.

Refit policies (``refit``):

- ``True``: a fresh clone is fitted at every fold;
- ``k`` (int): refit at every k-th fold, and move the model forward with ``update``
  (new observations, no re-estimation) in between;
- ``False``: fit once on the first fold, then only ``update``.

With ``warm_start=True``, models that support it (the neural forecasters) start each
refit from the previous fold's weights and train ``warm_start_epochs`` epochs instead
of training from scratch.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from tsrnn.backtest_result import BacktestResult
from tsrnn.exceptions import InputError
from tsrnn.splitters import ExpandingWindowSplitter
from tsrnn.validation import prepare_frame, season_length_for

__all__ = ["backtest", "BacktestResult"]


def _name_models(forecasters: object) -> dict[str, object]:
    if isinstance(forecasters, dict):
        if not forecasters:
            raise InputError("forecasters is an empty dict; pass at least one forecaster.")
        return {str(name): model for name, model in forecasters.items()}
    items = forecasters if isinstance(forecasters, list | tuple) else [forecasters]
    named: dict[str, object] = {}
    for model in items:
        base = type(model).__name__.removesuffix("Forecaster").lower() or "model"
        name, k = base, 2
        while name in named:
            name, k = f"{base}_{k}", k + 1
        named[name] = model
    return named


def _is_refit_fold(fold: int, refit: bool | int) -> bool:
    if refit is True:
        return True
    if refit is False:
        return fold == 0
    return fold % refit == 0


def _check_refit(refit: object) -> None:
    if isinstance(refit, bool):
        return
    if not isinstance(refit, int) or refit < 1:
        raise InputError(f"refit must be True, False or a positive integer; got {refit!r}.")


@dataclass
class _Task:
    """A chain of folds one model runs in order (a single fold when folds are independent)."""

    name: str
    model: object
    folds: list[tuple[int, np.ndarray, np.ndarray]]
    refit: bool | int
    warm_start: bool
    warm_start_epochs: int | None
    timings: list[dict] = field(default_factory=list)


def _refit(task: _Task, current: object | None, train: pd.Series | pd.DataFrame):
    """Fit a fresh clone, or continue the previous fold's model when warm-starting."""
    if task.warm_start and current is not None and "warm_start" in current.get_params():
        params = {"warm_start": True}
        if task.warm_start_epochs is not None:
            params["epochs"] = task.warm_start_epochs
        return current.set_params(**params).fit(train), "warm"
    return clone(task.model).fit(train), "fit"


def _run_task(
    task: _Task, y: pd.Series | pd.DataFrame, horizon: int, coverage: float
) -> tuple[list[dict], list[dict]]:
    rows, timings, current, prev_end = [], [], None, None
    for fold, train_idx, test_idx in task.folds:
        train = y.iloc[train_idx]
        start = time.perf_counter()
        if current is not None and not _is_refit_fold(fold, task.refit):
            current, how = current.update(y.iloc[prev_end + 1 : train_idx[-1] + 1]), "update"
        else:
            current, how = _refit(task, current, train)
        point = current.predict(horizon)
        interval = current.predict_interval(horizon, coverage=coverage)
        timings.append(
            {
                "model": task.name,
                "fold": fold,
                "action": how,
                "seconds": time.perf_counter() - start,
            }
        )
        actual = _target(y, current).iloc[test_idx].to_numpy()
        for step in range(horizon):
            rows.append(
                {
                    "model": task.name,
                    "fold": fold,
                    "cutoff": y.index[train_idx[-1]],
                    "date": point.index[step],
                    "step": step + 1,
                    "actual": actual[step],
                    "forecast": point.iloc[step],
                    "lower": interval["lower"].iloc[step],
                    "upper": interval["upper"].iloc[step],
                }
            )
        prev_end = train_idx[-1]
    return rows, timings


def _target(y: pd.Series | pd.DataFrame, model) -> pd.Series:
    return y if isinstance(y, pd.Series) else y[model.target_name_]


def backtest(
    forecasters: object,
    y: pd.Series | pd.DataFrame,
    splitter: object | None = None,
    metrics: list[str] | None = None,
    refit: bool | int = True,
    warm_start: bool = False,
    warm_start_epochs: int | None = None,
    n_jobs: int = 1,
    coverage: float = 0.9,
    season_length: int | None = None,
    verbose: bool = False,
) -> BacktestResult:
    """Evaluate forecasters on rolling-origin folds of one series.

    Parameters
    ----------
    forecasters : forecaster, list of forecasters, or dict of name -> forecaster
        Every model sees exactly the same folds. List entries are named after their
        class (``NaiveForecaster`` -> ``"naive"``).
    y : pd.Series or pd.DataFrame
        The series (a DataFrame when models use covariates; each model's ``target``
        names the column to score).
    splitter : ExpandingWindowSplitter or SlidingWindowSplitter, optional
        Defaults to ``ExpandingWindowSplitter(horizon=7, n_folds=10)``.
    metrics : list of str, optional
        Names from ``mae, rmse, mape, smape, mase, bias, coverage, winkler``; all by default.
    refit : bool or int, default=True
        Refit policy, see the module docstring.
    warm_start : bool, default=False
        Neural models start refits from the previous fold's weights.
    warm_start_epochs : int, optional
        Epochs of a warm-started refit (default: the model's ``epochs``).
    n_jobs : int, default=1
        Parallel jobs (joblib) over models and, when every fold is refitted from
        scratch, over folds. Results equal ``n_jobs=1`` for seeded models. Inside
        ``joblib.parallel_config(backend="dask")`` the work runs on a Dask cluster.
    coverage : float, default=0.9
        Nominal coverage of the prediction intervals.
    season_length : int, optional
        Season of the MASE scale (default: 1, the in-sample naive forecast).
    verbose : bool, default=False
        Show a progress bar over the (model, fold) tasks on stderr.

    Returns
    -------
    BacktestResult
        ``.forecasts`` (model, fold, cutoff, date, step, actual, forecast, lower,
        upper), ``.metrics``, ``.metrics_by(...)``, ``.compare(baseline)``, ``.to_html``.
    """
    from joblib import Parallel, delayed

    _check_refit(refit)
    y = _prepare(y)
    models = _name_models(forecasters)
    splitter = splitter if splitter is not None else ExpandingWindowSplitter(horizon=7, n_folds=10)
    folds = [(k, train, test) for k, (train, test) in enumerate(splitter.split(y))]
    horizon = len(folds[0][2])
    independent = refit is True and not warm_start
    tasks = [
        _Task(name, model, chunk, refit, warm_start, warm_start_epochs)
        for name, model in models.items()
        for chunk in ([[f] for f in folds] if independent else [folds])
    ]
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_run_task)(t, y, horizon, coverage) for t in tasks
    )
    outputs = list(
        tqdm(outputs, total=len(tasks), disable=not verbose, file=sys.stderr, unit="task")
    )
    rows = [row for out, _ in outputs for row in out]
    timings = [row for _, out in outputs for row in out]
    forecasts = pd.DataFrame(rows).sort_values(["model", "fold", "step"], key=_model_order(models))
    m = season_length or 1
    scales = _mase_scales(y, models, folds, m)
    return BacktestResult(
        forecasts=forecasts.reset_index(drop=True),
        scales=scales,
        timings=pd.DataFrame(timings),
        metric_names=metrics,
        coverage=coverage,
        fold_spacing=_spacing(folds),
        season_length=m,
    )


def _prepare(y: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """Validate once (order, duplicates, frequency, gaps) so every fold slices a regular series."""
    if isinstance(y, pd.Series):
        name = y.name if y.name is not None else "y"
        frame, _ = prepare_frame(y.to_frame(name).astype(float), target=name, source="y")
        return frame[name]
    if not isinstance(y, pd.DataFrame):
        raise InputError(f"y must be a pandas Series or DataFrame; got {type(y).__name__}.")
    numeric = y.select_dtypes("number").astype(float)
    frame, _ = prepare_frame(numeric, target=numeric.columns[0], source="y")
    return frame[numeric.columns]


def _model_order(models: dict):
    order = {name: i for i, name in enumerate(models)}
    return lambda column: column.map(order) if column.name == "model" else column


def _spacing(folds: list) -> int:
    if len(folds) < 2:
        return len(folds[0][2])
    return int(folds[1][1][-1] - folds[0][1][-1])


def _mase_scales(y, models: dict, folds: list, m: int) -> pd.DataFrame:
    """In-sample (seasonal) naive MAE of each fold's training data, per model target."""
    rows = []
    for name, model in models.items():
        target = (
            y if isinstance(y, pd.Series) else y[getattr(model, "target", None) or y.columns[0]]
        )
        values = target.to_numpy(dtype=float)
        for fold, train_idx, _ in folds:
            train = values[train_idx]
            scale = np.nanmean(np.abs(train[m:] - train[:-m])) if len(train) > m else np.nan
            rows.append({"model": name, "fold": fold, "scale": scale})
    return pd.DataFrame(rows)


def default_season_length(y: pd.Series | pd.DataFrame) -> int:
    """The season length implied by the index frequency (for seasonal MASE scales)."""
    freq = y.index.freqstr if getattr(y.index, "freq", None) is not None else None
    return season_length_for(freq)
