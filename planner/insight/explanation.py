r"""Why this plan: baseline and savings, binding constraints, shadow prices, alternatives, sensitivity.

* **Baseline** — the same scenario with every technique at ``none``; the saving is its lifetime
  cost minus the plan's.
* **Binding constraints** — a served class whose TTFT/TPOT is within ``BINDING_SLACK`` of its
  target, a quality floor within ``QUALITY_SLACK_POINTS``, a quota used to the last GPU, a budget
  or power cap reached.
* **Shadow prices** — the chosen variant is fixed and the integers relaxed; the LP
  ``min Σ k_{o,p} n_{o,p}`` s.t. ``Σ_j (μ_j/s) r_{j,p} ≥ λ_{c,p}`` (``capacity_c_p``),
  ``Σ_j t_j r_{j,p} ≤ Σ A n`` (supply), ``Σ A n ≤ quota_h`` is solved and its duals read: the dual
  of ``capacity_c_p`` is the present-value cost of one more request/s of peak demand in period
  ``p`` (for one class on one GPU type it is that GPU's cost per period × ``t/μ`` — one replica's
  cost per its capacity); the dual of a quota row is what one more GPU of that type would save.
  The value of a quality point is found by re-solving with every floor one point lower.
* **Alternatives** — the plan re-solved with the chosen variant excluded, then the next, …
* **Sensitivity** — the plan re-solved with each key input at ``1 ± δ`` (default 20 %): hardware
  prices, demand, growth, repeat rates, efficiency factors, electricity; cost and decision at each.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from collections.abc import Callable

import pulp
from pydantic import BaseModel, ConfigDict

from planner.catalog.schema import EfficiencyRow
from planner.catalog.store import Catalog
from planner.economics.offers import mode_offers
from planner.economics.periods import demand_of, periods_of
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet, build_candidates
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.planning import plan_scenario
from planner.optimize.pruning import prune, quality_floors
from planner.plan_model import Plan
from planner.scenario.loading import apply_override, validate_scenario
from planner.scenario.schema import Scenario, Workload
from techniques.base import NONE_OPTION
from techniques.registry import default_registry

EXPLANATION_SCHEMA_VERSION = 2
#: A latency within this share of its target counts as binding.
BINDING_SLACK = 0.05
#: A quality score within this many points of its floor counts as binding.
QUALITY_SLACK_POINTS = 0.05
DEFAULT_SENSITIVITY = 0.20
ALTERNATIVES = 3
#: Relative gap of the auxiliary re-solves (baseline, alternatives, sensitivity): the plan itself
#: keeps the scenario's gap; what-ifs at ±20 % do not need a tighter proof than 0.5 %, and every
#: figure they print carries its status and, when not proven, its interval.
AUX_GAP_REL = 5e-3
#: Branch-and-bound nodes per auxiliary MILP (HiGHS ``mip_max_nodes``).  This, not a time limit,
#: is what stops a hard re-solve, so the same scenario gives the same explanation under any
#: machine load; a re-solve stopped by it is shown as ``[proven bound, best found]``.
AUX_NODE_LIMIT = 2_000
#: A safety net only (a machine this slow would change the answer): well above any re-solve's
#: time at ``AUX_NODE_LIMIT`` on a 2-core machine.
AUX_TIME_LIMIT_S = 300.0
Progress = Callable[[str], None]


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
    method: str  # lp-dual | re-solve
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


class SensitivityRow(_Frozen):
    input: str
    delta: float
    cost_low_usd: float | None
    cost_high_usd: float | None
    decision_low: str
    decision_high: str
    decision_changes: bool
    status_low: str
    status_high: str
    bound_low_usd: float | None  # proven lower bound of the low case when not optimal: [bound, cost]
    bound_high_usd: float | None


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
    resolve_gap_rel: float = AUX_GAP_REL  # every re-solve is optimal within this gap, or shows its interval
    resolve_node_limit: int = AUX_NODE_LIMIT


def open_bound(plan: Plan) -> float | None:
    """A plan's proven lower bound when it is not proven optimal (None when optimal or unknown)."""
    if plan.status == "optimal" or plan.lifetime_cost_usd is None or plan.solver is None or plan.solver.gap is None:
        return None
    return plan.lifetime_cost_usd * (1.0 - plan.solver.gap)


