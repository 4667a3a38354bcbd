"""Backtest speed: warm-started LSTM refits, ARIMA updates, and n_jobs scaling.

One run on a real daily series (Seattle daily maximum temperature, 1461 days, the
``datasets/weather_seattle_daily.csv`` shipped with tsrnn and in ``../shared/datasets``),
20 expanding-window folds, horizon 7. Every comparison is made inside this one run, so
the ratios hold even on a busy machine where absolute seconds do not:

1. LSTM (default settings, seed 0): refit from scratch at every fold versus warm-started
   refits (each refit continues the previous fold's weights for ``warm_start_epochs``);
   wall-time ratio (target >= 5x) and MASE of both (target: warm within 5%).
2. ARIMA with a fixed order (the order auto-ARIMA picks on the first fold, so the refit
   cost is one estimation, not a search): refit at every fold versus ``refit=False`` and
   ``refit=5`` (statsmodels' ``extend`` in between); target >= 10x. Also auto-ARIMA
   re-searching at every fold versus searching once.
3. ``n_jobs=2`` versus ``n_jobs=1`` on the from-scratch LSTM backtest (forecasts must be
   identical).

Usage::

    .venv/bin/python benchmarks/bench_backtest.py [--quick]

``--quick`` uses 5 folds and 20 epochs (a smoke test, not the benchmark).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import tsrnn
from tsrnn import ARIMAForecaster, ExpandingWindowSplitter, LSTMForecaster, backtest
from tsrnn.io import read_csv

ACTIONS: dict[str, pd.Series] = {}  # median seconds per fold by action, per run
REPEAT_ARIMA = 3  # ARIMA runs are short: best of 3 against the noise of a busy machine
DATA = Path(__file__).resolve().parents[1] / "datasets" / "weather_seattle_daily.csv"


def timed(label: str, models, y, splitter, repeat: int = 1, **kwargs):
    """Run a backtest ``repeat`` times; return the fastest wall time and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = backtest(models, y, splitter, **kwargs)
        times.append(time.perf_counter() - start)
    print(f"  {label}: {', '.join(f'{t:.2f}' for t in times)}s", file=sys.stderr, flush=True)
    ACTIONS[label] = result.timings.groupby("action")["seconds"].median()
    return min(times), result


def mase(result) -> float:
    return float(result.metrics["mase"].iloc[0])


def lstm_rows(y, splitter, epochs: int) -> tuple[list[dict], float, object]:
    model = LSTMForecaster(epochs=epochs, random_state=0, n_threads=1)
    # warm-up outside the timings: import torch and build the thread pool once
    LSTMForecaster(lookback=8, hidden_size=4, epochs=1, random_state=0).fit(y.iloc[:100])
    scratch_s, scratch = timed("lstm scratch", model, y, splitter)
    rows = [row("LSTM", "refit from scratch every fold", scratch_s, scratch_s, mase(scratch), None)]
    for epochs_warm in (None, 1, 5):
        label = "default" if epochs_warm is None else str(epochs_warm)
        seconds, warm = timed(
            f"lstm warm {label}",
            model,
            y,
            splitter,
            warm_start=True,
            warm_start_epochs=epochs_warm,
        )
        how = f"warm start, warm_start_epochs={label}"
        if epochs_warm is None:
            how += f" (= {max(1, int(np.ceil(0.02 * epochs)))})"
        rows.append(row("LSTM", how, seconds, scratch_s, mase(warm), mase(scratch)))
    return rows, scratch_s, scratch


def arima_rows(y, splitter) -> list[dict]:
    first_train = next(splitter.split(y))[0]
    found = ARIMAForecaster(season_length=1).fit(y.iloc[first_train])
    order = found.order_
    fixed = ARIMAForecaster(order=order)
    fixed.fit(y.iloc[first_train])  # warm-up outside the timings
    name = f"ARIMA{order} fixed"
    refit_s, refit = timed("arima refit", fixed, y, splitter, REPEAT_ARIMA, refit=True)
    rows = [row(name, "refit every fold", refit_s, refit_s, mase(refit), None)]
    for policy, how in ((5, "refit every 5 folds, update between"), (False, "fit once, update")):
        seconds, result = timed(
            f"arima refit={policy}", fixed, y, splitter, REPEAT_ARIMA, refit=policy
        )
        rows.append(row(name, how, seconds, refit_s, mase(result), mase(refit)))
    auto = ARIMAForecaster(season_length=1)
    auto_s, auto_refit = timed("auto arima refit", auto, y, splitter, REPEAT_ARIMA, refit=True)
    rows.append(
        row("auto-ARIMA", "order search every fold", auto_s, auto_s, mase(auto_refit), None)
    )
    once_s, once = timed("auto arima once", auto, y, splitter, REPEAT_ARIMA, refit=False)
    rows.append(
        row("auto-ARIMA", "search once, update", once_s, auto_s, mase(once), mase(auto_refit))
    )
    return rows


