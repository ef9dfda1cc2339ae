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
from dataclasses import dataclass, field
from typing import Any

import pulp

from planner.catalog.store import Catalog
from planner.economics.offers import ModeOffer, mode_offers
from planner.economics.periods import Demand, Periods, demand_of, periods_of
from planner.economics.slices import needs_slices
from planner.errors import InputError, PlannerError
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet, build_candidates
from planner.optimize.direct_path import direct_applies, solve_direct
from planner.optimize.disagg_columns import PairColumn, build_pair_columns
from planner.optimize.disagg_milp import (
    PairVariables,
    pair_class_lower_bounds,
    pair_hook,
    variant_lower_bounds_with_pairs,
    verify_pairs,
)
from planner.optimize.extract import extract_plan, infeasible_plan, unsolved_plan
from planner.optimize.infeasibility import diagnose_caps, latency_and_quality_checks
from planner.optimize.input_checks import check_disaggregation, check_offers, check_periods
from planner.optimize.milp import (
    MAX_COEFFICIENT_RANGE,
    USD_PER_KUSD,
    VERIFY_TOLERANCE,
    Problem,
    build_problem,
    coefficient_range,
    solve,
)
from planner.optimize.pruning import Column, priced_columns, quality_exclusions, quality_floors
from planner.optimize.screening import class_lower_bounds, variant_lower_bounds
from planner.optimize.solve_memo import SolveMemo
from planner.optimize.solver import SolveStatus
from planner.optimize.verify import rows_error, values_error
from planner.physics.deployment import calibrated
from planner.physics.training import price_training, training_flops
from planner.plan_model import (
    Infeasibility,
    Plan,
    SolverInfo,
    TrainingSource,
)
from planner.scenario.schema import Scenario
from techniques.registry import Registry


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


def base_training_cost(scenario: Scenario, cs: CandidateSet,
                       catalog: Catalog) -> tuple[float | None, TrainingSource | None]:
    """The base model's training bill and where it comes from: given in dollars
    (``model.training_cost_usd``), or ``6·N_active·D`` priced on the scenario's training hardware (its
    on-demand rate, at its MFU, scaled by ``market.price_scale``) with the scenario's
    ``model.training_tokens`` or, when the scenario gives neither, the catalog model's training tokens
    (``"catalog"``: an estimate the report names as one; none when the model has no such figure or the
    training hardware no on-demand price — only given tokens are refused then; the JSON had ``null``
    there until the twenty-first session)."""
    if scenario.model.training_cost_usd is not None:
        return scenario.model.training_cost_usd, "model.training_cost_usd"
    tokens = scenario.model.training_tokens
    source: TrainingSource = "model.training_tokens"
    if tokens is None:
        tokens, source = cs.base_model.training_tokens, "catalog"
    if tokens is None:
        return None, None
    try:
        job = price_training(training_flops(cs.base_model.params_active, tokens),
                             hardware=scenario.training.hardware, catalog=catalog, mfu=scenario.training.mfu)
        if job.cost_usd is None:
            raise InputError(f"{job.hardware} has no on-demand price to price the base model's training",
                             "model.training_tokens")
    except PlannerError:
        if source == "catalog":
            return None, None
        raise
    return job.cost_usd * scenario.market.price_scale, source


def _verify(problem: Problem) -> str | None:
    """Re-check the solution in original units with integers rounded (:mod:`planner.optimize.verify`),
    then what the plan is read from: each column's traffic within its replicas, each class served
    whole; None when it holds."""
    error = values_error(problem.prob)
    if error:
        return error
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
    if problem.extra is not None and isinstance(problem.extra.state, PairVariables):
        pair_error = verify_pairs(problem.extra.state, totals)
        if pair_error:
            return pair_error
    for key, total in totals.items():
        if abs(total - 1.0) > VERIFY_TOLERANCE:
            return f"class {key[0]} in period {key[1]} is served {total:.6f} of its traffic, not all"
    return rows_error(problem.prob)


