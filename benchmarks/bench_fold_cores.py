"""Folds trained together on one core, or split over both cores (threads, processes).

Issue 13 asks refit-every-fold backtests to run 4x faster than fitting the folds one
after another. :func:`tsrnn.neural_batch.fit_together` stacks the 10 fold networks on
one core (every fit here runs 1 torch thread, ``thread_policy``), so on a 2-core machine
the other core is idle in both the loop and the stacked fit. This measures whether the
second core helps the stacked fit: the same 10 Seattle folds (horizon 7, expanding
window, seed 0), trained

- ``loop``: one after another (``fit`` per fold), the reference;
- ``stacked``: all 10 in one stacked pass (today's ``backtest(fit_together=True)``);
- ``2 threads``: the folds split in two halves (even, odd), each stacked in its own
  Python thread with 1 torch thread;
- ``2 processes``: the same halves in two joblib (loky) worker processes; the wall time
  includes starting the workers, importing torch in them and pickling the models.

Then the whole backtest (fits and forecasts), as users run it: ``backtest(model, y,
splitter, fit_together=..., n_jobs=...)`` for both settings of each. With ``n_jobs=2``
and one neural model, ``backtest`` deals the folds into two stacked groups, one per
worker (``tsrnn.backtesting._together_groups``); the fair reference for it is the loop
on two workers too (``fit_together=False, n_jobs=2``).

The last fold's first forecast is printed for each mode, so the modes can be checked
for agreement (the same seeds train the same networks). No timed tests: run on demand.

Usage::

    .venv/bin/python benchmarks/bench_fold_cores.py            # LSTM and GRU, ~12 min
    .venv/bin/python benchmarks/bench_fold_cores.py --cell gru
"""

from __future__ import annotations

import argparse
import os
import threading

import pandas as pd
import torch
from fold_timing import CELLS, print_table, seattle_folds, timed_backtests, timed_fit
from joblib import Parallel, delayed

from tsrnn.neural_batch import fit_together


def _halves(items: list) -> list[list]:
    return [items[0::2], items[1::2]]


def _merge(halves: list[list]) -> list:
    merged = [None] * (len(halves[0]) + len(halves[1]))
    merged[0::2], merged[1::2] = halves
    return merged


def _fit_half(models: list, ys: list[pd.Series]) -> list:
    torch.set_num_threads(1)
    return fit_together(models, ys)


def train(mode: str, cls, ys: list[pd.Series]) -> list:
    """Fit one model per training series in ``mode``; the fitted models, in order."""
    models = [cls(random_state=0) for _ in ys]
    if mode == "loop":
        return [model.fit(y) for model, y in zip(models, ys, strict=True)]
    if mode == "stacked":
        return fit_together(models, ys)
    parts = list(zip(_halves(models), _halves(ys), strict=True))
    if mode == "2 processes":
        return _merge(Parallel(n_jobs=2)(delayed(_fit_half)(m, y) for m, y in parts))
    results: list = [None, None]

    def work(i: int) -> None:
        results[i] = _fit_half(*parts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _merge(results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cell", choices=sorted(CELLS), action="append")
    cells = parser.parse_args().cell or ["lstm", "gru"]
    y, splitter, ys = seattle_folds()
    load_start = os.getloadavg()[0]
    rows: list = []
    for cell in cells:
        for mode in ("loop", "stacked", "2 threads", "2 processes"):
            timed_fit(rows, cell, mode, lambda mode=mode, cell=cell: train(mode, CELLS[cell], ys))
        timed_backtests(rows, cell, y, splitter)
    print_table(rows, load_start)


if __name__ == "__main__":
    main()