def modified(scenario: Scenario, assignments: list[str]) -> Scenario:
    data = json.loads(scenario.model_dump_json())
    for a in assignments:
        apply_override(data, a)
    return validate_scenario(data)


def baseline_scenario(scenario: Scenario) -> Scenario:
    names = [t.name for t in default_registry().ordered()]
    data = json.loads(scenario.model_dump_json())
    data["techniques"] = {n: [NONE_OPTION] for n in names}
    return validate_scenario(data)


def _decision(plan: Plan) -> str:
    if plan.lifetime_cost_usd is None:
        return plan.status
    hardware = sorted({f"{f.hardware} {f.mode}" for f in plan.fleet})
    return f"{'; '.join(plan.variant_names) or 'baseline'} on {', '.join(hardware)}"


def aux_scenario(scenario: Scenario) -> Scenario:
    """The scenario with the auxiliary gap (``AUX_GAP_REL``) unless its own gap is looser."""
    changes = []
    if scenario.solver.gap_rel is None or scenario.solver.gap_rel < AUX_GAP_REL:
        changes.append(f"solver.gap_rel={AUX_GAP_REL!r}")
    if scenario.solver.time_limit_s is None or scenario.solver.time_limit_s > AUX_TIME_LIMIT_S:
        changes.append(f"solver.time_limit_s={AUX_TIME_LIMIT_S!r}")
    if scenario.solver.node_limit is None or scenario.solver.node_limit > AUX_NODE_LIMIT:
        changes.append(f"solver.node_limit={AUX_NODE_LIMIT!r}")
    return modified(scenario, changes) if changes else scenario


def _noop(label: str) -> None:
    return None


def binding_constraints(scenario: Scenario, plan: Plan) -> list[Binding]:
    out: list[Binding] = []
    for c in plan.classes:
        if c.worst_ttft_ms >= (1 - BINDING_SLACK) * c.ttft_target_ms:
            out.append(Binding(family="latency", subject=c.workload,
                               detail=f"TTFT {c.worst_ttft_ms:,.0f} ms of {c.ttft_target_ms:g} ms"))
        if c.worst_tpot_ms >= (1 - BINDING_SLACK) * c.tpot_target_ms:
            out.append(Binding(family="latency", subject=c.workload,
                               detail=f"TPOT {c.worst_tpot_ms:,.1f} ms of {c.tpot_target_ms:g} ms"))
        if c.quality_score is not None and c.quality_floor is not None and \
                c.quality_score - c.quality_floor <= QUALITY_SLACK_POINTS:
            out.append(Binding(family="quality", subject=c.workload,
                               detail=f"quality {c.quality_score:.2f} at its floor {c.quality_floor:.2f}"))
    for slug, quota in scenario.market.quota_gpus.items():
        used = max((sum(f.gpus_in_service for f in plan.fleet if f.hardware == slug and f.period == p)
                    for p in range(plan.periods)), default=0)
        if used >= quota:
            out.append(Binding(family="quota", subject=slug, detail=f"{used} of {quota} GPUs in service"))
    if scenario.market.budget_usd and plan.lifetime_cost_usd and \
            plan.lifetime_cost_usd >= (1 - BINDING_SLACK) * scenario.market.budget_usd:
        out.append(Binding(family="budget", subject="lifetime cost",
                           detail=f"${plan.lifetime_cost_usd:,.0f} of ${scenario.market.budget_usd:,.0f}"))
    return out