def plan_scenario(scenario: Scenario, catalog: Catalog, registry: Registry | None = None,
                  candidates: CandidateSet | None = None, exclude_variants: frozenset[str] = frozenset(),
                  memo: SolveMemo | None = None, hint: Plan | None = None) -> Plan:
    """The whole pipe for one scenario (see the module docstring).

    ``exclude_variants`` (variant names) are left out of the model — how alternatives are found.
    ``memo``: what earlier solves of the same single-variant models proved, reused exactly and
    extended (:mod:`planner.optimize.solve_memo`; the numpy-built path only).  ``hint``: a plan of a
    similar scenario whose deployments, re-priced here, the answer is never dearer than where they
    still serve it (:mod:`planner.optimize.plan_hint`; single-variant plans on the numpy-built path).

    With ``plan.max_variants > 1`` the best single-variant plan is found first (exactly, with the
    variant screening) and the mixed model is solved next; the answer is the cheaper of the two.
    Every single-variant plan is a mixed plan, so a mixed search stopped by its time limit can
    never return something worse than the single-variant optimum, and the gap it reports is
    measured from the mixed model's proven bound.
    """
    if scenario.plan.max_variants == 1 or direct_applies(scenario, scenario.solver.name):
        return _plan_scenario(scenario, catalog, registry, candidates, exclude_variants, memo=memo, hint=hint)
    cs = candidates or build_candidates(scenario, catalog, registry)
    if scenario.plan.max_variants > 2 and needs_slices(scenario.workload, scenario.market.modes):
        from planner.optimize.sliced_path import refuse_oversized_mixed  # before the single-variant solve

        refuse_oversized_mixed(scenario, catalog, cs, exclude_variants)
    alone = scenario.model_copy(update={"plan": scenario.plan.model_copy(update={"max_variants": 1})})
    deadline = solvers.Deadline(scenario.solver.time_limit_s or catalog.defaults.solver_time_limit_s,
                                node_limit=scenario.solver.node_limit)
    single = _plan_scenario(alone, catalog, registry, cs, exclude_variants, deadline)
    mixed = _plan_scenario(scenario, catalog, registry, cs, exclude_variants, deadline)
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
    proven = "optimal among single-variant plans" if single.status == SolveStatus.OPTIMAL else \
        f"{single.status} among single-variant plans"
    message = (f"{mixed.message}; no mixed plan found beats the best single-variant plan, which is the answer "
               f"({proven})")
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
                   candidates: CandidateSet | None, exclude_variants: frozenset[str],
                   deadline: solvers.Deadline | None = None, memo: SolveMemo | None = None,
                   hint: Plan | None = None) -> Plan:
    check_disaggregation(scenario)
    periods = periods_of(scenario.horizon)
    check_periods(periods, catalog)
    cs = candidates or build_candidates(scenario, catalog, registry)
    demand = demand_of(scenario.workload, scenario.horizon, periods)
    floors = quality_floors(scenario.workload, scenario.quality, cs.base_score)
    offers, missing = mode_offers(scenario.market, scenario.horizon.terminal_value, catalog, list(cs.hardware), periods)
    check_offers(scenario, offers)
    base, findings = _plan_header(scenario, catalog, cs, periods, demand, floors, offers, missing)
    if findings:
        return infeasible_plan(base, findings, None)
    offered_hw = {o.hardware for o in offers}
    columns, stats = priced_columns(cs, scenario, floors, exclude_variants, offered_hw)
    findings = _unserved_classes(scenario, columns, bool(exclude_variants))
    if findings:
        return infeasible_plan(base, findings, None)
    pairs: list[PairColumn] | None = None
    if scenario.plan.disaggregation:  # prefill/decode pairs beside the co-located columns
        pairs, pair_stats, pair_s = build_pair_columns(scenario, catalog, cs, columns, offered_hw)
        stats.update(pair_stats)
    one_time = one_time_costs(scenario, cs, catalog)
    name = scenario.solver.name
    deadline = deadline or solvers.Deadline(scenario.solver.time_limit_s or catalog.defaults.solver_time_limit_s,
                                            node_limit=scenario.solver.node_limit)
    gap = scenario.solver.gap_rel if scenario.solver.gap_rel is not None else catalog.defaults.solver_gap_rel
    if needs_slices(scenario.workload, scenario.market.modes):
        from planner.optimize.sliced_path import (
            plan_sliced,  # only plans with slices pay for its import
        )

        plan = plan_sliced(base, scenario, catalog, cs, columns, offers, periods, demand, one_time, floors, deadline,
                           gap, stats)
        return _with_calibration_notes(plan, cs, catalog) if plan.lifetime_cost_usd is not None else plan
    columns, problem, outcome, (cmin, cmax) = _build_and_solve(scenario, cs, columns, offers, periods, demand,
                                                                one_time, floors, name, deadline, gap, stats, pairs,
                                                                memo, hint)
    if outcome.status == SolveStatus.NO_SOLUTION:  # the plan's limit and the fix, not the last solve's share
        outcome = dataclasses.replace(outcome, message=solvers.no_solution_message(deadline))
    base["timings"] = {"solve_s": outcome.seconds} | ({"disaggregation_columns_s": pair_s} if pairs is not None else {})
    info = SolverInfo(name=name, status=outcome.status, gap=outcome.gap,
                      message=outcome.message, variables=problem.stats["variables"],
                      constraints=problem.stats["constraints"], integer_variables=problem.stats["integer_variables"],
                      pruning=stats, coefficient_min=cmin, coefficient_max=cmax)
    if outcome.status == SolveStatus.INFEASIBLE:
        findings = diagnose_caps(scenario, cs, columns, offers, periods, demand, one_time, floors, name,
                                 deadline.left(), gap)
        return infeasible_plan(base, findings, info)
    failed = unsolved_plan(base, info, outcome, lambda: _verify(problem))
    if failed is not None:
        return failed
    plan = extract_plan(base, scenario, cs, problem, periods, demand, one_time, floors, info, outcome)
    return _with_calibration_notes(plan, cs, catalog)


