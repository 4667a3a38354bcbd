"""The content of a backtest report, independent of its format (HTML or Markdown).

A report is a list of :class:`Block` objects: headings, paragraphs, verdict lists,
tables of formatted strings with the best cells marked, figures and preformatted text.
``**bold**`` inside text is the only inline markup.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import pandas as pd

from tsrnn._report_verdicts import coverage_warning, verdicts, winner_sentence
from tsrnn.exceptions import InputError

_SEASONAL_NAMES = ("seasonal-naive", "seasonalnaive", "seasonal_naive")
HEADERS = {
    "mae": "MAE",
    "rmse": "RMSE",
    "mape": "MAPE %",
    "smape": "sMAPE %",
    "mase": "MASE",
    "bias": "bias",
    "coverage": "coverage",
    "winkler": "Winkler",
}
_PACKAGES = ("tsrnn", "numpy", "pandas", "scikit-learn", "statsmodels", "matplotlib")


@dataclass
class Table:
    """Cells as strings; ``best`` marks the cells to highlight (same shape, booleans)."""

    cells: pd.DataFrame
    best: pd.DataFrame | None = None
    index_label: str = "model"
    text: bool = False  # left-aligned words (key/value tables) rather than numbers


@dataclass
class Block:
    """One piece of a report.

    ``kind`` is one of ``title``, ``h2``, ``p``, ``headline``, ``warning``, ``verdicts`` (``items``
    of ``(css class, text)``), ``table``, ``note``, ``pre``, ``plot`` (``text`` is the
    caption, ``draw`` returns PNG bytes) or ``pair`` (two ``children`` side by side).
    """

    kind: str
    content: object = None
    anchor: str | None = None
    draw: Callable[[], bytes] | None = None
    children: list[Block] = field(default_factory=list)
    items: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Headline:
    blocks: list[Block]
    baseline: str | None
    comparison: pd.DataFrame | None


def format_column(values: pd.Series, percent: bool = False) -> pd.Series:
    """Format numbers with one number of decimals per column (3 significant at the top)."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    if percent:
        return numbers.map(lambda v: "" if np.isnan(v) else f"{v:.1%}")
    finite = np.abs(numbers[np.isfinite(numbers)])
    top = float(finite.max()) if len(finite) else 0.0
    decimals = 3 if top == 0 else int(np.clip(3 - np.floor(np.log10(top)), 0, 3))
    return numbers.map(lambda v: "" if np.isnan(v) else f"{v:,.{decimals}f}")


def choose_baseline(result, baseline: str | None) -> str:
    """The model to test against: as given, else seasonal-naive for seasonal scales, else naive."""
    models = result.models
    if baseline is not None:
        if baseline not in models:
            raise InputError(
                f"baseline {baseline!r} is not one of the models: {', '.join(models)}."
            )
        return baseline
    seasonal = [name for name in _SEASONAL_NAMES if name in models]
    if seasonal and getattr(result, "season_length", 1) > 1:
        return seasonal[0]
    return "naive" if "naive" in models else models[0]


def _best_metric(result) -> str:
    for metric in ("mase", "mae", "rmse"):
        if metric in result.metric_names and result.metrics[metric].notna().any():
            return metric
    raise InputError("the report needs one of the metrics mase, mae or rmse in the backtest.")


def headline(result, baseline: str | None) -> Headline:
    """The verdict in plain words: the best model (tested against the runner-up), every
    model against the baseline, and the interval coverage (flagged when far from nominal)."""
    metric = _best_metric(result)
    base = choose_baseline(result, baseline)
    folds, horizon = result.forecasts["fold"].nunique(), int(result.forecasts["step"].max())
    over = f"over {folds} folds of {horizon} steps"
    text = winner_sentence(result, metric, HEADERS[metric], over, base)
    blocks = [Block("headline", text)]
    comparison = None
    if len(result.models) > 1 and folds >= 3:
        comparison = result.compare(base)
        summary, items, statement = verdicts(comparison, base)
        blocks += [
            Block("headline", summary),
            Block("verdicts", items=items),
            Block("note", statement),
        ]
    elif len(result.models) > 1:
        blocks.append(Block("p", "Diebold-Mariano tests need at least 3 folds; none were run."))
    blocks.append(Block("p", _coverage_sentence(result)))
    warning = coverage_warning(result)
    if warning:
        blocks.append(Block("warning", warning))
    return Headline(blocks, base, comparison)


