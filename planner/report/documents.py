"""Review documents: a plan (optionally with its explanation) as a terminal table, Markdown or one
self-contained HTML page — all three rendered from one :class:`~planner.report.model.Report`
(:func:`planner.report.build.build_report`), so they show the same figures, warnings and statuses;
and the estimator view's HTML.

The HTML opens without a network: styles inline, charts inline as SVG.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

from planner.catalog.store import Catalog
from planner.insight.preview import Preview
from planner.plan_model import Plan
from planner.report.build import build_report
from planner.report.layouts import CSS, report_html, report_markdown, report_table
from planner.report.model import Report
from planner.report.render import short_variant
from planner.scenario.schema import Scenario

#: The renderers of a report, by ``--format``.
RENDERERS: dict[str, Callable[[Report], str]] = {"table": report_table, "markdown": report_markdown,
                                                  "html": report_html}


def plan_document(fmt: str, plan: Plan, scenario: Scenario, catalog: Catalog, explanation: Any = None,
                  generated_at: dt.datetime | None = None) -> str:
    """``plan`` (with ``explanation``, a :class:`planner.insight.explanation.Explanation`, when given)
    rendered as ``fmt`` (table, markdown or html)."""
    return RENDERERS[fmt](build_report(plan, scenario, catalog, explanation, generated_at))


def explanation_document(fmt: str, explanation: Any, scenario: Scenario, catalog: Catalog,
                         generated_at: dt.datetime | None = None) -> str:
    return plan_document(fmt, explanation.plan, scenario, catalog, explanation, generated_at)


def preview_html(p: Preview) -> str:
    """The estimator view as a self-contained HTML page (a table; no charts, so no matplotlib)."""
    headers = ["class", "hardware", "techniques", "TP", "batch", "TTFT ms", "TPOT ms", "GPUs", "$/h",
               "$/M output tokens"]
    rows = [[r.workload, r.hardware, short_variant(r.variant), str(r.tp), str(r.batch), f"{r.ttft_ms:,.0f}",
             f"{r.tpot_ms:,.1f}", str(r.gpus), f"{r.usd_per_hour:,.2f}", f"{r.usd_per_million_output_tokens:,.3f}"]
            for r in p.rows]
    table = ("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"
             + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
             + "</table>")
    misses = "".join(f"<li>{html.escape(f'{m.workload} on {m.hardware}: {m.reason}')}</li>" for m in p.infeasible)
    overlays = (f"<p class=\"muted\">catalog overlays: {html.escape(', '.join(p.catalog_overlays))}</p>"
                if p.catalog_overlays else "")
    title = f"{p.scenario}: {p.model}"
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)} — "
            f"whatif estimator view</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(p.note)}</p>{table}" + (f"<h2>Not feasible</h2><ul>{misses}</ul>" if misses else "")
            + f"{overlays}</body></html>\n")
