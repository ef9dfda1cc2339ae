r"""Why this plan: baseline and savings, binding constraints, shadow prices, alternatives, sensitivity.

* **Baseline** — the same scenario with every technique at ``none``; the saving is its lifetime
  cost minus the plan's.
* **Binding constraints** — a served class whose TTFT/TPOT is within ``BINDING_SLACK`` of its
  target, a quality floor within ``QUALITY_SLACK_POINTS``, a quota used to the last GPU, a budget
  or power cap reached.
* **Shadow prices** — the chosen variant is fixed and the integers relaxed; the LP
  ``min Σ k_{o,p} n_{o,p}`` s.t. ``Σ_j (μ_j/s) r_{j,p} ≥ λ_{c,p}`` (``capacity_c_p``),
  ``Σ_j t_j r_{j,p} ≤ Σ A n`` (supply), ``Σ n ≤ quota_h`` (every GPU paid for, spares too, as in
  the plan's model) is solved.  The cost of one more request/s of peak demand in period ``p`` is the
  right-hand side price of ``capacity_c_p`` (for one class on one GPU type, that GPU's cost per
  period × ``t/μ`` — one replica's cost per its capacity).  A dual is that price only where the
  optimum is not degenerate — with flat demand a GPU covering several periods splits its cost
  between them arbitrarily — so every price is measured by re-solving with the right-hand side a
  step higher (:mod:`planner.insight.step_prices`): each class's demand in each period, and in every
  period (one more request/s held through the horizon); the report prints the first period's and
  the every-period figure, the JSON all.  What one more GPU of a type would save is measured the same
  way, with its quota a little higher (until the sixteenth session the quota's dual was read, and the
  quota row counted usable GPUs, ``Σ A n``, which priced an owned GPU 1/A high; until the
  seventeenth the demand duals were printed; until the nineteenth the JSON's later periods were
  duals: on the demo the 24 re-solves take 0.07 s).
  With ``plan.disaggregation`` the prefill/decode pairs of the plan's variant(s) join the capacity
  rows (:mod:`planner.insight.pair_prices`), so demand is priced at the cheaper of the two.
  The value of a quality point is found by re-solving with every floor one point lower.
  A plan with time slices (a load profile, a deferrable class or spot) is priced by the sliced LP of
  :mod:`planner.insight.slice_prices` instead: fixed GPUs held all day, elastic ones per slice, and
  the demand priced per request/s of the class's mean rate (its daily shape kept) and, for an
  interactive class, per request/s at each slice's busiest hour (until the sixteenth session such a
  plan was priced by the one-slice LP, as if its peak were held all day).
* **Alternatives** — the plan re-solved with the chosen variant excluded, then the next, …
* **Sensitivity** — the plan re-solved with each key input at ``1 ± δ`` (default 20 %): hardware
  prices, demand, growth, repeat rates, efficiency factors, electricity; cost and decision at each.
* **Service levels** — what each P99 target, replica floor, deferrable class, time-slicing and
  spot choice costs or saves (:mod:`planner.insight.service_levels`).

**What is reused** (exactly; :mod:`planner.optimize.solve_memo`).  The plan's variant screening
proves, for each single-variant model it visits, an optimum within the plan's gap or a lower bound
(a relaxation, or a search that found nothing below an incumbent cutoff ``c`` at gap ``g``: no plan
below ``c·(1 − g)``).  Excluding variants (the alternatives) or lowering the quality floors leaves
every other variant's model unchanged — the same arrays, hence the same fingerprint — so those facts
still hold there: a variant whose proven bound is at or above the re-solve's cutoff is out without
a solve, and one solved within a gap no looser than the re-solve's is taken as solved.  In the
looser-floor re-solve the plan itself is still feasible, and its proven answer is the first
incumbent, so that re-solve never reports a saving below zero from stopping within its gap above
the plan; where a path does not take that incumbent (the time-sliced one) and stops above the
plan, the saving is floored at 0 — the plan is a feasible answer of the looser floors — and its
interval reaches up to the plan less the re-solve's proven bound.  Facts from a solve stopped by a
time or node limit are not reused, so the figures do not depend on the machine's load.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import pulp
from pydantic import BaseModel, ConfigDict

from planner.catalog.store import Catalog
from planner.economics.offers import mode_offers
from planner.economics.periods import demand_of, periods_of
from planner.economics.slices import needs_slices
from planner.insight.resolve import (
    AUX_GAP_REL,
    AUX_NODE_LIMIT,
    Batch,
    Progress,
    aux_node_limit,
    aux_scenario,
    baseline_scenario,
    decision,
    has_pair_models,
    modified,
    noop,
)
from planner.insight.sensitivity import (
    DEFAULT_SENSITIVITY,
    SensitivityRow,
    collect_sensitivity,
    efficiency_band,
    sensitivity,
    sensitivity_cases,
    submit_sensitivity,
)
from planner.insight.service_levels import (
    ServiceLevel,
    collect_service_levels,
    service_level_cases,
    submit_service_levels,
)
from planner.insight.pair_prices import pair_terms
from planner.insight.pricing_columns import chosen_columns
from planner.insight.step_prices import DEMAND_STEP_RPS, demand_groups, quota_savings, step_costs
from planner.insight.slice_prices import sliced_shadow_prices
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet, build_candidates
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.planning import plan_scenario
from planner.optimize.pruning import quality_exclusions, quality_floors
from planner.optimize.solve_memo import SolveMemo
from planner.plan_model import Plan, open_bound, tp_label
from planner.scenario.schema import Scenario

#: Re-exported: the names scripts and the CLI import from here.
__all__ = ["ALTERNATIVES", "AUX_GAP_REL", "AUX_NODE_LIMIT", "DEFAULT_SENSITIVITY", "MAX_ALTERNATIVES", "Explanation",
           "SensitivityRow", "aux_scenario", "efficiency_band", "explain", "explain_steps", "lp_shadow_prices", "sensitivity"]

EXPLANATION_SCHEMA_VERSION = 2
#: A latency within this share of its target counts as binding.
BINDING_SLACK = 0.05
#: A quality score within this many points of its floor counts as binding.
QUALITY_SLACK_POINTS = 0.05
ALTERNATIVES = 3
#: The most next-best plans one explanation re-solves (the CLI's ``--alternatives`` and the API's bound).
MAX_ALTERNATIVES = 10
DEMAND = "one more request/s of peak demand"
#: the demand prices of a time-sliced plan (:mod:`planner.insight.slice_prices`)
DEMAND_MEAN = "one more request/s of mean demand, its daily shape kept"
DEMAND_AT_SLICE = "one more request/s at the busiest hour of {label}"
#: the same held through the horizon (measured: planner.insight.step_prices)
DEMAND_EVERY = "one more request/s of peak demand in every period"
DEMAND_MEAN_EVERY = "one more request/s of mean demand in every period, its daily shape kept"
DEMAND_UNIT = "USD (present value) per request/s"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Binding(_Frozen):
    family: str
    subject: str
    detail: str


class ShadowPrice(_Frozen):
    what: str
    workload: str | None
    period: int | None
    usd: float
    unit: str
    method: str  # lp-dual | lp-re-solve (the pricing LP, a right-hand side raised: step_prices) | re-solve (the MILP)
    status: str = "optimal"  # of the re-solve (lp-dual: the LP); not optimal: usd is the saving found
    bound_usd: float | None = None  # not optimal: the largest saving the re-solve's proven bound allows


class Alternative(_Frozen):
    variant_names: list[str]
    status: str
    lifetime_cost_usd: float | None
    bound_usd: float | None  # proven lower bound when not optimal: the cost lies in [bound, lifetime]
    delta_usd: float | None
    delta_pct: float | None
    quality_change: dict[str, float]
    summary: str


class Explanation(_Frozen):
    schema_version: int = EXPLANATION_SCHEMA_VERSION
    kind: str = "explanation"
    plan: Plan
    baseline_cost_usd: float | None
    baseline_status: str
    baseline_bound_usd: float | None  # when the baseline is not proven optimal: its cost lies in [bound, cost]
    baseline_variant: str
    saving_usd: float | None
    saving_pct: float | None
    binding: list[Binding]
    shadow_prices: list[ShadowPrice]
    alternatives: list[Alternative]
    sensitivity: list[SensitivityRow]
    exclusions: dict[str, list[str]]  # family -> a few examples with reasons
    service_levels: list[ServiceLevel] = []  # what each service level / load-following choice costs or saves
    resolve_gap_rel: float = AUX_GAP_REL  # every re-solve is optimal within this gap, or shows its interval
    resolve_node_limit: int = AUX_NODE_LIMIT


def binding_constraints(scenario: Scenario, plan: Plan, owned_kw: Mapping[str, float]) -> list[Binding]:
    """Targets, floors and caps the plan reaches (within ``BINDING_SLACK``): latency, quality, quotas,
    the budget and the owned fleet's power cap (``owned_kw``: facility kW of one owned GPU of
    each hardware, as the model's power rows count it)."""
    out: list[Binding] = []
    for c in plan.classes:
        if c.worst_ttft_ms >= (1 - BINDING_SLACK) * c.ttft_target_ms:
            out.append(Binding(family="latency", subject=c.workload,
                               detail=f"TTFT {c.worst_ttft_ms:,.0f} ms of {c.ttft_target_ms:.10g} ms"
                                      + reached_by(plan, c.workload, "ttft_ms")))
        if c.worst_tpot_ms >= (1 - BINDING_SLACK) * c.tpot_target_ms:
            out.append(Binding(family="latency", subject=c.workload,
                               detail=f"TPOT {c.worst_tpot_ms:,.1f} ms of {c.tpot_target_ms:.10g} ms"
                                      + reached_by(plan, c.workload, "tpot_ms")))
        if c.quality_score is not None and c.quality_floor is not None and \
                c.quality_score - c.quality_floor <= QUALITY_SLACK_POINTS:
            out.append(Binding(family="quality", subject=c.workload,
                               detail=f"quality {c.quality_score:.2f} at its floor {c.quality_floor:.2f}"))
    for slug, quota in scenario.market.quota_gpus.items():
        used = gpus_in_service_at_peak(plan, slug)
        if used >= quota:
            out.append(Binding(family="quota", subject=slug, detail=f"{used} of {quota} GPUs in service"))
    cap = scenario.market.power_cap_kw
    if cap is not None:
        drawn = max((sum(f.gpus_in_service * owned_kw.get(f.hardware, 0.0) for f in plan.fleet
                         if f.mode == "buy" and f.period == p) for p in range(plan.periods)), default=0.0)
        if drawn >= (1 - BINDING_SLACK) * cap:
            out.append(Binding(family="power", subject="owned fleet", detail=f"{drawn:,.1f} kW of {cap:g} kW"))
    if scenario.market.budget_usd and plan.lifetime_cost_usd and \
            plan.lifetime_cost_usd >= (1 - BINDING_SLACK) * scenario.market.budget_usd:
        out.append(Binding(family="budget", subject="lifetime cost",
                           detail=f"${plan.lifetime_cost_usd:,.0f} of ${scenario.market.budget_usd:,.0f}"))
    return out


