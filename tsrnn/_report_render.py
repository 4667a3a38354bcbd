"""Render report blocks (see :mod:`tsrnn._report_parts`) as HTML or as Markdown."""

from __future__ import annotations

import datetime as _dt
import html
import re

from tsrnn._report_parts import Block, Table
from tsrnn._version import __version__

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_TAGS = {"better": "better", "worse": "worse", "same": "no difference"}

_CSS = """
:root{--ink:#1d2330;--muted:#5b6475;--line:#e3e6ec;--head:#f3f4f7;--best:#dff2dc;--accent:#1f77b4}
*{box-sizing:border-box}
body{margin:0;background:#eef0f3;color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:22px 32px 48px;background:#fff;min-height:100vh}
h1{font-size:26px;line-height:1.25;margin:0 0 2px}
.meta{color:var(--muted);font-size:13px;margin:0 0 10px}
nav{font-size:13px;margin:0 0 14px}nav a{color:var(--accent);text-decoration:none;margin-right:14px}
.summary{border-left:5px solid var(--accent);background:#f2f7fc;padding:10px 18px;border-radius:4px}
.summary p{margin:6px 0}.headline{font-size:17px}
.warning{border-left:4px solid #c62828;background:#fdecea;padding:4px 10px;color:#7f1d1d}
ul.verdicts{list-style:none;padding:0;margin:6px 0 8px}ul.verdicts li{margin:4px 0}
.tag{display:inline-block;min-width:96px;text-align:center;font-size:12px;font-weight:600;
border-radius:10px;padding:1px 8px;margin-right:10px}
.tag.better{background:#d4efcf;color:#1b5e20}.tag.worse{background:#fbdada;color:#8e1b1b}
.tag.same{background:#e6e8ee;color:#3d4350}
h2{font-size:19px;margin:30px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:14px;margin:8px 0}
th,td{padding:4px 12px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
thead th{background:var(--head);font-weight:600}
th:first-child,td:first-child{text-align:left}tbody th{font-weight:600}
table.text td,table.text thead th{text-align:left;white-space:normal}
td.best{background:var(--best);font-weight:700}
.note{color:var(--muted);font-size:13px;max-width:90ch;margin:4px 0}
figure{margin:10px 0}figure img{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:13px;margin-top:2px}
pre{background:var(--head);padding:10px 14px;overflow-x:auto;font-size:13px;border-radius:4px;
white-space:pre-wrap}
.pair{display:flex;gap:28px;align-items:flex-start;flex-wrap:wrap}.pair figure{flex:1 1 480px}
"""


def _inline(text: str) -> str:
    return _BOLD.sub(r"<b>\1</b>", html.escape(text))


def _html_table(table: Table) -> str:
    cells, best = table.cells, table.best
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [table.index_label, *cells.columns])
    rows = []
    for i, (label, row) in enumerate(cells.iterrows()):
        tds = [f'<th scope="row">{html.escape(str(label))}</th>']
        for j, value in enumerate(row):
            css = ' class="best"' if best is not None and bool(best.iat[i, j]) else ""
            tds.append(f"<td{css}>{html.escape(str(value))}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    css = ' class="text"' if table.text else ""
    return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _html_block(block: Block, images: dict[str, str]) -> str:
    kind = block.kind
    if kind == "h2":
        return f'<h2 id="{block.anchor}">{html.escape(str(block.content))}</h2>'
    if kind in ("p", "headline", "note", "warning"):
        css = f' class="{kind}"' if kind != "p" else ""
        return f"<p{css}>{_inline(str(block.content))}</p>"
    if kind == "verdicts":
        items = "".join(
            f'<li><span class="tag {k}">{_TAGS[k]}</span>{_inline(text)}</li>'
            for k, text in block.items
        )
        return f'<ul class="verdicts">{items}</ul>'
    if kind == "table":
        return _html_table(block.content)
    if kind == "pre":
        return f"<pre>{html.escape(str(block.content))}</pre>"
    if kind == "plot":
        caption = html.escape(str(block.content))
        return (
            f'<figure id="plot-{block.anchor}"><img src="{images[block.anchor]}" '
            f'alt="{caption}"><figcaption>{caption}</figcaption></figure>'
        )
    if kind == "pair":
        inner = "".join(_html_block(child, images) for child in block.children)
        return f'<div class="pair">{inner}</div>'
    raise ValueError(f"unknown report block kind {kind!r}")


def _meta() -> str:
    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"Generated {now} by tsrnn {__version__}"


def render_html(blocks: list[Block], title: str, images: dict[str, str]) -> str:
    """One HTML document; everything before the first heading is the summary box."""
    first_h2 = next((i for i, b in enumerate(blocks) if b.kind == "h2"), len(blocks))
    summary = "".join(_html_block(b, images) for b in blocks[:first_h2])
    body = "\n".join(_html_block(b, images) for b in blocks[first_h2:])
    nav = "".join(
        f'<a href="#{b.anchor}">{html.escape(str(b.content))}</a>' for b in blocks if b.kind == "h2"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body><main>"
        f'<h1>{html.escape(title)}</h1><p class="meta">{html.escape(_meta())}</p>'
        f'<nav>{nav}</nav><section class="summary">{summary}</section>\n{body}\n'
        "</main></body></html>\n"
    )


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> str:
    cells, best = table.cells, table.best
    header = [table.index_label or " ", *map(str, cells.columns)]
    align = ":--" if table.text else "--:"
    lines = [
        "| " + " | ".join(_md_escape(h) for h in header) + " |",
        "| :-- | " + " | ".join([align] * len(cells.columns)) + " |",
    ]
    for i, (label, row) in enumerate(cells.iterrows()):
        values = [
            f"**{_md_escape(v)}**" if best is not None and bool(best.iat[i, j]) else _md_escape(v)
            for j, v in enumerate(row)
        ]
        lines.append("| " + " | ".join([_md_escape(label), *values]) + " |")
    return "\n".join(lines)


def _md_block(block: Block, images: dict[str, str]) -> str:
    kind = block.kind
    if kind == "h2":
        return f"## {block.content}"
    if kind in ("p", "headline", "note"):
        return str(block.content)
    if kind == "warning":
        return f"> **Warning:** {block.content}"
    if kind == "verdicts":
        return "\n".join(f"- {_TAGS[k]}: {text}" for k, text in block.items)
    if kind == "table":
        return _md_table(block.content)
    if kind == "pre":
        return f"```\n{block.content}\n```"
    if kind == "plot":
        return f"![{block.content}]({images[block.anchor]})\n\n*{block.content}*"
    if kind == "pair":
        return "\n\n".join(_md_block(child, images) for child in block.children)
    raise ValueError(f"unknown report block kind {kind!r}")


def render_markdown(blocks: list[Block], title: str, images: dict[str, str]) -> str:
    """GitHub-flavoured Markdown; ``images`` maps plot keys to relative PNG paths."""
    parts = [f"# {title}", f"*{_meta()}*"]
    parts += [_md_block(block, images) for block in blocks]
    return "\n\n".join(parts) + "\n"
