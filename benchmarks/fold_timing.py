"""Shared parts of the fold benchmarks (``bench_fold_cores.py``, ``bench_fused.py``).

Both time the 10 Seattle folds (horizon 7, expanding window, seed 0) trained in several
ways, then the whole backtest as users run it, and print one table with each row
against the loop: fits against the fit loop, backtests against the backtest loop on 1
job and on as many jobs.
"""

from __future__ import annotations

import os
import platform
import sys
import time

import pandas as pd
import torch

import tsrnn
from tsrnn import ExpandingWindowSplitter, GRUForecaster, LSTMForecaster, backtest
from tsrnn.datasets import load_dataset

CELLS = {"lstm": LSTMForecaster, "gru": GRUForecaster}


def seattle_folds() -> tuple[pd.Series, ExpandingWindowSplitter, list[pd.Series]]:
    """The series, the splitter and each fold's training series."""
    series = load_dataset("seattle")
    y = series["temp_max"] if isinstance(series, pd.DataFrame) else series
    splitter = ExpandingWindowSplitter(7, 10)
    return y, splitter, [y.iloc[train_idx] for train_idx, _ in splitter.split(y)]


def timed_fit(rows: list, cell: str, mode: str, fit) -> None:
    """Time ``fit()`` (the fitted models, in fold order) as the row ``mode``; the value
    kept is the last fold's first forecast."""
    start = time.perf_counter()
    fitted = fit()
    seconds = time.perf_counter() - start
    first = float(fitted[-1].predict().iloc[0])
    rows.append((cell, mode, seconds, first))
    print(f"  {cell} {mode}: {seconds:.1f}s, first forecast {first:.4f}", file=sys.stderr)


def timed_backtests(rows: list, cell: str, y: pd.Series, splitter) -> None:
    """The whole backtest, loop and folds together, each on 1 and 2 jobs."""
    for together in (False, True):
        for jobs in (1, 2):
            mode = f"backtest, fit_together={together}, n_jobs={jobs}"
            start = time.perf_counter()
            result = backtest(
                CELLS[cell](random_state=0), y, splitter, fit_together=together, n_jobs=jobs
            )
            seconds = time.perf_counter() - start
            mae = float(result.metrics["mae"].iloc[0])
            rows.append((cell, mode, seconds, mae))
            print(f"  {cell} {mode}: {seconds:.1f}s, MAE {mae:.4f}", file=sys.stderr)


def print_table(rows: list, load_start: float) -> None:
    """The run's header and one table row per timed mode."""
    print(
        f"# run {time.strftime('%Y-%m-%d %H:%M')} UTC, tsrnn {tsrnn.__version__}, "
        f"torch {torch.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_start:.1f} -> {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| model | folds trained | wall time (s) | vs loop on 1 job | vs loop on as many jobs "
        "| last fold's first forecast; MAE |"
    )
    print("|---|---|---:|---:|---:|---:|")
    loops = {cell: s for cell, mode, s, _ in rows if mode == "loop"}
    loops.update({(c, 1): s for c, mode, s, _ in rows if mode.endswith("False, n_jobs=1")})
    loops.update({(c, 2): s for c, mode, s, _ in rows if mode.endswith("False, n_jobs=2")})
    for cell, mode, seconds, value in rows:
        # fits against the fit loop; a backtest against the backtest loop on 1 and n jobs
        backtested = mode.startswith("backtest")
        one = loops[(cell, 1) if backtested else cell] / seconds
        same = loops[(cell, int(mode[-1])) if backtested else cell] / seconds
        print(
            f"| {cell.upper()} | {mode} | {seconds:.1f} | {one:.2f}x | {same:.2f}x | {value:.4f} |"
        )
