r"""Exact variant screening on the numpy-built models (HiGHS, whole traffic shares).

``plan.max_variants = 1``: the optimum is the cheapest single-variant plan.  First the variants
that may hold it get their relaxation and a primal start (:func:`_prepare_near_ties`), and the one
with the cheapest start is proven first; then the others are visited in order of a cheap lower
bound ``LB_v`` (:func:`variant_lower_bounds`), skipping those with ``LB_v ≥ best·(1 − gap)``.
Each visited variant's compact model is solved by
:func:`planner.optimize.direct_solve.solve_model` with the incumbent cutoff ``best·(1 − gap)``: its
relaxation, or a search that finds nothing below the cutoff, proves the variant out.  The plan is
``optimal`` when the winner is proven optimal and every other variant is bounded or cut off; when
the time runs out first it is ``feasible``, its gap measured from the lowest bound left unproven.
The first two proofs run side by side in threads, below cutoffs fixed before either starts
(:mod:`planner.optimize.proof_waves`), unless the scenario asks for one solver thread.  Twins — variants with the
first one's relaxation and the same start — are decided before that by one search of their union
(:mod:`planner.optimize.union`), and the variants after them still go two at a time.  With
disaggregated pairs, whose proofs do not close inside the time limit, the first wave leaves a share of
the time (:data:`~planner.optimize.proof_waves.PAIR_LATER_SHARE`) to the variants after it, searched in
waves of their own (:func:`~planner.optimize.proof_waves.later_waves`), so that each is bounded by a search rather than left at its relaxation.

The winner is written back onto the planner's PuLP model of the same columns (compact form), so
that :func:`planner.optimize.planning._verify` re-checks it in original units and the extraction is
the same as on the PuLP path.
"""

from __future__ import annotations

import dataclasses

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pulp
from numpy.typing import NDArray

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.direct import DirectModel, ModelData, build, scaling_refusal
from planner.optimize.direct_solve import DirectOutcome, Prepared, prepare, solve_model
from planner.optimize.milp import USD_PER_KUSD, Problem
from planner.optimize.proof_waves import offer_unit_sizes, proof_waves
from planner.optimize.pruning import Column
from planner.optimize.solve_memo import SolveMemo
from planner.optimize.solver import (
    SolveStatus,
)
from planner.optimize.union import carry_over, union_proof

if TYPE_CHECKING:  # disaggregated pairs are imported only by plans that have them
    from planner.optimize.disagg_columns import PairColumn
    from planner.optimize.disagg_milp import PairVariables


def gpu_period_floor(offers: Sequence[ModeOffer], periods: int) -> dict[int, NDArray[np.float64]]:
    """``κ_{h,p}``: the least PV $ any offer of hardware ``h`` charges per serving GPU-period of ``p``
    (an acquisition that may enter service by then: its cost over the periods it serves and its share
    in service)."""
    kappa: dict[int, NDArray[np.float64]] = {}
    for offer in offers:
        served = offer.covers.sum(axis=1)
        startable = offer.covers & np.array([offer.may_start(p) for p in range(periods)])[:, None]
        per_gpu = offer.cost_usd / (np.maximum(served, 1) * offer.supply_factor)
        per_period = np.where(startable, per_gpu[:, None], np.inf).min(axis=0)
        kappa[offer.hardware] = np.minimum(kappa.get(offer.hardware, np.full(periods, np.inf)), per_period)
    return kappa


