"""Backtest reports a person can read: one self-contained HTML file, or Markdown + PNGs.

:func:`write_report` picks the format from the file name (``.html``/``.htm`` or ``.md``).
A report holds, in order: a headline verdict in plain words (the best model by MASE
and the Diebold-Mariano verdicts against a baseline), the metrics table with the best
value of each column highlighted, the forecasts of the last folds per model, the final
fold, the error by horizon step (table and plot), the distribution of errors and the interval
coverage against the nominal level, training curves of the neural models, the data
summary, and what is needed to reproduce the run (command, model parameters, seeds,
package versions, elapsed time per model).

The HTML file fetches nothing: CSS is inline and the figures are base64 PNG data.
matplotlib is imported only when the figures are drawn (see :mod:`tsrnn.report_plots`).

Examples
--------
>>> import tsrnn
>>> from tsrnn.datasets import load_dataset
>>> y = load_dataset("seattle")
>>> result = tsrnn.backtest([tsrnn.NaiveForecaster(), tsrnn.DriftForecaster()], y)
>>> write_report(result, "report.html", history=y)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from tsrnn import report_plots as plots
from tsrnn._report_parts import (
    HEADERS,
    Block,
    comparison_table,
    data_summary_table,
    headline,
    metrics_table,
    reproduction_blocks,
    step_metric,
    step_table,
)
from tsrnn._report_paths import file_names_only, private_summary
from tsrnn._report_render import render_html, render_markdown
from tsrnn._report_verdicts import arima_orders, join_names
from tsrnn.exceptions import InputError
from tsrnn.io import atomic_write
from tsrnn.plotting import require_matplotlib

__all__ = ["write_report", "write_html_report", "write_markdown_report", "render_html_report"]

_HTML_SUFFIXES = (".html", ".htm")
_MARKDOWN_SUFFIXES = (".md", ".markdown")


def _as_series(history: pd.Series | pd.DataFrame | None) -> pd.Series | None:
    if history is None or isinstance(history, pd.Series | dict):
        return history  # a panel (dict or MultiIndex) goes to tsrnn.report_panel as it is
    if isinstance(history, pd.DataFrame):
        return history.iloc[:, 0]
    raise InputError(f"history must be a pandas Series; got {type(history).__name__}.")


def _histories(models: Mapping[str, object] | None) -> dict[str, list[dict]]:
    """Training curves: each model's ``history_`` (or a list of epoch dicts given directly)."""
    curves = {}
    for name, model in (models or {}).items():
        history = model if isinstance(model, list) else getattr(model, "history_", None)
        if history and "train_loss" in history[0]:
            curves[str(name)] = history
    return curves


def _ylabel(history: pd.Series | None, data_summary: Mapping | None) -> str:
    name = str(history.name) if history is not None and history.name is not None else "value"
    units = (data_summary or {}).get("units")
    return f"{name} ({units})" if units else name


