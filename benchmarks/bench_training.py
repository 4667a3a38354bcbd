"""Training speed, memory, robustness under load and accuracy of the LSTM forecaster.

Every comparison is made inside one run, so the ratios hold on a busy machine where
absolute seconds do not:

1. **Throughput** against a minimal hand-written PyTorch loop on identical windows:
   MSFT daily closes (last 2,400 of ``../shared/datasets/stock_msft_daily.csv``, z-scored
   on all rows, which is what the estimator's scaler does with ``validation_fraction=0``),
   lookback 30, horizon 1 and 7, 1-layer LSTM with 64 hidden units, batch 32, 20 epochs,
   Adam 1e-3, float32, CPU. The estimator runs with ``validation_fraction=0,
   early_stopping=None`` so both train 20 full epochs, and otherwise its defaults
   (last-value window normalisation, gradient clipping at 1.0, a learning-rate plateau
   schedule, conformal calibration after training), all inside the timed ``fit``.
   Windows/s = training windows x epochs / wall seconds; median (and best) of 3 runs,
   interleaved. Both at 1 thread (tsrnn's default policy for small models) and at 2
   threads (torch's default here).
2. **Peak memory** for a 1,000,000-point series at lookback 256, in a fresh process: the
   estimator's whole ``fit`` path (scaling, zero-copy windows, training, validation,
   calibration) for one epoch with the windows subsampled (4,096 training and the last
   16,384 validation windows), as one epoch over all 10^6 windows would take a quarter
   of an hour here. Windows are gathered one batch at a time in training, validation
   and calibration, so the subsample changes the time, not the memory.
3. **Thread policy under load**: fit time (2 epochs) next to one busy process (a Python
   busy loop in a subprocess) versus without it, for the default policy and for
   ``n_threads=2``. "Idle" means without our busy loop: other jobs on a shared machine
   still run, so the load average is printed with the results.

On a contended machine a 2-thread fit can stall for minutes (each intra-op thread waits
for the other at every operation). A run still going after 90 s is stopped and counted as
``inf``; after a run over 60 s that configuration is not repeated.
4. **Accuracy**: default settings, horizon 7, fit on the first 80%, forecasts from every
   origin of the last 20% (``update`` between origins), MASE against naive and
   seasonal-naive forecasts, on Seattle daily maximum temperature and MSFT closes.

Usage::

    .venv/bin/python benchmarks/bench_training.py [--quick] [--output RESULTS.md]

``--quick`` runs 2 epochs and 1 repetition (a smoke test, not the benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

import tsrnn
from tsrnn import GRUForecaster, LSTMForecaster
from tsrnn.datasets import load_dataset
from tsrnn.metrics import mase

ROOT = Path(__file__).resolve().parents[1]
MSFT = ROOT.parent / "shared" / "datasets" / "stock_msft_daily.csv"
CONFIG = dict(lookback=30, hidden_size=64, num_layers=1, batch_size=32, learning_rate=1e-3)
SLOW_RUN_S = 60  # on a contended machine 2-thread fits can take minutes: stop repeating them
TIMEOUT_S = 90  # and give up on one after this long (recorded as inf: "did not finish")


def msft_closes(n: int = 2400) -> pd.Series:
    path = MSFT if MSFT.exists() else ROOT / "datasets" / "stock_msft_daily.csv"
    frame = pd.read_csv(path, parse_dates=["date"], index_col="date")
    y = frame["close"].iloc[-n:]
    # business-day index: the estimator needs a regular frequency; the values are as is
    return pd.Series(y.to_numpy(), index=pd.bdate_range(end=y.index[-1], periods=n), name="close")


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def timed(run) -> float:
    """Seconds ``run()`` reports, or inf if it is still running after :data:`TIMEOUT_S`.

    SIGALRM interrupts the training loop between two torch operations (milliseconds).
    """
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        return run()
    except _Timeout:
        log(f"  gave up after {TIMEOUT_S} s")
        return float("inf")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------- 1. throughput
class HandLSTM(nn.Module):
    def __init__(self, horizon: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(1, CONFIG["hidden_size"], batch_first=True)
        self.head = nn.Linear(CONFIG["hidden_size"], horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def hand_loop(y: pd.Series, horizon: int, epochs: int, threads: int) -> float:
    """The minimal loop: z-score, unfold windows, shuffle, Adam on MSE. Returns seconds."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    values = y.to_numpy()
    series = torch.tensor((values - values.mean()) / values.std(), dtype=torch.float32)
    lookback = CONFIG["lookback"]
    X = series[: len(series) - horizon].unfold(0, lookback, 1).unsqueeze(-1)
    Y = series[lookback:].unfold(0, horizon, 1)
    torch.manual_seed(0)
    net = HandLSTM(horizon)
    optimizer = torch.optim.Adam(net.parameters(), lr=CONFIG["learning_rate"])
    loss_fn = nn.MSELoss()
    for _ in range(epochs):
        order = torch.randperm(len(X))
        for batch in order.split(CONFIG["batch_size"]):
            optimizer.zero_grad()
            loss = loss_fn(net(X[batch]), Y[batch])
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def tsrnn_fit(y: pd.Series, horizon: int, epochs: int, threads: int | None) -> float:
    model = LSTMForecaster(
        **CONFIG,
        horizon=horizon,
        epochs=epochs,
        validation_fraction=0,
        early_stopping=None,
        n_threads=threads,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(y)
    return time.perf_counter() - start


def throughput(y: pd.Series, epochs: int, repeats: int) -> pd.DataFrame:
    default_threads = torch.get_num_threads()
    rows = []
    for horizon in (1, 7):
        windows = (len(y) - CONFIG["lookback"] - horizon + 1) * epochs
        runners = {
            ("hand loop", 1): lambda h=horizon: hand_loop(y, h, epochs, 1),
            ("tsrnn (default policy)", 1): lambda h=horizon: tsrnn_fit(y, h, epochs, None),
            ("hand loop", 2): lambda h=horizon: hand_loop(y, h, epochs, 2),
            ("tsrnn n_threads=2", 2): lambda h=horizon: tsrnn_fit(y, h, epochs, 2),
        }
        hand_loop(y, horizon, 1, 1), tsrnn_fit(y, horizon, 1, None)  # warm-up
        seconds = {key: [] for key in runners}
        for _ in range(repeats):  # interleaved, so drifting load hits all alike
            for key, run in runners.items():
                if not any(t > SLOW_RUN_S for t in seconds[key]):
                    seconds[key].append(timed(run))
                torch.set_num_threads(default_threads)
        for (name, threads), times in seconds.items():
            rows.append(
                dict(
                    horizon=horizon,
                    threads=threads,
                    implementation=name,
                    windows=windows // epochs,
                    runs=len(times),
                    median_s=statistics.median(times),
                    windows_per_s=windows / statistics.median(times),
                    best_windows_per_s=windows / min(times),
                )
            )
        log(
            f"throughput horizon {horizon}: {dict((k, [round(t, 2) for t in v]) for k, v in seconds.items())}"
        )
    table = pd.DataFrame(rows)
    hand = table[table.implementation == "hand loop"].set_index(["horizon", "threads"])
    key = list(zip(table.horizon, table.threads, strict=True))
    table["ratio_vs_hand"] = table.windows_per_s.to_numpy() / hand.loc[key].windows_per_s.to_numpy()
    table["best_ratio_vs_hand"] = (
        table.best_windows_per_s.to_numpy() / hand.loc[key].best_windows_per_s.to_numpy()
    )
    return table


# ------------------------------------------------------------- 2. memory
class _Subsampled(LSTMForecaster):
    """The estimator with training/validation windows subsampled (memory run only)."""

    def _split(self, n_obs):
        train_idx, val_idx, covered = super()._split(n_obs)
        rng = np.random.default_rng(0)
        keep = int(os.environ.get("BENCH_TRAIN_WINDOWS", "4096"))
        train = np.sort(rng.choice(train_idx, size=min(keep, len(train_idx)), replace=False))
        val = val_idx[-min(len(val_idx), 4 * keep) :]
        return train, val, covered


def memory_child(n_points: int, lookback: int) -> None:
    """Run in a fresh process; prints peak RSS before and after the fit as JSON."""
    rng = np.random.default_rng(0)
    index = pd.date_range("2000-01-01", periods=n_points, freq="min")
    y = pd.Series(100 + np.cumsum(rng.normal(0, 1, n_points)), index=index, name="y")
    torch.zeros(1)  # load torch's lazily initialised pieces before the baseline
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    model = _Subsampled(lookback=lookback, horizon=1, epochs=1, random_state=0).fit(y)
    model.predict()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(baseline_mb=before, peak_mb=peak, seconds=seconds)))


