"""Accuracy of the default backtest against the pre-issue-13 defaults, on the same folds.

Issue 13 asks that the fast defaults cost at most 3% MASE against the defaults they
replaced. This runs the default backtest of ``bench_speed.py`` part 1 (``tsrnn backtest
datasets/weather_clemson_daily.csv --target temp_max_f --models
naive,seasonal-naive,arima,lstm,gru --folds 10``) twice through the Python API, on the
same ten folds (the default placement: spread over the last year) and the same data:

- **defaults**: what that command runs today (ARIMA: order searched once on the first
  fold over the last ``max_history=2000`` observations with ``max_d=1``, then refitted;
  LSTM/GRU: ``max_steps=3000`` optimizer steps on the last ``max_history=5000``
  observations, refitted from scratch at every fold);
- **pre-issue**: the training the old defaults did (ARIMA: the stepwise search at every
  fold over the whole 27,746-day history, ``max_d=2``; LSTM/GRU: 100 epochs over every
  window of the whole history, early stopping with patience 10).

The naive baselines are the same in both. Both runs fit the GRU folds together
(``fit_together``, forecasts equal to separate fits up to float rounding, see
``tests/nn/test_batched.py``) to keep the pre-issue run near half an hour on 2 cores.

Usage::

    .venv/bin/python benchmarks/bench_default_accuracy.py            # ~30-40 min
    .venv/bin/python benchmarks/bench_default_accuracy.py --models lstm --folds 3
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import tsrnn
from tsrnn import (
    ARIMAForecaster,
    ExpandingWindowSplitter,
    GRUForecaster,
    LSTMForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    backtest,
)
from tsrnn.defaults import default_step
from tsrnn.io import read_csv

ROOT = Path(__file__).resolve().parents[1]
CLEMSON = ROOT / "datasets" / "weather_clemson_daily.csv"
HORIZON = 7

OLD_ARIMA = {"max_history": None, "max_d": 2}
OLD_NEURAL = {"max_steps": None, "max_history": None}


def estimators(names: list[str], old: bool) -> dict:
    """The CLI's default estimators (seed 0), or the same with the pre-issue training."""
    table = {
        "naive": lambda: NaiveForecaster(horizon=HORIZON),
        "seasonal-naive": lambda: SeasonalNaiveForecaster(horizon=HORIZON),
        "arima": lambda: ARIMAForecaster(horizon=HORIZON, **(OLD_ARIMA if old else {})),
        "lstm": lambda: LSTMForecaster(
            horizon=HORIZON, random_state=0, **(OLD_NEURAL if old else {})
        ),
        "gru": lambda: GRUForecaster(
            horizon=HORIZON, random_state=0, **(OLD_NEURAL if old else {})
        ),
    }
    return {name: table[name]() for name in names}


def run(names: list[str], y, filled, splitter, old: bool) -> tuple[pd.DataFrame, dict]:
    metrics, seconds = [], {}
    for name, model in estimators(names, old).items():
        start = time.perf_counter()
        result = backtest(
            {name: model}, y, splitter, search_once=not old, filled=filled, coverage=0.9
        )
        seconds[name] = time.perf_counter() - start
        metrics.append(result.metrics)
        label = "pre-issue" if old else "defaults"
        print(
            f"  {label} {name}: {seconds[name]:.0f}s mase {result.metrics['mase'].iloc[0]:.4f}",
            file=sys.stderr,
            flush=True,
        )
    return pd.concat(metrics), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="naive,seasonal-naive,arima,lstm,gru")
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    names = args.models.split(",")
    loaded = read_csv(CLEMSON, "temp_max_f")
    y = loaded.y
    step = default_step(loaded.freq, len(y), HORIZON, 10)
    splitter = ExpandingWindowSplitter(horizon=HORIZON, n_folds=args.folds, step=step)
    started, load = time.perf_counter(), os.getloadavg()[0]
    new, new_s = run(names, y, loaded.filled, splitter, old=False)
    old, old_s = run(names, y, loaded.filled, splitter, old=True)
    lines = [
        f"# run {time.strftime('%Y-%m-%d %H:%M')} UTC, tsrnn {tsrnn.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{load:.1f} -> {os.getloadavg()[0]:.1f}; clemson temp_max_f, {len(y)} days, "
        f"{args.folds} folds, horizon {HORIZON}, step {step}",
        "",
        "| model | MASE defaults | MASE pre-issue | change | MAE defaults | MAE pre-issue "
        "| seconds defaults | seconds pre-issue |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        a, b = new.loc[name], old.loc[name]
        lines.append(
            f"| {name} | {a['mase']:.4f} | {b['mase']:.4f} | {a['mase'] / b['mase'] - 1:+.1%} "
            f"| {a['mae']:.4f} | {b['mae']:.4f} | {new_s[name]:.0f} | {old_s[name]:.0f} |"
        )
    best_new, best_old = new["mase"].min(), old["mase"].min()
    lines += [
        "",
        f"Best model: {new['mase'].idxmin()} {best_new:.4f} (defaults) vs "
        f"{old['mase'].idxmin()} {best_old:.4f} (pre-issue), {best_new / best_old - 1:+.1%}.",
        f"Total {time.perf_counter() - started:.0f}s.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
