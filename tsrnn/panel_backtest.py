"""Rolling-origin backtests over a panel: many series, the same cutoff dates.

:func:`tsrnn.backtest` sends a panel here (a ``pd.Series``/``pd.DataFrame`` on a
(series id, timestamp) ``MultiIndex``, or a dict of single series). How it works:

- **Cutoff dates**: the splitter cuts its folds on the union of all series' timestamps,
  so fold ``k`` has one cutoff date for every series. Each series is cut at that date:
  its training data are its observations up to the cutoff (the last ``window`` of them
  for a sliding window), its test window the ``horizon`` observations after it (after
  ``gap``).
- **Skipped folds**: a series that has no observation on a fold's cutoff date (it starts
  later or ends earlier), has fewer training observations than the splitter's
  ``initial``/``window`` or than the most demanding model needs, or ends inside the test
  window, skips that fold. Skips are recorded in ``result.skipped`` (series, fold,
  cutoff, reason), never raised.
- **Local models** (baselines, ARIMA) run per series: one joblib task per model, series
  and chain of folds (a chain as in :mod:`tsrnn.backtesting`: refit, then ``update``
  until the next refit). **Global models** (forecaster classes with
  ``_global_model = True``, the neural models) train one network per chain over all the
  series of the fold; a fold whose set of series differs from the previous one refits.
- **Failures**: an exception while fitting or forecasting one series is recorded in
  ``result.failures`` (series, model, fold, cutoff, error) with the folds of the chain
  it stopped; the other series and models go on. A global model that fails loses that
  fold for all series.
- Results do not depend on ``n_jobs`` or the joblib backend (a Dask cluster included):
  every task starts from a clone of the model given and the tables are sorted after.

This module never imports torch.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from tsrnn import backtesting as B
from tsrnn._backtest_speed import scored_target, search_first_fold
from tsrnn.backtest_result import check_metric_names
from tsrnn.exceptions import InputError, TsrnnError
from tsrnn.metrics import mase_window
from tsrnn.panel import panel_names, split_panel
from tsrnn.panel_result import PanelBacktestResult
from tsrnn.splitters import ExpandingWindowSplitter

__all__ = ["panel_backtest"]

_COLUMNS = [
    "series",
    "model",
    "fold",
    "cutoff",
    "date",
    "step",
    "actual",
    "forecast",
    "lower",
    "upper",
    "filled",
]


@dataclass
class _Task:
    """One chain of folds of one model: a single series (local) or all of them (global)."""

    name: str
    model: object
    series: object  # a series id, or None for a global model
    folds: list  # (fold, {series id: (train_idx, test_idx)})
    refit: bool | int
    warm_start: bool
    warm_start_epochs: int | None


def _min_train(models: dict, splitter: object) -> int:
    need = getattr(splitter, "window", None) or getattr(splitter, "initial", None) or 1
    for model in models.values():
        try:
            need = max(need, int(model._min_length()))
        except Exception:  # a model that only knows its minimum once fitted
            continue
    return need


def _cells(panel: dict, grid: pd.DatetimeIndex, folds: list, splitter, need: int):
    """Per fold, the (train, test) positions of each series that takes part; and the skips."""
    gap = int(getattr(splitter, "gap", 0) or 0)
    horizon = len(folds[0][2])
    window = getattr(splitter, "window", None)
    cells, skipped = [], []
    for fold, train, _ in folds:
        cutoff = grid[train[-1]]
        members = {}
        for sid, series in panel.items():
            index = series.index
            pos = int(index.searchsorted(cutoff, side="right")) - 1
            reason = None
            if pos < 0:
                reason = "the series starts after the cutoff"
            elif index[pos] != cutoff:
                ended = pos == len(index) - 1
                reason = (
                    "the series ends before the cutoff"
                    if ended
                    else "no observation on the cutoff date"
                )
            elif pos + 1 < need:
                reason = f"{pos + 1} training observations; at least {need} needed"
            elif pos + gap + horizon >= len(index):
                reason = f"the series ends before the test window ({len(index) - pos - 1 - gap} of {horizon} steps)"
            if reason:
                skipped.append({"series": sid, "fold": fold, "cutoff": cutoff, "reason": reason})
                continue
            start = 0 if window is None else pos + 1 - window
            test = np.arange(pos + 1 + gap, pos + 1 + gap + horizon)
            members[sid] = (np.arange(start, pos + 1), test)
        cells.append((fold, members))
    return cells, skipped


def _step(task, current, prev_end, y, train, fold):
    """Refit or update one model on one series' training rows of ``fold``."""
    if current is not None and not B._is_refit_fold(fold, task.refit):
        return current.update(y.iloc[prev_end + 1 : train[-1] + 1]), "update"
    return B._refit(task, current, y.iloc[train])