def class_lower_bounds(cs: CandidateSet, columns: Sequence[Column], offers: Sequence[ModeOffer], periods: Periods,
                       demand: Demand) -> dict[tuple[int, int], NDArray[np.float64]]:
    r"""``ℓ_{v,c,p}`` in $: a lower bound on serving all of class ``c`` in period ``p`` with variant ``v``.

    ``ℓ_{v,c,p} = min_{j ∈ v,c} λ_{c,p} s_{v,c} t_j / μ_j · κ_{h(j),p} + ρ_{v,c,p}`` where ``κ_{h,p}``
    is the least any offer charges per serving GPU-period of ``p`` (an acquisition that may enter
    service by then: its PV cost divided by the periods it serves and its share in service).  It
    drops integrality and full-term payment, so it never exceeds the true cost.
    """
    P = periods.count
    kappa = gpu_period_floor(offers, P)
    best: dict[tuple[int, int], NDArray[np.float64]] = {}
    for col in columns:
        if col.hardware not in kappa:
            continue
        profile = cs.variants[col.variant].profiles[cs.workloads[col.workload]]
        gpus = demand.peak_rps[col.workload] * profile.served_query_fraction * col.tp / col.capacity_rps
        traffic = (profile.recurring_usd_per_million_queries * demand.queries[col.workload] / 1e6
                   * periods.discount_mid)
        key = (col.variant, col.workload)
        best[key] = np.minimum(best.get(key, np.full(P, np.inf)), gpus * kappa[col.hardware] + traffic)
    return best


def variant_lower_bounds(cs: CandidateSet, columns: Sequence[Column], offers: Sequence[ModeOffer], periods: Periods,
                         demand: Demand, one_time: dict[int, float]) -> dict[int, float]:
    r"""``LB_v = F_v + Σ_{c,p} ℓ_{v,c,p}`` (:func:`class_lower_bounds`) for every variant that can
    serve every class alone."""
    best = class_lower_bounds(cs, columns, offers, periods, demand)
    bounds: dict[int, float] = {}
    for v in sorted({col.variant for col in columns}):
        per_class = [best.get((v, c)) for c in range(len(cs.workloads))]
        if any(b is None for b in per_class):
            continue  # the variant cannot serve every class alone
        bounds[v] = one_time.get(v, 0.0) + float(sum(b.sum() for b in per_class))  # type: ignore[union-attr]
    return bounds


def load_solution(problem: Problem, model: DirectModel, values: NDArray[np.float64]) -> None:
    """Write a direct model's solution onto the PuLP model of the same columns (by variable name)."""
    named = problem.prob.variablesDict()
    for var in problem.y.values():
        var.varValue = 1.0 if int(var.name.split("_")[1]) in model.variants else 0.0
    for k in range(len(model.columns)):
        for p in range(problem.periods):
            problem.r[k, p].varValue = float(values[model.r[k, p]])
    started = model.acquisitions(values)
    for k in range(len(model.offers)):
        in_service = np.cumsum(started[k])
        for p in range(problem.periods):
            if (k, p) in problem.servers:  # whole servers: the PuLP model holds S_{o,p} (servers.cumulative_servers)
                problem.servers[k, p].varValue = float(in_service[p])
            else:
                unit = problem.n[k, p]
                assert isinstance(unit, pulp.LpVariable)
                unit.varValue = float(started[k, p])
    for (h, p), index in model.spares.items():
        named[f"spares_{h}_{p}"].varValue = float(values[index])
    if problem.compact:
        return
    state = _pair_state(problem, model) if model.pairs else None
    pair_shares, shares = _fill_shares(problem, model, values, [] if state is None else state.pairs)
    if state is not None:
        for (i, p), share in pair_shares.items():
            state.x[i, p].varValue = share
            deployed = share > 0  # replicas left on idle GPUs of a pair that carries nothing are not deployed
            state.prefill[i, p].varValue = float(values[model.pair_pools[i, 0, p]]) if deployed else 0.0
            state.decode[i, p].varValue = float(values[model.pair_pools[i, 1, p]]) if deployed else 0.0
            if (i, p) in state.units:
                state.units[i, p].varValue = float(values[model.pair_units[(i, p)]]) if deployed else 0.0
    for (j, p), share in shares.items():
        problem.x[j, p].varValue = share


