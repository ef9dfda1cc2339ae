"""Explanation and break-even reports: terminal table, Markdown, self-contained HTML.

Formatting only — every figure is read from the result models.  The HTML is one file with the
charts inline as SVG and the styles inline: it opens without a network.
"""

from __future__ import annotations

import html

from planner.insight.explanation import Explanation
from planner.plan_model import Plan
from planner.report import charts
from planner.report.plan_view import cost_basis, cost_rows, headline, plan_markdown, plan_table

CSS = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f4f4f4}figure{margin:1.5em 0}.muted{color:#666}"""


def _m(v: float | None) -> str:
    return "-" if v is None else f"${v:,.0f}"


def explanation_lines(e: Explanation) -> list[str]:
    lines = []
    if e.saving_usd is not None:
        lines.append(f"saving against the baseline ({e.baseline_variant}, {_m(e.baseline_cost_usd)}): "
                     f"{_m(e.saving_usd)} ({e.saving_pct:.1%})")
    lines += [f"binding: {b.family} {b.subject}: {b.detail}" for b in e.binding] or ["binding: none within 5 %"]
    first = [s for s in e.shadow_prices if s.period in (0, None)]
    lines += [f"shadow price: {s.what}{f' ({s.workload}, period {s.period})' if s.workload else ''}: "
              f"{s.usd:,.2f} {s.unit} [{s.method}]" for s in first]
    lines += [f"alternative: {a.summary}" for a in e.alternatives]
    lines += [f"sensitivity ±{r.delta:.0%} {r.input}: {_m(r.cost_low_usd)} .. {_m(r.cost_high_usd)}"
              + (" — decision changes" if r.decision_changes else "")
              + ("" if r.status_low == r.status_high == "optimal" else f" ({r.status_low} / {r.status_high})")
              for r in e.sensitivity]
    lines += [f"excluded {family}: {'; '.join(items)}" for family, items in e.exclusions.items()]
    return lines


def explanation_table(e: Explanation) -> str:
    return plan_table(e.plan) + "\n".join(explanation_lines(e)) + "\n"


def explanation_markdown(e: Explanation) -> str:
    text = plan_markdown(e.plan)
    text += "\n### Why this plan\n\n" + "\n".join(f"- {line}" for line in explanation_lines(e)) + "\n"
    if e.sensitivity:
        text += "\n| input (±{:.0%}) | cost low | cost high | decision changes |\n|---|--:|--:|---|\n".format(
            e.sensitivity[0].delta)
        text += "".join(f"| {r.input} | {_m(r.cost_low_usd)} | {_m(r.cost_high_usd)} | "
                        f"{'yes' if r.decision_changes else 'no'} |\n" for r in e.sensitivity)
    return text


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(title: str, parts: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)} — "
            f"whatif plan</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")


def plan_html(p: Plan) -> str:
    """The plan alone: headline, classes, fleet and cumulative-cost charts, cost split."""
    return _page(p.scenario, _plan_parts(p))


def _plan_parts(p: Plan) -> list[str]:
    parts = [f"<h1>{html.escape(p.scenario)}: {html.escape(p.model)}</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in headline(p)]
    if p.lifetime_cost_usd is not None:
        parts.append(_table(["class", "TTFT ms (target)", "TPOT ms (target)", "quality (floor)"], [
            [c.workload, f"{c.worst_ttft_ms:,.0f} ({c.ttft_target_ms:g})", f"{c.worst_tpot_ms:,.1f} ({c.tpot_target_ms:g})",
             "-" if c.quality_score is None else f"{c.quality_score:.2f} ({c.quality_floor:.2f})"] for c in p.classes]))
        parts.append(f'<figure id="fleet">{charts.fleet_chart(p)}</figure>')
        parts.append(f'<figure id="cumulative">{charts.cumulative_cost_chart(p)}</figure>')
        if p.cost_breakdown is not None:
            parts.append("<h2>Cost (present value)</h2>" + _table(["part", "USD"], [
                [label, f"{value:,.0f}"] for label, value in cost_rows(p)])
                + f'<p class="muted">{html.escape(cost_basis(p))}</p>')
    else:
        parts += [f"<p>{html.escape(f.message)}</p>" for f in p.infeasibility]
    parts += [f'<p class="muted">warning: {html.escape(w)}</p>' for w in p.warnings]
    return parts


def explanation_html(e: Explanation) -> str:
    p = e.plan
    parts = _plan_parts(p)
    if p.lifetime_cost_usd is not None:
        parts.append("<h2>Why this plan</h2><ul>" + "".join(f"<li>{html.escape(line)}</li>"
                                                             for line in explanation_lines(e)) + "</ul>")
        if e.alternatives:
            parts.append("<h2>Alternatives</h2>" + _table(["variant", "lifetime cost", "difference", "quality"], [
                ["; ".join(a.variant_names) or "baseline", _m(a.lifetime_cost_usd), f"{a.delta_pct:+.1%}",
                 ", ".join(f"{k} {v:+.2f}" for k, v in a.quality_change.items())] for a in e.alternatives]))
        rows = [(r.input, r.cost_low_usd, r.cost_high_usd) for r in e.sensitivity
                if r.cost_low_usd is not None and r.cost_high_usd is not None]
        if rows:
            parts.append("<h2>Sensitivity</h2>" + f'<figure id="tornado">{charts.tornado_chart(rows, p.lifetime_cost_usd)}'
                         "</figure>")
    return _page(p.scenario, parts)
