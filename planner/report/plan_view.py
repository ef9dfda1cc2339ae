"""Plan pieces every rendering shares (headline, cost rows and basis, fleet matrix) and the
``--trace`` text.  Formatting only: every figure comes from the Plan; the documents themselves are
built as one report (:mod:`planner.report.build`)."""

from __future__ import annotations

from collections import defaultdict

from planner.economics.providers import DERIVED_PREFIX
from planner.plan_model import FleetEntry, Plan, open_bound
from planner.report.render import money, money_interval, short_variant, signed_money


#: The fleet label's suffix of elastic capacity held per time slice, shown at its busiest slice.
BUSIEST_SLICE = ", busiest slice"


def _fleet_key(f: FleetEntry) -> str:
    """``hardware mode (provider)``; a price derived from the provider's on-demand row (no published
    reserved or spot price: the catalog's discount applied) reads ``(provider, derived)``, so a derived
    spot line does not name a spot product the provider may not sell."""
    derived = ", derived" if f.price_source.startswith(DERIVED_PREFIX) else ""
    return (f"{f.hardware} {f.mode}" + (f" ({f.provider}{derived})" if f.provider else "")
            + ("" if f.slice is None else BUSIEST_SLICE))


def fleet_matrix(plan: Plan) -> tuple[list[str], list[int], dict[tuple[str, int], int]]:
    """GPUs in service per (hardware mode, period).  Elastic capacity held per time slice (on-demand,
    spot in a plan with slices) is shown as held in the period's busiest slice — the one holding the most
    elastic GPUs of every line together — labelled so; each line's own busiest slice would add GPUs held
    at different hours (22 stacked where no slice held more than 20, until the twenty-first session)."""
    keys = sorted({_fleet_key(f) for f in plan.fleet})
    periods = sorted({f.period for f in plan.fleet})
    cell: dict[tuple[str, int], int] = defaultdict(int)
    per_slice: dict[tuple[str, int, int], int] = defaultdict(int)
    held: dict[tuple[int, int], int] = defaultdict(int)  # (period, slice) -> elastic GPUs of every line
    for f in plan.fleet:
        if f.slice is None:
            cell[(_fleet_key(f), f.period)] += f.gpus_in_service
        else:
            per_slice[(_fleet_key(f), f.period, f.slice)] += f.gpus_in_service
            held[(f.period, f.slice)] += f.gpus_in_service
    busiest = {p: max((s for q, s in held if q == p), key=lambda s: (held[(p, s)], -s)) for p, _ in held}
    for (key, period, slice_), gpus in per_slice.items():
        if slice_ == busiest[period]:
            cell[(key, period)] = gpus
    return keys, periods, cell


#: Labels of the cost breakdown's parts, in the order a review reads them.
COST_PARTS = (("one_time_usd", "one-time (techniques)"), ("rent_usd", "rent (on-demand, spot)"), ("reserved_usd", "reserved"),
              ("capex_usd", "owned: cards"), ("server_usd", "owned: servers"), ("network_usd", "owned: network"),
              ("energy_usd", "owned: energy"), ("hosting_usd", "owned: colocation"),
              ("operations_usd", "owned: operations"), ("residual_credit_usd", "owned: resale at the end"),
              ("technique_recurring_usd", "technique running costs"), ("spot_restart_usd", "spot: replacing reclaimed GPUs"))


def cost_rows(plan: Plan) -> list[tuple[str, float]]:
    """The non-zero parts of the lifetime cost (present value), labelled; the resale credit negative."""
    b = plan.cost_breakdown
    if b is None:
        return []
    values = b.model_dump()
    values["residual_credit_usd"] = -values["residual_credit_usd"]
    rented = sorted({f.mode for f in plan.fleet if f.mode in ("on-demand", "spot")})
    labels = {**dict(COST_PARTS), "rent_usd": f"rent ({', '.join(rented)})" if rented else "rent"}
    return [(labels[key], float(values[key])) for key, _ in COST_PARTS if values[key]]


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
    bound = open_bound(plan)
    cost = (money(plan.lifetime_cost_usd) if bound is None
            else f"{money_interval(bound, plan.lifetime_cost_usd)} ({plan.status}: [proven bound, best found])")
    settled = plan.horizon_end_settlement_usd
    recurring = (plan.recurring_cost_usd or 0.0) - settled  # recurring_cost_usd holds the settlement too
    split = f"recurring {money(recurring)}" + (f", horizon end {signed_money(settled)}" if abs(settled) >= 0.5 else "")
    lines.append(f"lifetime cost {cost} (present value at {plan.discount_rate_per_year:.1%} per year, {months} months, "
                 "terminal value: "
                 f"{plan.terminal_value}): one-time {money(plan.one_time_cost_usd)}, {split}; "
                 f"levelized ${plan.cost_per_million_queries_usd:,.2f} per million "
                 f"queries, ${plan.cost_per_million_tokens_usd or 0.0:,.4f} per million tokens")
    if bound is not None and plan.solver is not None and plan.solver.gap is not None:
        lines.append(f"not proven optimal: the optimum lies in {money_interval(bound, plan.lifetime_cost_usd)} "
                     f"(gap {plan.solver.gap:.3%}; {plan.message})")
    lines.append("variant: " + ("; ".join(short_variant(n) for n in plan.variant_names) or "baseline"))
    if plan.training_cost_usd:
        month = plan.inference_overtakes_training_month
        when = ("never (no serving spend)" if month is None else f"month {month:.1f}"
                + (f", past the {plan.periods * plan.period_months}-month horizon (extrapolated)"
                   if plan.inference_overtakes_training_extrapolated else ""))
        estimated = " (estimated from the catalog's training tokens)" if plan.training_cost_source == "catalog" else ""
        lines.append(f"base model training {money(plan.training_cost_usd)}{estimated} = "
                     f"{plan.training_share_of_total:.0%} of "
                     f"training + serving (present values); cumulative serving cost (present value) overtakes it: "
                     f"{when}")
    return lines


def trace_text(plan: Plan) -> str:
    lines = []
    for variant, classes in plan.trace.items():
        for workload, steps in classes.items():
            lines.append(f"trace {variant} / {workload}:")
            lines += [f"  {s.technique}:{s.option} {s.field}: {s.before} -> {s.after}  [{s.source}]" for s in steps]
    return "\n".join(lines) + "\n" if lines else ""
