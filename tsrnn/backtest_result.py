"""The result of a backtest: tidy forecasts, metrics at three levels, comparisons, exports."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from tsrnn import metrics as M
from tsrnn.compare import compare_forecasts
from tsrnn.exceptions import InputError, warn
from tsrnn.io import atomic_write

__all__ = ["BacktestResult", "METRIC_NAMES", "DEFAULT_METRICS", "check_metric_names"]

#: Metrics reported when none are named.
DEFAULT_METRICS = ("mae", "rmse", "mape", "smape", "mase", "bias", "coverage", "winkler")
#: Every metric a backtest can report. ``pinball`` is the mean pinball loss of the
#: interval bounds as the ``alpha/2`` and ``1 - alpha/2`` quantiles (``alpha/4`` times
#: the Winkler score).
METRIC_NAMES = (*DEFAULT_METRICS, "pinball")
_LEVELS = {
    None: ["model"],
    "model": ["model"],
    "fold": ["model", "fold"],
    "step": ["model", "step"],
}


def check_metric_names(names: list[str] | None) -> list[str]:
    """The metric names to report (the defaults for ``None``), or raise for unknown ones.

    Raises
    ------
    InputError
        If a name is not in :data:`METRIC_NAMES`, or ``names`` is a plain string or empty.
    """
    if names is None:
        return list(DEFAULT_METRICS)
    if isinstance(names, str) or not names:
        raise InputError(f"metrics must be a non-empty list of names; got {names!r}.")
    unknown = [name for name in names if name not in METRIC_NAMES]
    if unknown:
        raise InputError(
            f"unknown metric(s) {', '.join(map(str, unknown))}; "
            f"choose from {', '.join(METRIC_NAMES)}."
        )
    return list(names)


class _Group(NamedTuple):
    """The arrays of one group of forecast rows, and the nominal coverage."""

    y: np.ndarray
    f: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    scale: np.ndarray
    coverage: float


def _mase(g: _Group) -> float:
    """Mean of |error| / fold scale; a zero scale gives 0 for exact forecasts, else inf."""
    error = np.abs(g.y - g.f)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(g.scale == 0, np.where(error == 0, 0.0, np.inf), error / g.scale)
    return float(np.mean(scaled))


def _pinball(g: _Group) -> float:
    alpha = 1 - g.coverage
    low = M.pinball_loss(g.y, g.lower, alpha / 2)
    return (low + M.pinball_loss(g.y, g.upper, 1 - alpha / 2)) / 2


def _mape(g) -> float:
    if np.any(g.y != 0):
        return M.mape(g.y, g.f)
    warn(
        "mape is undefined (NaN) where every actual value is 0, as here; compare with "
        "smape, mae or mase instead."
    )
    return np.nan


_METRICS = {
    "mae": lambda g: M.mae(g.y, g.f),
    "rmse": lambda g: M.rmse(g.y, g.f),
    "mape": _mape,
    "smape": lambda g: M.smape(g.y, g.f),
    "mase": _mase,
    "bias": lambda g: M.bias(g.y, g.f),
    "coverage": lambda g: M.coverage(g.y, g.lower, g.upper),
    "winkler": lambda g: M.winkler_score(g.y, g.lower, g.upper, g.coverage),
    "pinball": _pinball,
}


def _metric_or_nan(name: str, group: _Group) -> float:
    """The metric, or NaN where it cannot be computed (non-finite forecasts or intervals)."""
    try:
        return float(_METRICS[name](group))
    except ValueError:
        return float("nan")


class BacktestResult:
    """Forecasts of every model on every fold, with metrics and significance tests.

    Attributes
    ----------
    forecasts : pd.DataFrame
        One row per model, fold and step: ``model, fold, cutoff, date, step, actual,
        forecast, lower, upper``.
    timings : pd.DataFrame
        Seconds per model and fold, with the action taken (``fit``, ``warm``, ``update``).
    coverage : float
        Nominal coverage of the intervals.
    mase_window : int
        In-sample naive errors (the most recent before each origin) behind the MASE scale.
    final_models : dict of str -> forecaster
        Each model as fitted (or updated) for the last fold; the neural models carry
        their training curves in ``history_``.
    """

    def __init__(
        self,
        forecasts: pd.DataFrame,
        scales: pd.DataFrame,
        timings: pd.DataFrame,
        metric_names: list[str] | None,
        coverage: float,
        fold_spacing: int,
        season_length: int,
        final_models: dict | None = None,
    ) -> None:
        self.final_models = final_models or {}
        self.metric_names = check_metric_names(metric_names)
        self.forecasts = forecasts
        self.timings = timings
        self.coverage = coverage
        self.fold_spacing = fold_spacing
        self.season_length = season_length
        self.mase_window = M.mase_window(season_length)
        self._scales = scales

    @property
    def models(self) -> list[str]:
        """Model names in the order they were given."""
        return list(dict.fromkeys(self.forecasts["model"]))

    @property
    def metrics(self) -> pd.DataFrame:
        """Metrics per model (rows) over all folds and steps."""
        return self.metrics_by()

    def metrics_by(self, level: str | None = None) -> pd.DataFrame:
        """Metrics per model, per ``'fold'`` or per horizon ``'step'``.

        MASE divides each absolute error by the in-sample (seasonal) naive MAE of its
        fold's training data over the last ``mase_window`` naive errors before the
        fold's origin (:func:`tsrnn.metrics.mase_window`), then averages; the others use :mod:`tsrnn.metrics`. A
        metric is NaN for a group whose values are not all finite (a model that
        returned NaN), rather than failing the whole table.

        Parameters
        ----------
        level : {None, 'model', 'fold', 'step'}
            None and 'model': one row per model; 'fold': a (model, fold) index;
            'step': a (model, step) index.

        Returns
        -------
        pd.DataFrame
            One column per metric in ``metric_names``.
        """
        if level not in _LEVELS:
            raise InputError(f"level must be None, 'fold' or 'step'; got {level!r}.")
        table = self.forecasts.merge(self._scales, on=["model", "fold"], how="left")
        keys = _LEVELS[level]
        records = []
        for key, group in table.groupby(keys, sort=False):  # forecasts are in model order
            key = key if isinstance(key, tuple) else (key,)
            records.append({**dict(zip(keys, key, strict=True)), **self._group_metrics(group)})
        return pd.DataFrame(records, columns=[*keys, *self.metric_names]).set_index(keys)

    def _group_metrics(self, group: pd.DataFrame) -> dict[str, float]:
        columns = ("actual", "forecast", "lower", "upper", "scale")
        data = _Group(*(group[c].to_numpy(dtype=float) for c in columns), self.coverage)
        return {name: _metric_or_nan(name, data) for name in self.metric_names}

    def compare(
        self, baseline: str | None = None, loss: str = "squared", alpha: float = 0.05
    ) -> pd.DataFrame:
        """Two-sided Diebold-Mariano tests, one loss per fold, of every model against ``baseline``.

        The long-run variance allows autocorrelation across folds (equal-weighted cosine
        estimator, t reference distribution): see :mod:`tsrnn.compare`.

        Parameters
        ----------
        baseline : str, optional
            Model name; defaults to ``"naive"`` when present, else the first model.
        loss : {'squared', 'absolute'}
        alpha : float
            Level of the two-sided test behind each plain-words verdict.

        Returns
        -------
        pd.DataFrame
            See :func:`tsrnn.compare.compare_forecasts`.
        """
        if baseline is None:
            baseline = "naive" if "naive" in self.models else self.models[0]
        return compare_forecasts(
            self.forecasts, baseline, loss=loss, alpha=alpha, fold_spacing=self.fold_spacing
        )

    def best_model(self, metric: str = "mase") -> str:
        """Name of the model with the lowest value of ``metric``."""
        return str(self.metrics_by()[metric].idxmin())

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the tidy forecasts table (atomically)."""
        text = self.forecasts.to_csv(index=False, lineterminator="\n")
        atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def to_json(self, path: str | os.PathLike) -> None:
        """Write metrics, comparisons and forecasts as one JSON document (atomically)."""
        document = {
            "metrics": json.loads(self.metrics.to_json(orient="index")),
            "forecasts": json.loads(self.forecasts.to_json(orient="records", date_format="iso")),
        }
        if len(self.models) > 1 and self.forecasts["fold"].nunique() >= 3:
            document["compare"] = json.loads(self.compare().to_json(orient="index"))
        text = json.dumps(document, indent=1)
        atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def to_html(self, path: str | os.PathLike, **kwargs) -> None:
        """Write a self-contained HTML report (see :mod:`tsrnn.report`)."""
        from tsrnn.report import write_html_report

        write_html_report(self, path, **kwargs)

    def __repr__(self) -> str:
        folds = self.forecasts["fold"].nunique()
        return f"BacktestResult(models={self.models}, folds={folds})\n{self.metrics.round(4)}"