def reached_by(plan: Plan, workload: str, latency: str) -> str:
    """Which deployment of ``workload`` reaches its worst ``latency`` (``ttft_ms`` or ``tpot_ms``) and
    how much of the class it serves there, e.g. `` (a100-80gb TP1 b8 in month 15, <1% of its traffic)``:
    a target is binding for the worst line, which may be a side deployment carrying a sliver (until the
    nineteenth session the line did not say so, and read as the class's main deployment)."""
    lines = [s for s in plan.serving if s.workload == workload]
    if not lines:
        return ""
    worst = max(getattr(s, latency) for s in lines)
    line = max((s for s in lines if getattr(s, latency) == worst), key=lambda s: (s.traffic_share, -s.period))
    share = "<1%" if line.traffic_share < 0.005 else f"{line.traffic_share:.0%}"
    return (f" ({line.hardware} {tp_label(line.tp, line.expert_parallel)} b{line.batch} in month "
            f"{line.period * plan.period_months}, "
            f"{share} of its traffic{' in its slice' if line.slice is not None else ''})")


def gpus_in_service_at_peak(plan: Plan, slug: str) -> int:
    """The most GPUs of ``slug`` in service at once, as a quota row counts them: in each period and
    time slice, the lines held all day (``slice`` None) plus the elastic lines held in that slice.
    Elastic lines of different slices are never in service together (summing them over-stated a
    4-slice plan's use by the elastic GPUs of three slices)."""
    used = 0
    for p in range(plan.periods):
        lines = [f for f in plan.fleet if f.hardware == slug and f.period == p]
        fixed = sum(f.gpus_in_service for f in lines if f.slice is None)
        by_slice: Counter[int] = Counter()
        for f in lines:
            if f.slice is not None:
                by_slice[f.slice] += f.gpus_in_service
        used = max(used, fixed + max(by_slice.values(), default=0))
    return used