def lp_shadow_prices(scenario: Scenario, catalog: Catalog, cs: CandidateSet, plan: Plan) -> list[ShadowPrice]:
    """Duals of the pricing LP (module docstring) for the plan's variant(s)."""
    periods, chosen = periods_of(scenario.horizon), set(plan.variant_names)
    demand = demand_of(scenario.workload, scenario.horizon, periods)
    floors = quality_floors(scenario.workload, scenario.quality, cs.base_score)
    offers, _ = mode_offers(scenario.market, scenario.horizon.terminal_value, catalog, list(cs.hardware), periods)
    columns, _ = prune(cs, scenario.plan.max_variants, floors)
    columns = [c for c in columns if cs.variants[c.variant].name in chosen]
    prob = pulp.LpProblem("shadow_prices", pulp.LpMinimize)
    P = periods.count
    r = {(j, p): prob.add_variable(f"r_{j:05d}_{p:03d}", 0) for j in range(len(columns)) for p in range(P)}
    hw_used = {c.hardware for c in columns}
    usable = [o for o in offers if o.hardware in hw_used]
    n = {(k, p): prob.add_variable(f"n_{k:03d}_{p:03d}", 0) for k in range(len(usable)) for p in range(P)}
    prob += pulp.lpSum(o.cost_usd[p] / USD_PER_KUSD * n[k, p] for k, o in enumerate(usable) for p in range(P))
    by_class: dict[int, list[int]] = defaultdict(list)
    for j, col in enumerate(columns):
        by_class[col.workload].append(j)
    served = {(v.index, c): v.profiles[w].served_query_fraction for v in cs.variants for c, w in enumerate(cs.workloads)}
    for c, js in by_class.items():
        for p in range(P):
            prob += pulp.lpSum(columns[j].capacity_rps / served[(columns[j].variant, c)] * r[j, p] for j in js) \
                >= demand.peak_rps[c, p], f"capacity_{c}_{p}"
    for h in hw_used:
        for p in range(P):
            supply = pulp.lpSum(n[k, q] for k, o in enumerate(usable) if o.hardware == h for q in range(P)
                                if o.covers[q, p])
            prob += pulp.lpSum(columns[j].tp * r[j, p] for j, col in enumerate(columns) if col.hardware == h) \
                - supply <= 0, f"supply_{h}_{p}"
            quota = scenario.market.quota_gpus.get(cs.hardware[h].slug)
            if quota is not None:
                prob += supply <= quota, f"quota_{h}_{p}"
    outcome = solvers.run(prob, "highs", catalog.defaults.solver_time_limit_s, 0.0, mip=False,
                          threads=scenario.solver.threads)
    if outcome.status != solvers.SolveStatus.OPTIMAL:
        return []
    out: list[ShadowPrice] = []
    for name, row in prob.constraints.items():
        family, *idx = name.split("_")
        pi = (row.pi or 0.0) * USD_PER_KUSD
        if family == "capacity":
            c, p = int(idx[0]), int(idx[1])
            out.append(ShadowPrice(what="one more request/s of peak demand", workload=cs.workloads[c], period=p,
                                   usd=pi, unit="USD (present value) per request/s", method="lp-dual"))
        elif family == "quota" and abs(pi) > 1e-9:
            h, p = int(idx[0]), int(idx[1])
            out.append(ShadowPrice(what=f"one more {cs.hardware[h].slug} GPU allowed", workload=None, period=p,
                                   usd=-pi, unit="USD saved (present value) per GPU", method="lp-dual"))
    return out


def _alternatives(scenario: Scenario, catalog: Catalog, cs: CandidateSet, plan: Plan, count: int,
                  progress: Progress = _noop) -> list[Alternative]:
    out: list[Alternative] = []
    excluded = set(plan.variant_names)
    chosen_quality = {c.workload: c.quality_score for c in plan.classes}
    for _ in range(count):
        alt = plan_scenario(aux_scenario(scenario), catalog, candidates=cs, exclude_variants=frozenset(excluded))
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
    return out


def _scaled_efficiency(catalog: Catalog, factor: float) -> Catalog:
    rows = {k: EfficiencyRow(**{**v.model_dump(), "compute": min(1.0, v.compute * factor),
                                "memory": min(1.0, v.memory * factor)}) for k, v in catalog.efficiency.items()}
    return dataclasses.replace(catalog, efficiency=rows)


def _plan_job(scenario_json: str, catalog: Catalog) -> Plan:
    """One re-solve in a worker process (one solver thread: workers share the machine's cores)."""
    data = json.loads(scenario_json)
    data.setdefault("solver", {})["threads"] = 1
    return plan_scenario(validate_scenario(data), catalog)


