"""Plan a scenario: candidates → pruning → MILP → solve → verify → Plan.

Infeasibility is an answer: before building the model each class is checked for a deployment
meeting its latency targets and, among those, its quality floor; after an infeasible solve the
caps (quota, power, budget) are lifted one at a time to name the one that binds.  Each finding
carries the closest achievable value.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pulp

from planner import solver as solvers
from planner.candidates import CandidateSet, build_candidates
from planner.catalog import Catalog
from planner.errors import InputError, ScenarioError
from planner.finance import Periods, demand_of, mode_offers, periods_of
from planner.infeasibility import diagnose_caps, latency_and_quality_checks
from planner.optimizer import (
    MAX_COEFFICIENT_RANGE,
    USD_PER_KUSD,
    VERIFY_TOLERANCE,
    Column,
    Problem,
    build_problem,
    coefficient_range,
    prune,
    quality_floors,
    solve,
)
from planner.plan_model import (
    ClassSummary,
    CostBreakdown,
    FleetEntry,
    Infeasibility,
    Plan,
    ServedBy,
    SolverInfo,
)
from planner.schema import Scenario
from planner.solver import SolveStatus
from planner.training import price_training, training_flops
from planner.units import TOKENS_PER_MILLION
from techniques.registry import Registry

QUERIES_PER_MILLION = TOKENS_PER_MILLION
#: A traffic share at or below this is solver noise, not traffic (the plan does not list it).
MIN_SHARE = 1e-9


def one_time_costs(scenario: Scenario, cs: CandidateSet, catalog: Catalog) -> dict[int, float]:
    """PV of each variant's one-time work: FLOPs priced on the training hardware, plus fixed $."""
    out: dict[int, float] = {}
    for v in cs.variants:
        flops = v.one_time_flops()
        usd = max(p.one_time_usd for p in v.profiles.values())
        if flops > 0:
            job = price_training(flops, hardware=scenario.training.hardware, catalog=catalog, mfu=scenario.training.mfu)
            if job.cost_usd is None:
                raise InputError(f"{job.hardware} has no on-demand price to price one-time work of {v.name}",
                                 "training.hardware")
            usd += job.cost_usd * scenario.market.price_scale
        out[v.index] = usd
    return out


def base_training_cost(scenario: Scenario, cs: CandidateSet, catalog: Catalog) -> float | None:
    """The base model's training bill: given in dollars, or ``6·N_active·D`` priced on the
    scenario's training hardware (its on-demand rate, at its MFU)."""
    if scenario.model.training_cost_usd is not None:
        return scenario.model.training_cost_usd
    if scenario.model.training_tokens is None:
        return None
    job = price_training(training_flops(cs.base_model.params_active, scenario.model.training_tokens),
                         hardware=scenario.training.hardware, catalog=catalog, mfu=scenario.training.mfu)
    if job.cost_usd is None:
        raise InputError(f"{job.hardware} has no on-demand price to price the base model's training",
                         "model.training_tokens")
    return job.cost_usd * scenario.market.price_scale


def _verify(problem: Problem) -> str | None:
    """Re-check the solution in original units with integers rounded; None when it holds."""
    for var in problem.prob.variables():
        value = var.value()
        if value is None:
            return f"variable {var.name} has no value"
        if var.cat != pulp.LpInteger:
            continue
        if abs(value - round(value)) > VERIFY_TOLERANCE:
            return f"integer variable {var.name} = {value} is not integral"
        var.varValue = float(round(value))
    for var in problem.x.values():
        if var.value() is None:
            return f"variable {var.name} has no value"
    shares = problem.shares()
    totals: dict[tuple[int, int], float] = defaultdict(float)
    for (j, p), share in shares.items():
        col = problem.columns[j]
        totals[(col.workload, p)] += share
        if problem.coef["capacity"][(j, p)] * share > (problem.r[j, p].value() or 0.0) + VERIFY_TOLERANCE:
            return f"column {j} in period {p} carries more traffic than its replicas serve"
    for key, total in totals.items():
        if abs(total - 1.0) > VERIFY_TOLERANCE:
            return f"class {key[0]} in period {key[1]} is served {total:.6f} of its traffic, not all"
    for name, constraint in problem.prob.constraints.items():
        value = constraint.value()
        scale = max(1.0, abs(constraint.constant))
        if constraint.sense == pulp.LpConstraintLE and value > VERIFY_TOLERANCE * scale:
            return f"constraint {name} violated by {value:.3g}"
        if constraint.sense == pulp.LpConstraintGE and value < -VERIFY_TOLERANCE * scale:
            return f"constraint {name} violated by {-value:.3g}"
        if constraint.sense == pulp.LpConstraintEQ and abs(value) > VERIFY_TOLERANCE * scale:
            return f"constraint {name} violated by {abs(value):.3g}"
    return None


