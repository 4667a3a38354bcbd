"""Global neural models over panels: training speed, peak memory, accuracy.

Every comparison is made inside one run, so the ratios hold on a busy machine where
absolute seconds do not.

1. **Throughput**: a seeded synthetic panel (AR(1), phi=0.7, plus a weekly sine, levels
   10 to 1,000) of 50 and of 200 series x 1,000 points. A global ``LSTMForecaster``
   (lookback 30, hidden 64, 1 layer, horizon 7, batch 64, Adam 1e-3, float32, CPU,
   1 thread, ``validation_fraction=0, early_stopping=None`` so every window trains)
   against a minimal hand-written PyTorch loop over the same windows (per-series z-score,
   series concatenated once, ``unfold`` views, an index of the window starts that do not
   straddle two series, shuffled batches, Adam on MSE). The estimator's ``fit`` also
   does its per-series scalers, last-value anchoring, gradient clipping, the plateau
   schedule and the conformal calibration pass, all inside the timed call. Windows/s =
   training windows x epochs / wall seconds; interleaved repetitions, the median. The
   "epochs only" ratio compares the epochs alone (the sum of ``history_`` seconds
   against the hand loop's epoch loop): with ``validation_fraction=0`` the fit's
   calibration pass forecasts every training window once more, which one epoch does not
   amortise.
2. **Peak memory** (``ru_maxrss``) of a fresh process fitting the 200-series panel for one
   epoch, against the same process right after its imports.
3. **Accuracy** on the bundled panels (``tsrnn.datasets.load_panel``): ``stocks`` (aapl,
   ibm, goog, msft adjusted closes, business days) and ``weather`` (seattle degC, clemson
   degF daily maximum temperature), the last ``--rows`` rows of each series, horizon 7,
   ``--origins`` rolling origins 7 days apart ending at each series' last 7 points
   (every model refitted at every origin). Models: global LSTM and GRU (one network per
   panel), global LSTM with the series' identity as an input (a one-hot of the series
   fed to the head with the future features: a prototype, measured here, not in the
   library), one LSTM per series, naive and seasonal naive (period 5 for stocks, 7 for
   weather). Neural settings: lookback 30, hidden 32, 30 epochs, early stopping 5,
   otherwise the defaults, seed 0. MASE against the in-sample naive (m=1) of each
   origin's training data, averaged over origins; per series and the panel mean. The
   global LSTM's 90% intervals are scored both as shipped (calibrated per series) and
   pooled (the validation errors of all series in scaled units, one quantile per step,
   rescaled per series): empirical coverage and mean width in MASE units.

Usage::

    .venv/bin/python benchmarks/bench_global.py [--quick] [--origins 5] [--output RESULTS.md]

``--quick`` shrinks everything (a smoke test, not the benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

import tsrnn
from tsrnn import GRUForecaster, LSTMForecaster, NaiveForecaster, SeasonalNaiveForecaster
from tsrnn.conformal import conformal_quantile
from tsrnn.datasets import load_panel
from tsrnn.metrics import mase

SPEED = dict(lookback=30, hidden_size=64, num_layers=1, batch_size=64, learning_rate=1e-3)
HORIZON = 7
ACCURACY = dict(lookback=30, hidden_size=32, epochs=30, early_stopping=5, random_state=0)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------- 1. throughput
def synthetic_panel(n_series: int, length: int = 1000, seed: int = 0) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-01", periods=length, freq="D", name="date")
    panel = {}
    for k in range(n_series):
        noise = rng.normal(0, 1, length)
        ar = np.zeros(length)
        for t in range(1, length):
            ar[t] = 0.7 * ar[t - 1] + noise[t]
        level = 10 ** rng.uniform(1, 3)
        season = rng.uniform(1, 4) * np.sin(2 * np.pi * np.arange(length) / 7 + rng.uniform(0, 6))
        panel[f"s{k:03d}"] = pd.Series(level * (1 + 0.02 * (ar + season)), index=index, name="y")
    return panel


class HandLSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(1, SPEED["hidden_size"], batch_first=True)
        self.head = nn.Linear(SPEED["hidden_size"], HORIZON)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def hand_loop(panel: dict[str, pd.Series], epochs: int) -> tuple[float, float, int]:
    """The minimal global loop; returns (seconds, seconds of the epochs, windows per epoch)."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    lookback = SPEED["lookback"]
    scaled, starts, offset = [], [], 0
    for y in panel.values():
        v = y.to_numpy()
        scaled.append((v - v.mean()) / v.std())
        starts.append(offset + np.arange(len(v) - lookback - HORIZON + 1))
        offset += len(v)
    series = torch.tensor(np.concatenate(scaled), dtype=torch.float32)
    X = series.unfold(0, lookback, 1).unsqueeze(-1)
    Y = series[lookback:].unfold(0, HORIZON, 1)
    index = torch.as_tensor(np.concatenate(starts))
    torch.manual_seed(0)
    net = HandLSTM()
    optimizer = torch.optim.Adam(net.parameters(), lr=SPEED["learning_rate"])
    loss_fn = nn.MSELoss()
    loop_start = time.perf_counter()
    for _ in range(epochs):
        order = index[torch.randperm(len(index))]
        for batch in order.split(SPEED["batch_size"]):
            optimizer.zero_grad()
            loss = loss_fn(net(X[batch]), Y[batch])
            loss.backward()
            optimizer.step()
    end = time.perf_counter()
    return end - start, end - loop_start, len(index)