def _pair_state(problem: Problem, model: DirectModel) -> PairVariables:
    """The PuLP model's disaggregated pair variables (its ``extra`` hook's record), in the direct model's
    pair order (both list the pairs of the model's variants in candidate order)."""
    from planner.optimize.disagg_milp import PairVariables

    state = problem.extra.state if problem.extra is not None else None
    if not isinstance(state, PairVariables) or len(state.pairs) != len(model.pairs):
        raise ValueError("the direct model holds disaggregated pairs its PuLP model does not")
    return state


def _fill_shares(problem: Problem, model: DirectModel, values: NDArray[np.float64], pairs: Sequence[PairColumn]
                 ) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], float]]:
    """Per-pair and per-column shares from the aggregated ``x_{v,c,p}`` (or the whole class, one
    variant): each (v, c)'s disaggregated pairs take their ``x_{k,p}`` first (as far as traffic is
    left), then its columns fill the rest in order, each up to ``r/a``."""
    out: dict[tuple[int, int], float] = {}
    for k, col in enumerate(problem.columns):
        for p in range(problem.periods):
            out[(k, p)] = 0.0
    # one variant: each class is served whole by its columns and pairs
    left: dict[tuple[int, int, int], float] = defaultdict(lambda: 1.0)
    if model.x:
        left = defaultdict(float, {key: float(values[index]) for key, index in model.x.items()})
    pair_out: dict[tuple[int, int], float] = {}
    for i, pair in enumerate(pairs):
        for p in range(problem.periods):
            key = (pair.variant, pair.workload, p)
            pair_out[(i, p)] = max(0.0, min(left[key], float(values[model.pair_x[i, p]])))
            left[key] -= pair_out[(i, p)]
    for k, col in enumerate(problem.columns):
        for p in range(problem.periods):
            key = (col.variant, col.workload, p)
            if left[key] <= 0:
                continue
            a = problem.coef["capacity"][(k, p)]
            replicas = float(values[model.r[k, p]])
            share = min(left[key], replicas / a if a > 0 else (1.0 if replicas else 0.0))
            out[(k, p)] = share
            left[key] -= share
    return pair_out, out


#: Relative spread above the lowest relaxation within which a variant is given a start before the
#: proofs (an ordering heuristic only: a variant outside it is still searched below the incumbent).
START_RACE_RELAXATION_SPREAD = 1e-3
#: Starts within this relative difference are the same plan's cost reached twice (floating-point
#: noise, 1e-11 on the demo with more caching options); they do not reorder the variants.
START_TIE_TOLERANCE = 1e-9
#: Starts within this relative difference of the first variant's make near-twins whose union is
#: searched once (:func:`~planner.optimize.union.union_proof`: which variants are searched together,
#: never what is proven; its module docstring has the measurements that set it).
UNION_START_TOLERANCE = 1e-3



