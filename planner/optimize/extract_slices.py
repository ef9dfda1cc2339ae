"""From a solved time-sliced model (:mod:`planner.optimize.milp_slices`) to a :class:`Plan`.

As :mod:`planner.optimize.extract`, with the slice on every line where capacity differs by slice:
elastic fleet lines (on-demand, spot) carry their ``slice``, fixed ones (reserved, bought) do not;
every serving line carries its slice and, as ``traffic_share``, the share of the class's queries it
serves there; ``time_slices`` describes the blocks and where each class's queries arrived and were
served.  The cost is recomputed in dollars and checked against the objective.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pulp

from planner.economics.periods import Demand, Periods
from planner.optimize.candidates import CandidateSet
from planner.optimize.extract import (
    MIN_SHARE,
    Spend,
    add_offer_lines,
    add_technique_spend,
    assemble_plan,
)
from planner.optimize.line_load import with_loads
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.milp_slices import SlicedProblem, keep_probability, price_factor
from planner.optimize.pruning import Column
from planner.optimize.verify import rows_error, values_error
from planner.physics.ep_deployment import shown_degree
from planner.plan_model import FleetEntry, Plan, ServedBy, TimeSlice
from planner.scenario.schema import Scenario


def verify_sliced(problem: SlicedProblem) -> str | None:
    """Integers rounded, every value within its bounds, then every row re-checked in original units
    (:mod:`planner.optimize.verify`); None when the solution holds."""
    return values_error(problem.prob) or rows_error(problem.prob)


def shares_of(problem: SlicedProblem) -> dict[tuple[int, int, int], float]:
    """``V_{c,s} x_{j,p,s}``: the share of the class's period queries served by ``j`` in ``s``."""
    return {(j, p, s): problem.volume_share(j, s) * value for (j, p, s), value in problem.x_values().items()}


def extract_sliced(base, scenario: Scenario, cs: CandidateSet, problem: SlicedProblem, periods: Periods,  # type: ignore[no-untyped-def]
                   demand: Demand, one_time: dict[int, float], floors: list[float | None], info, outcome) -> Plan:
    chosen = [v for v, var in problem.y.items() if (var.value() or 0) > 0.5]
    shares = shares_of(problem)
    used_variants = sorted({problem.columns[j].variant for (j, _, _), share in shares.items() if share > MIN_SHARE})
    serving = with_loads(cs, [(line, col, problem.coef["capacity"][key])
                              for line, col, key in _serving_lines(scenario, cs, problem, shares)],
                         frozenset(w.name for w in scenario.workload if w.deadline_hours is not None))
    fleet, breakdown, spend = _fleet(cs, problem, periods)
    technique_pv = sum(problem.coef["traffic_cost"].get((j, p), 0.0) * share for (j, p, _), share in shares.items())
    add_technique_spend(spend, cs, demand, ((problem.columns[j].variant, problem.columns[j].workload, p, share)
                                              for (j, p, _), share in shares.items()))
    return assemble_plan(base, scenario, cs, info=info, outcome=outcome,
                         objective_usd=pulp.value(problem.prob.objective) * USD_PER_KUSD, chosen=chosen,
                         used_variants=used_variants, serving=serving,
                         classes_from=[s.model_copy(update={"slice": None}) for s in serving], fleet=fleet,
                         breakdown=breakdown, technique_pv=technique_pv, spend=spend, one_time=one_time,
                         demand=demand, periods=periods, floors=floors,
                         time_slices=_slices(scenario, problem, shares),
                         peak_factor=problem.slices.peak.max(axis=1) / scenario.horizon.peak_to_average)


def _serving(scenario: Scenario, cs: CandidateSet, problem: SlicedProblem,
             shares: dict[tuple[int, int, int], float]) -> list[ServedBy]:
    """Who serves what, per period and slice (as :func:`planner.optimize.extract._serving`)."""
    return [line for line, _col, _key in _serving_lines(scenario, cs, problem, shares)]