def plan_scenario(scenario: Scenario, catalog: Catalog, registry: Registry | None = None,
                  candidates: CandidateSet | None = None, exclude_variants: frozenset[str] = frozenset()) -> Plan:
    """The whole pipe for one scenario (see the module docstring).

    ``exclude_variants`` (variant names) are left out of the model — how alternatives are found.

    With ``plan.max_variants > 1`` the best single-variant plan is found first (exactly, with the
    variant screening) and the mixed model is solved next; the answer is the cheaper of the two.
    Every single-variant plan is a mixed plan, so a mixed search stopped by its time limit can
    never return something worse than the single-variant optimum, and the gap it reports is
    measured from the mixed model's proven bound.
    """
    if scenario.plan.max_variants == 1:
        return _plan_scenario(scenario, catalog, registry, candidates, exclude_variants)
    cs = candidates or build_candidates(scenario, catalog, registry)
    alone = scenario.model_copy(update={"plan": scenario.plan.model_copy(update={"max_variants": 1})})
    single = _plan_scenario(alone, catalog, registry, cs, exclude_variants)
    mixed = _plan_scenario(scenario, catalog, registry, cs, exclude_variants)
    return better_of(mixed, single)


def better_of(mixed: Plan, single: Plan) -> Plan:
    """The mixed plan, unless the single-variant one is cheaper (then: feasible, gap vs the mixed bound)."""
    solve_s = {"solve_s": mixed.timings.get("solve_s", 0.0) + single.timings.get("solve_s", 0.0)}
    if (single.lifetime_cost_usd is None or mixed.status == SolveStatus.OPTIMAL
            or (mixed.lifetime_cost_usd is not None and mixed.lifetime_cost_usd <= single.lifetime_cost_usd)):
        return mixed.model_copy(update={"timings": solve_s})
    solver = mixed.solver or single.solver
    bound = (mixed.lifetime_cost_usd * (1.0 - mixed.solver.gap)
             if mixed.lifetime_cost_usd is not None and mixed.solver is not None and mixed.solver.gap is not None
             else None)
    gap = max(0.0, (single.lifetime_cost_usd - bound) / single.lifetime_cost_usd) if bound is not None else None
    message = (f"{mixed.message}; no mixed plan found beats the best single-variant plan, which is the answer "
               "(optimal among single-variant plans)")
    info = solver.model_copy(update={"status": SolveStatus.FEASIBLE, "gap": gap, "message": message}) if solver else None
    return single.model_copy(update={"status": str(SolveStatus.FEASIBLE), "message": message, "solver": info,
                                     "timings": solve_s})


def _unserved_classes(scenario: Scenario, columns: list[Column], excluding: bool) -> list[Infeasibility]:
    """Classes no priced (and not excluded) deployment can serve, each with the reason."""
    served = {c.workload for c in columns}
    reason = ("no variant other than the excluded ones can serve it" if excluding else
              "every latency- and quality-feasible deployment is on hardware without a price for the allowed modes")
    return [Infeasibility(family="price", workload=w.name, requirement="priced hardware meeting latency",
                          best_achievable="none", message=f"class {w.name}: {reason}")
            for c, w in enumerate(scenario.workload) if c not in served]