def owned_kw_per_gpu(scenario: Scenario, catalog: Catalog, cs: CandidateSet) -> dict[str, float]:
    """Facility kW one owned GPU of each hardware draws against ``market.power_cap_kw`` (its offer's)."""
    offers, _ = mode_offers(scenario.market, scenario.horizon.terminal_value, catalog, list(cs.hardware),
                            periods_of(scenario.horizon))
    return {cs.hardware[o.hardware].slug: o.power_kw for o in offers if o.mode == "buy"}


def lp_shadow_prices(scenario: Scenario, catalog: Catalog, cs: CandidateSet, plan: Plan) -> list[ShadowPrice]:
    """Demand prices of the pricing LP (module docstring) for the plan's variant(s), and what one more GPU
    allowed by a binding quota saves (:mod:`planner.insight.step_prices`); a plan with time slices
    is priced by the sliced LP."""
    if needs_slices(scenario.workload, scenario.market.modes):
        return _sliced_prices(scenario, catalog, cs, plan)
    prob = _pricing_lp(scenario, catalog, cs, plan)

    def solve() -> bool:
        return solvers.run(prob, "highs", catalog.defaults.solver_time_limit_s, 0.0, mip=False,
                           threads=scenario.solver.threads).status == solvers.SolveStatus.OPTIMAL

    if not solve():
        return []
    duals: dict[tuple[int, int], float] = {}
    quotas: dict[tuple[int, int], list[str]] = {}
    for name, row in prob.constraints.items():
        family, *idx = name.split("_")
        if family == "capacity":
            duals[int(idx[0]), int(idx[1])] = (row.pi or 0.0) * USD_PER_KUSD
        elif family == "quota":
            quotas[int(idx[0]), int(idx[1])] = [name]
    base = float(pulp.value(prob.objective))
    saved = quota_savings(prob, quotas, solve, base)  # reads the optimum's row values: before any other re-solve
    measured = step_costs(prob, demand_groups(duals, lambda c, p: [f"capacity_{c}_{p}"]), solve, base,
                          DEMAND_STEP_RPS)
    return demand_lines(duals, measured, cs.workloads, (DEMAND, DEMAND_EVERY)) + [
        _quota_price(cs, h, p, usd) for (h, p), usd in saved.items() if abs(usd) > 1e-9]


