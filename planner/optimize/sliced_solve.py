"""One time-sliced model solved with a restricted-support start, then proven (HiGHS), for
:mod:`planner.optimize.sliced_path` (a variant's model) and :mod:`planner.optimize.sliced_pairs` (a
pair's): :func:`solve_staged`, or its two halves :func:`staged_start` and :func:`staged_proof` when
proofs run side by side.  Every answer is a typed status; a search stopped at a limit keeps its best
plan with the highest lower bound known.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulp

from planner.optimize import solver as solvers
from planner.optimize.direct_solve import START_NODES, START_TIME_SHARE
from planner.optimize.milp import MAX_COEFFICIENT_RANGE, USD_PER_KUSD, label_cutoff
from planner.optimize.milp_slices import SlicedProblem
from planner.optimize.solver import SolveStatus
from planner.scenario.schema import Scenario

#: A replica count above this in the LP relaxation puts its column in the restricted support.
SUPPORT_TOLERANCE = 1e-6


def solve_once(problem: SlicedProblem, scenario: Scenario, deadline: solvers.Deadline, gap: float,
               cutoff_usd: float | None) -> solvers.SolveOutcome:
    """One HiGHS/CBC run; with ``cutoff_usd`` (HiGHS) only plans cheaper than it are searched for, and
    "nothing cheaper" comes back as :attr:`SolveStatus.CUTOFF`, never as an optimum (see
    :func:`planner.optimize.milp.solve` for HiGHS's labelling)."""
    name = scenario.solver.name
    values = [abs(a) for c in problem.prob.constraints.values() for a in c.values() if a != 0]
    if values and max(values) / min(values) > MAX_COEFFICIENT_RANGE:
        return solvers.SolveOutcome(SolveStatus.ERROR, name, 0.0, None,
                                    f"coefficients span {min(values):.3g} to {max(values):.3g}: too badly scaled "
                                    "to solve reliably")
    options: dict[str, float] = {}
    if deadline.node_limit is not None and name == "highs":
        options["mip_max_nodes"] = deadline.node_limit
    use_cutoff = cutoff_usd is not None and name == "highs"
    if use_cutoff:
        options["objective_bound"] = cutoff_usd / USD_PER_KUSD  # type: ignore[operator]
    outcome = solvers.run(problem.prob, name, deadline.left(), gap, threads=scenario.solver.threads, options=options)
    return label_cutoff(outcome, problem.prob, cutoff_usd) if use_cutoff else outcome


def solve_staged(problem: SlicedProblem, scenario: Scenario, deadline: solvers.Deadline, gap: float,
                 cutoff_usd: float | None) -> solvers.SolveOutcome:
    """A restricted-support start, then the proof (HiGHS; any other solver: one plain solve).

    1. The LP relaxation; the columns carrying replicas in it are the *support*.
    2. The MILP with every other column's replicas fixed at 0: small, solved fast; its plan is
       feasible for the full model, so its cost ``z`` is an upper bound.  It may use at most
       ``START_NODES`` nodes and ``START_TIME_SHARE`` of the time left (as on the one-slice path): on
       the 4-slice demo with two variants per plan it once took 58.7 of the 60 s, and the proof, left
       0.6 s, could say nothing; stopped by the time share alone, the plan it handed the proof (and
       so the plan printed, within the gap) depended on the machine's load.
    3. The full MILP with the cutoff ``z`` (or the caller's, if lower): "nothing cheaper" proves no
       plan below ``z·(1 − gap)`` (HiGHS prunes within the gap of its cutoff, so a cutoff of
       ``z·(1 − gap)`` would prove only ``z·(1 − gap)²``), the step-2 plan optimal within the gap; a
       plan found below it replaces it.  A search
       stopped at a limit keeps the step-2 plan unless it holds a cheaper one (HiGHS's incumbent may
       lie above the cutoff), with the higher of the bound
       :func:`planner.optimize.solver.cutoff_search_bound` gives and the step-1 relaxation (both
       lower bounds on the model's optimum), and its gap measured from it.  No MIP start
       is handed to HiGHS, so its start trap (the reported objective of a warm-started solve not
       matching the returned columns) cannot arise.
    """
    begun = staged_start(problem, scenario, deadline, gap, cutoff_usd)
    return begun.done if begun.done is not None else staged_proof(problem, scenario, deadline, gap, cutoff_usd,
                                                                   begun)


@dataclass
class StagedStart:
    """Steps 1–2 of :func:`solve_staged`: the restricted-support plan, or the answer that ended there."""

    seconds: float
    found_usd: float | None = None  # the start's cost (None: no start, the proof searches the full model)
    values: dict[str, float | None] | None = None  # every variable's value in the start
    done: solvers.SolveOutcome | None = None  # settled without a proof (another solver, LP cut off or failed)
    relaxation: float | None = None  # the model's LP relaxation, k$: a lower bound on its optimum


def staged_start(problem: SlicedProblem, scenario: Scenario, deadline: solvers.Deadline, gap: float,
                 cutoff_usd: float | None) -> StagedStart:
    if scenario.solver.name != "highs":
        return StagedStart(0.0, done=solve_once(problem, scenario, deadline, gap, cutoff_usd))
    relaxed = solvers.run(problem.prob, "highs", deadline.left(), gap, mip=False, threads=scenario.solver.threads)
    if relaxed.status != SolveStatus.OPTIMAL:  # the MILP answers alone; its time includes the LP's
        done = solve_once(problem, scenario, deadline, gap, cutoff_usd)
        return StagedStart(0.0, done=dataclasses.replace(done, seconds=relaxed.seconds + done.seconds))
    if cutoff_usd is not None and pulp.value(problem.prob.objective) * USD_PER_KUSD >= cutoff_usd * (1.0 - gap):
        return StagedStart(0.0, done=solvers.SolveOutcome(SolveStatus.CUTOFF, "highs", relaxed.seconds, None,
                                                     f"LP bound within the gap of the cutoff ${cutoff_usd:,.0f}"))
    relaxation = float(pulp.value(problem.prob.objective))
    support = {j for (j, _, _), var in problem.r.items() if (var.value() or 0.0) > SUPPORT_TOLERANCE}
    saved = {k: var.upBound for k, var in problem.r.items() if k[0] not in support}
    servers = rounded_servers(problem)
    kept = {unit: (problem.servers[unit].lowBound, problem.servers[unit].upBound) for unit in servers}
    for k in saved:
        problem.r[k].upBound = 0
    for unit, in_service in servers.items():
        problem.servers[unit].lowBound = problem.servers[unit].upBound = in_service
    share = deadline.portion(START_TIME_SHARE, START_NODES)  # the proof keeps the rest, as on the one-slice path
    restricted = solve_once(problem, scenario, share, gap, cutoff_usd)
    if restricted.status == SolveStatus.INFEASIBLE and servers:  # the rounding left too little: support only
        for unit, (lower, upper) in kept.items():
            problem.servers[unit].lowBound, problem.servers[unit].upBound = lower, upper
        restricted = dataclasses.replace(solve_once(problem, scenario, share, gap, cutoff_usd),
                                         seconds=restricted.seconds)
    for unit, (lower, upper) in kept.items():
        problem.servers[unit].lowBound, problem.servers[unit].upBound = lower, upper
    for k, upper in saved.items():
        problem.r[k].upBound = upper
    seconds = relaxed.seconds + restricted.seconds
    if restricted.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return StagedStart(seconds, relaxation=relaxation)
    return StagedStart(seconds, pulp.value(problem.prob.objective) * USD_PER_KUSD,
                  {var.name: var.varValue for var in problem.prob.variables()}, relaxation=relaxation)


def staged_proof(problem: SlicedProblem, scenario: Scenario, deadline: solvers.Deadline, gap: float,
                 cutoff_usd: float | None, begun: StagedStart) -> solvers.SolveOutcome:
    """Step 3 of :func:`solve_staged` from the start ``begun`` (the model holds its values)."""
    found, values, seconds = begun.found_usd, begun.values, begun.seconds
    if found is None or values is None:
        full = solve_once(problem, scenario, deadline, gap, cutoff_usd)
        full = _stopped_with(full, solvers.cutoff_search_bound(full.bound, _k(cutoff_usd), gap), begun.relaxation,
                             pulp.value(problem.prob.objective))
        return dataclasses.replace(full, seconds=seconds + full.seconds)
    cutoff = found if cutoff_usd is None else min(cutoff_usd, found)  # solvers.incumbent_cutoff: not found·(1 − gap)
    full = solve_once(problem, scenario, deadline, gap, cutoff)
    seconds += full.seconds
    proven = _higher(solvers.cutoff_search_bound(full.bound, cutoff / USD_PER_KUSD, gap), begun.relaxation)
    improved = pulp.value(problem.prob.objective)
    if full.status == SolveStatus.OPTIMAL or (
            full.status == SolveStatus.FEASIBLE and improved is not None and improved * USD_PER_KUSD < found):
        return dataclasses.replace(_stopped_with(full, proven, None, improved), seconds=seconds)
    for var in problem.prob.variables():
        var.varValue = values[var.name]
    if full.status == SolveStatus.CUTOFF and cutoff < found:  # a start stopped above the caller's cutoff
        return solvers.SolveOutcome(SolveStatus.CUTOFF, "highs", seconds, None,
                                    f"no plan cheaper than the cutoff ${cutoff:,.0f}", cutoff * (1.0 - gap) / USD_PER_KUSD)
    if full.status == SolveStatus.CUTOFF:  # nothing below cutoff·(1 − gap): the start is optimal within the gap
        return solvers.SolveOutcome(SolveStatus.OPTIMAL, "highs", seconds, gap, "optimal (restricted-support start, "
                                    "proven within the gap by a cutoff search)", cutoff * (1.0 - gap) / USD_PER_KUSD)
    # the proof stopped at a limit without a plan cheaper than the start (HiGHS keeps plans it finds
    # above ``objective_bound`` as its incumbent, so a time-limited search can return a worse one):
    # the start stands, with the search's proven bound
    start_gap = max(0.0, found / USD_PER_KUSD - proven) / (found / USD_PER_KUSD) if proven is not None and found else None
    return solvers.SolveOutcome(SolveStatus.FEASIBLE, "highs", seconds, start_gap,
                                f"feasible: the proof stopped ({full.message})", proven)


def _k(usd: float | None) -> float | None:
    return None if usd is None else usd / USD_PER_KUSD


def _higher(*bounds: float | None) -> float | None:
    """The highest of several lower bounds (k$), None when there is none."""
    known = [b for b in bounds if b is not None]
    return max(known) if known else None


def _stopped_with(outcome: solvers.SolveOutcome, bound: float | None, relaxation: float | None,
                  cost: float | None) -> solvers.SolveOutcome:
    """A search stopped at a limit with a plan (``feasible``) carries the highest lower bound known —
    its own (cutoff-corrected) or the model's LP relaxation — and the gap of its plan's ``cost`` (k$)
    to it; any other outcome is returned as it is."""
    if outcome.status != SolveStatus.FEASIBLE or cost is None:
        return outcome
    floor = _higher(bound, relaxation)
    return dataclasses.replace(outcome, bound=floor, gap=None if floor is None else solvers.gap_left(cost, floor))


def rounded_servers(problem: SlicedProblem) -> dict[tuple[int, int], int]:
    """Whole-server fixed offers: the LP relaxation's servers in service ``S_{o,p}`` rounded to the
    nearest whole number, made non-decreasing and kept within each period's purchase bound (a start
    only — the proof runs over the full model)."""
    out: dict[tuple[int, int], int] = {}
    previous: dict[int, tuple[int, int]] = {}  # offer -> (servers fixed, S's upper bound) of the period before
    for (o, p), in_service in sorted(problem.servers.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        earlier, earlier_bound = previous.get(o, (0, 0))
        bound = int(in_service.upBound or 0)  # Σ_{q≤p} n̄_{o,q}: this period may start bound − earlier_bound
        rounded = min(max(earlier, round(float(in_service.value() or 0.0))), earlier + bound - earlier_bound)
        out[(o, p)] = rounded
        previous[o] = (rounded, bound)
    return out


def screened_status(outcome: solvers.SolveOutcome, cost: float, open_bounds: list[float], what: str,
                    seconds: float, gap: float, deadline: solvers.Deadline) -> solvers.SolveOutcome:
    """A screening's answer from its best plan (``cost`` in k$) and the proven bounds (k$) of the
    models neither solved nor closed (``what``: the variants or pairs screened, for the message):
    optimal when none is left, or when every bound left is within ``gap`` of the plan; otherwise
    feasible, naming the limit that stopped a solve."""
    floor = min([cost * (1.0 - (outcome.gap or 0.0)), *open_bounds])
    worst = solvers.gap_left(cost, floor) if cost > 0 else 0.0
    if not open_bounds and outcome.status == SolveStatus.OPTIMAL:
        return dataclasses.replace(outcome, seconds=seconds, message=(
            f"optimal: {what} solved or closed by their bound or the cutoff"))
    if worst <= gap:  # every bound left is within the requested gap
        return dataclasses.replace(outcome, status=SolveStatus.OPTIMAL, gap=worst, seconds=seconds, bound=floor,
                                   message=solvers.within_gap_message(worst))
    return dataclasses.replace(outcome, status=SolveStatus.FEASIBLE, gap=worst, seconds=seconds, bound=floor,
                               message=f"feasible: some solve of {what} stopped, {solvers.limit_reached(deadline)}")