def _plan_scenario(scenario: Scenario, catalog: Catalog, registry: Registry | None,
                   candidates: CandidateSet | None, exclude_variants: frozenset[str]) -> Plan:
    periods = periods_of(scenario)
    if periods.count > catalog.defaults.max_periods:
        raise ScenarioError(
            f"{periods.count} periods exceed the planner's limit of {catalog.defaults.max_periods} (solve time grows "
            f"steeply with periods); use a longer period_months or a shorter horizon", "horizon")
    cs = candidates or build_candidates(scenario, catalog, registry)
    demand = demand_of(scenario, periods)
    floors = quality_floors(scenario, cs.base_score)
    warnings = [f"technique plug-in skipped: {k}: {v}" for k, v in cs.plugin_errors.items()]
    if cs.base_score is None:
        warnings.append(f"no {scenario.quality.metric} score for {cs.base_model.slug}: quality is not constrained "
                        "(give quality.base_score)")
    offers, missing = mode_offers(scenario, catalog, list(cs.hardware), periods)
    warnings += [f"not offered: {m}" for m in missing]
    exclusions = dict(Counter(e.family for e in cs.exclusions))
    base: dict[str, Any] = dict(
        scenario=scenario.name, model=cs.base_model.slug, training_cost_usd=base_training_cost(scenario, cs, catalog),
        periods=periods.count, period_months=periods.months, total_queries=float(demand.queries.sum()),
        exclusions=exclusions, warnings=warnings)
    findings = latency_and_quality_checks(scenario, cs, floors)
    offered_hw = {o.hardware for o in offers}
    if not offered_hw:
        findings.append(Infeasibility(family="price", workload=None, requirement="a priced acquisition mode",
                                      best_achievable="none", message="no allowed hardware has a price for any "
                                      f"allowed mode ({', '.join(scenario.market.modes)})"))
    if findings:
        return _infeasible_plan(base, findings, None)
    columns, stats = prune(cs, scenario, floors)
    if exclude_variants:
        columns = [c for c in columns if cs.variants[c.variant].name not in exclude_variants]
    columns = [c for c in columns if c.hardware in offered_hw]
    stats["columns_with_prices"] = len(columns)
    findings = _unserved_classes(scenario, columns, bool(exclude_variants))
    if findings:
        return _infeasible_plan(base, findings, None)
    one_time = one_time_costs(scenario, cs, catalog)
    name = scenario.solver.name
    limit = scenario.solver.time_limit_s or catalog.defaults.solver_time_limit_s
    gap = scenario.solver.gap_rel if scenario.solver.gap_rel is not None else catalog.defaults.solver_gap_rel
    columns, problem, outcome, (cmin, cmax) = _build_and_solve(scenario, cs, columns, offers, periods, demand,
                                                                one_time, floors, name, limit, gap, stats)
    base["timings"] = {"solve_s": outcome.seconds}
    info = SolverInfo(name=name, status=outcome.status, gap=outcome.gap,
                      message=outcome.message, variables=problem.stats["variables"],
                      constraints=problem.stats["constraints"], integer_variables=problem.stats["integer_variables"],
                      pruning=stats, coefficient_min=cmin, coefficient_max=cmax)
    if outcome.status == SolveStatus.INFEASIBLE:
        findings = diagnose_caps(scenario, cs, columns, offers, periods, demand, one_time, floors, name, limit, gap)
        return _infeasible_plan(base, findings, info)
    if outcome.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return _infeasible_plan(base, [], info, status=outcome.status, message=outcome.message)
    problem_error = _verify(problem)
    if problem_error:
        info = info.model_copy(update={"status": SolveStatus.ERROR, "message": f"solution failed verification: {problem_error}"})
        return _infeasible_plan(base, [], info, status=SolveStatus.ERROR, message=info.message)
    return _extract(base, scenario, cs, problem, periods, demand, one_time, floors, info, outcome)


def _build_and_solve(scenario, cs, columns, offers, periods, demand, one_time, floors, name, limit, gap,  # type: ignore[no-untyped-def]
                     stats) -> tuple[list[Column], Problem, solvers.SolveOutcome, tuple[float, float]]:
    """Screen variants (one-variant plans), build the MILP, refuse it if badly scaled, solve it.

    Returns the columns left after screening, the problem, the outcome (its ``seconds`` cover all of
    this) and the constraint matrix's coefficient range.
    """
    start = time.perf_counter()
    problem: Problem | None = None
    outcome: solvers.SolveOutcome | None = None
    if scenario.plan.max_variants == 1 and len({c.variant for c in columns}) > 1:
        columns, problem, outcome = _screen_variants(scenario, cs, columns, offers, periods, demand, one_time, floors,
                                                     name, limit, gap, stats)
    if problem is None or outcome is None:
        problem = build_problem(scenario, cs, columns, offers, periods, demand, one_time, floors)
        outcome = None
    cmin, cmax = coefficient_range(problem)
    if outcome is None and cmax / cmin > MAX_COEFFICIENT_RANGE:
        outcome = solvers.SolveOutcome(SolveStatus.ERROR, name, 0.0, None,
                                       f"coefficients span {cmin:.3g} to {cmax:.3g}: too badly scaled to solve reliably")
    elif outcome is None:
        outcome = solve(problem, name, limit, gap, threads=scenario.solver.threads)
    return columns, problem, dataclasses.replace(outcome, seconds=time.perf_counter() - start), (cmin, cmax)


