"""ARIMA benchmark: cheap updates versus refits, and automatic order selection.

Two real series from ``../shared/datasets`` (or ``datasets/`` in the repository):
the last 3,000 daily closes of MSFT (business days) and Seattle's daily maximum
temperature (1,461 days). For each, in one run:

1. Automatic order selection (``ARIMAForecaster()``, season length from the frequency,
   and ``season_length=1``) on everything but the last 250 points: time, order, AICc.
   pmdarima's ``auto_arima`` and statsforecast's ``AutoARIMA`` on the same data when
   importable (they are not tsrnn dependencies), else "not installed".
2. Rolling one-step forecasts over the last 250 points with the chosen order:
   ``update`` (``results.extend``: parameters kept) versus statsmodels'
   ``results.append`` versus refitting the parameters at every step (tsrnn's 'css-ml'
   estimator, and statsmodels' default 'statespace' on fewer steps). Refits are
   subsampled (every ``--refit-every``-th step, the output says which); the speed
   ratio compares seconds per step, the forecast gap compares the same steps.

Usage::

    .venv/bin/python benchmarks/bench_arima.py [--steps 250] [--refit-every 5] [--search-only]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels
from threadpoolctl import threadpool_limits

from tsrnn import _autoarima as auto
from tsrnn.arima import ARIMAForecaster
from tsrnn.validation import prepare_frame

ROOT = Path(__file__).resolve().parents[1]
SEARCH = [ROOT.parent / "shared" / "datasets", ROOT / "datasets"]
SERIES = {  # label: (file, column, last n points)
    "MSFT close": ("stock_msft_daily.csv", "close", 3000),
    "Seattle temp_max": ("weather_seattle_daily.csv", "temp_max", None),
}


def load(file: str, column: str, last: int | None) -> pd.Series:
    """A column of a dataset CSV on a regular grid (missing days interpolated, as ``fit``
    does), so that one-row ``update`` calls continue the data."""
    folder = next(p for p in SEARCH if (p / file).is_file())
    frame = pd.read_csv(folder / file, parse_dates=["date"], index_col="date")
    raw = frame[[column]].astype(float).iloc[-last:] if last else frame[[column]].astype(float)
    return prepare_frame(raw, target=column)[0][column]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def describe(model: ARIMAForecaster) -> str:
    seasonal = model.seasonal_order_
    text = f"{model.order_}" + (f"x{seasonal}" if seasonal[3] > 1 else "")
    return f"{text} trend={model.trend_}"


def auto_rows(name: str, train: pd.Series) -> tuple[list[dict], ARIMAForecaster]:
    rows, chosen = [], None
    for label, kwargs in (
        ("tsrnn auto (m from freq)", {}),
        ("tsrnn auto (m=1)", {"season_length": 1}),
    ):
        model, seconds = timed(ARIMAForecaster(**kwargs).fit, train)
        chosen = chosen or model
        rows.append(auto_row(name, label, describe(model), model.aicc_, seconds))
        rows[-1]["models"] = len(model.search_trace_)
        log(f"  {label}: {seconds:.2f}s {describe(model)}")
    rows += competitor_rows(name, train)
    return rows, chosen


def auto_row(series: str, tool: str, order: str, aicc: float | None, seconds: float | None) -> dict:
    return {"series": series, "tool": tool, "order": order, "AICc": aicc, "seconds": seconds}


def competitor_rows(name: str, train: pd.Series) -> list[dict]:
    """pmdarima and statsforecast, non-seasonal, when installed (each warmed up first)."""
    rows, warm_up = [], np.cumsum(np.random.default_rng(0).normal(size=100))
    try:
        import pmdarima

        pmdarima.auto_arima(warm_up, seasonal=False)
        fit, seconds = timed(pmdarima.auto_arima, train.to_numpy(), seasonal=False)
        rows.append(
            auto_row(name, "pmdarima auto_arima (m=1)", str(fit.order), fit.aicc(), seconds)
        )
    except ImportError:
        rows.append(auto_row(name, "pmdarima auto_arima", "not installed", None, None))
    try:
        from statsforecast.models import AutoARIMA

        AutoARIMA(season_length=1).fit(warm_up)  # numba compilation
        fit, seconds = timed(AutoARIMA(season_length=1).fit, train.to_numpy())
        arma = fit.model_["arma"]
        order = str((arma[0], arma[5], arma[1]))
        rows.append(
            auto_row(name, "statsforecast AutoARIMA (m=1)", order, fit.model_["aicc"], seconds)
        )
    except ImportError:
        rows.append(auto_row(name, "statsforecast AutoARIMA", "not installed", None, None))
    return rows


def rolling_update(model: ARIMAForecaster, y: pd.Series, steps: int) -> tuple[np.ndarray, float]:
    """One-step forecasts for the last ``steps`` points, ``update`` after each."""
    model = copy.deepcopy(model)
    start, out = len(y) - steps, np.empty(steps)
    began = time.perf_counter()
    for i in range(steps):
        out[i] = model.predict(1).iloc[0]
        model.update(y.iloc[start + i : start + i + 1])
    return out, (time.perf_counter() - began) / steps


def rolling_append(model: ARIMAForecaster, y: pd.Series, steps: int) -> tuple[np.ndarray, float]:
    """The same with statsmodels' ``results.append`` (whole-history refilter each step)."""
    results, n0 = model.results_, len(y) - steps
    values = y.to_numpy()[n0:] / model.scale_
    out = np.empty(steps)
    began = time.perf_counter()
    for i in range(steps):
        next_exog = auto.full_exog(model.trend_, n0 + i + 1, 1, None)
        out[i] = results.forecast(1, exog=next_exog)[0] * model.scale_
        results = results.append(values[i : i + 1], exog=next_exog)
    return out, (time.perf_counter() - began) / steps