def _coverage_sentence(result) -> str:
    forecasts = result.forecasts
    inside = (forecasts["actual"] >= forecasts["lower"]) & (
        forecasts["actual"] <= forecasts["upper"]
    )
    share = inside.groupby(forecasts["model"], sort=False).mean()
    low, high = share.min(), share.max()
    spread = f"{low:.1%}" if np.isclose(low, high) else f"{low:.1%} to {high:.1%}"
    return (
        f"The {result.coverage:.0%} prediction intervals held {spread} of the actual values "
        f"({len(forecasts) // len(share)} per model)."
    )


def _best_mask(frame: pd.DataFrame, nominal: float) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    for column in frame.columns:
        values = frame[column].astype(float)
        if column == "coverage":
            values = (values - nominal).abs()
        elif column == "bias":
            values = values.abs()
        if values.notna().any():
            mask[column] = np.isclose(values, values.min(), rtol=1e-9, atol=0.0)
    return mask


def metrics_table(result, baseline: str | None) -> Table:
    """Models x metrics, formatted, best per column marked; the baseline row is labelled."""
    metrics = result.metrics
    cells = pd.DataFrame(
        {
            HEADERS.get(c, c): format_column(metrics[c], percent=c == "coverage")
            for c in metrics.columns
        },
        index=metrics.index,
    )
    best = _best_mask(metrics, result.coverage)
    best.columns = cells.columns
    labels = [f"{m} (baseline)" if m == baseline else m for m in metrics.index]
    cells.index, best.index = labels, labels
    return Table(cells, best)


def comparison_table(comparison: pd.DataFrame) -> Table:
    """Diebold-Mariano statistics per model (the verdicts are in the headline)."""
    columns = {
        "mean_loss": "MSE",
        "baseline_loss": "baseline MSE",
        "statistic": "DM statistic",
        "p_value": "p (two-sided)",
        "folds": "folds",
        "df": "t df",
    }
    losses = format_column(pd.concat([comparison["mean_loss"], comparison["baseline_loss"]]))
    cells = pd.DataFrame(
        {label: format_column(comparison[c]) for c, label in columns.items()},
        index=comparison.index,
    )
    n = len(comparison)
    cells[columns["mean_loss"]] = losses.iloc[:n].to_numpy()
    cells[columns["baseline_loss"]] = losses.iloc[n:].to_numpy()
    cells[columns["p_value"]] = comparison["p_value"].map(
        lambda p: "" if pd.isna(p) else f"{p:.3f}"
    )
    for column in ("folds", "df"):
        cells[columns[column]] = comparison[column].map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    best = pd.DataFrame(False, index=cells.index, columns=cells.columns)
    best[columns["p_value"]] = (comparison["p_value"] < 0.05) & (comparison["statistic"] < 0)
    return Table(cells, best)


def step_metric(result) -> str:
    """The metric shown by horizon step: MAE, or the first error metric computed."""
    names = [m for m in result.metric_names if m not in ("bias", "coverage")]
    return "mae" if "mae" in names else (names or result.metric_names)[0]


def step_table(result) -> Table:
    """The step metric per horizon step (rows) and model (columns), the best of each step marked."""
    table = result.metrics_by("step")[step_metric(result)].unstack("model")[result.models]
    cells = table.apply(lambda column: format_column(column))
    values = table.to_numpy(dtype=float)
    best = pd.DataFrame(
        np.isclose(values, np.nanmin(values, axis=1, keepdims=True)),
        index=table.index,
        columns=table.columns,
    )
    return Table(cells, best, index_label="step")


def _stamp(value) -> str:
    """A timestamp as a date when it is midnight, else to the minute."""
    stamp = pd.Timestamp(value)
    return str(stamp.date()) if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")


