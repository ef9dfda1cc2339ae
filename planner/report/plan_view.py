"""Render a Plan as a terminal table or Markdown.  Formatting only: every figure comes from the Plan."""

from __future__ import annotations

from collections import defaultdict

from rich.table import Table

from planner.plan_model import Plan
from planner.report.render import _table_text, short_variant


def _money(v: float | None) -> str:
    return "-" if v is None else f"${v:,.0f}"


def _fleet_matrix(plan: Plan) -> tuple[list[str], list[int], dict[tuple[str, int], int]]:
    keys = sorted({f"{f.hardware} {f.mode}" for f in plan.fleet})
    periods = sorted({f.period for f in plan.fleet})
    cell: dict[tuple[str, int], int] = defaultdict(int)
    for f in plan.fleet:
        cell[(f"{f.hardware} {f.mode}", f.period)] += f.gpus_in_service
    return keys, periods, cell


def headline(plan: Plan, timings: bool = True) -> list[str]:
    """Summary lines; ``timings=False`` leaves out solve seconds (stable text for documents)."""
    solver = plan.solver
    parts = [solver.name] if solver else []
    if solver and timings:
        parts.append(f"{plan.timings.get('solve_s', 0.0):.2f} s")
    if solver and timings and solver.gap is not None:
        parts.append(f"gap {solver.gap:.3%}")
    how = f" ({', '.join(parts)})" if parts else ""
    lines = [f"{plan.scenario}: {plan.model} — {plan.status}{how}"]
    if plan.lifetime_cost_usd is None:
        lines += [f"  {f.family}: {f.message}" for f in plan.infeasibility] or [f"  {plan.message}"]
        return lines
    months = plan.periods * plan.period_months
    lines.append(f"lifetime cost {_money(plan.lifetime_cost_usd)} (present value, {months} months): one-time "
                 f"{_money(plan.one_time_cost_usd)}, recurring {_money(plan.recurring_cost_usd)}; "
                 f"${plan.cost_per_million_queries_usd:,.2f} per million queries")
    lines.append("variant: " + ("; ".join(short_variant(n) for n in plan.variant_names) or "baseline"))
    if plan.training_cost_usd:
        when = (f"month {plan.inference_overtakes_training_month:.1f}" if plan.inference_overtakes_training_month
                is not None else "not within the horizon")
        lines.append(f"base model training {_money(plan.training_cost_usd)} = {plan.training_share_of_total:.0%} of "
                     f"training + serving; cumulative serving spend overtakes it: {when}")
    return lines


def plan_table(plan: Plan) -> str:
    text = "\n".join(headline(plan)) + "\n"
    if plan.lifetime_cost_usd is None:
        return text + "".join(f"warning: {w}\n" for w in plan.warnings)
    classes = Table(title="classes", title_justify="left")
    for col in ("class", "TTFT ms (target)", "TPOT ms (target)", "quality (floor)", "first period"):
        classes.add_column(col)
    for c in plan.classes:
        first = [s for s in plan.serving if s.workload == c.workload and s.period == 0]
        where = ", ".join(f"{s.hardware} TP{s.tp} {'measured' if s.measured else f'b{s.batch}'} x{s.replicas}"
                          + (f" ({s.traffic_share:.0%})" if len(first) > 1 else "") for s in first)
        q = "-" if c.quality_score is None else f"{c.quality_score:.2f} ({c.quality_floor:.2f})"
        classes.add_row(c.workload, f"{c.worst_ttft_ms:,.0f} ({c.ttft_target_ms:g})",
                        f"{c.worst_tpot_ms:,.1f} ({c.tpot_target_ms:g})", q, where)
    keys, periods, cell = _fleet_matrix(plan)
    fleet = Table(title="GPUs in service per period (month)", title_justify="left")
    fleet.add_column("hardware mode")
    for p in periods:
        fleet.add_column(str(p * plan.period_months), justify="right")
    for k in keys:
        fleet.add_row(k, *(str(cell.get((k, p), "")) for p in periods))
    b = plan.cost_breakdown
    costs = Table(title="cost (present value)", title_justify="left")
    costs.add_column("part")
    costs.add_column("USD", justify="right")
    if b is not None:
        for label, value in (("one-time (techniques)", b.one_time_usd), ("rent (on-demand)", b.rent_usd),
                             ("reserved", b.reserved_usd), ("capex", b.capex_usd), ("energy", b.energy_usd),
                             ("hosting", b.hosting_usd), ("residual value", -b.residual_credit_usd),
                             ("technique running costs", b.technique_recurring_usd)):
            if value:
                costs.add_row(label, f"{value:,.0f}")
    text += _table_text(classes, fleet, costs)
    s = plan.solver
    if s is not None:
        text += (f"solver: {s.variables} variables ({s.integer_variables} integer), {s.constraints} constraints after "
                 f"pruning {s.pruning.get('deployments_evaluated', 0):,} deployments to {s.pruning.get('columns', 0)} "
                 f"columns and {s.pruning.get('variants_kept', '-')} variant(s)\n")
    return text + "".join(f"warning: {w}\n" for w in plan.warnings)


def trace_text(plan: Plan) -> str:
    lines = []
    for variant, classes in plan.trace.items():
        for workload, steps in classes.items():
            lines.append(f"trace {variant} / {workload}:")
            lines += [f"  {s.technique}:{s.option} {s.field}: {s.before} -> {s.after}  [{s.source}]" for s in steps]
    return "\n".join(lines) + "\n" if lines else ""


def plan_markdown(plan: Plan) -> str:
    lines = [f"## {plan.scenario}: {plan.model}", ""] + [f"- {line}" for line in headline(plan, timings=False)] + [""]
    if plan.lifetime_cost_usd is None:
        return "\n".join(lines) + "\n"
    lines += ["| class | TTFT ms (target) | TPOT ms (target) | quality (floor) |", "|---|--:|--:|--:|"]
    for c in plan.classes:
        q = "-" if c.quality_score is None else f"{c.quality_score:.2f} ({c.quality_floor:.2f})"
        lines.append(f"| {c.workload} | {c.worst_ttft_ms:,.0f} ({c.ttft_target_ms:g}) | "
                     f"{c.worst_tpot_ms:,.1f} ({c.tpot_target_ms:g}) | {q} |")
    keys, periods, cell = _fleet_matrix(plan)
    lines += ["", "GPUs in service, by month:", "",
              "| hardware mode | " + " | ".join(str(p * plan.period_months) for p in periods) + " |",
              "|---|" + "--:|" * len(periods)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(str(cell.get((k, p), "")) for p in periods) + " |")
    return "\n".join(lines) + "\n"
