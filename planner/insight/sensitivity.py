"""Sensitivity: the plan re-solved with each key input at ``1 ± δ`` (default 20 %) — hardware
prices, demand, growth, repeat rates, electricity, owned hardware's life, resale and failure rate, spot
GPUs' preemption rate — and the efficiency factors over their held-out error band; cost, decision and
proof status at each end.  The failure-rate row appears where the market buys hardware (the repair share
``market.spares`` charges), the preemption row where it rents spot GPUs (the reclaims
``market.spot_reclaims`` charges): the two conventions a FinOps review asks about (both were missing
until the twenty-first session).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from planner.catalog.schema import EfficiencyRow
from planner.catalog.store import Catalog
from planner.insight.resolve import Batch, Progress, aux_scenario, decision, modified, noop
from planner.plan_model import Plan, open_bound
from planner.scenario.schema import Scenario, Workload

DEFAULT_SENSITIVITY = 0.20
#: The largest ±share an input is moved by (a factor 1 − delta must stay positive; `--sensitivity`'s range).
MAX_SENSITIVITY_DELTA = 0.9
#: The highest repeat rate a sensitivity end moves a rate to (the schema requires < 1), unless the
#: rate is already above it (then halfway to 1: ``moved_repeat_rate``).
REPEAT_RATE_CAP = 0.99
#: One input: its label, the factor applied at the low and the high end, and how to apply one.
Case = tuple[str, tuple[float, float], Callable[[float], tuple[Scenario, Catalog]]]


class SensitivityRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    input: str
    delta: float
    cost_low_usd: float | None
    cost_high_usd: float | None
    decision_low: str
    decision_high: str
    # each end against the plan's own decision: "same", "fleet" (the same variants, another hardware or
    # mode mix), "variant" (another technique combination), or the end's status when it has no plan
    change_low: str
    change_high: str
    decision_changes: bool  # either end differs from the plan
    status_low: str
    status_high: str
    bound_low_usd: float | None  # proven lower bound of the low case when not optimal: [bound, cost]
    bound_high_usd: float | None


def _scaled_efficiency(catalog: Catalog, factor: float) -> Catalog:
    rows = {k: EfficiencyRow(**{**v.model_dump(), "compute": min(1.0, v.compute * factor),
                                "memory": min(1.0, v.memory * factor)}) for k, v in catalog.efficiency.items()}
    return dataclasses.replace(catalog, efficiency=rows)


def efficiency_band(scenario: Scenario, catalog: Catalog) -> tuple[float, float, float, float] | None:
    r"""Efficiency scale factors spanning the held-out error band of the rows the scenario's hardware
    uses: with speed errors ``e`` from P10 ``e₁₀`` (lowest over the rows) to P90 ``e₉₀`` (highest),
    the published speed is the estimate × ``1/(1+e)``, so the low case scales efficiency by
    ``1/(1+e₉₀)`` and the high case by ``1/(1+e₁₀)``.  The rows are those the scenario's hardware
    may run with: its own (native formats) and, per precision its quantization options allow (every
    precision when the scenario does not list them), the most specific row of that precision — every
    row :func:`_scaled_efficiency` moves that a plan may use (until 2026-12-07 the hardware's own rows
    alone: B200's FP4 row, +44 % at P90, was left out of the band).  Returns (low, high, e₁₀, e₉₀),
    or None when no such row has a band (then the flat ±delta applies)."""
    slugs = [slug for slug in scenario.market.hardware or list(catalog.hardware) if slug in catalog.hardware]
    listed = scenario.techniques.get("quantization")
    precisions = ["*", *(p for p in (listed if listed is not None else catalog.precisions) if p in catalog.precisions)]
    rows = [catalog.efficiency_for(slug, precision) for slug in slugs for precision in precisions]
    banded = [r for r in rows if r.error_p10 is not None and r.error_p90 is not None]
    if not banded:
        return None
    p10 = min(r.error_p10 for r in banded if r.error_p10 is not None)
    p90 = max(r.error_p90 for r in banded if r.error_p90 is not None)
    return 1.0 / (1.0 + p90), 1.0 / (1.0 + p10), p10, p90


def sensitivity_cases(scenario: Scenario, catalog: Catalog, delta: float) -> list[Case]:
    """Every input varied, with its two factors (module docstring)."""
    d = catalog.defaults
    kwh_usd = scenario.market.electricity_usd_per_kwh
    kwh_usd = d.electricity_usd_per_kwh if kwh_usd is None else kwh_usd  # a scenario's own 0 stays 0 (free power)
    cases: list[tuple[str, Callable[[float], tuple[Scenario, Catalog]]]] = [
        ("hardware prices", lambda f: (modified(scenario, [f"market.price_scale={scenario.market.price_scale * f!r}"]),
                                       catalog)),
        ("demand (queries/day, every class)", lambda f: (modified(scenario, [
            f"workload.{w.name}.queries_per_day={w.queries_per_day * f!r}" for w in scenario.workload]), catalog)),
        ("efficiency factors (compute and memory)", lambda f: (scenario, _scaled_efficiency(catalog, f))),
        ("electricity price", lambda f: (modified(scenario, [
            f"market.electricity_usd_per_kwh={kwh_usd * f!r}"]),
            catalog)),
    ]
    if "buy" in scenario.market.modes:  # owned hardware's life sets its annuity (and book value)
        life = scenario.market.useful_life_years or d.hardware_useful_life_years
        cases.append(("useful life of owned hardware", lambda f: (modified(
            scenario, [f"market.useful_life_years={life * f!r}"]), catalog)))
        if scenario.horizon.terminal_value == "salvage":  # the resale credit exists only in the cash view
            resale = scenario.market.resale_fraction
            resale = d.resale_fraction if resale is None else resale
            cases.append(("resale fraction at the horizon's end", lambda f: (modified(
                scenario, [f"market.resale_fraction={min(1.0, resale * f)!r}"]), catalog)))
        failures = scenario.market.annual_failure_rate
        failures = d.annual_failure_rate if failures is None else failures
        if failures > 0:  # the repair share the owned fleet carries (market.spares)
            cases.append(("failure rate of owned GPUs", lambda f: (modified(
                scenario, [f"market.annual_failure_rate={min(1.0, failures * f)!r}"]), catalog)))
    if "spot" in scenario.market.modes:  # the reclaims spot GPUs are charged for (market.spot_reclaims)
        preemption = scenario.market.spot_preemption_per_hour
        preemption = d.spot_preemption_per_hour if preemption is None else preemption
        if preemption > 0:
            cases.append(("spot preemption per hour", lambda f: (modified(
                scenario, [f"market.spot_preemption_per_hour={min(1.0, preemption * f)!r}"]), catalog)))
    if scenario.horizon.growth_per_year > 0:
        cases.append(("growth per year", lambda f: (modified(
            scenario, [f"horizon.growth_per_year={scenario.horizon.growth_per_year * f!r}"]), catalog)))
    def repeat_rate_case(w: Workload) -> Callable[[float], tuple[Scenario, Catalog]]:
        return lambda f: (modified(scenario, [
            f"workload.{w.name}.repeat_rate={moved_repeat_rate(w.repeat_rate, f)!r}"]), catalog)

    for w in scenario.workload:
        if w.repeat_rate > 0:
            cases.append((f"repeat rate ({w.name})", repeat_rate_case(w)))
    factors = {label: (1 - delta, 1 + delta) for label, _ in cases}
    band = efficiency_band(scenario, catalog)
    if band is not None:  # the held-out error band of the rows the plan may use, not a flat ±delta
        label = f"efficiency factors (held-out P10..P90 speed error {band[2]:+.0%}..{band[3]:+.0%})"
        k = next(i for i, (name, _) in enumerate(cases) if name.startswith("efficiency factors"))
        cases[k] = (label, cases[k][1])
        factors[label] = (band[0], band[1])
    return [(label, factors[label], make) for label, make in cases]


def moved_repeat_rate(rate: float, factor: float) -> float:
    """``rate × factor``, kept below 1 (the schema's bound): at most ``REPEAT_RATE_CAP`` or, for a rate
    already above it, halfway from the rate to 1 — so the high end never moves the rate down (a cap of
    0.99 alone turned 0.995 × 1.2 into 0.99, a "high" end below the plan's own rate)."""
    return min(rate * factor, max(REPEAT_RATE_CAP, (rate + 1.0) / 2.0))


def submit_sensitivity(batch: Batch, cases: list[Case], plan: Plan | None = None) -> list[tuple[int, int]]:
    """Queue both ends of every case; the (low, high) indices in ``batch``.  Given the ``plan``, an end
    it still serves is never dearer than its deployments re-priced (:mod:`planner.optimize.plan_hint`):
    a re-solve at the auxiliary gap could otherwise come back dearer than keeping the decision."""
    out = []
    for label, (low, high), make in cases:
        ends = []
        for f in (low, high):
            sc, cat = make(f)
            ends.append(batch.submit(aux_scenario(sc), cat, f"sensitivity: {label} x{f:g}", plan))
        out.append((ends[0], ends[1]))
    return out


def change_from(plan: Plan | None, end: Plan) -> str:
    """What ``end`` changes of ``plan``'s decision: "same", "fleet" (same variants, another set of
    hardware/mode lines), "variant", or ``end``'s status when it has no plan.  A reference without a
    plan (None, or infeasible) has no decision to change: any planned ``end`` reads "same".  Variants
    and fleet lines compare as sets: the same ones listed in another order are the same decision."""
    if end.lifetime_cost_usd is None:
        return end.status
    if plan is None or plan.lifetime_cost_usd is None:
        return "same"
    if sorted(end.variant_names) != sorted(plan.variant_names):
        return "variant"
    return "same" if _fleet_lines(end) == _fleet_lines(plan) else "fleet"


def _fleet_lines(plan: Plan) -> set[tuple[str, str]]:
    """The (hardware, mode) pairs of ``plan``'s fleet: what :func:`decision` prints after the variants."""
    return {(line.hardware, line.mode) for line in plan.fleet}


def collect_sensitivity(batch: Batch, cases: list[Case], handles: list[tuple[int, int]],
                        plan: Plan | None = None) -> list[SensitivityRow]:
    """The rows, each end's decision compared with ``plan``'s (None: with the other end's)."""
    rows = []
    for (label, factors, _make), (i_low, i_high) in zip(cases, handles, strict=True):
        low, high = batch.result(i_low), batch.result(i_high)
        if plan is None:
            change_low, change_high = "same", change_from(low, high)
        else:
            change_low, change_high = change_from(plan, low), change_from(plan, high)
        rows.append(SensitivityRow(input=label, delta=max(abs(f - 1.0) for f in factors),
                                   cost_low_usd=low.lifetime_cost_usd, cost_high_usd=high.lifetime_cost_usd,
                                   decision_low=decision(low), decision_high=decision(high),
                                   change_low=change_low, change_high=change_high,
                                   decision_changes=(change_low, change_high) != ("same", "same"),
                                   status_low=low.status, status_high=high.status,
                                   bound_low_usd=open_bound(low), bound_high_usd=open_bound(high)))
    return rows


def sensitivity(scenario: Scenario, catalog: Catalog, delta: float, progress: Progress = noop,
                workers: int = 1) -> list[SensitivityRow]:
    """The sensitivity rows alone, re-solved on ``workers`` spawned processes (:class:`Batch`)."""
    cases = sensitivity_cases(scenario, catalog, delta)
    with Batch(workers, progress) as batch:
        return collect_sensitivity(batch, cases, submit_sensitivity(batch, cases))