def _sections(
    result,
    *,
    history: pd.Series | None,
    models: Mapping[str, object] | None,
    data_summary: Mapping | None,
    command: str | None,
    baseline: str | None,
    last_folds: int,
) -> list[Block]:
    """The report as a list of blocks that both the HTML and the Markdown renderer read."""
    if getattr(result, "is_panel", False):  # many series: see tsrnn.report_panel
        from tsrnn.report_panel import panel_sections

        return panel_sections(
            result, history=history, models=models, data_summary=data_summary,
            command=command, baseline=baseline,
        )  # fmt: skip
    if models is None:  # the models as fitted for the last fold (training curves, params)
        models = getattr(result, "final_models", None) or None
    data_summary = private_summary(data_summary)
    command = file_names_only(command) if command else command
    ylabel = _ylabel(history, data_summary)
    head = headline(result, baseline)
    folds = result.forecasts["fold"].nunique()
    shown = min(folds, last_folds)
    curves = _histories(models)
    step = step_metric(result)
    step_label = HEADERS.get(step, step)
    blocks: list[Block] = [*head.blocks]
    blocks += [
        Block("h2", "Metrics", anchor="metrics"),
        Block("table", metrics_table(result, head.baseline)),
        Block("note", _metrics_note(result)),
    ]
    if getattr(result, "n_filled", 0):
        blocks.append(Block("note", _FILLED_NOTE.format(n=result.n_filled)))
    orders = arima_orders(result, models)
    if orders:
        listed = join_names([f"{name} {order}" for name, order in orders.items()], bold=False)
        blocks.append(Block("note", f"Orders the ARIMA models chose (last fold's fit): {listed}."))
    if head.comparison is not None:
        blocks += [
            Block("h2", f"Diebold-Mariano tests against {head.baseline}", anchor="tests"),
            Block("table", comparison_table(head.comparison)),
            Block("note", _DM_NOTE.format(test=head.comparison.attrs["test"])),
        ]
    blocks += [
        Block("h2", "Forecasts by fold", anchor="folds"),
        _plot(
            "folds",
            f"The series and each model's forecasts with {result.coverage:.0%} intervals, "
            f"last {shown} of {folds} folds (dotted lines: forecast origins)",
            lambda: plots.plot_folds(result, history, last_n=last_folds, ylabel=ylabel),
        ),
        Block("h2", "Final fold: actual vs forecast", anchor="final"),
        _plot(
            "final_fold",
            "The last fold: recent observations, the actual values and every model's forecast",
            lambda: plots.plot_final_fold(result, history, ylabel=ylabel),
        ),
        Block("h2", "Error by horizon step", anchor="steps"),
        Block(
            "pair",
            children=[
                Block("table", step_table(result)),
                _plot(
                    "error_by_step",
                    f"{step_label} at each forecast step, over all folds",
                    lambda: plots.plot_error_by_step(
                        result, step, ylabel=f"{step_label} ({ylabel})"
                    ),
                ),
            ],
        ),
        Block("h2", "Errors and interval coverage", anchor="errors"),
        Block(
            "pair",
            children=[
                _plot(
                    "errors",
                    "Errors (forecast - actual) of every fold and step: right of 0 is too high",
                    lambda: plots.plot_error_distribution(result, ylabel=ylabel),
                ),
                _plot(
                    "coverage",
                    f"Share of actual values inside the {result.coverage:.0%} prediction interval",
                    lambda: plots.plot_coverage(result),
                ),
            ],
        ),
    ]
    if curves:
        blocks += [
            Block("h2", "Training curves", anchor="training"),
            _plot(
                "training",
                "Training and validation loss per epoch (dotted line: best validation epoch)",
                lambda: plots.plot_training_curves(curves),
            ),
        ]
    blocks += [
        Block("h2", "Data", anchor="data"),
        Block("table", data_summary_table(history, data_summary)),
        Block("h2", "Reproduce this run", anchor="reproduce"),
        *reproduction_blocks(result, models, command, head.baseline),
    ]
    return blocks


_FILLED_NOTE = (
    "Left out: {n} actual value(s) that the data did not have (tsrnn filled them by the "
    "missing-value policy), so no metric, test or plot scores a forecast against them."
)
_METRICS_NOTE = (
    "Over all folds and steps. Lower is better, except bias (mean of forecast - actual: "
    "closest to 0) and coverage (closest to the nominal {coverage:.0%}). MASE divides each "
    "error by the mean of the {window} most recent in-sample {scale} errors before its "
    "fold's origin (a recent window, so the scale is that of the current level)."
)
_DM_NOTE = (
    "One loss per fold: the mean squared error over its steps. {test}. A verdict needs the "
    "two-sided p below 0.05; the sign of the statistic (negative: lower loss than the "
    "baseline) says which way."
)


def _metrics_note(result) -> str:
    m = result.season_length
    scale = "one-step naive" if m == 1 else f"seasonal naive (season length {m})"
    window = getattr(result, "mase_window", None)
    if window is None:  # a result built by hand
        from tsrnn.metrics import mase_window

        window = mase_window(m)
    return _METRICS_NOTE.format(coverage=result.coverage, scale=scale, window=window)


def _plot(key: str, caption: str, draw: Callable[[], bytes]) -> Block:
    return Block("plot", caption, anchor=key, draw=draw)


def _check_result(result) -> None:
    if not hasattr(result, "forecasts") or not hasattr(result, "metrics_by"):
        raise InputError(f"result must be a BacktestResult; got {type(result).__name__}.")