def _prepare_near_ties(data: ModelData, bounds: dict[int, float], built: dict[int, DirectModel],
                       deadline: solvers.Deadline, gap: float, threads: int | None, best: float,
                       memo: SolveMemo | None, known: tuple[int, DirectOutcome] | None = None) -> dict[int, Prepared]:
    r"""Relaxation and start (:func:`~planner.optimize.direct_solve.prepare`) of every variant that
    may hold the optimum, before any proof.

    Variants are visited in bound order while ``LB_v < s·(1 − gap)``, ``s`` the cheapest start
    found so far (or the memo's best answer); a variant whose relaxation is at or above that is
    not given a start.  Near-tied variants share their relaxation (before this round's H200 refit
    the demo's FP8 and INT8 variants both relaxed to 1,951.2 k$), so the bound order says nothing
    about which is cheaper, while the starts do (2,105.9 against 2,103.5 k$): proving the cheaper start's variant first lets the
    others be searched below its plan (cut off), where the bound order proved the dearer one in
    full first and then searched the cheaper one below it.  The starts only order the proofs;
    what is proven is unchanged.  A start is sought only for a variant whose relaxation is within
    :data:`START_RACE_RELAXATION_SPREAD` of the lowest relaxation seen: the demo's next variants
    relax 3 % higher and never win, and a start costs 0.2–0.3 s each.  A variant whose model holds
    the cheapest start found so far takes that plan as its start (:func:`_carried_start`) instead of
    searching for its own: on this round's catalog the demo's INT8 start search took 0.67 s to reach
    the FP8 start's plan again (demo 3.3 → 2.7 s, the same union proof and optimum).
    """
    out: dict[int, Prepared] = {}
    incumbent = best
    for v, bound in sorted(bounds.items(), key=lambda kv: (kv[1], kv[0])):
        cutoff = incumbent * (1 - gap) if math.isfinite(incumbent) else None
        if (cutoff is not None and bound / USD_PER_KUSD >= cutoff) or deadline.expired:
            break
        model = built[v] if v in built else build(data, [v])
        built[v] = model
        if scaling_refusal(model) or (memo is not None and memo.lookup(model, gap, cutoff) is not None):
            continue
        near = min((p.relaxed.objective for p in out.values() if p.relaxed.objective is not None), default=None)
        near_cutoff = near * (1 + START_RACE_RELAXATION_SPREAD) if near is not None else None
        prep = prepare(model, deadline, gap, threads=threads, unit_sizes=offer_unit_sizes(data, model),
                       cutoff=min(c for c in (cutoff, near_cutoff, math.inf) if c is not None),
                       known=_carried_start(data, built, out, model))
        if known is not None and known[0] == v and prep.start is not None and solvers.improves(
                known[1].objective or math.inf, prep.start.objective if prep.start.objective is not None else math.inf):
            prep = dataclasses.replace(prep, start=known[1])  # a given plan cheaper than the start found
        out[v] = prep
        if prep.start is not None and prep.start.objective is not None:
            incumbent = min(incumbent, prep.start.objective)
    return out


def _carried_start(data: ModelData, built: dict[int, DirectModel], prepared: dict[int, Prepared],
                   model: DirectModel) -> DirectOutcome | None:
    """The cheapest start prepared so far, carried over to ``model`` (:func:`~planner.optimize.union.carry_over`)
    when it is a plan of ``model`` too; None otherwise.  A near-tied variant then needs no start
    search of its own: the starts only order the proofs and name the twins a union search decides
    (:func:`~planner.optimize.union.union_proof`).  Disaggregated pairs are carried too (since
    2026-12-06): on the disaggregated demo the second variant took the first's 1,643.2 k$ plan at the
    same cost, where its own period-split start spent its 11 s time share and ended without a plan."""
    starts = [(p.start.objective, v) for v, p in prepared.items()
              if p.start is not None and p.start.objective is not None and p.start.values is not None]
    if not starts:
        return None
    _cost, v = min(starts)
    source = prepared[v].start
    assert source is not None and source.values is not None
    return carry_over(data, built[v], model, source.values)


def _proof_order(bounds: dict[int, float], prepared: dict[int, Prepared]) -> list[tuple[int, float]]:
    """The variant with the cheapest start first (of equal starts, the first in bound order), then
    every variant in bound order."""
    order = sorted(bounds.items(), key=lambda kv: (kv[1], kv[0]))
    starts = {v: p.start.objective for v, p in prepared.items() if p.start is not None and p.start.objective is not None}
    if not starts:
        return order
    cheapest = min(starts.values())
    # starts equal to rounding (the same plan reached by two variants) keep the bound order
    first = next(v for v, _b in order if v in starts and starts[v] <= cheapest + START_TIE_TOLERANCE * abs(cheapest))
    return [(first, bounds[first]), *[(v, b) for v, b in order if v != first]]