def demand_lines(duals: Mapping[tuple[int, int], float], measured: Mapping[tuple[int, int | str], float],
                 workloads: Sequence[str], what: tuple[str, str]) -> list[ShadowPrice]:
    """Per class (``duals``: per class and period), each period's demand price as measured by a
    re-solve (``measured[c, p]``, :func:`planner.insight.step_prices.demand_groups`), then one more
    request/s in every period (``measured[c, "every"]``); ``what`` names the two kinds of line (a
    horizon of one period has no every-period line: it is the first).  Where a re-solve was not
    optimal the period keeps its LP dual (one valid price where the optimum is degenerate, method
    ``lp-dual``) and the every-period line is left out."""
    out: list[ShadowPrice] = []
    for c in sorted({c for c, _ in duals}):
        periods = sorted(p for k, p in duals if k == c)
        for p in periods:
            usd = measured.get((c, p))
            out.append(ShadowPrice(what=what[0], workload=workloads[c], period=p,
                                   usd=duals[c, p] if usd is None else usd, unit=DEMAND_UNIT,
                                   method="lp-dual" if usd is None else "lp-re-solve"))
        if (c, "every") in measured and len(periods) > 1:  # one period: the first period's line says it
            out.append(ShadowPrice(what=what[1], workload=workloads[c], period=None,
                                   usd=measured[c, "every"], unit=DEMAND_UNIT, method="lp-re-solve"))
    return out