def memory(n_points: int, lookback: int, windows: int) -> dict:
    env = dict(os.environ, BENCH_TRAIN_WINDOWS=str(windows))
    command = [sys.executable, __file__, "--memory-child", str(n_points), str(lookback)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(
        n_points=n_points,
        lookback=lookback,
        train_windows=windows,
        copied_windows_mb=(n_points - lookback) * lookback * 4 / 2**20,
    )
    return result


# ------------------------------------------------------------- 3. under load
def busy_loop() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def repeat(run, repeats: int) -> list[float]:
    """Up to ``repeats`` timings; stop after one that exceeds :data:`SLOW_RUN_S`."""
    times: list[float] = []
    while len(times) < repeats and not any(t > SLOW_RUN_S for t in times):
        times.append(timed(run))
    return times


def under_load(y: pd.Series, epochs: int, repeats: int) -> pd.DataFrame:
    rows = []
    for label, threads in (("default policy (1 thread)", None), ("n_threads=2", 2)):
        idle = repeat(lambda t=threads: tsrnn_fit(y, 1, epochs, t), repeats)
        busy = busy_loop()
        try:
            time.sleep(0.5)
            loaded = repeat(lambda t=threads: tsrnn_fit(y, 1, epochs, t), repeats)
        finally:
            busy.kill()
            busy.wait()
        idle_s, loaded_s = statistics.median(idle), statistics.median(loaded)
        rows.append(dict(policy=label, idle_s=idle_s, busy_s=loaded_s, slowdown=loaded_s / idle_s))
        log(f"load {label}: idle {idle}, busy {loaded}")
    return pd.DataFrame(rows)


# ------------------------------------------------------------- 4. accuracy
def rolling_mase(model, y: pd.Series, season_length: int, horizon: int = 7) -> dict:
    """Fit on the first 80%; forecast from every origin of the last 20% (update between)."""
    n_train = int(len(y) * 0.8)
    values = y.to_numpy()
    start = time.perf_counter()
    model.fit(y.iloc[:n_train])
    fit_s = time.perf_counter() - start
    actual, forecasts = [], {"model": [], "naive": [], "seasonal naive": []}
    for origin in range(n_train, len(y) - horizon + 1):
        if origin > n_train:
            model.update(y.iloc[origin - 1 : origin])
        actual.append(values[origin : origin + horizon])
        forecasts["model"].append(model.predict(horizon).to_numpy())
        forecasts["naive"].append(np.full(horizon, values[origin - 1]))
        last_season = values[origin - season_length : origin]
        forecasts["seasonal naive"].append(last_season[np.arange(horizon) % season_length])
    scores = {
        name: mase(np.ravel(actual), np.ravel(f), values[:n_train]) for name, f in forecasts.items()
    }
    return dict(scores, fit_s=fit_s, epochs=len(model.history_))


def accuracy(seeds: list[int]) -> pd.DataFrame:
    data = {
        "seattle temp_max": (load_dataset("seattle"), 7),
        "msft close (last 3000)": (load_dataset("msft").iloc[-3000:], 5),
    }
    rows = []
    for name, (y, season) in data.items():
        for cls in (LSTMForecaster, GRUForecaster):
            for seed in seeds:
                score = rolling_mase(cls(horizon=7, random_state=seed), y, season)
                log(f"accuracy {name} {cls.__name__} seed {seed}: {score}")
                rows.append(
                    {
                        "dataset": name,
                        "forecaster": cls.__name__,
                        "seed": seed,
                        "MASE": score.pop("model"),
                        **{f"MASE {k}" if k.endswith("naive") else k: v for k, v in score.items()},
                    }
                )
    table = pd.DataFrame(rows)
    table["vs naive"] = table["MASE"] / table["MASE naive"]
    return table


# ------------------------------------------------------------- report
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> str:
    """Other processes' demand: this machine is shared, and 'idle' means 'without ours'."""
    return "load average " + " / ".join(f"{v:.1f}" for v in os.getloadavg()) + " (1/5/15 min)"


def markdown(table: pd.DataFrame, floats: str = "{:.3g}") -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        cells = [floats.format(v) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 epochs, 1 run")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    epochs, repeats = (2, 1) if args.quick else (20, 3)
    y = msft_closes()
    started, loads = time.perf_counter(), {"start": load_average()}
    speed = throughput(y, epochs, repeats)
    mem = memory(1_000_000, 256, 256 if args.quick else 4096)
    log(f"memory: {mem}")
    loads["before the load test"] = load_average()
    load = under_load(y, 1 if args.quick else 2, repeats)
    acc = accuracy([0] if args.quick else [0, 1])
    loads["end"] = load_average()
    total = time.perf_counter() - started
    report = "\n\n".join(
        [
            f"tsrnn {tsrnn.__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, torch default threads {torch.get_num_threads()}; "
            f"{'QUICK smoke run; ' if args.quick else ''}total {total:.0f} s; "
            + "; ".join(f"{k}: {v}" for k, v in loads.items()),
            f"### Throughput: MSFT closes, {len(y)} points, {epochs} epochs, median of {repeats}\n\n"
            + markdown(speed),
            "### Peak memory, 1,000,000 points, lookback 256 (fresh process, RSS)\n\n"
            + markdown(pd.DataFrame([mem])),
            "### Fit time next to one busy process (horizon 1, "
            f"{1 if args.quick else 2} epochs, median of {repeats})\n\n" + markdown(load),
            "### Accuracy: MASE, horizon 7, last 20% held out, every origin\n\n"
            + markdown(acc, "{:.3f}"),
        ]
    )
    print(report)
    if args.output:
        args.output.write_text(report + "\n")


if __name__ == "__main__":
    main()