def _solve_all(jobs: list[tuple[Scenario, Catalog]], workers: int, labels: list[str], progress: Progress) -> list[Plan]:
    """Plan every (scenario, catalog) — in this process, or in ``workers`` spawned processes."""
    if workers <= 1 or len(jobs) < 2:
        out = []
        for (sc, cat), label in zip(jobs, labels, strict=True):
            out.append(plan_scenario(sc, cat))
            progress(label)
        return out
    import concurrent.futures as cf

    from planner.insight.pools import interruptible, local_pool, stop_pool

    results: list[Plan | None] = [None] * len(jobs)
    with interruptible():  # SIGTERM stops like Ctrl-C; no worker outlives this command
        pool = local_pool(workers)
        try:
            futures = {pool.submit(_plan_job, sc.model_dump_json(), cat): i for i, (sc, cat) in enumerate(jobs)}
            for future in cf.as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                progress(labels[i])
        except BaseException:
            stop_pool(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]


def efficiency_band(scenario: Scenario, catalog: Catalog) -> tuple[float, float, float, float] | None:
    r"""Efficiency scale factors spanning the held-out error band of the rows the scenario's hardware
    uses: with speed errors ``e`` from P10 ``e₁₀`` (lowest over the rows) to P90 ``e₉₀`` (highest),
    the published speed is the estimate × ``1/(1+e)``, so the low case scales efficiency by
    ``1/(1+e₉₀)`` and the high case by ``1/(1+e₁₀)``.  Returns (low, high, e₁₀, e₉₀), or None when
    no row the scenario uses has a band (then the flat ±delta applies)."""
    slugs = scenario.market.hardware or list(catalog.hardware)
    rows = [catalog.efficiency_for(slug, "*") for slug in slugs if slug in catalog.hardware]
    banded = [r for r in rows if r.error_p10 is not None and r.error_p90 is not None]
    if not banded:
        return None
    p10 = min(r.error_p10 for r in banded if r.error_p10 is not None)
    p90 = max(r.error_p90 for r in banded if r.error_p90 is not None)
    return 1.0 / (1.0 + p90), 1.0 / (1.0 + p10), p10, p90