def _pricing_lp(scenario: Scenario, catalog: Catalog, cs: CandidateSet, plan: Plan) -> pulp.LpProblem:
    """The one-slice pricing LP of the module docstring, over the plan's variant(s)' columns."""
    periods = periods_of(scenario.horizon)
    demand = demand_of(scenario.workload, scenario.horizon, periods)
    offers, _ = mode_offers(scenario.market, scenario.horizon.terminal_value, catalog, list(cs.hardware), periods)
    columns = chosen_columns(scenario, cs, plan)
    prob = pulp.LpProblem("shadow_prices", pulp.LpMinimize)
    P = periods.count
    r = {(j, p): prob.add_variable(f"r_{j:05d}_{p:03d}", 0) for j in range(len(columns)) for p in range(P)}
    pairs = pair_terms(prob, scenario, catalog, cs, columns, {o.hardware for o in offers}, P)  # disaggregation
    hw_used = {c.hardware for c in columns} | {h for h, _ in pairs.gpus}
    usable = [o for o in offers if o.hardware in hw_used]
    # nothing enters service before its lead time (a purchase in period 0 once priced the demo's
    # period-0 capacity at a bought H200's quarter instead of a rented one's: 22-35 % low)
    n = {(k, p): prob.add_variable(f"n_{k:03d}_{p:03d}", 0, None if o.may_start(p) else 0)
         for k, o in enumerate(usable) for p in range(P)}
    prob += pulp.lpSum(o.cost_usd[p] / USD_PER_KUSD * n[k, p] for k, o in enumerate(usable) for p in range(P))
    by_class: dict[int, list[int]] = defaultdict(list)
    for j, col in enumerate(columns):
        by_class[col.workload].append(j)
    served = {(v.index, c): v.profiles[w].served_query_fraction for v in cs.variants for c, w in enumerate(cs.workloads)}
    for c in sorted(set(by_class) | {c for c, _ in pairs.served}):
        for p in range(P):
            prob += pulp.LpAffineExpression(
                [(r[j, p], columns[j].capacity_rps / served[(columns[j].variant, c)]) for j in by_class[c]]
                + pairs.served[c, p]) >= demand.peak_rps[c, p], f"capacity_{c}_{p}"
    for h in sorted(hw_used):
        for p in range(P):
            paid = [(o, n[k, q]) for k, o in enumerate(usable) if o.hardware == h for q in range(P) if o.covers[q, p]]
            supply = pulp.lpSum(o.supply_factor * var for o, var in paid)  # owned GPUs less their spares
            used = pulp.LpAffineExpression([(r[j, p], float(col.tp)) for j, col in enumerate(columns)
                                            if col.hardware == h] + pairs.gpus[h, p])
            prob += used - supply <= 0, f"supply_{h}_{p}"
            quota = scenario.market.quota_gpus.get(cs.hardware[h].slug)
            if quota is not None:  # every GPU paid for counts, spares too, as in the plan's model
                prob += pulp.lpSum(var for _, var in paid) <= quota, f"quota_{h}_{p}"
    return prob


def _quota_price(cs: CandidateSet, h: int, p: int, usd: float) -> ShadowPrice:
    return ShadowPrice(what=f"one more {cs.hardware[h].slug} GPU allowed", workload=None, period=p,
                       usd=usd, unit="USD saved (present value) per GPU", method="lp-re-solve")


def _sliced_prices(scenario: Scenario, catalog: Catalog, cs: CandidateSet, plan: Plan) -> list[ShadowPrice]:
    """The sliced LP's prices: per class and period the mean-rate price, each followed by its slices'
    busiest-hour prices (interactive classes), then the class's mean rate in every period; per
    hardware and period a binding quota's, each measured by a re-solve
    (:mod:`planner.insight.step_prices`; a dual where the re-solve was not optimal)."""
    duals = sliced_shadow_prices(scenario, catalog, cs, plan)
    if duals is None:
        return []
    out: list[ShadowPrice] = []
    for line in demand_lines(duals.mean_demand, duals.mean_measured, cs.workloads, (DEMAND_MEAN, DEMAND_MEAN_EVERY)):
        out.append(line)
        c, p = cs.workloads.index(line.workload or ""), line.period
        for s in range(len(duals.labels)):
            if p is None or (c, p, s) not in duals.slice_peak:
                continue
            measured = duals.peak_measured.get((c, p, s))
            out.append(ShadowPrice(what=DEMAND_AT_SLICE.format(label=duals.labels[s]), workload=line.workload,
                                   period=p, usd=duals.slice_peak[c, p, s] if measured is None else measured,
                                   unit=DEMAND_UNIT, method="lp-dual" if measured is None else "lp-re-solve"))
    out += [_quota_price(cs, h, p, usd) for (h, p), usd in sorted(duals.quota.items()) if abs(usd) > 1e-9]
    return out