def scaling_rows(y, splitter, epochs: int, one_s: float, one) -> list[dict]:
    model = LSTMForecaster(epochs=epochs, random_state=0, n_threads=1)
    tiny = LSTMForecaster(lookback=8, hidden_size=4, epochs=1, random_state=0)
    start = time.perf_counter()
    backtest(tiny, y.iloc[:200], ExpandingWindowSplitter(7, n_folds=2), n_jobs=2)
    startup = time.perf_counter() - start
    print(f"  worker start-up (not in the timing): {startup:.1f}s", file=sys.stderr)
    two_s, two = timed("lstm scratch n_jobs=2", model, y, splitter, n_jobs=2)
    pd.testing.assert_frame_equal(one.forecasts, two.forecasts)  # identical results
    how = "refit from scratch, n_jobs=2 (identical forecasts)"
    rows = [row("LSTM", how, two_s, one_s, mase(two), mase(one))]
    auto = ARIMAForecaster(season_length=1)
    one_s, one = timed("auto arima refit n_jobs=1", auto, y, splitter, REPEAT_ARIMA)
    two_s, two = timed("auto arima refit n_jobs=2", auto, y, splitter, REPEAT_ARIMA, n_jobs=2)
    pd.testing.assert_frame_equal(one.forecasts, two.forecasts)
    how = "order search every fold, n_jobs=2 vs 1 (identical forecasts)"
    rows.append(row("auto-ARIMA", how, two_s, one_s, mase(two), mase(one)))
    return rows


def row(model, how, seconds, reference_s, value, reference_mase) -> dict:
    return {
        "model": model,
        "policy": how,
        "seconds": seconds,
        "speed-up": reference_s / seconds,
        "MASE": value,
        "MASE vs reference": (
            "(reference)" if reference_mase is None else f"{value / reference_mase - 1:+.1%}"
        ),
    }


def markdown(rows: list[dict]) -> str:
    head = "| model | policy | wall time (s) | speed-up | MASE | MASE vs reference |"
    lines = [head, "|---|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['policy']} | {r['seconds']:.1f} | {r['speed-up']:.1f}x "
            f"| {r['MASE']:.4f} | {r['MASE vs reference']} |"
        )
    return "\n".join(lines)


def action_markdown() -> str:
    lines = ["| run | fit | warm | update |", "|---|---:|---:|---:|"]
    for label, medians in ACTIONS.items():
        cells = [f"{medians[a]:.4f}" if a in medians else "" for a in ("fit", "warm", "update")]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    return "\n".join(lines)


def load() -> str:
    """1-minute load average (other jobs on the machine), for reading the timings."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 folds, 20 epochs (smoke test)")
    args = parser.parse_args()
    n_folds, epochs = (5, 20) if args.quick else (20, 100)
    warnings.simplefilter("ignore")
    y = read_csv(DATA, "temp_max", None).y
    splitter = ExpandingWindowSplitter(horizon=7, n_folds=n_folds)
    print(
        f"tsrnn {tsrnn.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; {DATA.name} temp_max, {len(y)} days, "
        f"{n_folds} folds, horizon 7, expanding window; load average {load()}",
        flush=True,
    )
    start = time.perf_counter()
    lstm, scratch_s, scratch = lstm_rows(y, splitter, epochs)
    arima = arima_rows(y, splitter)
    scaling = scaling_rows(y, splitter, epochs, scratch_s, scratch)
    print(markdown(lstm + arima + scaling))
    print("\nMedian seconds per fold, by action (fit: from scratch; warm: warm-started refit;")
    print("update: new observations only; each includes predict and predict_interval):\n")
    print(action_markdown())
    print(f"\ntotal {time.perf_counter() - start:.0f}s; load average {load()}")


if __name__ == "__main__":
    main()