def _serving_lines(scenario: Scenario, cs: CandidateSet, problem: SlicedProblem,
                   shares: dict[tuple[int, int, int], float]) -> list[tuple[ServedBy, Column, tuple[int, int, int]]]:
    """:func:`_serving`'s lines, each with its column and its capacity coefficient's key ``(j, p, s)``."""
    out: list[tuple[ServedBy, Column, tuple[int, int, int]]] = []
    for (j, p, s), share in sorted(shares.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        replicas = round(problem.r[j, p, s].value() or 0.0)
        if share <= MIN_SHARE and replicas == 0:
            continue
        col = problem.columns[j]
        variant = cs.variants[col.variant]
        out.append((ServedBy(period=p, workload=cs.workloads[col.workload], variant=variant.name,
                             hardware=cs.hardware[col.hardware].slug, tp=col.tp, batch=col.batch, replicas=replicas,
                             gpus=replicas * col.tp, traffic_share=share, ttft_ms=col.ttft_ms, tpot_ms=col.tpot_ms,
                             quality_score=variant.profiles[cs.workloads[col.workload]].quality_score,
                             measured=col.measured, slice=s,
                             expert_parallel=shown_degree(variant.profiles[cs.workloads[col.workload]],
                                                          scenario.plan.expert_parallel)),
                    col, (j, p, s)))
    return out


def _fleet(cs: CandidateSet, problem: SlicedProblem,
           periods: Periods) -> tuple[list[FleetEntry], dict[str, float], Spend]:
    """Fixed offers as in the one-slice plan; elastic ones per slice, priced for the slice's hours."""
    P, sl = periods.count, problem.slices
    fleet: list[FleetEntry] = []
    breakdown: dict[str, float] = defaultdict(float)
    spend = Spend(periods.discount_mid)
    cycles = periods.hours / sl.cycle_hours
    for k, offer in enumerate(problem.offers):
        hw = cs.hardware[offer.hardware].slug
        if not problem.elastic(k):
            add_offer_lines(fleet, breakdown, spend, cs, offer, [problem.n[k, p].value() for p in range(P)], periods)
            continue
        lost = 1.0 - keep_probability(offer, sl)
        share = (np.maximum(sl.hours, offer.min_billed_hours) / sl.cycle_hours  # as milp_slices.elastic_cost_usd
                 * price_factor(offer, sl))
        for p in range(P):
            for s in range(sl.count):
                held = round(problem.e[k, p, s].value() or 0) * offer.gpus_per_unit
                if held == 0:
                    continue
                fleet.append(FleetEntry(period=p, month_start=p * periods.months, hardware=hw, mode=offer.mode,
                                        gpus_in_service=held, gpus_acquired=held, provider=offer.provider,
                                        price_source=offer.source, slice=s))
                for part, per_gpu in offer.breakdown.items():
                    breakdown[part] += float(per_gpu[p] * share[s]) * held
                restart = float(lost[s] * offer.restart_usd * cycles) * held
                breakdown["spot_restart"] += restart * float(periods.discount_mid[p])
                if offer.flow is not None:
                    spend.add_mid(p, float(offer.flow[p, p] * share[s]) * held + restart)
    return fleet, breakdown, spend


def _slices(scenario: Scenario, problem: SlicedProblem,
            shares: dict[tuple[int, int, int], float]) -> list[TimeSlice]:
    sl = problem.slices
    served: dict[tuple[int, int, int], float] = defaultdict(float)
    for (j, p, s), share in shares.items():
        served[(problem.columns[j].workload, p, s)] += share
    names = [w.name for w in scenario.workload]

    def by_class(p: int, s: int) -> dict[str, float]:
        return {n: (0.0 if math.isclose(served[(c, p, s)], 0.0, abs_tol=1e-12) else served[(c, p, s)])
                for c, n in enumerate(names)}

    return [TimeSlice(index=s, hours_per_cycle=float(sl.hours[s]), cycle_hours=sl.cycle_hours, clock=sl.labels[s],
                      hours=[int(h) for h in np.flatnonzero(sl.hour_slice == s)],
                      peak_by_class={n: float(sl.peak[c, s]) for c, n in enumerate(names)},
                      arrivals_by_class={n: float(sl.volume[c, s]) for c, n in enumerate(names)},
                      served_by_class=by_class(0, s), served_by_period=[by_class(p, s) for p in range(problem.periods)])
            for s in range(sl.count)]