def _table(sid, name, fold, cutoff, y, model, test, point, interval) -> pd.DataFrame:
    ahead = len(point)
    n = len(test)
    return pd.DataFrame(
        {
            "series": sid,
            "model": name,
            "fold": fold,
            "cutoff": cutoff,
            "date": point.index[-n:],
            "step": np.arange(ahead - n + 1, ahead + 1),
            "actual": scored_target(y, model).iloc[test].to_numpy(dtype=float),
            "forecast": point.to_numpy(dtype=float)[-n:],
            "lower": interval["lower"].to_numpy(dtype=float)[-n:],
            "upper": interval["upper"].to_numpy(dtype=float)[-n:],
            "filled": False,  # set from the masks once all tables are in
        },
        columns=_COLUMNS,
    )


def _failure(sid, name, fold, cutoff, error: str) -> dict:
    return {"series": sid, "model": name, "fold": fold, "cutoff": cutoff, "error": error}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _run_local(task: _Task, y, coverage: float):
    """One model on one series through a chain of folds; failures are recorded, not raised."""
    tables, timings, failures, current, prev_end = [], [], [], None, None
    sid = task.series
    for i, (fold, members) in enumerate(task.folds):
        train, test = members[sid]
        cutoff = y.index[train[-1]]
        start = time.perf_counter()
        try:
            current, how = _step(task, current, prev_end, y, train, fold)
            ahead = int(test[-1] - train[-1])
            point = current.predict(ahead)
            interval = current.predict_interval(ahead, coverage=coverage)
        except Exception as exc:  # one series' failure must not end the backtest
            failures.append(_failure(sid, task.name, fold, cutoff, _describe(exc)))
            for later, later_members in task.folds[i + 1 :]:
                later_cut = y.index[later_members[sid][0][-1]]
                why = f"not run: fold {fold} of this chain failed ({_describe(exc)})"
                failures.append(_failure(sid, task.name, later, later_cut, why))
            break
        timings.append(
            {
                "series": sid,
                "model": task.name,
                "fold": fold,
                "action": how,
                "seconds": time.perf_counter() - start,
            }
        )
        tables.append(_table(sid, task.name, fold, cutoff, y, current, test, point, interval))
        prev_end = train[-1]
    return tables, timings, failures, None


def _run_global(task: _Task, panel: dict, coverage: float):
    """One global model over all series of each fold of a chain."""
    tables, timings, failures, current, prev = [], [], [], None, None
    for fold, members in task.folds:
        start = time.perf_counter()
        try:
            same = current is not None and prev is not None and set(prev) == set(members)
            if same and not B._is_refit_fold(fold, task.refit):
                new = {
                    s: panel[s].iloc[prev[s][0][-1] + 1 : tr[-1] + 1]
                    for s, (tr, _) in members.items()
                }
                current, how = current.update(new), "update"
            else:  # a warm start continues the last network only over the same series
                train = {s: panel[s].iloc[tr] for s, (tr, _) in members.items()}
                current, how = B._refit(task, current if same else None, train)
            ahead = max(int(te[-1] - tr[-1]) for tr, te in members.values())
            point = current.predict(ahead)
            interval = current.predict_interval(ahead, coverage=coverage)
        except Exception as exc:
            for s, (tr, _) in members.items():
                cut = panel[s].index[tr[-1]]
                failures.append(_failure(s, task.name, fold, cut, _describe(exc)))
            current, prev = None, None
            continue
        seconds = time.perf_counter() - start
        for s, (tr, te) in members.items():
            cut = panel[s].index[tr[-1]]
            tables.append(
                _table(
                    s,
                    task.name,
                    fold,
                    cut,
                    panel[s],
                    current,
                    te,
                    point.xs(s, level=0),
                    interval.xs(s, level=0),
                )  # fmt: skip
            )
            timings.append({"series": s, "model": task.name, "fold": fold, "action": how,
                            "seconds": seconds / len(members)})  # fmt: skip
        prev = members
    return tables, timings, failures, current


