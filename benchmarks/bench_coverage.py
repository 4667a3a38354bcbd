"""Interval coverage: the model intervals versus adaptive conformal, for every model.

Rolling-origin backtests of the bundled stocks (aapl, ibm, msft: adjusted prices on
business days) and weather series (seattle, clemson: daily maximum temperature), the
last ``--length`` observations of each, ``--folds`` expanding-window folds of horizon 7
with cutoffs ``--step`` observations apart (default: 560 folds one day apart, so every
origin of the test period is scored). Every model is refitted every ``--refit`` folds and moved on
with ``update`` in between (so both the fit-time calibration and the online adjustment
in ``update`` are measured). At every fold the same fitted model gives its intervals
with ``interval="model"`` (the intervals before this change: FPP3 formulas, statsmodels'
forecast distribution, split conformal on the RNNs' validation tail) and with
``interval="conformal"`` (the new default, :mod:`tsrnn.conformal`), at 80% and 95%:
the calibration state is computed at every fit whatever ``interval`` says, so switching
with ``set_params`` needs no refit and both methods see identical point forecasts.

Coverage is the share of the ``folds x 7`` forecasts whose actual lies inside the
interval, per series (with a batch-means standard error) and pooled over the five series
(each series weighing the same); ``width`` is the mean interval width of the conformal
intervals relative to the model intervals.

Usage::

    .venv/bin/python benchmarks/bench_coverage.py --n-jobs 1   # all models (~7 min)
    .venv/bin/python benchmarks/bench_coverage.py --models naive,drift --folds 80 --step 7 --refit 20
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import tsrnn
from tsrnn import ExpandingWindowSplitter
from tsrnn.datasets import load_dataset

SERIES = ("aapl", "ibm", "msft", "seattle", "clemson")
LEVELS = (0.8, 0.95)
METHODS = ("model", "conformal")
HORIZON = 7
BATCHES = 20
NEURAL = dict(lookback=20, hidden_size=16, epochs=3, batch_size=64, random_state=0)


def make_model(name: str):
    """The benchmarked configuration of each model (tiny epochs for the neural ones)."""
    from tsrnn import ARIMAForecaster, DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster

    if name == "naive":
        return NaiveForecaster(horizon=HORIZON)
    if name == "seasonal-naive":
        return SeasonalNaiveForecaster(horizon=HORIZON)
    if name == "drift":
        return DriftForecaster(horizon=HORIZON)
    if name == "arima":
        return ARIMAForecaster(horizon=HORIZON)
    from tsrnn import GRUForecaster, LSTMForecaster, RNNForecaster

    cls = {"lstm": LSTMForecaster, "gru": GRUForecaster, "rnn": RNNForecaster}[name]
    return cls(horizon=HORIZON, **NEURAL)


def run_one(
    model_name: str, series: str, length: int, folds: int, refit: int, step: int = 1
) -> pd.DataFrame:
    """Coverage flags and widths of both methods at both levels, fold by fold."""
    warnings.simplefilter("ignore")
    y = load_dataset(series).iloc[-length:]
    splitter = ExpandingWindowSplitter(horizon=HORIZON, n_folds=folds, step=step)
    rows, model, prev_end = [], None, None
    start = time.perf_counter()
    for fold, (train, test) in enumerate(splitter.split(y)):
        if model is None or fold % refit == 0:
            model = make_model(model_name).fit(y.iloc[train])
        else:
            model.update(y.iloc[prev_end + 1 : train[-1] + 1])
        prev_end = train[-1]
        actual = y.iloc[test].to_numpy()
        for method in METHODS:
            model.set_params(interval=method)
            for level in LEVELS:
                band = model.predict_interval(HORIZON, coverage=level)
                lower, upper = band["lower"].to_numpy(), band["upper"].to_numpy()
                rows.append(
                    {
                        "model": model_name,
                        "series": series,
                        "method": method,
                        "level": level,
                        "fold": fold,
                        "covered": np.mean((actual >= lower) & (actual <= upper)),
                        "width": np.mean(upper - lower),
                    }
                )
        model.set_params(interval="conformal")
    table = pd.DataFrame(rows)
    table["seconds"] = time.perf_counter() - start
    return table


def summarise(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-series and pooled coverage (percent) and the conformal/model width ratio."""
    per = raw.groupby(["model", "series", "level", "method"], sort=False).mean(numeric_only=True)
    names = {"model": "before", "conformal": "after"}
    cov = (100 * per["covered"]).unstack("method")[list(METHODS)].rename(columns=names)
    width = per["width"].unstack("method")
    cov["width ratio"] = width["conformal"] / width["model"]
    # Standard error of the conformal coverage by batch means: neighbouring folds share
    # most of their actuals, so the folds are cut into BATCHES runs of consecutive folds
    # and the spread of the runs' coverage gives the error (Law & Kelton's batch means).
    after = raw[raw["method"] == "conformal"].copy()
    after["batch"] = after["fold"] * BATCHES // (after["fold"].max() + 1)
    keys = ["model", "series", "level"]
    runs = after.groupby([*keys, "batch"], sort=False)["covered"].mean()
    cov["se"] = 100 * runs.groupby(keys, sort=False).std() / np.sqrt(BATCHES)
    pooled = cov.drop(columns="se").groupby(["model", "level"], sort=False).mean()
    return cov, pooled


