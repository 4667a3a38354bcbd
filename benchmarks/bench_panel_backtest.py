"""Panel backtest at scale: 200 series, 10 folds, naive + ARIMA + a global LSTM.

The series are real daily temperatures: the bundled Clemson, SC record (1930 onwards,
``datasets/weather_clemson_daily.csv``) cut into consecutive non-overlapping windows of
``--length`` days, alternately of the daily maximum and minimum, and re-dated onto one
common calendar so that every series has the same cutoff dates (the values are real; the
dates are shared). Runs, all in one process, on the same panel:

1. ``n_jobs=1`` (the reference; its forecasts are compared with every other run),
2. ``n_jobs=2`` (joblib's loky processes),
3. a Dask ``LocalCluster`` with 2 worker processes, through
   ``joblib.parallel_config(backend="dask")``.

For each: wall time, the peak resident memory of this process plus its child processes
(sampled every 0.1 s with psutil), and whether the forecasts equal the reference. ARIMA
has a fixed order (1, 0, 1) (one estimation per fold, no order search). The LSTM is
global (one network over all series per fold) when the installed tsrnn's LSTM has the
global-model hooks; otherwise it is left out and the output says so.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_panel_backtest.py                # 200 series, 10 folds
    .venv/bin/python benchmarks/bench_panel_backtest.py --series 20 --folds 4 --no-dask  # smoke
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
import warnings

import joblib
import pandas as pd
import psutil

import tsrnn
from tsrnn import ARIMAForecaster, ExpandingWindowSplitter, LSTMForecaster, NaiveForecaster
from tsrnn.datasets import load_dataset


def make_panel(n_series: int, length: int) -> dict[str, pd.Series]:
    frame = load_dataset("clemson", as_frame=True)
    index = pd.date_range("2000-01-01", periods=length, freq="D", name="date")
    panel = {}
    for i in range(n_series):
        column = "temp_max_f" if i % 2 == 0 else "temp_min_f"
        start = (i // 2) * length
        values = frame[column].iloc[start : start + length].to_numpy(dtype=float)
        if len(values) < length:
            raise SystemExit(f"--series {n_series} x --length {length} exceeds the Clemson record")
        year = frame.index[start].year
        panel[f"{column[5:8]}_{year}_{i // 2:03d}"] = pd.Series(values, index=index, name="temp_f")
    return panel


class PeakMemory:
    """Peak RSS of this process and its children, sampled in a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.1)

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def models(epochs: int, with_lstm: bool) -> dict[str, object]:
    chosen = {"naive": NaiveForecaster(), "arima": ARIMAForecaster(order=(1, 0, 1))}
    if with_lstm:
        chosen["lstm"] = LSTMForecaster(
            lookback=28, horizon=7, hidden_size=32, epochs=epochs, batch_size=256,
            random_state=0, verbose=False,
        )  # fmt: skip
    return chosen


def run(label: str, panel, splitter, chosen, n_jobs: int, dask: bool = False):
    print(f"{label} ...", file=sys.stderr, flush=True)
    with PeakMemory() as memory:
        start = time.perf_counter()
        if dask:
            from dask.distributed import Client, LocalCluster

            with (
                LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
                Client(cluster),
                joblib.parallel_config(backend="dask"),
            ):
                result = tsrnn.backtest(chosen, panel, splitter, n_jobs=n_jobs)
        else:
            result = tsrnn.backtest(chosen, panel, splitter, n_jobs=n_jobs)
        seconds = time.perf_counter() - start
    print(f"  {seconds:.1f} s, peak {memory.peak / 2**20:.0f} MiB", file=sys.stderr, flush=True)
    return seconds, memory.peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--length", type=int, default=180, help="Days per series.")
    parser.add_argument("--epochs", type=int, default=5, help="Epochs of the global LSTM.")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-lstm", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with_lstm = not args.no_lstm and getattr(LSTMForecaster, "_global_model", False)
    panel = make_panel(args.series, args.length)
    splitter = ExpandingWindowSplitter(horizon=7, n_folds=args.folds)
    chosen = models(args.epochs, with_lstm)
    load = os.getloadavg()[0]
    runs = [("n_jobs=1", 1, False), ("n_jobs=2", 2, False)]
    if not args.no_dask:
        runs.append(("Dask LocalCluster, 2 workers", 2, True))
    rows, reference = [], None
    for label, n_jobs, dask in runs:
        seconds, peak, result = run(label, panel, splitter, chosen, n_jobs, dask)
        if reference is None:
            reference, base = result, seconds
        same = result.forecasts.equals(reference.forecasts)
        rows.append((label, seconds, base / seconds, peak / 2**20, same))
        print(f"  forecasts equal n_jobs=1: {same}", file=sys.stderr, flush=True)
    print(f"# {args.series} series x {args.folds} folds x {len(chosen)} models "
          f"({', '.join(chosen)}), {args.length} days each, horizon 7")  # fmt: skip
    if not with_lstm:
        print("(LSTM left out: this tsrnn's LSTMForecaster is not a global model)")
    print(f"tsrnn {tsrnn.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end\n")  # fmt: skip
    print(
        "| run | wall time (s) | speed-up vs n_jobs=1 | peak memory (MiB) | forecasts equal n_jobs=1 |"
    )
    print("|---|---:|---:|---:|---|")
    for label, seconds, speedup, mib, same in rows:
        print(
            f"| {label} | {seconds:.1f} | {speedup:.2f}x | {mib:.0f} | {'yes' if same else 'NO'} |"
        )
    print()
    metrics = reference.metrics[["mase", "smape", "coverage", "n_series"]]
    print(metrics.round(3).to_string())
    print()
    print("Verdicts:", *reference.compare()["verdict"], sep="\n- ")
    print("Ranks:", reference.rank_test().verdict())
    seconds = reference.timings.groupby(["model", "action"])["seconds"].sum().round(1)
    print("\nSeconds per model and action (n_jobs=1, summed over tasks):")
    print(seconds.to_string())
    print(f"\nfailures: {len(reference.failures)}, skipped series-folds: {len(reference.skipped)}")


if __name__ == "__main__":
    main()
