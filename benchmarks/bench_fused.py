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

from fold_timing import CELLS, print_table, seattle_folds, timed_backtests, timed_fit

from tsrnn.neural_batch import fit_together
from tsrnn.nn import fused


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cell", choices=sorted(CELLS), action="append")
    cells = parser.parse_args().cell or ["lstm", "gru"]
    fused.build()
    y, splitter, ys = seattle_folds()
    load_start = os.getloadavg()[0]
    rows: list = []
    for cell in cells:
        cls = CELLS[cell]
        for mode in ("loop", "stacked, Python cells", "stacked, compiled cells"):
            fused._loaded = mode.endswith("compiled cells")
            models = [cls(random_state=0) for _ in ys]

            def fit(models=models, loop=mode == "loop"):
                if loop:
                    return [model.fit(part) for model, part in zip(models, ys, strict=True)]
                return fit_together(models, ys)

            timed_fit(rows, cell, mode, fit)
        fused._loaded = True
        timed_backtests(rows, cell, y, splitter)
    print_table(rows, load_start)


if __name__ == "__main__":
    main()