def render_html_report(
    result,
    title: str = "tsrnn backtest report",
    *,
    history: pd.Series | None = None,
    models: Mapping[str, object] | None = None,
    data_summary: Mapping | None = None,
    command: str | None = None,
    baseline: str | None = None,
    last_folds: int = 6,
) -> str:
    """Render the report of a backtest as one self-contained HTML document.

    Parameters are those of :func:`write_report`.

    Returns
    -------
    str
        The HTML text.
    """
    _check_result(result)
    require_matplotlib()
    blocks = _sections(
        result,
        history=_as_series(history),
        models=models,
        data_summary=data_summary,
        command=command,
        baseline=baseline,
        last_folds=last_folds,
    )
    images = {}
    for block in _plot_blocks(blocks):
        images[block.anchor] = "data:image/png;base64," + base64.b64encode(block.draw()).decode()
    return render_html(blocks, title, images)


def _plot_blocks(blocks: list[Block]) -> list[Block]:
    found = []
    for block in blocks:
        found += [block] if block.kind == "plot" else _plot_blocks(block.children)
    return found


def write_html_report(result, path: str | os.PathLike, **kwargs) -> None:
    """Write :func:`render_html_report` to ``path`` (atomically)."""
    text = render_html_report(result, **kwargs)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_markdown_report(
    result,
    path: str | os.PathLike,
    title: str = "tsrnn backtest report",
    *,
    history: pd.Series | None = None,
    models: Mapping[str, object] | None = None,
    data_summary: Mapping | None = None,
    command: str | None = None,
    baseline: str | None = None,
    last_folds: int = 6,
) -> list[Path]:
    """Write the report as Markdown, its figures as PNG files in ``<stem>_files/`` beside it.

    Parameters are those of :func:`write_report`.

    Returns
    -------
    list of Path
        The Markdown file, then the PNG files.
    """
    _check_result(result)
    require_matplotlib()
    path = Path(path)
    folder = path.with_name(f"{path.stem}_files")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: the folder {path.parent} does not exist.")
    blocks = _sections(
        result,
        history=_as_series(history),
        models=models,
        data_summary=data_summary,
        command=command,
        baseline=baseline,
        last_folds=last_folds,
    )
    folder.mkdir(exist_ok=True)
    images, written = {}, []
    for block in _plot_blocks(blocks):
        png, target = block.draw(), folder / f"{block.anchor}.png"
        atomic_write(target, lambda tmp, png=png: Path(tmp).write_bytes(png))
        images[block.anchor] = quote(f"{folder.name}/{target.name}")
        written.append(target)
    text = render_markdown(blocks, title, images)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return [path, *written]


def write_report(result, path: str | os.PathLike, **kwargs) -> list[Path]:
    """Write a backtest report; the suffix of ``path`` chooses HTML or Markdown.

    Parameters
    ----------
    result : BacktestResult
        What :func:`tsrnn.backtest` returned.
    path : str or path-like
        ``.html``/``.htm``: one self-contained file. ``.md``: Markdown, with the figures
        as PNG files in the folder ``<stem>_files/`` beside it.
    title : str, default="tsrnn backtest report"
    history : pd.Series, optional
        The full observed series (the backtest's ``y``): drawn behind the forecasts and
        summarised in the data section. Without it the plots show the test actuals only.
    models : dict of str to estimator, optional
        The backtest's forecasters by name (as in the result). Their non-default
        parameters and ``random_state`` seeds go into the reproduction section; fitted
        neural models' ``history_`` (or a list of epoch dicts given instead of a model)
        give the training curves.
    data_summary : dict, optional
        Extra rows for the data section (``file``, ``target``, ``units``, ``missing
        values``, ...), shown after those computed from ``history``; ``units`` also
        labels the y axes.
    command : str, optional
        The command line (or code) that ran the backtest, shown with each path cut to
        its file name (a report holds no folder names of the machine; also ``file`` and
        absolute paths in ``data_summary``).
    baseline : str, optional
        Model the others are tested against. By default ``seasonal-naive`` when the
        result has a season length above 1 and such a model is present, else ``naive``,
        else the first model.
    last_folds : int, default=6
        Folds drawn in the forecasts-by-fold figure.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        For an unknown suffix, an unknown baseline or a ``result`` of the wrong type.
    """
    suffix = Path(path).suffix.lower()
    if suffix in _HTML_SUFFIXES:
        write_html_report(result, path, **kwargs)
        return [Path(path)]
    if suffix in _MARKDOWN_SUFFIXES:
        return write_markdown_report(result, path, **kwargs)
    raise InputError(
        f"report file {str(path)!r} must end in .html, .htm or .md; got {suffix or 'no suffix'!r}."
    )
