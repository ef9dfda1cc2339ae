"""Infeasibility is an answer: name the target that cannot be met and the closest achievable value.

Two checks.  Before the model is built, :func:`latency_and_quality_checks` asks of each class
whether any deployment fits in memory, meets TTFT and TPOT, and, among those, reaches the quality
floor, and, where a plan runs one variant, whether one variant does so for every class.  After an
infeasible solve, :func:`diagnose_caps` lifts quotas, power cap and budget and names the cap the
cheapest uncapped plan breaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pulp
from numpy.typing import NDArray

from planner.economics.offers import ModeOffer
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.variants import Variant
from planner.optimize.milp import USD_PER_KUSD, VERIFY_TOLERANCE, build_problem
from planner.optimize.pruning import meets_floors
from planner.optimize.servers import Units
from planner.optimize.solver import SolveStatus
from planner.plan_model import Infeasibility
from planner.scenario.schema import Scenario
from planner.units import MS_PER_SECOND


def latency_and_quality_checks(scenario: Scenario, cs: CandidateSet, floors: list[float | None]) -> list[Infeasibility]:
    """Before the model: each class needs a deployment that fits, meets its latency targets and, among
    those, its quality floor.  A finding names the closest achievable value and where it is reached."""
    t, res = cs.deployments, cs.deployments.result
    findings: list[Infeasibility] = []
    # a missing score is not held against a variant, as in the model (``meets_floors``): +inf
    quality = np.full((max(v.index for v in cs.variants) + 1, len(cs.workloads)), np.inf)
    for v in cs.variants:
        for c, profile_key in enumerate(cs.workloads):
            score = v.profiles[profile_key].quality_score
            if score is not None:
                quality[v.index, c] = score
    for c, w in enumerate(scenario.workload):
        rows = (t.workload == c) & res.fits
        if not rows.any():
            findings.append(Infeasibility(family="memory", workload=w.name, requirement="fit in memory",
                                          best_achievable="none", message=f"class {w.name}: no variant fits in memory "
                                          "on any allowed hardware at any TP degree"))
            continue
        ok = rows & t.latency_ok
        if not ok.any():
            ttft = np.where(rows, res.ttft_s * MS_PER_SECOND, np.inf)
            tpot = np.where(rows, res.tpot_s * MS_PER_SECOND, np.inf)
            i, k = int(np.argmin(ttft)), int(np.argmin(tpot))
            parts = []
            if ttft[i] > w.ttft_ms:
                parts.append(f"TTFT {w.ttft_ms:.10g} ms is unreachable: best achievable {ttft[i]:.0f} ms "
                             f"({where(cs, i)})")
            if tpot[k] > w.tpot_ms:
                parts.append(f"TPOT {w.tpot_ms:.10g} ms is unreachable: best achievable {tpot[k]:.1f} ms ({where(cs, k)})")
            tail = [e.reason for e in cs.exclusions if e.family == "latency" and e.subject.startswith(f"class {w.name}:")]
            if not parts and tail:
                parts.append(f"the P99 targets are unreachable: {tail[0]}")
            if not parts:
                both = np.where(rows, np.maximum(ttft / w.ttft_ms, tpot / w.tpot_ms), np.inf)
                b = int(np.argmin(both))
                parts.append(f"no deployment meets TTFT {w.ttft_ms:.10g} ms and TPOT {w.tpot_ms:.10g} ms together: closest "
                             f"{ttft[b]:.0f} ms / {tpot[b]:.1f} ms ({where(cs, b)})")
            findings.append(Infeasibility(family="latency", workload=w.name,
                                          requirement=f"TTFT <= {w.ttft_ms:.10g} ms, TPOT <= {w.tpot_ms:.10g} ms",
                                          best_achievable=f"TTFT {ttft[i]:.1f} ms, TPOT {tpot[k]:.2f} ms",
                                          message=f"class {w.name}: " + "; ".join(parts)))
            continue
        floor = floors[c]
        if floor is None:
            continue
        q_rows = quality[t.variant.astype(np.intp), c]
        best = np.where(ok, q_rows, -np.inf)
        i = int(np.argmax(best))
        if best[i] < floor - 1e-9:
            findings.append(Infeasibility(
                family="quality", workload=w.name, requirement=f"{scenario.quality.metric} >= {floor:.2f}",
                best_achievable=f"{best[i]:.2f}",
                message=f"class {w.name}: quality floor {floor:.2f} is unreachable at its latency targets: best "
                        f"{scenario.quality.metric} among latency-feasible deployments is {best[i]:.2f} ({where(cs, i)})"))
    if not findings and scenario.plan.max_variants == 1:
        findings += _one_variant_for_all(scenario, cs, floors)
    return findings


def _one_variant_for_all(scenario: Scenario, cs: CandidateSet, floors: list[float | None]) -> list[Infeasibility]:
    """With ``plan.max_variants = 1`` one variant serves every class, so it must meet every class's
    floor (``meets_floors``, as pruning keeps it) and have a latency-feasible deployment for each.
    Each class alone may be served (the checks above) while no variant serves them all: class a's
    TPOT reachable only in FP8, which misses class b's floor.  Until 2026-12-07 that scenario reached
    the model with no column for class a and was reported as a price problem."""
    t = cs.deployments
    served = np.zeros((len(cs.variants), len(cs.workloads)), dtype=bool)
    ok = t.result.fits & t.latency_ok
    for v in cs.variants:
        for c in range(len(cs.workloads)):
            served[v.index, c] = bool((ok & (t.variant == v.index) & (t.workload == c)).any())
    meeting = [v for v in cs.variants if meets_floors(cs, v.index, floors)]
    if any(served[v.index].all() for v in meeting):
        return []
    unserved = next((c for c in range(len(cs.workloads)) if not any(served[v.index, c] for v in meeting)), None)
    if unserved is None:  # each class has a variant meeting every floor, but never the same one
        return [_no_common_variant(scenario, cs, meeting, served)]
    name = scenario.workload[unserved].name
    fast = [v for v in cs.variants if served[v.index, unserved]][:3]
    missed = [f"{v.name} misses {_first_missed_floor(scenario, cs, v.index, floors)}" for v in fast]
    return [Infeasibility(
        family="quality", workload=name, requirement="one variant meeting every class's quality floor and latency "
                                                     "targets (plan.max_variants = 1)",
        best_achievable="none",
        message=f"class {name}: no variant that meets every class's quality floor meets its latency targets, and "
                f"those that meet them ({'; '.join(missed)}) cannot serve every class; with plan.max_variants = 2 "
                f"a class may run another variant than the others, or a floor or target can be loosened")]


#: Variants named per class in a finding (the rest counted).
NAMED_VARIANTS = 2


def _no_common_variant(scenario: Scenario, cs: CandidateSet, meeting: list[Variant],
                       served: NDArray[np.bool_]) -> Infeasibility:
    """Every class is served by a variant meeting every floor, but no one variant serves them all (chat's
    TTFT met only by a distilled Llama-2 student, whose 4,096-token context cannot hold summarise's
    requests).  Until the twenty-first session this case crashed (``StopIteration``, exit 1)."""
    def some(names: list[str]) -> str:
        return ", ".join(names[:NAMED_VARIANTS]) + (f" and {len(names) - NAMED_VARIANTS} more"
                                                    if len(names) > NAMED_VARIANTS else "")

    per_class = [f"{w.name} only with {some([v.name for v in meeting if served[v.index, c]])}"
                 for c, w in enumerate(scenario.workload)]
    return Infeasibility(
        family="quality", workload=None, requirement="one variant meeting every class's quality floor, latency "
                                                     "targets and context (plan.max_variants = 1)",
        best_achievable="none",
        message=f"no one variant serves every class ({'; '.join(per_class)}); with plan.max_variants = 2 a class may "
                "run another variant than the others, or a floor or target can be loosened")


def _first_missed_floor(scenario: Scenario, cs: CandidateSet, v: int, floors: list[float | None]) -> str:
    """The first class whose floor variant ``v`` misses, as "class b's floor 69.40 (68.90)"."""
    for c, (w, floor) in enumerate(zip(scenario.workload, floors, strict=True)):
        score = cs.variants[v].profiles[cs.workloads[c]].quality_score
        if floor is not None and score is not None and score < floor - 1e-9:
            return f"class {w.name}'s floor {floor:.2f} ({score:.2f})"
    return "no floor"  # not reached: a variant meeting every floor and this class's targets serves it


def where(cs: CandidateSet, i: int) -> str:
    """Deployment row ``i`` in words: hardware, variant, TP, batch."""
    t = cs.deployments
    v = cs.variants[int(t.variant[i])]
    return f"{cs.hardware[int(t.hardware[i])].slug}, {v.name}, TP{int(t.tp[i])}, batch {int(t.result.batch[i])}"


def diagnose_caps(scenario, cs, columns, offers, periods, demand, one_time, floors, name, limit, gap) -> list[Infeasibility]:  # type: ignore[no-untyped-def]
    """After an infeasible solve: re-solve without quotas, power cap and budget, and name each cap the
    cheapest uncapped plan breaks (with what it would need)."""
    relaxed = build_problem(scenario, cs, columns, offers, periods, demand, one_time, floors, with_caps=False)
    outcome = solvers.run(relaxed.prob, name, limit, gap, threads=scenario.solver.threads)
    if outcome.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return [Infeasibility(family="solver", workload=None, requirement="a feasible plan",
                              best_achievable="none", message="no plan exists even without quotas, power cap and budget "
                              f"(solver: {outcome.message})")]
    findings = []
    gpus = in_service(relaxed.offers, relaxed.n, lambda offer: offer.gpus_per_unit)
    for slug, quota in scenario.market.quota_gpus.items():
        h = next((i for i, hw in enumerate(cs.hardware) if hw.slug == slug), None)
        need = max((g for (hh, _), g in gpus.items() if hh == h), default=0.0)
        if h is not None and need > quota + VERIFY_TOLERANCE:  # solver noise is not a need (it once read 'uses 0')
            findings.append(Infeasibility(family="quota", workload=None, requirement=f"{slug} <= {quota} GPUs",
                                          best_achievable=f"{need:.0f} GPUs",
                                          message=f"quota of {quota} {slug} GPUs is too small: the cheapest plan "
                                                  f"without caps has {need:.0f} in service"))
    cost = pulp.value(relaxed.prob.objective) * USD_PER_KUSD
    if scenario.market.budget_usd is not None and cost > scenario.market.budget_usd:
        findings.append(Infeasibility(family="budget", workload=None, requirement=f"<= ${scenario.market.budget_usd:,.0f}",
                                      best_achievable=f"${cost:,.0f}", message=f"budget ${scenario.market.budget_usd:,.0f} "
                                      f"is below the cheapest lifetime cost without caps, ${cost:,.0f}"))
    if scenario.market.power_cap_kw is not None:
        findings += _power_finding(scenario.market.power_cap_kw, relaxed.offers, relaxed.n, alone=not findings)
    if not findings:
        findings.append(Infeasibility(family="caps", workload=None, requirement="quotas, power cap and budget together",
                                      best_achievable="feasible without caps", message="each cap alone can be met, "
                                      "but not all together"))
    return findings


def _power_finding(cap_kw: float, offers: list[ModeOffer], n: Units, *, alone: bool) -> list[Infeasibility]:
    """The power cap against the uncapped plan's owned facility kW in its busiest period; when the plan
    keeps within the cap and no other cap was named (``alone``), the cap is named with the others."""
    owned = in_service(offers, n, lambda o: o.power_kw * o.gpus_per_unit if o.mode == "buy" else 0.0)
    by_period: dict[int, float] = defaultdict(float)
    for (_, p), kw in owned.items():
        by_period[p] += kw
    peak_kw = max(by_period.values(), default=0.0)
    requirement = f"owned <= {cap_kw:g} kW"
    if peak_kw > cap_kw + VERIFY_TOLERANCE:
        return [Infeasibility(family="power", workload=None, requirement=requirement,
                              best_achievable=f"{peak_kw:,.1f} kW",
                              message=f"power cap of {cap_kw:g} kW on owned GPUs is too small: the cheapest plan "
                                      f"without caps owns {peak_kw:,.1f} kW (facility power, PUE included) in its "
                                      "busiest period")]
    if alone:
        return [Infeasibility(family="power", workload=None, requirement=requirement,
                              best_achievable="see quota/budget",
                              message="the power cap on owned GPUs, together with the other caps, leaves no feasible "
                                      "plan")]
    return []


def in_service(offers: list[ModeOffer], n: Units,
               per_unit: Callable[[ModeOffer], float]) -> dict[tuple[int, int], float]:
    """``per_unit`` summed over the purchase units in service per (hardware, period) of a solved model.

    ``Σ_{o on h} Σ_{q : o started in q covers p} w_o · n_{o,q}``: with ``w_o = u_o`` (GPUs per unit) the
    left side of the quota row — whole units, so a plan whose replicas need 1 GPU from an offer sold by
    the 8-GPU server has 8 in service, and it is those 8 that a quota of 4 refuses; with ``w_o`` the owned
    unit's facility kW (0 for rented units) summed over the hardware, the left side of the power row.
    """
    total: dict[tuple[int, int], float] = defaultdict(float)
    for (o, q), var in n.items():
        offer = offers[o]
        units = pulp.value(var) or 0.0
        for p in range(offer.covers.shape[1]):
            if offer.covers[q, p]:
                total[(offer.hardware, p)] += per_unit(offer) * units
    return total
