"""The result of a panel backtest: forecasts with a ``series`` column, panel metrics, verdicts.

Panel metrics (``result.metrics``, one row per model) are computed on the *common
cells*: the (series, fold) pairs where every model has finite forecasts, so that every
model is scored on the same forecasts. Which aggregate each metric is
(:data:`PANEL_AGGREGATES`):

- **mean over series** of the per-series value: ``mase``, ``mape``, ``smape``
  (scale-free, so a $700 stock does not outweigh a $40 one);
- **pooled** over all forecasts of all series: ``mae``, ``rmse``, ``bias``,
  ``winkler``, ``pinball`` (in the data's units: meaningful only when the series share
  units and scale, e.g. temperatures of several cities) and ``coverage`` (the share of
  all actual values inside their intervals).

``n_series`` counts the series in the common cells.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn.backtest_result import BacktestResult
from tsrnn.exceptions import InputError
from tsrnn.io import atomic_write
from tsrnn.panel_compare import RankTest, compare_per_series, panel_verdicts, rank_test

__all__ = ["PanelBacktestResult", "PANEL_AGGREGATES"]

PANEL_AGGREGATES = {
    "mase": "mean over series",
    "mape": "mean over series",
    "smape": "mean over series",
    "mae": "pooled",
    "rmse": "pooled",
    "bias": "pooled",
    "coverage": "pooled",
    "winkler": "pooled",
    "pinball": "pooled",
}
_LEVELS = {
    "series": ["model", "series"],
    "fold": ["model", "fold"],
    "step": ["model", "step"],
    "series_fold": ["model", "series", "fold"],
}


class PanelBacktestResult(BacktestResult):
    """What :func:`tsrnn.backtest` returns for a panel.

    Attributes
    ----------
    forecasts : pd.DataFrame
        series, model, fold, cutoff, date, step, actual, forecast, lower, upper.
    failures : pd.DataFrame
        series, model, fold, cutoff, error: the forecasts that could not be made.
    skipped : pd.DataFrame
        series, fold, cutoff, reason: folds a series was too short for.
    id_name : str
        Name of the series id (the MultiIndex level or CSV column); ``to_csv`` uses it.
    """

    is_panel = True

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
        failures: pd.DataFrame | None = None,
        skipped: pd.DataFrame | None = None,
        id_name: str = "series",
        model_names: list[str] | None = None,
        series_ids: list | None = None,
    ) -> None:
        super().__init__(
            forecasts, scales, timings, metric_names, coverage, fold_spacing, season_length,
            final_models,
        )  # fmt: skip
        self.failures = failures if failures is not None else pd.DataFrame()
        self.skipped = skipped if skipped is not None else pd.DataFrame()
        self.id_name = id_name
        self._model_names = model_names or list(dict.fromkeys(forecasts["model"]))
        self.series_ids = series_ids or list(dict.fromkeys(forecasts["series"]))

    @property
    def models(self) -> list[str]:
        """Model names in the order they were given (also those that failed everywhere)."""
        return list(self._model_names)

    def common_forecasts(self) -> pd.DataFrame:
        """The forecast rows of the (series, fold) cells where every model has finite forecasts."""
        table = self.forecasts
        ok = np.isfinite(table["forecast"].to_numpy(dtype=float))
        per_cell = table.assign(ok=ok).groupby(["series", "fold", "model"], sort=False)["ok"].all()
        counts = per_cell.groupby(level=["series", "fold"]).agg(["all", "size"])
        good = counts[(counts["all"]) & (counts["size"] == len(self.models))].index
        keys = pd.MultiIndex.from_frame(table[["series", "fold"]])
        return table[keys.isin(good)]

    @property
    def metrics(self) -> pd.DataFrame:
        """The panel table: one row per model, on the common cells (see the module docstring)."""
        return self.metrics_by()

    def metrics_by(self, level: str | None = None) -> pd.DataFrame:
        """Metrics per model, or per model and ``'series'``, ``'fold'``, ``'step'``, ``'series_fold'``.

        ``None``/``'model'``: the panel table (common cells; :data:`PANEL_AGGREGATES`).
        ``'series'``: one row per (model, series) on all forecasts that model made for
        that series. ``'fold'`` and ``'step'``: pooled over the series of the common cells
        (MASE row by row with each series' own scale).
        """
        if level in (None, "model"):
            return self._panel_table()
        if level not in _LEVELS:
            raise InputError(
                f"level must be None, 'series', 'fold', 'step' or 'series_fold'; got {level!r}."
            )
        table = self.forecasts if level in ("series", "series_fold") else self.common_forecasts()
        return self._grouped(table, _LEVELS[level])

    def _grouped(self, table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        table = table.merge(self._scales, on=["model", "series", "fold"], how="left")
        records = []
        for key, group in table.groupby(keys, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            records.append({**dict(zip(keys, key, strict=True)), **self._group_metrics(group)})
        return pd.DataFrame(records, columns=[*keys, *self.metric_names]).set_index(keys)

    def _panel_table(self) -> pd.DataFrame:
        common = self.common_forecasts()
        columns = [*self.metric_names, "n_series"]
        if common.empty:
            return pd.DataFrame(np.nan, index=pd.Index(self.models, name="model"), columns=columns)
        pooled = self._grouped(common, ["model"])
        per_series = self._grouped(common, ["model", "series"])
        means = per_series.groupby(level="model", sort=False).mean()
        table = pooled.copy()
        for name in self.metric_names:
            if PANEL_AGGREGATES.get(name) == "mean over series":
                table[name] = means[name]
        table["n_series"] = common.groupby("model", sort=False)["series"].nunique()
        return table.reindex(self.models)[columns]

    def scores(self, metric: str = "mase") -> pd.DataFrame:
        """A series x model table of ``metric`` on the common cells (what the rank test ranks)."""
        if metric not in self.metric_names:
            raise InputError(f"metric {metric!r} is not one of {', '.join(self.metric_names)}.")
        table = self._grouped(self.common_forecasts(), ["model", "series"])[metric]
        return table.unstack("model").reindex(columns=self.models)

    def _baseline(self, baseline: str | None) -> str:
        if baseline is None:
            return "naive" if "naive" in self.models else self.models[0]
        if baseline not in self.models:
            raise InputError(
                f"baseline {baseline!r} is not one of the models: {', '.join(self.models)}."
            )
        return baseline

    def compare(
        self,
        baseline: str | None = None,
        loss: str = "squared",
        alpha: float = 0.05,
        level: str = "panel",
    ) -> pd.DataFrame:
        """Diebold-Mariano tests against ``baseline``, per series and across the panel.

        Parameters
        ----------
        baseline : str, optional
            Defaults to ``"naive"`` when present, else the first model.
        loss : {'squared', 'absolute'}
        alpha : float, default=0.05
        level : {'panel', 'series'}
            ``'series'``: one DM test per (model, series) on that series' common folds,
            with Holm-adjusted p-values (``p_holm``) over the series of each model (see
            :func:`tsrnn.panel_compare.compare_per_series`). ``'panel'``: one row per model
            with the counts of series it beats (significantly after Holm), the Wilcoxon
            test of the per-series MASE over series, and a ``verdict`` in plain words
            (:func:`tsrnn.panel_compare.panel_verdicts`).
        """
        baseline = self._baseline(baseline)
        per_series = compare_per_series(
            self.common_forecasts(),
            baseline,
            loss=loss,
            alpha=alpha,
            fold_spacing=self.fold_spacing,
        )
        if level == "series":
            return per_series
        if level != "panel":
            raise InputError(f"level must be 'panel' or 'series'; got {level!r}.")
        metric = "mase" if "mase" in self.metric_names else self.metric_names[0]
        return panel_verdicts(per_series, self.scores(metric), baseline, alpha)

    def rank_test(self, metric: str = "mase", alpha: float = 0.05) -> RankTest:
        """Mean ranks of ``metric`` over series, Friedman test and Nemenyi critical difference."""
        return rank_test(self.scores(metric), alpha=alpha, metric=metric)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the tidy forecasts table (atomically), the id column named ``id_name``."""
        table = self.forecasts.rename(columns={"series": self.id_name})
        text = table.to_csv(index=False, lineterminator="\n")
        atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def to_json(self, path: str | os.PathLike) -> None:
        """Metrics, verdicts, failures, skipped folds and forecasts as one JSON document."""
        document = {
            "metrics": json.loads(self.metrics.to_json(orient="index")),
            "failures": json.loads(self.failures.to_json(orient="records", date_format="iso")),
            "skipped": json.loads(self.skipped.to_json(orient="records", date_format="iso")),
            "forecasts": json.loads(self.forecasts.to_json(orient="records", date_format="iso")),
        }
        try:
            document["compare"] = json.loads(self.compare().to_json(orient="index"))
        except InputError:  # too few folds or models for a test
            pass
        text = json.dumps(document, indent=1)
        atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def __repr__(self) -> str:
        folds = self.forecasts["fold"].nunique()
        return (
            f"PanelBacktestResult(models={self.models}, series={len(self.series_ids)}, "
            f"folds={folds}, failures={len(self.failures)}, skipped={len(self.skipped)})\n"
            f"{self.metrics.round(4)}"
        )