#: Demand growth above which a plan warns that the figure may have been given in percent (a fraction,
#: per year): more than elevenfold a year, beyond any sustained serving growth a plan is made for, and
#: what a growth of 10–100 % typed as 10–100 reads as.
GROWTH_WARNING_PER_YEAR = 10.0


def _plan_header(scenario: Scenario, catalog: Catalog, cs: CandidateSet, periods: Periods, demand: Demand,
                 floors: list[float | None], offers: list[ModeOffer], missing: list[str]
                 ) -> tuple[dict[str, Any], list[Infeasibility]]:
    """What every plan carries before it is solved (scenario, model, periods, warnings) and the findings
    that make it infeasible before any model is built: latency and quality, lead times, no price."""
    warnings = [f"technique plug-in skipped: {k}: {v}" for k, v in cs.plugin_errors.items()]
    if cs.base_score is None:
        warnings.append(f"no {scenario.quality.metric} score for {cs.base_model.slug}: quality is not constrained "
                        "(give quality.base_score)")
    warnings += [f"not offered: {m}" for m in missing]
    growth = scenario.horizon.growth_per_year
    if growth > GROWTH_WARNING_PER_YEAR:
        warnings.append(f"horizon.growth_per_year = {growth:g} is +{growth:.0%} a year (it is a fraction: 0.5 is "
                        "+50 %); check it was not given in percent")
    exclusions = dict(Counter(e.family for e in
                              [*cs.exclusions, *quality_exclusions(cs, floors, scenario.plan.max_variants)]))
    base: dict[str, Any] = {
        "scenario": scenario.name, "model": cs.base_model.slug,
        **dict(zip(("training_cost_usd", "training_cost_source"), base_training_cost(scenario, cs, catalog),
                   strict=True)),
        "periods": periods.count, "period_months": periods.months, "total_queries": float(demand.queries.sum()),
        "exclusions": exclusions, "warnings": warnings, "terminal_value": scenario.horizon.terminal_value,
        "discount_rate_per_year": scenario.horizon.discount_rate_per_year,
        "spares": scenario.market.spares, "spot_reclaims": scenario.market.spot_reclaims,
        "catalog_overlays": list(catalog.overlays)}
    findings = latency_and_quality_checks(scenario, cs, floors)
    lead_findings, lead_warnings = lead_time_checks(offers, periods)
    findings += lead_findings
    base["warnings"] = warnings + lead_warnings
    if not offers:
        findings.append(Infeasibility(family="price", workload=None, requirement="a priced acquisition mode",
                                      best_achievable="none", message="no allowed hardware has a price for any "
                                      f"allowed mode ({', '.join(scenario.market.modes)})"))
    return base, findings


