"""Render a Plan as a terminal table or Markdown.  Formatting only: every figure comes from the Plan."""

from __future__ import annotations

from collections import defaultdict

from rich.table import Table

from planner.plan_model import FleetEntry, Plan
from planner.report.render import _table_text, short_variant


def _money(v: float | None) -> str:
    return "-" if v is None else f"${v:,.0f}"


def _fleet_key(f: FleetEntry) -> str:
    return f"{f.hardware} {f.mode}" + (f" ({f.provider})" if f.provider else "")


def _fleet_matrix(plan: Plan) -> tuple[list[str], list[int], dict[tuple[str, int], int]]:
    keys = sorted({_fleet_key(f) for f in plan.fleet})
    periods = sorted({f.period for f in plan.fleet})
    cell: dict[tuple[str, int], int] = defaultdict(int)
    for f in plan.fleet:
        cell[(_fleet_key(f), f.period)] += f.gpus_in_service
    return keys, periods, cell


#: Labels of the cost breakdown's parts, in the order a review reads them.
COST_PARTS = (("one_time_usd", "one-time (techniques)"), ("rent_usd", "rent (on-demand)"), ("reserved_usd", "reserved"),
              ("capex_usd", "owned: cards"), ("server_usd", "owned: servers"), ("network_usd", "owned: network"),
              ("energy_usd", "owned: energy"), ("hosting_usd", "owned: colocation"),
              ("operations_usd", "owned: operations"), ("residual_credit_usd", "owned: resale at the end"),
              ("technique_recurring_usd", "technique running costs"))


def cost_rows(plan: Plan) -> list[tuple[str, float]]:
    """The non-zero parts of the lifetime cost (present value), labelled; the resale credit negative."""
    b = plan.cost_breakdown
    if b is None:
        return []
    values = b.model_dump()
    values["residual_credit_usd"] = -values["residual_credit_usd"]
    return [(label, float(values[key])) for key, label in COST_PARTS if values[key]]


def cost_basis(plan: Plan) -> str:
    """One sentence on how the money is counted (shown in every rendering)."""
    horizon_end = ("owned hardware and reservations charged their per-period annuity for the months inside the "
                   "horizon (no end-of-horizon credit)" if plan.terminal_value == "annuity" else
                   "cash as paid: owned hardware credited its resale value at the end, reservation months past "
                   "the horizon charged in full")
    return (f"present value at the scenario's discount rate; {horizon_end}; $/M figures are levelized "
            f"(lifetime PV / discounted volume)")


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
    if plan.catalog_overlays:
        lines.append("catalog overlays: " + ", ".join(plan.catalog_overlays))
    if plan.lifetime_cost_usd is None:
        lines += [f"  {f.family}: {f.message}" for f in plan.infeasibility] or [f"  {plan.message}"]
        return lines
    months = plan.periods * plan.period_months
    lines.append(f"lifetime cost {_money(plan.lifetime_cost_usd)} (present value, {months} months, terminal value: "
                 f"{plan.terminal_value}): one-time {_money(plan.one_time_cost_usd)}, recurring "
                 f"{_money(plan.recurring_cost_usd)}; levelized ${plan.cost_per_million_queries_usd:,.2f} per million "
                 f"queries, ${plan.cost_per_million_tokens_usd or 0.0:,.4f} per million tokens")
    lines.append("variant: " + ("; ".join(short_variant(n) for n in plan.variant_names) or "baseline"))
    if plan.training_cost_usd:
        when = (f"month {plan.inference_overtakes_training_month:.1f}" if plan.inference_overtakes_training_month
                is not None else "not within the horizon")
        lines.append(f"base model training {_money(plan.training_cost_usd)} = {plan.training_share_of_total:.0%} of "
                     f"training + serving (present values); cumulative serving cost (present value) overtakes it: "
                     f"{when}")
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
    costs = Table(title="cost (present value)", title_justify="left")
    costs.add_column("part")
    costs.add_column("USD", justify="right")
    for label, value in cost_rows(plan):
        costs.add_row(label, f"{value:,.0f}")
    text += _table_text(classes, fleet, costs) + f"basis: {cost_basis(plan)}\n"
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
    lines += ["", "Cost (present value):", "", "| part | USD |", "|---|--:|"]
    lines += [f"| {label} | {value:,.0f} |" for label, value in cost_rows(plan)]
    lines += ["", f"Basis: {cost_basis(plan)}."]
    lines += [""] + [f"- warning: {w}" for w in plan.warnings] if plan.warnings else []
    return "\n".join(lines) + "\n"
