"""The compiled stacked cells (``tsrnn build-kernels``) against the Python ones and the loop.

Issue 13 asks refit-every-fold backtests to run 4x faster than fitting the folds one
after another. The stacked cells of :mod:`tsrnn.nn.stacked_cells` drive ~15 small torch
operations a time step from Python; :mod:`tsrnn.nn.fused` compiles the same algorithm
with each step's elementwise work in a few fused loops. On the 10 Seattle folds
(horizon 7, expanding window, seed 0, defaults otherwise), this times

- ``loop``: ``fit`` per fold, one after another (nn.LSTM / the GRU layer per fit);
- ``stacked, Python cells``: all 10 in one stacked pass with the kernels switched off;
- ``stacked, compiled cells``: the same pass through the compiled kernels;

then the whole backtest as users run it: the loop (``fit_together=False``) and the
folds trained together (compiled), each on 1 and 2 jobs. The last fold's first forecast
and the backtest's MAE are printed, so the modes can be checked for agreement. Builds
the kernels first if needed (about 20 s, not timed). No timed tests: run on demand.

Usage::

    .venv/bin/python benchmarks/bench_fused.py            # LSTM and GRU, ~8 min
    .venv/bin/python benchmarks/bench_fused.py --cell lstm
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import pandas as pd
import torch

import tsrnn
from tsrnn import ExpandingWindowSplitter, GRUForecaster, LSTMForecaster, backtest
from tsrnn.datasets import load_dataset
from tsrnn.neural_batch import fit_together
from tsrnn.nn import fused

CELLS = {"lstm": LSTMForecaster, "gru": GRUForecaster}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cell", choices=sorted(CELLS), action="append")
    cells = parser.parse_args().cell or ["lstm", "gru"]
    fused.build()
    series = load_dataset("seattle")
    y = series["temp_max"] if isinstance(series, pd.DataFrame) else series
    splitter = ExpandingWindowSplitter(7, 10)
    ys = [y.iloc[train_idx] for train_idx, _ in splitter.split(y)]
    load_start = os.getloadavg()[0]
    rows = []
    for cell in cells:
        cls = CELLS[cell]
        for mode in ("loop", "stacked, Python cells", "stacked, compiled cells"):
            fused._loaded = mode.endswith("compiled cells")
            models = [cls(random_state=0) for _ in ys]
            start = time.perf_counter()
            if mode == "loop":
                fitted = [m.fit(part) for m, part in zip(models, ys, strict=True)]
            else:
                fitted = fit_together(models, ys)
            seconds = time.perf_counter() - start
            first = float(fitted[-1].predict().iloc[0])
            rows.append((cell, mode, seconds, first))
            print(f"  {cell} {mode}: {seconds:.1f}s, first forecast {first:.4f}", file=sys.stderr)
        fused._loaded = True
        for together in (False, True):
            for jobs in (1, 2):
                mode = f"backtest, fit_together={together}, n_jobs={jobs}"
                start = time.perf_counter()
                result = backtest(
                    cls(random_state=0), y, splitter, fit_together=together, n_jobs=jobs
                )
                seconds = time.perf_counter() - start
                mae = float(result.metrics["mae"].iloc[0])
                rows.append((cell, mode, seconds, mae))
                print(f"  {cell} {mode}: {seconds:.1f}s, MAE {mae:.4f}", file=sys.stderr)
    print(
        f"# run {time.strftime('%Y-%m-%d %H:%M')} UTC, tsrnn {tsrnn.__version__}, "
        f"torch {torch.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_start:.1f} -> {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| model | folds trained | wall time (s) | vs loop on 1 job | vs loop on as many jobs | last fold's first forecast; MAE |"
    )
    print("|---|---|---:|---:|---:|---:|")
    loops = {cell: s for cell, mode, s, _ in rows if mode == "loop"}
    loops.update({(c, 1): s for c, mode, s, _ in rows if mode.endswith("False, n_jobs=1")})
    loops.update({(c, 2): s for c, mode, s, _ in rows if mode.endswith("False, n_jobs=2")})
    for cell, mode, seconds, value in rows:
        backtested = mode.startswith("backtest")
        one = loops[(cell, 1) if backtested else cell] / seconds
        same = loops[(cell, int(mode[-1])) if backtested else cell] / seconds
        print(
            f"| {cell.upper()} | {mode} | {seconds:.1f} | {one:.2f}x | {same:.2f}x | {value:.4f} |"
        )


if __name__ == "__main__":
    main()