def _prepare_panel(y: object, calendar: str, given: object = None) -> tuple:
    """Validate every series as one series is; also where values were filled, and the
    exchange calendar (one for the whole panel)."""
    raw, id_name = split_panel(y), panel_names(y)[0]
    given_parts = split_panel(given) if given is not None else {}
    names = [part.name for part in raw.values() if isinstance(part, pd.Series)]
    common = next((n for n in names if n is not None), "y")
    panel, masks, calendars = {}, {}, set()
    for sid, series in raw.items():
        if isinstance(series, pd.Series):  # one name for all: a global model's target
            series = series.rename(common)
        try:
            panel[sid], own, found = B._prepare(series, calendar)
            masks[sid] = B._filled_mask(panel[sid], own, _renamed(given_parts.get(sid), common))
        except TsrnnError as exc:  # say which series the problem is in
            raise type(exc)(f"series {sid!r}: {exc}") from exc
        if found:
            calendars.add(found)
    if len(calendars) > 1:
        raise InputError(
            f"the series of the panel trade on different exchanges ({', '.join(sorted(calendars))}); "
            "backtest each exchange's series separately, or pass calendar='none' to the models."
        )
    return panel, masks, id_name, (calendars.pop() if calendars else None)


def _renamed(part: object, name: str) -> object:
    return part.rename(name) if isinstance(part, pd.Series) else part


def _mark_filled(table: pd.DataFrame, masks: dict, models: dict) -> pd.DataFrame:
    """A value tsrnn filled is never an actual: NaN there, and ``filled`` says so."""
    flags = np.zeros(len(table), dtype=bool)
    for (sid, name), rows in table.groupby(["series", "model"], sort=False).groups.items():
        mask = masks[sid]
        target = models[name].get_params(deep=False).get("target")
        column = mask[target] if target in mask.columns else mask.iloc[:, 0]
        flags[table.index.get_indexer(rows)] = (
            column.reindex(table.loc[rows, "date"]).fillna(False).to_numpy(dtype=bool)
        )
    return table.assign(actual=table["actual"].where(~flags), filled=flags)


def _search_once(models: dict, panel: dict, cells: list, n_jobs) -> tuple[dict, list]:
    """Each local model's structure searched once per series, on its first fold.

    Returns the searched models by ``(model name, series id)`` and their timing rows. A
    series whose search fails keeps the model given: its folds then fail (and are
    recorded) as they would have without ``search_once``.
    """
    from joblib import Parallel, delayed

    jobs = []
    for name, model in models.items():
        if getattr(type(model), "_global_model", False) or not hasattr(model, "_search_result"):
            continue
        for sid in panel:
            first = next(((k, m[sid]) for k, m in cells if sid in m), None)
            if first is not None:
                fold, (train, test) = first
                jobs.append((name, sid, model, panel[sid], fold, train, test))

    def search(name, sid, model, y, fold, train, test):  # one series per task, not the panel
        try:
            found, row = search_first_fold(name, model, y, (fold, train, test))
        except TsrnnError:
            return model, None
        return found, None if row is None else {**row, "series": sid, "fold": fold}

    outputs = Parallel(n_jobs=n_jobs)(delayed(search)(*job) for job in jobs)
    searched = {(job[0], job[1]): found for job, (found, _) in zip(jobs, outputs, strict=True)}
    return searched, [row for _, row in outputs if row is not None]


def _tasks(models, cells, refit, warm_start, warm_start_epochs, searched=None) -> list[_Task]:
    searched = searched or {}
    tasks = []
    for name, model in models.items():
        warm = bool(warm_start) and B._supports_warm_start(model)
        if getattr(type(model), "_global_model", False):
            chain_cells = [c for c in cells if c[1]]
            for chain in B._chains(chain_cells, refit, warm):
                tasks.append(_Task(name, model, None, chain, refit, warm, warm_start_epochs))
            continue
        sids = list(dict.fromkeys(s for _, members in cells for s in members))
        for sid in sids:
            own = [(fold, members) for fold, members in cells if sid in members]
            local = searched.get((name, sid), model)
            for chain in B._chains(own, refit, warm):
                tasks.append(_Task(name, local, sid, chain, refit, warm, warm_start_epochs))
    # Global (neural) models first: the slowest tasks start first (see backtesting).
    tasks.sort(key=lambda task: task.series is not None)
    return tasks