def _alternatives(scenario: Scenario, catalog: Catalog, cs: CandidateSet, plan: Plan, count: int,
                  progress: Progress = noop, memo: SolveMemo | None = None) -> list[Alternative]:
    """The next-best plans, each with every variant of the plan and of the alternatives before it
    excluded; ``memo`` carries what the plan's screening (and each alternative's) proved about the
    single-variant models, which excluding variants leaves unchanged (module docstring).  Listed cheapest
    first: a re-solve proven within the auxiliary gap may return a plan dearer than the next one finds
    (the demo listed +4.2 % before +3.9 % until the twenty-first session, when they were in solve order)."""
    out: list[Alternative] = []
    excluded = set(plan.variant_names)
    chosen_quality = {c.workload: c.quality_score for c in plan.classes}
    for _ in range(count):
        alt = plan_scenario(aux_scenario(scenario), catalog, candidates=cs, exclude_variants=frozenset(excluded),
                            memo=memo)
        progress("alternative")
        if alt.lifetime_cost_usd is None or plan.lifetime_cost_usd is None:
            break
        delta = alt.lifetime_cost_usd - plan.lifetime_cost_usd
        quality = {c.workload: (c.quality_score or 0.0) - (chosen_quality.get(c.workload) or 0.0) for c in alt.classes}
        q_text = ", ".join(f"{k} quality {v:+.2f}" for k, v in quality.items() if abs(v) > 1e-9) or "same quality"
        out.append(Alternative(variant_names=alt.variant_names, status=alt.status, lifetime_cost_usd=alt.lifetime_cost_usd,
                               bound_usd=open_bound(alt),
                               delta_usd=delta, delta_pct=delta / plan.lifetime_cost_usd, quality_change=quality,
                               summary=f"{'; '.join(alt.variant_names) or 'baseline'}: {delta / plan.lifetime_cost_usd:+.1%}"
                                       f", {q_text}"))
        excluded.update(alt.variant_names)
    return sorted(out, key=lambda a: math.inf if a.lifetime_cost_usd is None else a.lifetime_cost_usd)  # stable


def explain_steps(scenario: Scenario, catalog: Catalog, alternatives: int, sensitivity_delta: float | None) -> int:
    """How many solves :func:`explain` runs (for a progress bar)."""
    n_sens = len(sensitivity_cases(scenario, catalog, sensitivity_delta)) if sensitivity_delta else 0
    return 3 + alternatives + 2 * n_sens + len(service_level_cases(scenario, catalog))


def plan_alone(scenario: Scenario) -> bool:
    """Whether :func:`explain` solves the plan before its re-solves start (rather than beside them).

    The plan is the scenario's own solve, limited by time.  Where it proves its optimum inside the
    limit (the co-located demo, 4 s) the answer does not depend on the CPU it gets, and solving it
    beside the workers keeps both cores busy: solved first, the demo's explanation took 43.9–50.7 s
    against 40.1–51.8 s (three interleaved pairs, 2026-12-06, the same JSON), the second core idle
    while the plan's single proof runs.  Disaggregated pair models do not close inside the limit
    (the demo stops at 60 s with a gap of about 7 %), so their plan *is* what the time limit allows,
    and beside two workers on two cores its start search once got too little CPU to finish: the
    explanation showed $1,750,344 (gap 17.7 %) where ``whatif plan`` gives $1,643,159.  Solved
    alone first it gets the machine ``whatif plan`` gets.  The same holds for two variants per plan
    with time slices (:func:`~planner.insight.resolve.has_pair_models`: the demo in 4 slices stops at
    60 s with a gap of about 10 %).
    """
    return has_pair_models(scenario)