def tsrnn_fit(panel: dict[str, pd.Series], epochs: int) -> tuple[float, float]:
    """Seconds of the whole ``fit``, and of its epochs (``history_``)."""
    model = LSTMForecaster(
        **SPEED,
        horizon=HORIZON,
        epochs=epochs,
        validation_fraction=0,
        early_stopping=None,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(panel)
    return time.perf_counter() - start, sum(h["seconds"] for h in model.history_)


def throughput(n_series: int, epochs: int, repeats: int) -> dict:
    panel = synthetic_panel(n_series)
    hand, ours, hand_loop_s, our_loop_s = [], [], [], []
    n_windows = 0
    for _ in range(repeats):
        seconds, loop_seconds, n_windows = hand_loop(panel, epochs)
        hand.append(seconds)
        hand_loop_s.append(loop_seconds)
        seconds, loop_seconds = tsrnn_fit(panel, epochs)
        ours.append(seconds)
        our_loop_s.append(loop_seconds)
        log(f"  {n_series} series: hand {hand[-1]:.1f} s, tsrnn {ours[-1]:.1f} s")
    work = n_windows * epochs
    hand_rate, our_rate = work / statistics.median(hand), work / statistics.median(ours)
    loop_ratio = statistics.median(hand_loop_s) / statistics.median(our_loop_s)
    return dict(
        series=n_series,
        windows=n_windows,
        epochs=epochs,
        hand_wps=hand_rate,
        tsrnn_wps=our_rate,
        ratio=our_rate / hand_rate,
        loop_ratio=loop_ratio,
        hand_s=hand,
        tsrnn_s=ours,
        hand_loop_s=hand_loop_s,
        tsrnn_loop_s=our_loop_s,
    )


# ---------------------------------------------------------------- 2. memory
def _memory_child(n_series: int) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    panel = synthetic_panel(n_series)
    LSTMForecaster(**SPEED, horizon=HORIZON, epochs=1, validation_fraction=0.2, random_state=0).fit(
        panel
    )
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(dict(imports_mb=before / 1024, peak_mb=after / 1024)))