def screen_single(data: ModelData, bounds: dict[int, float], deadline: solvers.Deadline, gap: float,
                  threads: int | None, stats: dict[str, int], memo: SolveMemo | None = None,
                  known: tuple[int, DirectModel, DirectOutcome] | None = None
                  ) -> tuple[int, DirectModel, DirectOutcome] | None:
    """The best single-variant plan (module docstring); None when no variant has a plan.

    The returned outcome is ``optimal`` only when every other variant was proven out; otherwise it
    is ``feasible`` with the gap to the lowest bound left, or the winner's own status.  ``memo``:
    what earlier solves of the same models proved (:mod:`planner.optimize.solve_memo`) decides a
    variant without solving it when it can, and every finished solve is added to it.  ``known``: a plan
    of one variant's model already in hand (:mod:`planner.optimize.plan_hint`), that variant's start
    where it is cheaper than the one its start search finds.
    """
    unproven: dict[int, float] = {}  # variant -> the best lower bound known for it
    solved = relaxed = 0
    built: dict[int, DirectModel] = {} if known is None else {known[0]: known[1]}
    winner = _memo_incumbent(data, bounds, built, gap, memo)
    best = winner[2].objective if winner is not None and winner[2].objective is not None else math.inf
    prepared = _prepare_near_ties(data, bounds, built, deadline, gap, threads, best, memo,
                                  None if known is None else (known[0], known[2]))
    order = _proof_order(bounds, prepared)
    ahead = union_proof(data, order, prepared, deadline, gap, threads, START_RACE_RELAXATION_SPREAD,
                        UNION_START_TOLERANCE, built) if winner is None else {}
    stats["variants_proven_together"] = len(ahead)
    # the next variants of the proof order still go two at a time, below the twins' plan if there is one
    ahead |= proof_waves(data, order, ahead, prepared, built, deadline, gap, threads, best, memo,
                         None if winner is None else winner[0])
    for v, bound in order:
        if bound / USD_PER_KUSD >= best * (1 - gap):
            continue
        if winner is not None and v == winner[0]:
            continue  # its answer is already known
        if deadline.expired and v not in ahead:  # a wave's answers are in hand whenever the time ran out
            unproven[v] = _known_bound(bound / USD_PER_KUSD, prepared.get(v))
            continue
        model = built[v] if v in built else build(data, [v])
        refusal = scaling_refusal(model)
        if refusal:
            return v, model, DirectOutcome(SolveStatus.ERROR, 0.0, None, None, None, None, refusal)
        outcome, fresh = _answer(data, v, model, best, deadline, gap, threads, prepared.get(v), ahead, memo)
        relaxed += fresh
        solved += fresh and not outcome.decided_by_relaxation
        if outcome.status in (SolveStatus.CUTOFF, SolveStatus.INFEASIBLE):
            continue
        # a search stopped without a dual bound is bounded by what was known of the variant before it
        lower = outcome.bound if outcome.bound is not None else _known_bound(bound / USD_PER_KUSD, prepared.get(v))
        if outcome.status != SolveStatus.OPTIMAL:
            outcome = dataclasses.replace(outcome, bound=lower)
        if outcome.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) and outcome.objective is not None:
            if outcome.status == SolveStatus.FEASIBLE:
                unproven[v] = lower
            if solvers.improves(outcome.objective, best):
                if winner is not None and winner[2].status == SolveStatus.FEASIBLE:
                    unproven[winner[0]] = winner[2].bound or 0.0
                best, winner = outcome.objective, (v, model, outcome)
                unproven.pop(v, None)
        elif outcome.status in (SolveStatus.NO_SOLUTION, SolveStatus.ERROR):
            unproven[v] = lower
    stats["variants_screened"] = len(bounds)
    stats["variants_lp_bounded"] = relaxed
    stats["variants_solved_alone"] = solved
    stats["variants_kept"] = 1 if winner else 0
    return None if winner is None else _screening_answer(winner, unproven, gap, deadline)


def _known_bound(fluid: float, prepared: Prepared | None) -> float:
    """The best lower bound known for a variant left unsolved (k$): its relaxation when the start race
    computed it, else its fluid bound ``LB_v``."""
    relaxed = prepared.relaxed.objective if prepared is not None and prepared.relaxed.status == SolveStatus.OPTIMAL \
        else None
    return max(fluid, relaxed) if relaxed is not None else fluid