def _with_calibration_notes(plan: Plan, cs: CandidateSet, catalog: Catalog) -> Plan:
    """The plan with a warning for each uncalibrated or wide-band deployment it relies on."""
    notes = calibration_warnings(plan, cs, catalog)
    return plan.model_copy(update={"warnings": [*plan.warnings, *notes]}) if notes else plan


def _build_and_solve(scenario, cs, columns, offers, periods, demand, one_time, floors, name, deadline, gap,  # type: ignore[no-untyped-def]
                     stats, pairs=None, memo=None, hint=None
                     ) -> tuple[list[Column], Problem, solvers.SolveOutcome, tuple[float, float]]:
    """Screen variants (one-variant plans), build the MILP, refuse it if badly scaled, solve it.

    Returns the columns left after screening, the problem, the outcome (its ``seconds`` cover all of
    this) and the constraint matrix's coefficient range.
    """
    start = time.perf_counter()
    problem: Problem | None = None
    outcome: solvers.SolveOutcome | None = None
    if direct_applies(scenario, name):
        found = solve_direct(scenario, cs, columns, offers, periods, demand, one_time, floors, name, deadline, gap,
                              stats, memo, pairs, hint)
        if found is not None:
            columns, problem, outcome = found
            cmin, cmax = coefficient_range(problem)
            return columns, problem, dataclasses.replace(outcome, seconds=time.perf_counter() - start), (cmin, cmax)
    if scenario.plan.max_variants == 1 and len({c.variant for c in columns}) > 1:
        columns, problem, outcome = _screen_variants(scenario, cs, columns, offers, periods, demand, one_time, floors,
                                                     name, deadline, gap, stats, pairs)
    if problem is None or outcome is None:
        kept = None if pairs is None else [k for k in pairs if k.variant in {c.variant for c in columns}]
        problem = build_problem(scenario, cs, columns, offers, periods, demand, one_time, floors,
                                extra=None if kept is None else pair_hook(scenario, cs, kept, periods, demand))
        outcome = None
    cmin, cmax = coefficient_range(problem)
    if outcome is None and cmax / cmin > MAX_COEFFICIENT_RANGE:
        outcome = solvers.SolveOutcome(SolveStatus.ERROR, name, 0.0, None,
                                       f"coefficients span {cmin:.3g} to {cmax:.3g}: too badly scaled to solve reliably")
    elif outcome is None:
        outcome = solve(problem, name, deadline.left(), gap, threads=scenario.solver.threads,
                        node_limit=deadline.node_limit)
    return columns, problem, dataclasses.replace(outcome, seconds=time.perf_counter() - start), (cmin, cmax)


def lead_time_checks(offers: list[ModeOffer], periods: Periods) -> tuple[list[Infeasibility], list[str]]:
    """Periods no allowed mode can serve because of lead times (an infeasibility), and a note of
    the months that must be rented while bought hardware is on its way (a warning)."""
    if not offers:
        return [], []
    first = {o.mode: next((p for p in range(periods.count) if o.may_start(p)), periods.count) for o in offers}
    earliest = min(first.values())
    findings = []
    if earliest > 0:
        waits = ", ".join(f"{mode} from month {p * periods.months}" for mode, p in sorted(first.items()))
        findings.append(Infeasibility(
            family="lead time", workload=None, requirement="capacity in service from month 0",
            best_achievable=f"month {earliest * periods.months}",
            message=f"no allowed mode can serve months 0-{earliest * periods.months - 1}: {waits} "
                    "(market.lead_time_months); allow a mode without a lead time (on-demand) or shorten it"))
    warnings = [f"{mode} hardware serves from month {p * periods.months} (market.lead_time_months); earlier "
                "periods are served by the other modes" for mode, p in sorted(first.items()) if 0 < p < periods.count
                and earliest == 0]
    return findings, warnings