def panel_backtest(
    forecasters: object,
    y: object,
    splitter: object | None = None,
    metrics: list[str] | None = None,
    refit: bool | int = True,
    warm_start: bool = False,
    warm_start_epochs: int | None = None,
    n_jobs: int | None = 1,
    coverage: float = 0.9,
    season_length: int | None = None,
    verbose: bool = False,
    filled: object = None,
    search_once: bool = True,
    fit_together: bool = True,
) -> PanelBacktestResult:
    """Backtest forecasters over every series of a panel at the same cutoff dates.

    Parameters are those of :func:`tsrnn.backtest`; ``y`` is a panel (see the module
    docstring). With ``search_once`` a local model with a structure search (auto-ARIMA)
    searches once per series, on that series' first fold, then refits that structure
    (a ``search`` row per series in ``timings``). ``fit_together`` has no effect here:
    a global model trains one network over all the series of a fold, and those
    networks are fitted one fold after another.

    Returns
    -------
    PanelBacktestResult

    Raises
    ------
    InputError
        For bad arguments, a splitter that does not fit the panel's dates, or a panel
        where no series takes part in any fold.
    """
    from joblib import Parallel, delayed

    B._check_refit(refit)
    B._check_n_jobs(n_jobs)
    check_metric_names(metrics)
    models = B._name_models(forecasters)
    panel, masks, id_name, calendar = _prepare_panel(y, B._given_calendar(models), filled)
    models = B._with_calendar(models, calendar)
    splitter = splitter if splitter is not None else ExpandingWindowSplitter()
    grid = pd.DatetimeIndex(sorted(set().union(*(s.index for s in panel.values()))))
    folds = B._folds(splitter, pd.Series(0.0, index=grid))
    cells, skipped = _cells(panel, grid, folds, splitter, _min_train(models, splitter))
    if not any(members for _, members in cells):
        raise InputError(
            f"no series of the panel takes part in any fold of {splitter!r}: "
            f"{skipped[0]['reason']} (series {skipped[0]['series']!r}, fold 0)."
        )
    searched, search_rows = {}, []
    if search_once and refit is not False:
        searched, search_rows = _search_once(models, panel, cells, n_jobs)
    tasks = _tasks(models, cells, refit, warm_start, warm_start_epochs, searched)
    calls = (
        delayed(_run_global)(t, panel, coverage)
        if t.series is None
        else delayed(_run_local)(t, panel[t.series], coverage)
        for t in tasks
    )
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(calls)
    tables, timings, failures, final = [], list(search_rows), [], {}
    with tqdm(total=len(tasks), disable=not verbose, file=sys.stderr, unit="task") as bar:
        for task, (task_tables, task_timings, task_failures, fitted) in zip(
            tasks, outputs, strict=True
        ):
            tables += task_tables
            timings += task_timings
            failures += task_failures
            if fitted is not None:
                final[task.name] = fitted
            bar.update(1)
    if not tables:
        first = failures[0]
        raise InputError(
            f"every forecast of the backtest failed; the first: {first['model']} on series "
            f"{first['series']!r}, fold {first['fold']}: {first['error']}"
        )
    order = {sid: i for i, sid in enumerate(panel)}
    return PanelBacktestResult(
        forecasts=_mark_filled(_sorted(tables, _COLUMNS, models, order), masks, models),
        scales=_scales(panel, cells, models, season_length or 1),
        timings=_sorted(timings, ["series", "model", "fold", "action", "seconds"], models, order),
        metric_names=metrics,
        coverage=coverage,
        fold_spacing=B._spacing(folds),
        season_length=season_length or 1,
        final_models={name: final.get(name, model) for name, model in models.items()},
        failures=_sorted(failures, ["series", "model", "fold", "cutoff", "error"], models, order),
        skipped=pd.DataFrame(skipped, columns=["series", "fold", "cutoff", "reason"]),
        id_name=id_name,
        model_names=list(models),
        series_ids=list(panel),
    )


def _sorted(rows: list, columns: list[str], models: dict, order: dict) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=columns)
    table = (
        pd.concat(rows, ignore_index=True)
        if isinstance(rows[0], pd.DataFrame)
        else pd.DataFrame(rows)
    )
    rank = {name: i for i, name in enumerate(models)}
    keys = [k for k in ("model", "series", "fold", "step") if k in table.columns]

    def key(column: pd.Series) -> pd.Series:
        if column.name == "model":
            return column.map(rank)
        return column.map(order) if column.name == "series" else column

    return table.sort_values(keys, key=key, kind="stable").reset_index(drop=True)[columns]


def _scales(panel: dict, cells: list, models: dict, m: int) -> pd.DataFrame:
    """In-sample (seasonal) naive MAE of each series' training data at each fold, per model.

    Over the last ``mase_window(m)`` naive errors before the origin, as for one series.
    """
    window = mase_window(m)
    rows = []
    for name, model in models.items():
        target = model.get_params(deep=False).get("target")
        for sid, series in panel.items():
            frame = series if isinstance(series, pd.Series) else series[target or series.columns[0]]
            values = frame.to_numpy(dtype=float)
            for fold, members in cells:
                if sid not in members:
                    continue
                train = values[members[sid][0]]
                naive_errors = np.abs(train[m:] - train[:-m])[-window:]
                scale = np.nanmean(naive_errors) if len(train) > m else np.nan
                rows.append({"model": name, "series": sid, "fold": fold, "scale": scale})
    return pd.DataFrame(rows, columns=["model", "series", "fold", "scale"])