def peak_memory(n_series: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(n_series)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    n_windows = n_series * (1000 - SPEED["lookback"] - HORIZON + 1)
    result["series"] = n_series
    result["copied_windows_mb"] = n_windows * (SPEED["lookback"] + HORIZON) * 4 / 2**20
    return result


# -------------------------------------------------------------- 3. accuracy
class IdentityLSTM(LSTMForecaster):
    """Prototype: the series' one-hot identity fed to the head with the future features."""

    def _calendars(self, indexes):
        ids = getattr(self, "series_ids_", None) or [0]
        if len(indexes) != len(ids):
            raise NotImplementedError("prototype: fit and predict of the whole panel only")
        base = super()._calendars(indexes)
        eye = np.eye(len(ids))
        out = []
        for k, index in enumerate(indexes):
            onehot = np.repeat(eye[k][None], len(index), axis=0)
            out.append(onehot if base is None else np.column_stack([base[k], onehot]))
        return out


def _origins(y: pd.Series, n_origins: int) -> list[int]:
    """Training lengths per origin: the last origin leaves the final 7 points to forecast."""
    return [len(y) - HORIZON * (n_origins - i) for i in range(n_origins)]


def _pooled_intervals(model, points: dict, coverage: float = 0.9) -> dict:
    scales = [s.scale_[0] for s in model.series_scalers_]
    pooled = np.concatenate([r / s for r, s in zip(model.series_residuals_, scales, strict=True)])
    width = conformal_quantile(pooled, coverage)
    return {
        key: (points[key] - width * scale, points[key] + width * scale)
        for key, scale in zip(model.series_ids_, scales, strict=True)
    }


def accuracy(name: str, n_origins: int, rows: int, season: int) -> dict:
    panel = load_panel(name)
    series = {
        key: part.droplevel(0).iloc[-rows:] for key, part in panel.groupby(level=0, sort=False)
    }
    keys = list(series)
    models = {
        "global LSTM": lambda: LSTMForecaster(horizon=HORIZON, **ACCURACY),
        "global GRU": lambda: GRUForecaster(horizon=HORIZON, **ACCURACY),
        "global LSTM + series id": lambda: IdentityLSTM(horizon=HORIZON, **ACCURACY),
        "local LSTM (one per series)": lambda: LSTMForecaster(horizon=HORIZON, **ACCURACY),
        "naive": lambda: NaiveForecaster(horizon=HORIZON),
        "seasonal naive": lambda: SeasonalNaiveForecaster(horizon=HORIZON, season_length=season),
    }
    scores = {m: {k: [] for k in keys} for m in models}
    cover = {kind: {"hit": [], "width": []} for kind in ("per series", "pooled")}
    seconds = dict.fromkeys(models, 0.0)
    for i in range(n_origins):
        train = {k: y.iloc[: _origins(y, n_origins)[i]] for k, y in series.items()}
        test = {k: y.iloc[len(train[k]) : len(train[k]) + HORIZON] for k, y in series.items()}
        for label, make in models.items():
            start = time.perf_counter()
            if label.startswith("local"):
                forecasts = {k: make().fit(train[k]).predict().to_numpy() for k in keys}
            else:
                model = make().fit(train)
                predicted = model.predict()
                forecasts = {k: predicted.loc[k].to_numpy() for k in keys}
            seconds[label] += time.perf_counter() - start
            for k in keys:
                scores[label][k].append(mase(test[k], forecasts[k], train[k], 1))
            if label == "global LSTM":
                shipped = model.predict_interval(coverage=0.9)
                pooled = _pooled_intervals(model, forecasts)
                for k in keys:
                    actual = test[k].to_numpy()
                    scale = np.mean(np.abs(np.diff(train[k].to_numpy())))
                    for kind, (lo, hi) in (
                        ("per series", (shipped.loc[k]["lower"], shipped.loc[k]["upper"])),
                        ("pooled", pooled[k]),
                    ):
                        lo, hi = np.asarray(lo), np.asarray(hi)
                        cover[kind]["hit"].append(np.mean((lo <= actual) & (actual <= hi)))
                        cover[kind]["width"].append(np.mean(hi - lo) / scale)
        log(f"  {name}: origin {i + 1}/{n_origins} done")
    table = {
        label: {**{k: float(np.mean(v)) for k, v in per.items()}} for label, per in scores.items()
    }
    for label in table:
        table[label]["panel mean"] = float(np.mean([table[label][k] for k in keys]))
        table[label]["seconds"] = seconds[label]
    intervals = {
        kind: dict(coverage=float(np.mean(v["hit"])), width=float(np.mean(v["width"])))
        for kind, v in cover.items()
    }
    return dict(panel=name, series=keys, rows=rows, table=table, intervals=intervals)


# ------------------------------------------------------------------ report
def render(speed: list[dict], memory: dict, accuracy_runs: list[dict], args) -> str:
    lines = [
        "# Global neural models: benchmark results",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_global.py --part {args.part} "
        f"--origins {args.origins} --rows {args.rows} --sizes {args.sizes}"
        + (" --quick" if args.quick else "")
        + "`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), torch "
        f"{torch.__version__}, tsrnn {tsrnn.__version__}; load average at the end "
        f"{os.getloadavg()[0]:.1f}. Protocol: the docstring of `benchmarks/bench_global.py`.",
        "",
    ]
    if speed:
        lines += [
            "## Training throughput (global LSTM vs a hand-written PyTorch loop, same windows)",
            "",
            "| series x points | training windows | epochs | hand loop (windows/s) | "
            "tsrnn fit (windows/s) | whole fit ratio (target >= 0.9x) | epochs only ratio | "
            "runs (s): hand / tsrnn (epochs only) |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
    for s in speed:
        runs = ", ".join(
            f"{h:.1f}/{t:.1f} ({hl:.1f}/{tl:.1f})"
            for h, t, hl, tl in zip(
                s["hand_s"], s["tsrnn_s"], s["hand_loop_s"], s["tsrnn_loop_s"], strict=True
            )
        )
        lines.append(
            f"| {s['series']} x 1,000 | {s['windows']:,} | {s['epochs']} | "
            f"{s['hand_wps']:,.0f} | {s['tsrnn_wps']:,.0f} | {s['ratio']:.2f}x | "
            f"{s['loop_ratio']:.2f}x | {runs} |"
        )
    if memory["series"]:
        lines += [
            "",
            f"Peak memory, {memory['series']} series x 1,000 points, one epoch with validation and calibration "
            f"(fresh process): {memory['peak_mb']:.0f} MB, of which {memory['imports_mb']:.0f} MB "
            f"after imports (all windows copied would add {memory['copied_windows_mb']:.0f} MB; "
            "they are views here).",
        ]
    if accuracy_runs:
        lines += ["", "## Accuracy: MASE, horizon 7, rolling origins (lower is better)", ""]
    for run in accuracy_runs:
        keys = run["series"]
        lines += [
            f"### `{run['panel']}` panel (last {run['rows']} rows of each series)",
            "",
            "| model | " + " | ".join(keys) + " | panel mean | fit+predict s |",
            "|---|" + "---:|" * (len(keys) + 2),
        ]
        for label, row in run["table"].items():
            values = " | ".join(f"{row[k]:.3f}" for k in keys)
            lines.append(f"| {label} | {values} | {row['panel mean']:.3f} | {row['seconds']:.0f} |")
        iv = run["intervals"]
        lines += [
            "",
            "Global LSTM 90% intervals over all origins and series: calibrated per series "
            f"(shipped) coverage {iv['per series']['coverage']:.2f}, mean width "
            f"{iv['per series']['width']:.2f} MASE units; pooled across series "
            f"{iv['pooled']['coverage']:.2f}, width {iv['pooled']['width']:.2f}.",
            "",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--origins", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1000, help="last rows of each series")
    parser.add_argument("--output", default=None)
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--part", choices=["all", "speed", "accuracy"], default="all")
    parser.add_argument(
        "--sizes", default="50:3,200:2", help="throughput runs: series:repeats,... (1 epoch)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory run")
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child)
        return
    speed, runs = [], []
    memory = dict(series=0)
    if args.part != "accuracy":
        hand_loop(synthetic_panel(2), 1)  # warm-up, untimed: first-call costs
        tsrnn_fit(synthetic_panel(2), 1)
        sizes = [tuple(int(v) for v in item.split(":")) for item in args.sizes.split(",")]
        plan = [(5, 1, 1), (10, 1, 1)] if args.quick else [(n, 1, r) for n, r in sizes]
        for n_series, epochs, repeats in plan:
            log(f"throughput: {n_series} series")
            speed.append(throughput(n_series, epochs, repeats))
        if not args.no_memory:
            log("peak memory")
            memory = peak_memory(10 if args.quick else 200)
    if args.part != "speed":
        origins, rows = (2, 200) if args.quick else (args.origins, args.rows)
        if args.quick:
            ACCURACY.update(epochs=2)
        runs = [accuracy("stocks", origins, rows, 5), accuracy("weather", origins, rows, 7)]
    text = render(speed, memory, runs, args)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