def explain(scenario: Scenario, catalog: Catalog, *, alternatives: int = ALTERNATIVES,
            sensitivity_delta: float | None = DEFAULT_SENSITIVITY, progress: Progress = noop,
            workers: int = 1) -> Explanation:
    """Everything in the module docstring.  The independent re-solves run on ``workers`` spawned
    processes (one solver thread each, also for ``workers = 1``: :class:`~planner.insight.resolve.Batch`,
    so the figures do not depend on the count): the baseline at once, while this process solves the plan
    (first, alone, where :func:`plan_alone`); the sensitivity ends and service levels once the plan is
    known, each given it so that none comes back dearer than the plan's deployments re-priced
    (:mod:`planner.optimize.plan_hint`; until the twenty-first session they started with the baseline and
    could: electricity +20 % read $1,807,197 and "fleet" against the plan re-priced, $1,803,006); then
    this process solves the alternatives and the quality-floor re-solve (each reuses what the ones before
    proved: the module docstring)."""
    cs = build_candidates(scenario, catalog)
    cases = sensitivity_cases(scenario, catalog, sensitivity_delta) if sensitivity_delta else []
    memo = SolveMemo()  # what the plan's screening proves, reused by the alternatives and the quality re-solve
    plan = plan_scenario(scenario, catalog, candidates=cs, memo=memo) if plan_alone(scenario) else None
    with Batch(workers, progress) as batch:
        base_job = batch.submit(aux_scenario(baseline_scenario(scenario)), catalog, "baseline")
        if plan is None:
            plan = plan_scenario(scenario, catalog, candidates=cs, memo=memo)
        progress("plan")
        hint = plan if plan.lifetime_cost_usd is not None else None  # no what-if dearer than keeping the plan
        sensitivity_jobs = submit_sensitivity(batch, cases, hint)
        level_jobs = submit_service_levels(batch, scenario, catalog, hint)
        examples: dict[str, list[str]] = defaultdict(list)
        excluded = [*cs.exclusions, *quality_exclusions(
            cs, quality_floors(scenario.workload, scenario.quality, cs.base_score), scenario.plan.max_variants)]
        for e in excluded:
            if len(examples[e.family]) < 3:
                examples[e.family].append(f"{e.subject}: {e.reason}")
        counts = Counter(e.family for e in excluded)
        exclusions = {f"{family} ({counts[family]})": items for family, items in examples.items()}
        if plan.lifetime_cost_usd is None:
            base = batch.result(base_job)
            return Explanation(plan=plan, baseline_cost_usd=base.lifetime_cost_usd, baseline_status=base.status,
                               baseline_bound_usd=open_bound(base), baseline_variant=decision(base),
                               saving_usd=None, saving_pct=None, binding=[], shadow_prices=[], alternatives=[],
                               sensitivity=[], exclusions=exclusions, resolve_node_limit=aux_node_limit(scenario))
        prices = lp_shadow_prices(scenario, catalog, cs, plan)
        found = _alternatives(scenario, catalog, cs, plan, alternatives, progress, memo)
        if cs.base_score is not None:  # the same single-variant models with more variants allowed: the memo
            relaxed = plan_scenario(aux_scenario(_one_point_looser(scenario)), catalog, memo=memo, hint=plan)
            progress("quality floor - 1 point")
            if relaxed.lifetime_cost_usd is not None:
                relaxed_bound = open_bound(relaxed)
                # the plan meets the looser floors too: a re-solve stopped above it still saves at least 0
                prices.append(ShadowPrice(what="one quality point lower floor (every class)", workload=None,
                                          period=None, usd=max(0.0, plan.lifetime_cost_usd - relaxed.lifetime_cost_usd),
                                          unit="USD saved (present value)", method="re-solve", status=relaxed.status,
                                          bound_usd=None if relaxed_bound is None else plan.lifetime_cost_usd - relaxed_bound))
        base = batch.result(base_job)
        rows = collect_sensitivity(batch, cases, sensitivity_jobs, plan)
        levels = collect_service_levels(batch, plan, level_jobs)
    saving = (base.lifetime_cost_usd - plan.lifetime_cost_usd if base.lifetime_cost_usd is not None else None)
    return Explanation(
        plan=plan, baseline_cost_usd=base.lifetime_cost_usd, baseline_status=base.status,
        baseline_bound_usd=open_bound(base), baseline_variant=decision(base), saving_usd=saving,
        saving_pct=saving / base.lifetime_cost_usd if saving is not None and base.lifetime_cost_usd else None,
        binding=binding_constraints(scenario, plan, owned_kw_per_gpu(scenario, catalog, cs)), shadow_prices=prices, alternatives=found, sensitivity=rows,
        exclusions=exclusions, service_levels=levels, resolve_node_limit=aux_node_limit(scenario))


def _one_point_looser(scenario: Scenario) -> Scenario:
    """Every quality floor one point lower (the scenario's and each class's own)."""
    return modified(scenario, [f"quality.max_drop={scenario.quality.max_drop + 1}"] + [
        f"workload.{w.name}.max_quality_drop={w.max_quality_drop + 1}" for w in scenario.workload
        if w.max_quality_drop is not None])
