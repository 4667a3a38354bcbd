"""Self-contained HTML reports of backtests (no external resources)."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd

from tsrnn.io import atomic_write

__all__ = ["write_html_report", "render_html_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}th,td{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:right}th:first-child,td:first-child{text-align:left}
.best{font-weight:bold;background:#e8f4e8}.verdict{font-size:1.2em;margin:1em 0}
"""


def _table(frame: pd.DataFrame, highlight_min: bool = False) -> str:
    shown = frame.copy()
    best = shown.select_dtypes("number").idxmin() if highlight_min else pd.Series(dtype=object)
    head = "".join(
        f"<th>{html.escape(str(c))}</th>" for c in [shown.index.name or ""] + list(shown.columns)
    )
    body = []
    for index, row in shown.iterrows():
        cells = [f"<td>{html.escape(str(index))}</td>"]
        for column, value in row.items():
            text = f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))
            css = ' class="best"' if highlight_min and best.get(column) == index else ""
            cells.append(f"<td{css}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html_report(result, title: str = "tsrnn backtest report") -> str:
    """Render the report of a :class:`~tsrnn.backtest_result.BacktestResult` as HTML text."""
    best = result.best_model("mase") if "mase" in result.metric_names else result.models[0]
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="verdict">Best model by MASE: <b>{html.escape(best)}</b></p>',
        "<h2>Metrics</h2>",
        _table(result.metrics, highlight_min=True),
    ]
    if len(result.models) > 1 and result.forecasts["fold"].nunique() >= 3:
        comparison = result.compare()
        parts += [
            "<h2>Diebold-Mariano tests</h2>",
            "<ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in comparison["verdict"]) + "</ul>",
            _table(comparison),
        ]
    parts += [
        "<h2>Error by horizon step (MAE)</h2>",
        _table(result.metrics_by("step")["mae"].unstack("model")),
    ]
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )


def write_html_report(result, path: str | os.PathLike, **kwargs) -> None:
    """Write :func:`render_html_report` to ``path`` atomically."""
    text = render_html_report(result, **kwargs)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