def data_summary_table(history: pd.Series | None, extra: Mapping | None) -> Table:
    """What was forecast: computed from ``history``, then the caller's rows."""
    rows: dict[str, str] = {}
    if history is not None:
        index = history.index
        freq = getattr(index, "freqstr", None) or pd.infer_freq(index) or "irregular"
        rows.update(
            {
                "target": str(history.name),
                "observations": f"{len(history):,}",
                "first": _stamp(index[0]),
                "last": _stamp(index[-1]),
                "frequency": str(freq),
                "min / mean / max": (
                    f"{history.min():.4g} / {history.mean():.4g} / {history.max():.4g}"
                ),
                "missing values remaining": str(int(history.isna().sum())),
            }
        )
    rows.update({str(k): str(v) for k, v in (extra or {}).items()})
    if not rows:
        rows["note"] = "no data summary given (pass history= and data_summary=)"
    cells = pd.DataFrame({"value": list(rows.values())}, index=list(rows))
    return Table(cells, index_label="", text=True)


def _settings(result, baseline: str | None) -> Table:
    forecasts = result.forecasts
    cutoffs = forecasts["cutoff"].drop_duplicates()
    rows = {
        "folds": str(len(cutoffs)),
        "horizon (steps)": str(int(forecasts["step"].max())),
        "steps between origins": str(result.fold_spacing),
        "first / last origin": f"{_stamp(cutoffs.min())} / {_stamp(cutoffs.max())}",
        "interval coverage (nominal)": f"{result.coverage:.0%}",
        "MASE season length": str(result.season_length),
        "baseline of the tests": str(baseline),
    }
    cells = pd.DataFrame({"value": list(rows.values())}, index=list(rows))
    return Table(cells, index_label="", text=True)


def _model_lines(models: Mapping[str, object] | None) -> str:
    lines, seeds = [], []
    for name, model in (models or {}).items():
        if isinstance(model, list):
            continue
        lines.append(f"{name}: {model!r}")
        if hasattr(model, "get_params") and "random_state" in model.get_params():
            seeds.append(f"{name}={model.get_params()['random_state']}")
    if not lines:
        return "(pass models= to list the models' parameters and seeds)"
    lines.append("seeds: " + (", ".join(seeds) or "none (all models are deterministic)"))
    return "\n".join(lines)


def versions() -> dict[str, str]:
    """Python, platform and package versions; torch only when it is already imported."""
    found = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for package in _PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    torch = sys.modules.get("torch")
    if torch is not None:
        found["torch"] = str(getattr(torch, "__version__", "unknown"))
    return found


def timings_table(result) -> Table:
    """Fits, warm starts, updates and seconds per model."""
    timings = result.timings
    rows = {}
    for model in result.models:
        own = timings[timings["model"] == model]
        counts = own["action"].value_counts()
        rows[model] = {
            "fits": int(counts.get("fit", 0)),
            "warm starts": int(counts.get("warm", 0)),
            "updates": int(counts.get("update", 0)),
            "seconds": own["seconds"].sum(),
            "seconds per fold": own["seconds"].mean(),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    cells = frame.astype(object)
    for column in ("seconds", "seconds per fold"):
        cells[column] = frame[column].map(lambda s: f"{s:.3f}" if s < 10 else f"{s:,.1f}")
    return Table(cells.astype(str))


def reproduction_blocks(
    result, models: Mapping[str, object] | None, command: str | None, baseline: str | None
) -> list[Block]:
    """Command, backtest settings, model parameters and seeds, versions, elapsed time."""
    blocks = []
    if command:
        blocks += [Block("p", "Command:"), Block("pre", command)]
    version_cells = pd.DataFrame({"version": pd.Series(versions())})
    blocks += [
        Block("table", _settings(result, baseline)),
        Block("p", "Models (parameters that differ from the defaults) and seeds:"),
        Block("pre", _model_lines(models)),
        Block("p", "Elapsed time per model (fit or update, then predict, summed over folds):"),
        Block("table", timings_table(result)),
        Block("p", "Versions:"),
        Block("table", Table(version_cells, index_label="package", text=True)),
    ]
    return blocks
