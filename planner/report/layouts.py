"""The three renderings of a :class:`~planner.report.model.Report`: terminal table (rich), Markdown
and self-contained HTML.  Each lays out :func:`planner.report.sections.sections` — the same
sections in the same order — and nothing else; the HTML adds the charts (inline SVG, drawn from the
same report) beside the sections they illustrate.
"""

from __future__ import annotations

import html

from rich.table import Table

from planner.report.model import Report
from planner.report.render import _table_text
from planner.report.sections import Section, sections

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f4f4f4}td.r{text-align:right}figure{margin:1.5em 0}.muted{color:#666}
#prices td:last-child,#inputs td:last-child{font-size:0.85em;color:#555;max-width:420px}"""


def report_table(r: Report) -> str:
    text = ""
    for s in sections(r):
        text += f"\n{s.title}\n" if s.key != "summary" else ""
        text += "".join(f"{line}\n" for line in s.lines)
        if s.headers:
            table = Table(title_justify="left")
            for i, h in enumerate(s.headers):
                table.add_column(h, justify="right" if i in s.right else "left", overflow="fold")
            for row in s.rows:
                table.add_row(*row)
            text += _table_text(table)
        text += "".join(f"{line}\n" for line in s.notes)
    return text


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_section(s: Section) -> list[str]:
    out = [f"## {s.title}" if s.key == "summary" else f"### {s.title}", ""]
    if s.lines:
        out += [f"- {_md_cell(line)}" for line in s.lines] + [""]
    if s.headers:
        out.append("| " + " | ".join(_md_cell(h) or " " for h in s.headers) + " |")
        out.append("|" + "".join("--:|" if i in s.right else "---|" for i in range(len(s.headers))))
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in s.rows]
        out.append("")
    if s.notes:
        out += [_md_cell(line) for line in s.notes] + [""]
    return out


def report_markdown(r: Report) -> str:
    lines: list[str] = []
    for s in sections(r):
        lines += _md_section(s)
    return "\n".join(lines).rstrip() + "\n"


def _html_table(s: Section) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in s.headers)
    right = ' class="r"'
    body = "".join("<tr>" + "".join(f"<td{right if i in s.right else ''}>{html.escape(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in s.rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def report_html(r: Report) -> str:
    """One self-contained page: styles and charts inline, nothing fetched from a network.  Charts
    need the ``[plot]`` extra (matplotlib); a report without charts never imports it."""
    from planner.report import report_charts

    charts = report_charts.charts_for(r)
    parts: list[str] = []
    for s in sections(r):
        tag = "h1" if s.key == "summary" else "h2"
        parts.append(f'<section id="{s.key}"><{tag}>{html.escape(s.title)}</{tag}>')
        parts += [f"<p>{html.escape(line)}</p>" for line in s.lines]
        if s.key in charts:
            parts.append(f'<figure id="{s.key}-chart">{charts[s.key]}</figure>')
        if s.headers:
            parts.append(_html_table(s))
        parts += [f'<p class="muted">{html.escape(line)}</p>' for line in s.notes]
        parts.append("</section>")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(r.title)} — "
            f"whatif report</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")
