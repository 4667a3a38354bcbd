"""Time to a verdict (issue 13): default backtests and forecasts in "units", K folds at once.

A **unit** is a fixed piece of hand-written work timed in the same run: a minimal
PyTorch LSTM loop (1 layer, hidden 64, lookback 30, horizon 7, batch 32, Adam, MSE, 1
thread) over 2,000 windows for 10 epochs (625 optimizer steps). Every time below is
divided by the unit measured in this run (the mean of one unit at the start and one at
the end), so the ratios survive a busy machine where seconds do not.

1. ``tsrnn backtest datasets/weather_clemson_daily.csv --target temp_max_f --models
   naive,seasonal-naive,arima,lstm,gru --folds 10`` with every other option at its
   default: wall time in units (goal: 60) and its metrics table.
2. ``tsrnn forecast datasets/weather_clemson_daily.csv --target temp_max_f`` (LSTM):
   wall time in units (goal: 10).
3. Refit-every-fold neural backtests (``refit=True``, no warm start) on the Seattle
   temperatures (10 folds, horizon 7): folds fitted together versus one after another
   (``fit_together=False``), same seeds; ratio (goal: 4x) and MAE of both (goal: 3%).
4. The accuracy cost of the training budget on the long series: LSTM with the defaults
   (``max_steps=3000``, ``max_history=5000``) versus the pre-issue training (100 epochs
   over every window, ``max_steps=None, max_history=None``), on folds 0, 4 and 9 of the
   default placement of goal 1 (``--old-folds``: that many folds; the old training costs
   about 15 units a fit).
5. LSTM versus GRU per optimizer step (the unit's loop with each cell).

Usage::

    .venv/bin/python benchmarks/bench_speed.py            # all parts
    .venv/bin/python benchmarks/bench_speed.py --skip-old # without part 4
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from click.testing import CliRunner
from torch import nn

import tsrnn
from tsrnn import ExpandingWindowSplitter, GRUForecaster, LSTMForecaster, backtest
from tsrnn.cli.main import main as cli
from tsrnn.datasets import load_dataset
from tsrnn.defaults import default_step

ROOT = Path(__file__).resolve().parents[1]
CLEMSON = ROOT / "datasets" / "weather_clemson_daily.csv"


class UnitLSTM(nn.Module):
    def __init__(self, cell: type[nn.RNNBase] = nn.LSTM) -> None:
        super().__init__()
        self.rnn = cell(1, 64, batch_first=True)
        self.head = nn.Linear(64, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][:, -1])


def unit(cell: type[nn.RNNBase] = nn.LSTM) -> float:
    """Seconds of the unit: the minimal loop over 2,000 windows for 10 epochs, 1 thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    start = time.perf_counter()
    g = torch.Generator().manual_seed(0)
    series = torch.sin(torch.arange(2036, dtype=torch.float32) / 7)
    series = series + 0.1 * torch.randn(2036, generator=g)
    X = series[:-7].unfold(0, 30, 1)[:2000].unsqueeze(-1)
    Y = series[30:].unfold(0, 7, 1)[:2000]
    torch.manual_seed(0)
    net = UnitLSTM(cell)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    for _ in range(10):
        for batch in torch.randperm(2000, generator=g).split(32):
            optimizer.zero_grad()
            loss_fn(net(X[batch]), Y[batch]).backward()
            optimizer.step()
    torch.set_num_threads(previous)
    return time.perf_counter() - start


def run_cli(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    return seconds, result.stdout


def refit_together(y: pd.Series, cls, folds: int) -> list[dict]:
    splitter = ExpandingWindowSplitter(horizon=7, n_folds=folds)
    rows = []
    for together in (False, True):
        start = time.perf_counter()
        result = backtest(cls(random_state=0), y, splitter, fit_together=together)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "model": cls.__name__,
                "folds": "together" if together else "one after another",
                "seconds": seconds,
                "mae": float(result.metrics["mae"].iloc[0]),
                "mase": float(result.metrics["mase"].iloc[0]),
            }
        )
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def _series(data, column: str) -> pd.Series:
    return data[column] if isinstance(data, pd.DataFrame) else data


