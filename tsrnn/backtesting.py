"""Rolling-origin backtests of several forecasters on the same folds.

:func:`backtest` cuts folds with a splitter, runs every model through them under a
refit policy, and returns a :class:`BacktestResult` with one tidy table of forecasts
(statsforecast's ``cross_validation`` shape, with a ``cutoff`` column), metrics per
model, fold and horizon step, and Diebold-Mariano comparisons. This module never
imports torch: it runs whatever forecasters it is given.

Refit policies (``refit``):

- ``True``: a fresh clone is fitted at every fold;
- ``k`` (int): a fresh clone is fitted at folds 0, k, 2k, ..., and the model is moved
  forward with ``update`` (new observations, no re-estimation) in between;
- ``False``: fit once on the first fold, then only ``update``.

With ``search_once=True`` (the default), a model that searches its own structure at
every fit (auto-ARIMA's order) searches once, on the first fold's training data, and
every fold then refits that structure (parameters re-estimated): one search instead of
one per refit, with no look-ahead (the first fold ends before every test window).

With ``warm_start=True``, models that have a ``warm_start`` parameter (the neural
forecasters) start each refit after the first from the previous fold's weights and
train ``warm_start_epochs`` epochs instead of training from scratch.

Parallelism: the work is cut into independent chains of folds -- a single fold when
every fold is refitted from scratch, the folds from one refit to the next under
``refit=k``, all folds of a model under ``refit=False`` or a warm start -- and the
chains run with joblib. Each chain starts from a clone of the model given, so results
do not depend on ``n_jobs`` or on the order the chains finish in (for seeded models).
Because the work goes through joblib, a cluster takes it without code changes::

    from dask.distributed import Client
    import joblib

    client = Client("scheduler-address:8786")  # or LocalCluster()
    with joblib.parallel_config(backend="dask"):
        result = backtest(models, y, splitter, n_jobs=-1)

(``pip install tsrnn[dask]``; Ray works the same way with ``ray.util.joblib``.)
"""

from __future__ import annotations

import math
import numbers
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from tsrnn._backtest_speed import fold_table, run_together, search_first_fold
from tsrnn.backtest_result import BacktestResult, check_metric_names
from tsrnn.exceptions import InputError, TsrnnError, quote
from tsrnn.limits import effective_jobs
from tsrnn.splitters import ExpandingWindowSplitter
from tsrnn.validation import prepare

__all__ = ["backtest", "BacktestResult", "WARM_START_FRACTION"]

#: Default length of a warm-started refit, as a share of the model's ``epochs`` (at
#: least 1): 2 epochs for the LSTM default of 100. A refit sees only ``step`` new
#: observations, so a short fine-tune suffices: on the Seattle temperatures (20 folds,
#: horizon 7) 1, 2 and 5 warm epochs gave a MASE within 1.5% of refitting from scratch,
#: in 16x, 12x and 5x less wall time (``benchmarks/RESULTS_backtest.md``).
WARM_START_FRACTION = 0.02


def _name_models(forecasters: object) -> dict[str, object]:
    """Name the models: dict keys as given, list entries after their class."""
    if isinstance(forecasters, dict):
        if not forecasters:
            raise InputError("forecasters is an empty dict; pass at least one forecaster.")
        return {str(name): model for name, model in forecasters.items()}
    items = forecasters if isinstance(forecasters, list | tuple) else [forecasters]
    if not items:
        raise InputError("forecasters is empty; pass at least one forecaster.")
    named: dict[str, object] = {}
    for model in items:
        if not hasattr(model, "get_params") or not hasattr(model, "fit"):
            raise InputError(
                f"forecasters must be forecasters (with fit/predict/get_params); "
                f"got {type(model).__name__}."
            )
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
    if not isinstance(refit, numbers.Integral) or refit < 1:
        raise InputError(f"refit must be True, False or a positive integer; got {refit!r}.")