def variant_lower_bounds(cs: CandidateSet, columns: list[Column], offers: list, periods, demand,  # type: ignore[no-untyped-def]
                         one_time: dict[int, float]) -> dict[int, float]:
    r"""A lower bound on each variant's lifetime cost when it serves alone (cheap, numpy).

    ``LB_v = F_v + Σ_{c,p} min_{j ∈ v,c} (λ_{c,p} s_{v,c} t_j / μ_j · κ_{h(j),p} + ρ_{j,p})`` where
    ``κ_{h,p}`` is the least any offer charges per GPU-period of ``p`` (an acquisition's PV cost
    divided by the periods it serves).  It drops integrality and full-term payment, so it never
    exceeds the true optimum of the variant.
    """
    P = periods.count
    kappa: dict[int, np.ndarray] = {}
    for offer in offers:
        served = offer.covers.sum(axis=1)
        per_period = np.where(offer.covers, (offer.cost_usd / np.maximum(served, 1))[:, None], np.inf).min(axis=0)
        kappa[offer.hardware] = np.minimum(kappa.get(offer.hardware, np.full(P, np.inf)), per_period)
    best: dict[tuple[int, int], np.ndarray] = {}
    for col in columns:
        if col.hardware not in kappa:
            continue
        profile = cs.variants[col.variant].profiles[cs.workloads[col.workload]]
        gpus = demand.peak_rps[col.workload] * profile.served_query_fraction * col.tp / col.capacity_rps
        traffic = (profile.recurring_usd_per_million_queries * demand.queries[col.workload] / 1e6
                   * periods.discount_mid)
        cost = gpus * kappa[col.hardware] + traffic
        key = (col.variant, col.workload)
        best[key] = np.minimum(best.get(key, np.full(P, np.inf)), cost)
    bounds: dict[int, float] = {}
    n_classes = len(cs.workloads)
    for v in {col.variant for col in columns}:
        per_class = [best.get((v, c)) for c in range(n_classes)]
        if any(b is None for b in per_class):
            continue  # the variant cannot serve every class alone
        bounds[v] = one_time.get(v, 0.0) + float(sum(b.sum() for b in per_class))  # type: ignore[union-attr]
    return bounds


def _screen_variants(scenario, cs, columns, offers, periods, demand, one_time, floors, name, limit, gap,  # type: ignore[no-untyped-def]
                     stats) -> tuple[list[Column], Problem | None, solvers.SolveOutcome | None]:
    """Exact variant pruning for ``max_variants = 1``.

    Variants are visited in order of their numpy lower bound (:func:`variant_lower_bounds`); each
    is first bounded by its LP relaxation and solved as a single-variant MILP only when that bound
    is below the best cost found so far.  A variant whose bound is not below the best cost cannot
    hold the optimum (to within the gap), so only the others enter the full model.  When a single
    variant remains, its single-variant MILP *is* the full model and its solution is reused.
    """
    bounds = variant_lower_bounds(cs, columns, offers, periods, demand, one_time)
    best = math.inf
    best_problem: tuple[int, Problem, solvers.SolveOutcome] | None = None
    lp_bounds: dict[int, float] = {}
    proven: set[int] = set()  # variants whose single-variant optimum is known (within the gap)
    solved = 0
    for v, bound in sorted(bounds.items(), key=lambda kv: kv[1]):
        if bound >= best * (1 - gap):
            break
        restricted = [c for c in columns if c.variant == v]
        # the full form's LP relaxation (with its rounding facets) bounds tighter than the compact one's
        sub = build_problem(scenario, cs, restricted, offers, periods, demand, one_time, floors)
        relaxed = solvers.lp_bound(sub.prob, name, limit, threads=scenario.solver.threads)
        if relaxed is not None:
            lp_bounds[v] = relaxed * USD_PER_KUSD
            if lp_bounds[v] >= best * (1 - gap):
                continue
        compact = scenario.plan.split_granularity is None and not scenario.plan.pooled_capacity
        sub = build_problem(scenario, cs, restricted, offers, periods, demand, one_time, floors, compact=compact)
        outcome = solve(sub, name, limit, gap, threads=scenario.solver.threads)
        solved += 1
        if outcome.status == SolveStatus.OPTIMAL:
            proven.add(v)
        if outcome.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            cost = pulp.value(sub.prob.objective) * USD_PER_KUSD
            if cost < best:
                best, best_problem = cost, (v, sub, outcome)
    if math.isfinite(best) and best_problem is not None:
        # a proven variant's optimum is known: only the best one stays; the others stay when
        # their bound leaves room below the best cost
        keep = {v for v, bound in bounds.items()
                if v not in proven and max(bound, lp_bounds.get(v, bound)) < best * (1 - gap)}
        keep.add(best_problem[0])
    else:
        keep = set(bounds)
    stats["variants_screened"] = len(bounds)
    stats["variants_lp_bounded"] = len(lp_bounds)
    stats["variants_solved_alone"] = solved
    stats["variants_kept"] = len(keep)
    kept_columns = [c for c in columns if c.variant in keep]
    if best_problem is not None and keep == {best_problem[0]} and best_problem[2].status == SolveStatus.OPTIMAL:
        return kept_columns, best_problem[1], best_problem[2]
    return kept_columns, None, None