def markdown(pooled: pd.DataFrame, cov: pd.DataFrame) -> str:
    lines = [
        "| model | nominal | model intervals | conformal | conformal - nominal | width ratio |",
        "|---|---|---|---|---|---|",
    ]
    for (model, level), row in pooled.iterrows():
        lines.append(
            f"| {model} | {100 * level:.0f}% | {row['before']:.1f}% | {row['after']:.1f}% "
            f"| {row['after'] - 100 * level:+.1f} | {row['width ratio']:.2f} |"
        )
    deviation = (cov["after"] - 100 * cov.index.get_level_values("level")).abs()
    lines += [
        "",
        f"Per series: {int((deviation <= 3).sum())} of {len(deviation)} model x series x "
        f"level cells within 3 points of nominal (largest deviation {deviation.max():.1f}).",
        "",
        "Per series (model -> conformal coverage, %, +- batch-means standard error):",
        "",
    ]
    series = list(dict.fromkeys(cov.index.get_level_values("series")))
    lines.append("| model | nominal | " + " | ".join(series) + " |")
    lines.append("|---|---|" + "---|" * len(series))
    for (model, level), block in cov.groupby(["model", "level"], sort=False):
        cells = [
            f"{block.loc[(model, s, level), 'before']:.1f} -> "
            f"{block.loc[(model, s, level), 'after']:.1f} +- "
            f"{block.loc[(model, s, level), 'se']:.1f}"
            for s in series
        ]
        lines.append(f"| {model} | {100 * level:.0f}% | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="naive,seasonal-naive,drift,arima,lstm,gru,rnn")
    parser.add_argument("--series", default=",".join(SERIES))
    parser.add_argument("--folds", type=int, default=560)
    parser.add_argument("--step", type=int, default=1, help="observations between cutoffs")
    parser.add_argument("--refit", type=int, default=140, help="refit every N folds")
    parser.add_argument("--length", type=int, default=2000, help="last N observations")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default=None, help="write the markdown tables here")
    parser.add_argument("--raw", default=None, help="write the fold-level table here (CSV)")
    args = parser.parse_args()
    models, series = args.models.split(","), args.series.split(",")
    start = time.perf_counter()
    jobs = [(m, s) for m in models for s in series]
    jobs.sort(key=lambda job: job[0] not in ("lstm", "gru", "rnn"))  # slow ones first
    tables = Parallel(n_jobs=args.n_jobs)(
        delayed(run_one)(m, s, args.length, args.folds, args.refit, args.step) for m, s in jobs
    )
    raw = pd.concat(tables, ignore_index=True)
    order = {m: i for i, m in enumerate(models)}
    raw = raw.sort_values("model", key=lambda c: c.map(order), kind="stable")
    if args.raw:
        raw.to_csv(args.raw, index=False)
    cov, pooled = summarise(raw)
    text = markdown(pooled, cov)
    seconds = time.perf_counter() - start
    header = (
        f"tsrnn {tsrnn.__version__}, Python {platform.python_version()}, "
        f"{args.folds} folds x horizon {HORIZON}, cutoffs {args.step} apart, "
        f"refit every {args.refit} folds, "
        f"last {args.length} observations, {seconds:.0f} s wall"
    )
    print(header + "\n\n" + text)
    if args.output:
        Path(args.output).write_text(header + "\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