def rolling_refit(
    model: ARIMAForecaster, y: pd.Series, steps: list[int], method: str | None
) -> tuple[np.ndarray, float]:
    """One-step forecasts re-estimating the parameters at each of ``steps``."""
    params = {"order": model.order_, "seasonal_order": model.seasonal_order_}
    fresh = ARIMAForecaster(**params, trend=model.trend_, method=method)
    n0, out = model.n_obs_, []
    began = time.perf_counter()
    for i in steps:
        out.append(fresh.fit(y.iloc[: n0 + i]).predict(1).iloc[0])
    return np.array(out), (time.perf_counter() - began) / len(steps)


def rolling_rows(name: str, y: pd.Series, model: ARIMAForecaster, args) -> list[dict]:
    steps = args.steps
    updated, update_s = rolling_update(model, y, steps)
    appended, append_s = rolling_append(model, y, steps)
    log(f"  update {update_s * 1e3:.1f} ms/step, append {append_s * 1e3:.1f} ms/step")
    rows = [roll_row(name, "update (results.extend)", steps, update_s, update_s, None)]
    gap = float(np.max(np.abs(appended - updated)))
    rows.append(roll_row(name, "statsmodels results.append", steps, append_s, update_s, gap))
    for method, every in (("css-ml", args.refit_every), (None, args.refit_every * 5)):
        sample = list(range(0, steps, every))
        refits, refit_s = rolling_refit(model, y, sample, method)
        gap = float(np.max(np.abs(refits - updated[sample])))
        label = f"refit every step ({method or 'statespace'}; {len(sample)} of {steps} steps timed)"
        rows.append(roll_row(name, label, len(sample), refit_s, update_s, gap))
        log(f"  {label}: {refit_s:.3f} s/step")
    for row in rows:
        row["gap / std"] = (
            None
            if row["max abs(forecast - update)"] is None
            else row["max abs(forecast - update)"] / y.std()
        )
    return rows


def roll_row(series, how, steps, per_step, update_per_step, gap) -> dict:
    return {
        "series": series,
        "one-step forecasts": how,
        "steps": steps,
        "ms/step": per_step * 1e3,
        "x slower than update": per_step / update_per_step,
        "max abs(forecast - update)": gap,
    }


def markdown(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [fmt(row.get(c)) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--refit-every", type=int, default=5)
    parser.add_argument("--search-only", action="store_true", help="skip the rolling part")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # interpolated holidays (DataWarning) and statsmodels
    # tsrnn runs statsmodels on one BLAS thread; so does everything else here, for fairness
    threadpool_limits(1, user_api="blas")
    began = time.perf_counter()
    print(f"python {platform.python_version()}, statsmodels {statsmodels.__version__}, "
          f"pandas {pd.__version__}, {os.cpu_count()} CPUs, {platform.machine()}, "
          "1 BLAS thread")  # fmt: skip
    searches, rolls = [], []
    for name, spec in SERIES.items():
        y = load(*spec)
        log(f"{name}: {len(y)} points")
        search, model = auto_rows(name, y.iloc[: -args.steps])
        searches += search
        rolls += [] if args.search_only else rolling_rows(name, y, model, args)
    print("\nAutomatic order selection (on all but the last", args.steps, "points)\n")
    print(markdown(searches))
    if rolls:
        print(f"\nRolling one-step forecasts over the last {args.steps} points\n")
        print(markdown(rolls))
    print(f"\ntotal {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