def _infeasible_plan(base: dict, findings: list[Infeasibility], info: SolverInfo | None,  # type: ignore[type-arg]
                     status: str = SolveStatus.INFEASIBLE, message: str | None = None) -> Plan:
    msg = message or ("; ".join(f.message for f in findings) if findings else "no plan")
    return Plan(**base, status=str(status), message=msg, lifetime_cost_usd=None, one_time_cost_usd=None,
                recurring_cost_usd=None, cost_breakdown=None, training_share_of_total=None,
                inference_overtakes_training_month=None, variant=None, variants=[], variant_names=[], fleet=[],
                serving=[], classes=[], cost_per_million_queries_usd=None, solver=info, infeasibility=findings)


def _extract(base, scenario, cs, problem, periods, demand, one_time, floors, info, outcome) -> Plan:  # type: ignore[no-untyped-def]
    chosen = [v for v, var in problem.y.items() if (var.value() or 0) > 0.5]
    shares = problem.shares()
    used_variants = sorted({problem.columns[j].variant for (j, p), share in shares.items() if share > MIN_SHARE})
    serving = _serving(scenario, cs, problem, shares)
    fleet, breakdown, nominal = _fleet(cs, problem, periods)
    technique_pv = sum(problem.coef["traffic_cost"].get((j, p), 0.0) * share for (j, p), share in shares.items())
    month_pv = float((periods.months * periods.discount_mid).sum())
    fixed = sum(cs.variants[v].profiles[cs.workloads[0]].recurring_usd_per_month for v in chosen)
    technique_pv += fixed * month_pv
    for (j, p), share in shares.items():  # nominal technique spend per period
        col = problem.columns[j]
        prof = cs.variants[col.variant].profiles[cs.workloads[col.workload]]
        nominal[p] += share * prof.recurring_usd_per_million_queries * demand.queries[col.workload, p] / 1e6
    nominal += fixed * periods.months
    one_time_total = sum(one_time[v] for v in chosen)
    recurring = (breakdown["rent"] + breakdown["reserved"] + breakdown["capex"] + breakdown["energy"]
                 + breakdown["hosting"] + breakdown["residual"] + technique_pv)
    lifetime = one_time_total + recurring
    objective = pulp.value(problem.prob.objective) * USD_PER_KUSD
    if abs(objective - lifetime) > 1e-6 * max(1.0, abs(lifetime)) + 1e-3:
        msg = f"solution failed verification: objective {objective:.2f} differs from recomputed cost {lifetime:.2f}"
        return _infeasible_plan(base, [], info.model_copy(update={"status": "error", "message": msg}),
                                status=SolveStatus.ERROR, message=msg)
    classes = _class_summaries(scenario, cs, serving, floors, demand)
    training = base["training_cost_usd"]
    overtakes = _overtake_month(nominal, periods.months, training) if training else None
    total_queries = float(demand.queries.sum())
    variants_opts = [dict(cs.variants[v].options) for v in used_variants]
    trace = {cs.variants[v].name: {w: list(cs.variants[v].profiles[w].trace)
                                   for w in cs.workloads} for v in used_variants}
    return Plan(
        **base, status=str(outcome.status), message=outcome.message,
        lifetime_cost_usd=lifetime, one_time_cost_usd=one_time_total, recurring_cost_usd=recurring,
        cost_breakdown=CostBreakdown(one_time_usd=one_time_total, rent_usd=breakdown["rent"],
                                     reserved_usd=breakdown["reserved"], capex_usd=breakdown["capex"],
                                     energy_usd=breakdown["energy"], hosting_usd=breakdown["hosting"],
                                     residual_credit_usd=-breakdown["residual"], technique_recurring_usd=technique_pv),
        training_share_of_total=(training / (training + lifetime)) if training else None,
        inference_overtakes_training_month=overtakes,
        variant=variants_opts[0] if len(variants_opts) == 1 else None, variants=variants_opts,
        variant_names=[cs.variants[v].name for v in used_variants], fleet=fleet, serving=serving, classes=classes,
        cost_per_million_queries_usd=(one_time_total + float(nominal.sum())) / total_queries * QUERIES_PER_MILLION,
        spend_by_period_usd=[float(v) for v in nominal],
        solver=info, infeasibility=[], trace=trace)