def sensitivity(scenario: Scenario, catalog: Catalog, delta: float, progress: Progress = _noop,
                workers: int = 1) -> list[SensitivityRow]:
    d = catalog.defaults
    cases: list[tuple[str, Callable[[float], tuple[Scenario, Catalog]]]] = [
        ("hardware prices", lambda f: (modified(scenario, [f"market.price_scale={scenario.market.price_scale * f!r}"]),
                                       catalog)),
        ("demand (queries/day, every class)", lambda f: (modified(scenario, [
            f"workload.{w.name}.queries_per_day={w.queries_per_day * f!r}" for w in scenario.workload]), catalog)),
        ("efficiency factors (compute and memory)", lambda f: (scenario, _scaled_efficiency(catalog, f))),
        ("electricity price", lambda f: (modified(scenario, [
            f"market.electricity_usd_per_kwh={(scenario.market.electricity_usd_per_kwh or d.electricity_usd_per_kwh) * f!r}"]),
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
    if scenario.horizon.growth_per_year > 0:
        cases.append(("growth per year", lambda f: (modified(
            scenario, [f"horizon.growth_per_year={scenario.horizon.growth_per_year * f!r}"]), catalog)))
    def repeat_rate_case(w: Workload) -> Callable[[float], tuple[Scenario, Catalog]]:
        return lambda f: (modified(scenario, [f"workload.{w.name}.repeat_rate={min(0.99, w.repeat_rate * f)!r}"]),
                          catalog)

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
    jobs = [(label, f, *make(f)) for label, make in cases for f in factors[label]]
    plans = _solve_all([(aux_scenario(sc), cat) for _, _, sc, cat in jobs], workers,
                       [f"sensitivity: {label} x{f:g}" for label, f, _, _ in jobs], progress)
    rows = []
    for k, (label, _make) in enumerate(cases):
        low, high = plans[2 * k], plans[2 * k + 1]
        spread = max(abs(f - 1.0) for f in factors[label])
        rows.append(SensitivityRow(input=label, delta=spread, cost_low_usd=low.lifetime_cost_usd,
                                   cost_high_usd=high.lifetime_cost_usd, decision_low=_decision(low),
                                   decision_high=_decision(high), decision_changes=_decision(low) != _decision(high),
                                   status_low=low.status, status_high=high.status,
                                   bound_low_usd=open_bound(low), bound_high_usd=open_bound(high)))
    return rows


def explain_steps(scenario: Scenario, alternatives: int, sensitivity_delta: float | None) -> int:
    """How many solves :func:`explain` runs (for a progress bar)."""
    owned = "buy" in scenario.market.modes
    n_sens = (4 + owned + (owned and scenario.horizon.terminal_value == "salvage")
              + (scenario.horizon.growth_per_year > 0) + sum(w.repeat_rate > 0 for w in scenario.workload))
    return 3 + alternatives + (2 * n_sens if sensitivity_delta else 0)


def explain(scenario: Scenario, catalog: Catalog, *, alternatives: int = ALTERNATIVES,
            sensitivity_delta: float | None = DEFAULT_SENSITIVITY, progress: Progress = _noop,
            workers: int = 1) -> Explanation:
    """Everything in the module docstring.  ``workers > 1`` runs the sensitivity re-solves in that
    many spawned processes (one solver thread each)."""
    cs = build_candidates(scenario, catalog)
    plan = plan_scenario(scenario, catalog, candidates=cs)
    progress("plan")
    base = plan_scenario(aux_scenario(baseline_scenario(scenario)), catalog)
    progress("baseline")
    saving = (base.lifetime_cost_usd - plan.lifetime_cost_usd
              if base.lifetime_cost_usd is not None and plan.lifetime_cost_usd is not None else None)
    examples: dict[str, list[str]] = defaultdict(list)
    for e in cs.exclusions:
        if len(examples[e.family]) < 3:
            examples[e.family].append(f"{e.subject}: {e.reason}")
    counts = Counter(e.family for e in cs.exclusions)
    exclusions = {f"{family} ({counts[family]})": items for family, items in examples.items()}
    if plan.lifetime_cost_usd is None:
        return Explanation(plan=plan, baseline_cost_usd=base.lifetime_cost_usd, baseline_status=base.status,
                           baseline_bound_usd=open_bound(base), baseline_variant=_decision(base),
                           saving_usd=None, saving_pct=None, binding=[], shadow_prices=[], alternatives=[],
                           sensitivity=[], exclusions=exclusions)
    prices = lp_shadow_prices(scenario, catalog, cs, plan)
    if cs.base_score is not None:
        looser = modified(scenario, [f"quality.max_drop={scenario.quality.max_drop + 1}"] + [
            f"workload.{w.name}.max_quality_drop={w.max_quality_drop + 1}" for w in scenario.workload
            if w.max_quality_drop is not None])
        relaxed = plan_scenario(aux_scenario(looser), catalog)
        progress("quality floor - 1 point")
        if relaxed.lifetime_cost_usd is not None:
            relaxed_bound = open_bound(relaxed)
            prices.append(ShadowPrice(what="one quality point lower floor (every class)", workload=None, period=None,
                                      usd=plan.lifetime_cost_usd - relaxed.lifetime_cost_usd,
                                      unit="USD saved (present value)", method="re-solve", status=relaxed.status,
                                      bound_usd=plan.lifetime_cost_usd - relaxed_bound if relaxed_bound else None))
    return Explanation(
        plan=plan, baseline_cost_usd=base.lifetime_cost_usd, baseline_status=base.status,
        baseline_bound_usd=open_bound(base), baseline_variant=_decision(base), saving_usd=saving,
        saving_pct=saving / base.lifetime_cost_usd if saving is not None and base.lifetime_cost_usd else None,
        binding=binding_constraints(scenario, plan), shadow_prices=prices,
        alternatives=_alternatives(scenario, catalog, cs, plan, alternatives, progress),
        sensitivity=sensitivity(scenario, catalog, sensitivity_delta, progress, workers) if sensitivity_delta else [],
        exclusions=exclusions)