def _screen_variants(scenario, cs, columns, offers, periods, demand, one_time, floors, name, deadline, gap,  # type: ignore[no-untyped-def]
                     stats, pairs=None) -> tuple[list[Column], Problem | None, solvers.SolveOutcome | None]:
    """Exact variant pruning for ``max_variants = 1``.

    Variants are visited in order of their numpy lower bound (:func:`variant_lower_bounds`); each
    is first bounded by its LP relaxation and solved as a single-variant MILP only when that bound
    is below the best cost found so far.  A variant whose bound is not below the best cost cannot
    hold the optimum (to within the gap), so only the others enter the full model.  Each later
    single-variant MILP searches only below the best cost so far (an incumbent cutoff): an
    ``infeasible`` answer proves the variant cannot beat it.  When a single variant remains, its
    single-variant MILP *is* the full model and its solution is reused.

    With disaggregated ``pairs`` each bound is the lower of the co-located and the pair bound per
    class (:func:`planner.optimize.disagg_milp.variant_lower_bounds_with_pairs`) and each variant's
    models hold its pairs (full form: the pairs need the shares).
    """
    bounds = _screening_bounds(cs, columns, offers, periods, demand, one_time, pairs)
    found = _Screened()
    for v, bound in sorted(bounds.items(), key=lambda kv: kv[1]):
        if bound >= found.best * (1 - gap) or deadline.expired:  # out of time: the rest stay in the full model
            break
        _solve_alone(scenario, cs, v, [c for c in columns if c.variant == v], offers, periods, demand, one_time,
                     floors, name, deadline, gap, pairs, found)
    return _screened_outcome(columns, bounds, found, gap, deadline, stats)


@dataclass
class _Screened:
    """What the PuLP path's variant screening has found so far."""

    best: float = math.inf  # the cheapest single-variant plan, $
    best_problem: tuple[int, Problem, solvers.SolveOutcome] | None = None
    lp_bounds: dict[int, float] = field(default_factory=dict)  # variant -> its LP relaxation, $
    proven: set[int] = field(default_factory=set)  # variants whose single-variant optimum is known (within the gap)
    solved: int = 0


def _screening_bounds(cs, columns, offers, periods, demand, one_time, pairs) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """Each variant's numpy lower bound; with pairs, the lower of the co-located and the pair bound per class."""
    if pairs is None:
        return variant_lower_bounds(cs, columns, offers, periods, demand, one_time)
    return variant_lower_bounds_with_pairs(
        class_lower_bounds(cs, columns, offers, periods, demand),
        pair_class_lower_bounds(cs, pairs, offers, periods, demand), sorted({c.variant for c in columns}),
        len(cs.workloads), one_time)


def _solve_alone(scenario, cs, v, restricted, offers, periods, demand, one_time, floors, name, deadline, gap,  # type: ignore[no-untyped-def]
                 pairs, found: _Screened) -> None:
    """Variant ``v`` bounded by its LP relaxation, then solved alone below the best plan so far (``found``)."""
    # one hook for both builds: each call adds fresh pair variables to its problem
    extra = None if pairs is None else pair_hook(scenario, cs, [k for k in pairs if k.variant == v], periods, demand)
    # the full form's LP relaxation (with its rounding facets) bounds tighter than the compact one's
    sub = build_problem(scenario, cs, restricted, offers, periods, demand, one_time, floors, extra=extra)
    relaxed = solvers.lp_bound(sub.prob, name, deadline.left(), threads=scenario.solver.threads)
    if relaxed is not None:
        found.lp_bounds[v] = relaxed * USD_PER_KUSD
        if found.lp_bounds[v] >= found.best * (1 - gap):
            return
    compact = scenario.plan.split_granularity is None and not scenario.plan.pooled_capacity and pairs is None
    sub = build_problem(scenario, cs, restricted, offers, periods, demand, one_time, floors, compact=compact,
                        extra=extra)
    # incumbent cutoff: the best plan itself (HiGHS prunes within the gap of it, so "nothing cheaper"
    # proves the variant's optimum within the gap of the best plan, no closer)
    cutoff = solvers.incumbent_cutoff(found.best)
    outcome = solve(sub, name, deadline.left(), gap, threads=scenario.solver.threads, cutoff_usd=cutoff,
                    node_limit=deadline.node_limit)
    found.solved += 1
    if outcome.status == SolveStatus.CUTOFF:
        found.proven.add(v)  # nothing cheaper than the cutoff: this variant cannot hold the optimum
        return
    if outcome.status == SolveStatus.OPTIMAL:
        found.proven.add(v)
    if outcome.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        cost = pulp.value(sub.prob.objective) * USD_PER_KUSD
        if solvers.improves(cost, found.best):
            found.best, found.best_problem = cost, (v, sub, outcome)