def _serving(scenario: Scenario, cs: CandidateSet, problem: Problem,
             shares: dict[tuple[int, int], float]) -> list[ServedBy]:
    """Who serves what, per period: each column carrying traffic, with its whole replicas."""
    serving: list[ServedBy] = []
    for (j, p), share in sorted(shares.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if share <= MIN_SHARE:
            continue
        col: Column = problem.columns[j]
        variant = cs.variants[col.variant]
        load = problem.r[j, p].value() or 0.0
        replicas = math.ceil(load - 1e-9) if scenario.plan.pooled_capacity else int(round(load))
        serving.append(ServedBy(period=p, workload=cs.workloads[col.workload], variant=variant.name,
                                hardware=cs.hardware[col.hardware].slug, tp=col.tp, batch=col.batch, replicas=replicas,
                                gpus=replicas * col.tp, traffic_share=share, ttft_ms=col.ttft_ms, tpot_ms=col.tpot_ms,
                                quality_score=variant.profiles[cs.workloads[col.workload]].quality_score,
                                measured=col.measured))
    return serving


def _fleet(cs: CandidateSet, problem: Problem,
           periods: Periods) -> tuple[list[FleetEntry], dict[str, float], np.ndarray]:
    """GPUs acquired and in service per offer and period, the hardware cost by part (PV), and the
    nominal hardware spend per period."""
    P = periods.count
    fleet: list[FleetEntry] = []
    breakdown: dict[str, float] = defaultdict(float)
    nominal = np.zeros(P)
    for k, offer in enumerate(problem.offers):
        acquired = np.array([round(problem.n[k, p].value() or 0) * offer.gpus_per_unit for p in range(P)], dtype=float)
        if not acquired.any():
            continue
        in_service = acquired @ offer.covers.astype(float)
        for p in range(P):
            if in_service[p] > 0 or acquired[p] > 0:
                fleet.append(FleetEntry(period=p, month_start=p * periods.months, hardware=cs.hardware[offer.hardware].slug,
                                        mode=offer.mode, gpus_in_service=int(in_service[p]), gpus_acquired=int(acquired[p])))
        for part, per_gpu in offer.breakdown.items():
            breakdown[part] += float(per_gpu @ acquired)
        if offer.flow is not None:
            nominal += acquired @ offer.flow
    return fleet, breakdown, nominal


def _class_summaries(scenario, cs, serving, floors, demand) -> list[ClassSummary]:  # type: ignore[no-untyped-def]
    out = []
    for c, w in enumerate(scenario.workload):
        rows = [s for s in serving if s.workload == w.name]
        per_period: dict[int, float] = defaultdict(float)
        for s in rows:
            per_period[s.period] += s.traffic_share * (s.quality_score or 0.0)
        qualities = [q for q in per_period.values()] if all(s.quality_score is not None for s in rows) else []
        names = {s.variant for s in rows}
        served = min((v.profiles[w.name].served_query_fraction for v in cs.variants if v.name in names), default=1.0)
        out.append(ClassSummary(workload=w.name, ttft_target_ms=w.ttft_ms, tpot_target_ms=w.tpot_ms,
                                quality_floor=floors[c], worst_ttft_ms=max((s.ttft_ms for s in rows), default=math.nan),
                                worst_tpot_ms=max((s.tpot_ms for s in rows), default=math.nan),
                                quality_score=min(qualities) if qualities else None, served_query_fraction=served,
                                peak_requests_per_s_first_period=float(demand.peak_rps[c, 0])))
    return out


def _overtake_month(nominal_per_period: np.ndarray, months: int, training_usd: float) -> float | None:
    cumulative = 0.0
    for p, spend in enumerate(nominal_per_period):
        if spend > 0 and cumulative + spend >= training_usd:
            return p * months + (training_usd - cumulative) / spend * months
        cumulative += spend
    return None
