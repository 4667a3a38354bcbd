"""The result of a backtest: tidy forecasts, metrics at three levels, comparisons, exports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn import metrics as M
from tsrnn.compare import compare_forecasts
from tsrnn.exceptions import InputError
from tsrnn.io import atomic_write

__all__ = ["BacktestResult", "METRIC_NAMES"]

METRIC_NAMES = ("mae", "rmse", "mape", "smape", "mase", "bias", "coverage", "winkler")
_LEVELS = {
    None: ["model"],
    "model": ["model"],
    "fold": ["model", "fold"],
    "step": ["model", "step"],
}


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
    ) -> None:
        unknown = sorted(set(metric_names or ()) - set(METRIC_NAMES))
        if unknown:
            raise InputError(
                f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRIC_NAMES)}."
            )
        self.forecasts = forecasts
        self.timings = timings
        self.coverage = coverage
        self.fold_spacing = fold_spacing
        self.season_length = season_length
        self.metric_names = list(metric_names or METRIC_NAMES)
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
        fold's training data, then averages; the others use :mod:`tsrnn.metrics`.
        """
        if level not in _LEVELS:
            raise InputError(f"level must be None, 'fold' or 'step'; got {level!r}.")
        table = self.forecasts.merge(self._scales, on=["model", "fold"], how="left")
        keys = _LEVELS[level]
        result = table.groupby(keys, sort=False).apply(self._group_metrics, include_groups=False)
        if level is None or level == "model":
            result = result.loc[self.models]
        return result[self.metric_names]

    def _group_metrics(self, group: pd.DataFrame) -> pd.Series:
        y, f = group["actual"].to_numpy(), group["forecast"].to_numpy()
        lower, upper = group["lower"].to_numpy(), group["upper"].to_numpy()
        values = {
            "mae": M.mae(y, f),
            "rmse": M.rmse(y, f),
            "smape": M.smape(y, f),
            "bias": M.bias(y, f),
            "mase": float(np.mean(np.abs(y - f) / group["scale"].to_numpy())),
            "coverage": M.coverage(y, lower, upper),
            "winkler": M.winkler_score(y, lower, upper, self.coverage),
        }
        values["mape"] = M.mape(y, f) if np.any(y != 0) else np.nan
        return pd.Series(values)

    def compare(
        self, baseline: str | None = None, loss: str = "squared", alpha: float = 0.05
    ) -> pd.DataFrame:
        """Diebold-Mariano tests (HLN-corrected) of every model against ``baseline``.

        Parameters
        ----------
        baseline : str, optional
            Model name; defaults to ``"naive"`` when present, else the first model.
        loss : {'squared', 'absolute'}
        alpha : float
            Significance level of the plain-words verdicts.

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