def _screened_outcome(columns: list[Column], bounds: dict[int, float], found: _Screened, gap: float,
                      deadline: solvers.Deadline, stats: dict[str, int]
                      ) -> tuple[list[Column], Problem | None, solvers.SolveOutcome | None]:
    """The variants the full model must still hold, or the answer when the screening settled it."""
    best, best_problem, lp_bounds = found.best, found.best_problem, found.lp_bounds
    if math.isfinite(best) and best_problem is not None:
        # a proven variant's optimum is known: only the best one stays; the others stay when
        # their bound leaves room below the best cost
        keep = {v for v, bound in bounds.items()
                if v not in found.proven and max(bound, lp_bounds.get(v, bound)) < best * (1 - gap)}
        keep.add(best_problem[0])
    else:
        keep = set(bounds)
    stats["variants_screened"] = len(bounds)
    stats["variants_lp_bounded"] = len(lp_bounds)
    stats["variants_solved_alone"] = found.solved
    stats["variants_kept"] = len(keep)
    kept_columns = [c for c in columns if c.variant in keep]
    if best_problem is not None and keep == {best_problem[0]} and best_problem[2].status == SolveStatus.OPTIMAL:
        return kept_columns, best_problem[1], best_problem[2]
    if best_problem is not None and deadline.expired:
        # out of time with variants left unscreened: the best single-variant plan found is the answer
        # (feasible), its gap measured from the lowest bound left — a model of the rest solved in
        # the 1 % that remains would only return a far worse incumbent
        v_best, sub, outcome = best_problem
        others = [max(bounds[v], lp_bounds.get(v, bounds[v])) for v in keep if v != v_best]
        floor = min([best * (1.0 - (outcome.gap or 0.0)), *others])
        message = (f"{solvers.limit_reached(deadline)} while screening variants: the best single-variant plan "
                   f"found, {len(others)} variant(s) not solved")
        return ([c for c in columns if c.variant == v_best], sub,
                dataclasses.replace(outcome, status=SolveStatus.FEASIBLE, gap=max(0.0, 1.0 - floor / best),
                                    message=message))
    return kept_columns, None, None


#: A held-out P10-P90 band wider than this (P90 - P10 of the speed error) is worth a warning.
WIDE_ERROR_BAND = 0.5


def calibration_warnings(plan: Plan, cs: CandidateSet, catalog: Catalog) -> list[str]:
    """Warnings for estimated (not measured) deployments the plan relies on whose efficiency row
    was not fitted to that hardware, or whose held-out error band is wide."""
    precision = {v.name: next(iter(v.profiles.values())).precision for v in cs.variants}
    out: list[str] = []
    used = {(pool.hardware, s.variant) for s in plan.serving if not s.measured
            for pool in ((s.prefill, s.decode) if s.prefill is not None and s.decode is not None else (s,))}
    for hardware, variant in sorted(used):  # a disaggregated line's pools by their own hardware (not "a+b")
        row = catalog.efficiency_for(hardware, precision.get(variant, "*"))
        prec = precision.get(variant, "*")
        if row.hardware != hardware:
            out.append(f"{hardware} is uncalibrated: its throughput uses the pooled efficiency row "
                       f"{row.hardware}/{row.precision} (no published measurement of {hardware} in the fit)")
        elif prec != "*" and not calibrated(row, catalog.get_hardware(hardware), prec, catalog):
            out.append(f"{hardware} {prec} is uncalibrated: no published {prec} measurement on {hardware}; its "
                       f"throughput uses the {row.hardware}/{row.precision} row fitted on the hardware's native formats")
        elif row.error_p10 is not None and row.error_p90 is not None and row.error_p90 - row.error_p10 > WIDE_ERROR_BAND:
            out.append(f"{hardware} {row.precision}: wide held-out error band ({row.error_p10:+.0%} .. "
                       f"{row.error_p90:+.0%} speed error)")
    return list(dict.fromkeys(out))