def budget_cost(folds_wanted: list[int]) -> list[dict]:
    """LSTM defaults vs pre-issue training on some folds of the default placement."""
    y = _series(load_dataset("clemson"), "temp_max_f")
    step = default_step("D", len(y), 7, 10)
    splitter = ExpandingWindowSplitter(horizon=7, n_folds=10, step=step)
    folds = [f for k, f in enumerate(splitter.split(y)) if k in folds_wanted]
    rows = []
    for label, params in (
        ("defaults (max_steps=3000, max_history=5000)", {}),
        ("pre-issue (100 epochs over all windows)", {"max_steps": None, "max_history": None}),
    ):
        errors, scaled, start = [], [], time.perf_counter()
        for train, test in folds:
            model = LSTMForecaster(random_state=0, **params).fit(y.iloc[train])
            forecast = model.predict(7).to_numpy()
            actual = y.iloc[test].to_numpy()
            history = y.iloc[train].to_numpy()
            errors.append(np.mean(np.abs(forecast - actual)))
            scaled.append(errors[-1] / np.mean(np.abs(np.diff(history))))
        rows.append(
            {
                "training": label,
                "folds": len(folds),
                "seconds": time.perf_counter() - start,
                "mae": float(np.mean(errors)),
                "mase": float(np.mean(scaled)),
            }
        )
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-old", action="store_true", help="skip part 4")
    parser.add_argument("--old-folds", type=int, default=3)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    unit()  # warm-up: the first loop of a process pays torch's one-time set-up
    units = [unit()]
    print(f"unit: {units[0]:.2f}s", file=sys.stderr, flush=True)

    backtest_s, backtest_out = run_cli(
        "backtest",
        str(CLEMSON),
        "--target",
        "temp_max_f",
        "--models",
        "naive,seasonal-naive,arima,lstm,gru",
        "--folds",
        "10",
        "--quiet",
    )
    print(f"default backtest: {backtest_s:.1f}s\n{backtest_out}", file=sys.stderr, flush=True)
    forecast_s, _ = run_cli("forecast", str(CLEMSON), "--target", "temp_max_f", "--quiet")
    print(f"default forecast: {forecast_s:.1f}s", file=sys.stderr, flush=True)

    seattle = _series(load_dataset("seattle"), "temp_max")
    together = refit_together(seattle, LSTMForecaster, 10) + refit_together(
        seattle, GRUForecaster, 10
    )
    old = [] if args.skip_old else budget_cost([0, 4, 9][: args.old_folds])
    lstm_step, gru_step = unit(nn.LSTM), unit(nn.GRU)
    units.append(unit())
    u = float(np.mean(units))

    out = [
        f"# run {time.strftime('%Y-%m-%d %H:%M')} UTC, tsrnn {tsrnn.__version__}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs, load average {load_start:.1f} -> {os.getloadavg()[0]:.1f}",
        "",
        f"unit: {units[0]:.2f}s at the start, {units[1]:.2f}s at the end; mean {u:.2f}s",
        "",
        "| goal | wall time (s) | units | target |",
        "|---|---:|---:|---:|",
        f"| default backtest, clemson, 5 models, 10 folds | {backtest_s:.1f} | "
        f"{backtest_s / u:.1f} | 60 |",
        f"| default forecast, clemson, LSTM | {forecast_s:.1f} | {forecast_s / u:.1f} | 10 |",
        "",
        "Default backtest metrics:",
        "",
        "```",
        backtest_out.rstrip(),
        "```",
        "",
        "Refit-every-fold neural backtests (Seattle, 10 folds, horizon 7, seed 0):",
        "",
        "| model | folds | seconds | units | speed-up | MAE | MAE vs loop |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for loop, joint in zip(together[::2], together[1::2], strict=True):
        for row in (loop, joint):
            speed = loop["seconds"] / row["seconds"]
            change = row["mae"] / loop["mae"] - 1
            out.append(
                f"| {row['model']} | {row['folds']} | {row['seconds']:.1f} | "
                f"{row['seconds'] / u:.1f} | {speed:.2f}x | {row['mae']:.4f} | {change:+.2%} |"
            )
    if old:
        out += [
            "",
            "Accuracy cost of the training budget (clemson, LSTM, folds "
            f"{[0, 4, 9][: args.old_folds]} of the default placement):",
            "",
            "| training | folds | seconds | units | MAE | MASE |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in old:
            out.append(
                f"| {row['training']} | {row['folds']} | {row['seconds']:.1f} | "
                f"{row['seconds'] / u:.1f} | {row['mae']:.4f} | {row['mase']:.4f} |"
            )
    out += [
        "",
        f"LSTM vs GRU, the unit's loop with each cell: LSTM {lstm_step:.2f}s, GRU "
        f"{gru_step:.2f}s (GRU/LSTM {gru_step / lstm_step:.2f}x)",
        "",
        f"Total {time.perf_counter() - started:.0f}s.",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