def _answer(data: ModelData, v: int, model: DirectModel, best: float, deadline: solvers.Deadline, gap: float,
            threads: int | None, prepared: Prepared | None, ahead: dict[int, tuple[float | None, DirectOutcome]],
            memo: SolveMemo | None) -> tuple[DirectOutcome, bool]:
    """Variant ``v``'s answer below the incumbent ``best``: proven alongside another
    (:mod:`~planner.optimize.proof_waves`, below its own fixed cutoff), decided by the memo, or solved now; every
    proof is recorded in the memo.  True when it was proven here (not taken from the memo).

    The search's cutoff is ``best`` itself (:func:`~planner.optimize.solver.incumbent_cutoff` says
    why not ``best·(1 − gap)``); the memo is asked whether it already proves ``z*_v ≥ best·(1 − gap)``."""
    cutoff, enough = solvers.search_limits(best, gap)
    if v in ahead:
        cutoff, outcome = ahead[v]
    else:
        known = memo.lookup(model, gap, enough) if memo is not None else None
        if known is not None:
            return known, False
        outcome = solve_model(model, deadline, gap, threads=threads, cutoff=cutoff,
                              unit_sizes=offer_unit_sizes(data, model), prepared=prepared)
    if memo is not None:
        memo.record(model, gap, cutoff, outcome)
    return outcome, True


def _memo_incumbent(data: ModelData, bounds: dict[int, float], built: dict[int, DirectModel], gap: float,
                    memo: SolveMemo | None) -> tuple[int, DirectModel, DirectOutcome] | None:
    """The cheapest answer the memo already holds proven for one of the variants (the first incumbent);
    the models built on the way are kept in ``built``."""
    winner: tuple[int, DirectModel, DirectOutcome] | None = None
    if memo is None or not memo.entries:
        return None
    for v in sorted(bounds, key=lambda v: (bounds[v], v)):
        built[v] = build(data, [v])
        known = memo.solution(built[v], gap)
        if known is not None and known.objective is not None and (
                winner is None or winner[2].objective is None or known.objective < winner[2].objective):
            winner = (v, built[v], known)
    return winner


def _screening_answer(winner: tuple[int, DirectModel, DirectOutcome], unproven: dict[int, float],
                      gap: float, deadline: solvers.Deadline) -> tuple[int, DirectModel, DirectOutcome]:
    """The winner's outcome over the whole screening: optimal when no variant was left unproven, or
    when the lowest bound left is within the requested ``gap`` of the plan (a stopped search's bound
    and the other variants' bounds prove it as HiGHS proves one model: ``1 − bound/plan ≤ gap``);
    otherwise feasible with the gap to that bound."""
    v, model, outcome = winner
    best = outcome.objective if outcome.objective is not None else math.inf
    own = outcome.bound if outcome.bound is not None else (best if outcome.status == SolveStatus.OPTIMAL else 0.0)
    floor = min([own, *unproven.values()])  # a stopped search without a bound proves nothing of its own
    floor = min(floor, best)
    if outcome.status == SolveStatus.OPTIMAL and not unproven:
        return winner
    left = solvers.gap_left(best, floor)
    if outcome.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) and outcome.values is not None and left <= gap:
        return v, model, DirectOutcome(SolveStatus.OPTIMAL, outcome.seconds, outcome.objective, floor, left,
                                       outcome.values, solvers.within_gap_message(left))
    # the plan's own limit, not the share of it the winner's search had left (its message names that)
    message = (f"{solvers.limit_reached(deadline)}: the best single-variant plan found, "
               + (f"{len(unproven)} variant(s) not proven out" if unproven else "not proven optimal"))
    return v, model, DirectOutcome(SolveStatus.FEASIBLE, outcome.seconds, outcome.objective, floor, left,
                                   outcome.values, message)