def _together_groups(workers: int, n_models: int, n_folds: int) -> int:
    """Stacked groups per neural model when its folds train together on ``workers``.

    One group a model while the models alone fill the workers: stacking K networks
    costs far less than K/2 twice (each step pays a fixed part once), so splitting
    only pays where a worker would idle. Otherwise the folds are dealt (0, 2, 4...;
    1, 3, 5...) into one group per idle worker, at least 2 folds a group. On
    Seattle, 10 folds, 2 processes vs one stacked pass: 1.2-1.4x
    (``benchmarks/bench_fold_cores.py``)."""
    if n_models == 0 or workers <= n_models:
        return 1
    return max(1, min(workers // n_models, n_folds // 2))


def _check_n_jobs(n_jobs: object) -> None:
    if n_jobs is None:
        return
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise InputError(
            f"n_jobs must be a non-zero integer (-1: all cores) or None; got {n_jobs!r}."
        )


def _supports_warm_start(model: object) -> bool:
    return "warm_start" in model.get_params(deep=False)


@dataclass
class _Task:
    """A chain of folds one model runs in order, starting from a clone of ``model``."""

    name: str
    model: object
    folds: list[tuple[int, np.ndarray, np.ndarray]]
    refit: bool | int
    warm_start: bool
    warm_start_epochs: int | None
    together: bool = False


def _chains(folds: list, refit: bool | int, warm: bool) -> list[list]:
    """Cut the folds into chains that can run independently of each other.

    A new chain starts at every refit fold (it fits a fresh clone and needs nothing from
    earlier folds), except under a warm start, where each refit continues the last one.
    """
    if warm:
        return [folds]
    chains: list[list] = []
    for fold in folds:
        if not chains or _is_refit_fold(fold[0], refit):
            chains.append([])
        chains[-1].append(fold)
    return chains


def _warm_epochs(model: object, requested: int | None) -> int:
    if requested is not None:
        return requested
    return max(1, math.ceil(WARM_START_FRACTION * model.get_params(deep=False)["epochs"]))


def _refit(task: _Task, current: object | None, train: pd.Series | pd.DataFrame):
    """Fit a fresh clone, or continue the previous fold's model when warm-starting."""
    if task.warm_start and current is not None:
        params = {"warm_start": True}
        if "epochs" in current.get_params(deep=False):
            params["epochs"] = _warm_epochs(task.model, task.warm_start_epochs)
        return current.set_params(**params).fit(train), "warm"
    return clone(task.model).fit(train), "fit"


def _run_task(
    task: _Task, y: pd.Series | pd.DataFrame, coverage: float, filled: pd.DataFrame
) -> tuple[list[pd.DataFrame], list[dict], object]:
    """Run one chain of folds: refit or update, then forecast each fold's test window.

    Returns the forecast tables, the timings and the model as fitted for the chain's
    last fold.
    """
    if task.together:
        return run_together(task, y, coverage, filled)
    tables, timings, current, prev_end = [], [], None, None
    for fold, train_idx, test_idx in task.folds:
        cutoff = y.index[train_idx[-1]]
        start = time.perf_counter()
        try:
            if current is not None and not _is_refit_fold(fold, task.refit):
                current, how = current.update(y.iloc[prev_end + 1 : train_idx[-1] + 1]), "update"
            else:
                current, how = _refit(task, current, y.iloc[train_idx])
            table = fold_table(task.name, current, y, fold, train_idx, test_idx, coverage, filled)
        except TsrnnError as exc:  # say which model and fold the message is about
            raise type(exc)(f"{task.name}, fold {fold} (cutoff {cutoff}): {exc}") from exc
        seconds = time.perf_counter() - start
        timings.append({"model": task.name, "fold": fold, "action": how, "seconds": seconds})
        tables.append(table)
        prev_end = train_idx[-1]
    return tables, timings, current


def _filled_mask(
    y: pd.Series | pd.DataFrame, own: pd.DataFrame, given: pd.Series | pd.DataFrame | None
) -> pd.DataFrame:
    """Where a value of ``y`` was filled: by this backtest's validation or before (``given``)."""
    if given is None:
        return own
    if not isinstance(given, pd.Series | pd.DataFrame):
        raise InputError(
            f"filled must be a boolean Series or DataFrame; got {type(given).__name__}."
        )
    if isinstance(given, pd.Series):
        name = given.name if given.name in own.columns else None
        given = pd.DataFrame({c: given for c in own.columns} if name is None else {name: given})
    given = given.reindex(index=own.index, columns=own.columns).fillna(False).astype(bool)
    return own | given


def _with_calendar(models: dict[str, object], calendar: str | None) -> dict[str, object]:
    """Models that infer their calendar use the one of the whole series.

    A fold's training data may span no holiday (nothing to infer from), and every fold
    must date its forecasts on the series' own time axis.
    """
    value = calendar or "none"
    out = {}
    for name, model in models.items():
        params = model.get_params(deep=False)
        if params.get("calendar", None) == "infer":
            model = clone(model).set_params(calendar=value)
        out[name] = model
    return out


def _given_calendar(models: dict[str, object]) -> str:
    """The calendar the models were given (the same for all), or 'infer' when none was."""
    given = set()
    for model in models.values():
        value = str(model.get_params(deep=False).get("calendar", "infer"))
        if value.lower() != "infer":
            given.add(value.lower() if value.lower() == "none" else value.upper())
    if len(given) > 1:
        raise InputError(
            f"the models were given different calendars ({', '.join(sorted(given))}); "
            "give them the same one."
        )
    return given.pop() if given else "infer"


def backtest(
    forecasters: object,
    y: pd.Series | pd.DataFrame,
    splitter: object | None = None,
    metrics: list[str] | None = None,
    refit: bool | int = True,
    warm_start: bool = False,
    warm_start_epochs: int | None = None,
    n_jobs: int | None = 1,
    coverage: float = 0.9,
    season_length: int | None = None,
    verbose: bool = False,
    filled: pd.Series | pd.DataFrame | None = None,
    search_once: bool = True,
    fit_together: bool = True,
) -> BacktestResult:
    """Evaluate forecasters on rolling-origin folds of one series.

    Parameters
    ----------
    forecasters : forecaster, list of forecasters, or dict of name -> forecaster
        Every model sees exactly the same folds. List entries are named after their
        class (``NaiveForecaster`` -> ``"naive"``; repeats get ``"_2"``, ``"_3"``...).
        The forecasters given are never fitted themselves: each chain of folds clones them.
    y : pd.Series, pd.DataFrame or a panel
        The series (a DataFrame when models use covariates; each model's ``target``
        names the column to score), or a panel of many series (a two-level
        (series id, timestamp) ``MultiIndex`` or a dict of series): see
        :mod:`tsrnn.panel_backtest`; the result is then a
        :class:`~tsrnn.panel_result.PanelBacktestResult`.
    splitter : ExpandingWindowSplitter or SlidingWindowSplitter, optional
        Defaults to ``ExpandingWindowSplitter(horizon=7, n_folds=10)``. Its ``horizon``
        is the number of steps every model forecasts at every fold.
    metrics : list of str, optional
        Names from ``mae, rmse, mape, smape, mase, bias, coverage, winkler`` (the
        default set) and ``pinball``.
    refit : bool or int, default=True
        Refit policy, see the module docstring.
    warm_start : bool, default=False
        Models with a ``warm_start`` parameter (neural forecasters) start every refit
        after the first from the previous fold's weights.
    warm_start_epochs : int, optional
        Epochs of a warm-started refit. Default: ``ceil(0.02 * epochs)``
        (:data:`WARM_START_FRACTION`; 2 for 100 epochs), see ``benchmarks/RESULTS_backtest.md``.
    n_jobs : int or None, default=1
        Parallel joblib jobs over models and independent chains of folds (-1: all
        cores; None: joblib's default or that of an enclosing ``parallel_config``).
        With folds fitted together and fewer neural models than jobs, each neural
        model's folds are dealt into one stacked group per idle job.
        Results equal ``n_jobs=1`` for seeded models. Inside
        ``joblib.parallel_config(backend="dask")`` the work runs on a Dask cluster.
    coverage : float, default=0.9
        Nominal coverage of the prediction intervals.
    season_length : int, optional
        Season ``m`` of the MASE scale (default 1: the in-sample naive forecast; e.g.
        7 for the seasonal-naive scale of daily data).
    verbose : bool, default=False
        Show a progress bar over folds x models on stderr.
    filled : pd.Series or pd.DataFrame of bool, optional
        True where a value of ``y`` was filled before (e.g. ``read_csv(...).filled``).
        A filled value (given here, or filled by this backtest's own validation of
        missing values and gaps) is never scored: its ``actual`` is NaN, its ``filled``
        is True, and metrics and tests leave it out. Exchange holidays are not gaps on
        session data (see :mod:`tsrnn.calendars`), so they are never filled.
    search_once : bool, default=True
        Models with a structure search (``ARIMAForecaster(order='auto')``) search once
        on the first fold's training data and refit that structure at every fold (the
        ``timings`` get a ``search`` row); False searches again at every refit.
    fit_together : bool, default=True
        With ``refit=True`` and no warm start, the folds of a neural model are fitted
        together (:func:`tsrnn.neural_batch.fit_together`: one pass trains every fold's
        network, each on its own windows with its own early stopping); the same
        forecasts as separate fits up to float rounding. False fits them one by one.
        On CPU, LSTM folds train together up to hidden size 64: above it
        ``torch.nn.LSTM``'s fused kernel is faster one network at a time
        (:data:`tsrnn.nn.batched_fit.CPU_BATCHED_MAX_HIDDEN`). No effect on panels.

    Returns
    -------
    BacktestResult
        ``.forecasts`` (model, fold, cutoff, date, step, actual, forecast, lower,
        upper, filled; ``cutoff`` is the last training timestamp, ``step`` counts steps after
        it: 1 to horizon, or gap + 1 to gap + horizon with a splitter ``gap``), ``.metrics``, ``.metrics_by(...)``, ``.compare(baseline)``,
        ``.timings`` (model, fold, action in ``search|fit|warm|update``, seconds), ``.to_html``.

    Raises
    ------
    InputError
        For an unknown metric, a bad ``refit`` or ``n_jobs``, a splitter that does not
        fit the series, or (with the model and fold named) a model that cannot be fitted.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrnn import NaiveForecaster, DriftForecaster, ExpandingWindowSplitter
    >>> y = pd.Series(np.arange(40.0), index=pd.date_range("2024-01-01", periods=40))
    >>> result = backtest([NaiveForecaster(), DriftForecaster()], y,
    ...                   ExpandingWindowSplitter(horizon=3, n_folds=4))
    >>> result.metrics["mae"].round(2).to_dict()
    {'naive': 2.0, 'drift': 0.0}
    """
    from joblib import Parallel, delayed

    if isinstance(y, dict) or isinstance(getattr(y, "index", None), pd.MultiIndex):
        from tsrnn.panel_backtest import panel_backtest  # a panel: many series, same cutoffs

        return panel_backtest(
            forecasters, y, splitter, metrics, refit, warm_start, warm_start_epochs, n_jobs,
            coverage, season_length, verbose, filled, search_once, fit_together,
        )  # fmt: skip
    _check_refit(refit)
    _check_n_jobs(n_jobs)
    check_metric_names(metrics)
    models = _name_models(forecasters)
    y, own_filled, calendar = _prepare(y, _given_calendar(models))
    mask = _filled_mask(y, own_filled, filled)
    models = _with_calendar(models, calendar)
    folds = _folds(splitter if splitter is not None else ExpandingWindowSplitter(), y)
    searches = []
    if search_once and refit is not False:
        for name, model in models.items():
            if hasattr(model, "_search_result"):
                models[name], row = search_first_fold(name, model, y, folds[0])
                searches += [row] if row else []
    tasks = []
    warm = {name: bool(warm_start) and _supports_warm_start(m) for name, m in models.items()}
    together = {  # neural core models whose folds' networks train together
        name
        for name, model in models.items()
        if fit_together and refit is True and not warm[name] and len(folds) > 1
        and hasattr(model, "_finish_fit")
    }  # fmt: skip
    groups = _together_groups(effective_jobs(n_jobs, len(folds)), len(together), len(folds))
    for name, model in models.items():
        if name in together:
            for group in range(groups):
                chunk = folds[group::groups]
                tasks.append(_Task(name, model, chunk, refit, False, None, together=True))
            continue
        for chain in _chains(folds, refit, warm[name]):
            tasks.append(_Task(name, model, chain, refit, warm[name], warm_start_epochs))
    # Neural models first: the slowest tasks start first (a shorter makespan), and every
    # worker imports torch in its first task. loky measures a worker's memory after its
    # first task and restarts workers that grow 300 MB beyond it, so a worker that ran a
    # baseline first would be restarted (with a warning) on its first neural task.
    tasks.sort(key=lambda task: not _supports_warm_start(task.model))
    # Never more workers than tasks or cores: extra processes only cost memory and start-up.
    outputs = Parallel(n_jobs=effective_jobs(n_jobs, len(tasks)), return_as="generator")(
        delayed(_run_task)(task, y, coverage, mask) for task in tasks
    )
    tables, timings, final_models = [], list(searches), {}
    last_fold = folds[-1][0]
    with tqdm(
        total=len(models) * len(folds), disable=not verbose, file=sys.stderr, unit="fold"
    ) as bar:
        for task, (task_tables, task_timings, fitted) in zip(tasks, outputs, strict=True):
            tables += task_tables
            timings += task_timings
            if task.folds[-1][0] == last_fold:
                final_models[task.name] = fitted
            bar.update(len(task.folds))
    forecasts = pd.concat(tables, ignore_index=True)
    forecasts = forecasts.sort_values(["model", "fold", "step"], key=_model_order(models))
    m = season_length or 1
    # Filled values are NaN here, so the MASE scale (a nanmean) does not use them either.
    observed = y.where(~mask.iloc[:, 0]) if isinstance(y, pd.Series) else y.where(~mask)
    return BacktestResult(
        forecasts=forecasts.reset_index(drop=True),
        scales=_mase_scales(observed, models, folds, m),
        timings=pd.DataFrame(timings)
        .sort_values(["model", "fold"], key=_model_order(models), kind="stable")
        .reset_index(drop=True),
        metric_names=metrics,
        coverage=coverage,
        fold_spacing=_spacing(folds),
        season_length=m,
        final_models={name: final_models[name] for name in models},
    )


def _folds(splitter: object, y: pd.Series | pd.DataFrame) -> list:
    if not callable(getattr(splitter, "split", None)):
        raise InputError(
            f"splitter must be a splitter such as ExpandingWindowSplitter(horizon=7, "
            f"n_folds=10); got {quote(splitter)} ({type(splitter).__name__})."
        )
    try:
        folds = [(k, train, test) for k, (train, test) in enumerate(splitter.split(y))]
    except (ValueError, TypeError) as exc:
        raise InputError(f"splitter {splitter!r} does not fit y ({len(y)} rows): {exc}") from exc
    if not folds:
        raise InputError(f"splitter {splitter!r} produced no folds.")
    return folds


def _prepare(y: pd.Series | pd.DataFrame, calendar: str):
    """Validate once (order, duplicates, frequency, calendar, gaps) so every fold slices a
    regular series; also return where values were filled, and the calendar."""
    if isinstance(y, pd.Series):
        name = y.name if y.name is not None else "y"
        done = prepare(y.to_frame(name).astype(float), target=name, calendar=calendar)
        return done.frame[name], done.filled, done.calendar
    if not isinstance(y, pd.DataFrame):
        raise InputError(f"y must be a pandas Series or DataFrame; got {type(y).__name__}.")
    numeric = y.select_dtypes("number").astype(float)
    if numeric.shape[1] == 0:
        raise InputError(f"y has no numeric column; columns are {', '.join(map(str, y.columns))}.")
    done = prepare(numeric, target=numeric.columns[0], calendar=calendar)
    columns = [c for c in numeric.columns if c in done.frame.columns]
    return done.frame[columns], done.filled[columns], done.calendar


def _model_order(models: dict):
    order = {name: i for i, name in enumerate(models)}
    return lambda column: column.map(order) if column.name == "model" else column


def _spacing(folds: list) -> int:
    if len(folds) < 2:
        return len(folds[0][2])
    return int(folds[1][1][-1] - folds[0][1][-1])


def _mase_scales(y, models: dict, folds: list, m: int) -> pd.DataFrame:
    """In-sample (seasonal) naive MAE of each fold's training data, per model target.

    Over the last ``mase_window(m)`` naive errors before the fold's origin (see
    :func:`tsrnn.metrics.mase_window`), so the scale is that of the recent level.
    """
    from tsrnn.metrics import mase_window

    window = mase_window(m)
    rows = []
    for name, model in models.items():
        if isinstance(y, pd.Series):
            target = y
        else:
            target = y[model.get_params(deep=False).get("target") or y.columns[0]]
        values = target.to_numpy(dtype=float)
        for fold, train_idx, _ in folds:
            train = values[train_idx]
            naive_errors = np.abs(train[m:] - train[:-m])[-window:]
            scale = np.nanmean(naive_errors) if len(train) > m else np.nan
            rows.append({"model": name, "fold": fold, "scale": scale})
    return pd.DataFrame(rows)
