"""The planner's path for scenarios with time slices, deferrable classes or spot capacity
(:func:`planner.economics.slices.needs_slices`): build :mod:`planner.optimize.milp_slices`, solve it
with the plan's solver, re-verify it in original units and read it back
(:mod:`planner.optimize.extract_slices`).

With ``plan.max_variants = 1`` each variant gets its own compact model, bounded by its LP relaxation
and solved cheapest bound first with the best plan so far as a cutoff (:func:`_screen`); a variant is
built only when that order reaches it, and those a bound from the inputs alone closes
(:mod:`planner.optimize.sliced_bounds`) never are (:class:`_BoundOrder`).  Each solve starts from a
restricted-support plan with whole servers rounded from the LP (:func:`solve_staged`).  With two
variants per plan the pairs are screened next (:mod:`planner.optimize.sliced_pairs`); with three or
more one model holds them all (``Σ y ≤ max_variants``), refused above a size its build could not
stop (:func:`_check_mixed_size`).  The one-slice path's numpy-built models and screening bounds are
not used here: they assume one slice.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable

import pulp

from planner.catalog.store import Catalog
from planner.economics.offers import ModeOffer, mode_offers
from planner.economics.periods import Demand, Periods, periods_of
from planner.economics.slices import TimeSlices, time_slices
from planner.errors import ScenarioError
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.extract import infeasible_plan, unsolved_plan
from planner.optimize.extract_slices import extract_sliced, verify_sliced
from planner.optimize.input_checks import check_slices
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.milp_slices import SlicedProblem, build_sliced
from planner.optimize.pruning import Column, meets_floors, priced_columns, quality_floors
from planner.optimize.sliced_bounds import sliced_lower_bounds
from planner.optimize.sliced_pairs import screen_pairs
from planner.optimize.sliced_solve import StagedStart, screened_status, solve_staged, staged_proof, staged_start
from planner.optimize.solver import SolveStatus
from planner.plan_model import Infeasibility, Plan, SolverInfo
from planner.scenario.schema import Scenario

#: Variables per (column, period, slice) of the model over every variant: its traffic share ``x`` and replicas ``r``.
VARIABLES_PER_COLUMN_SLICE = 2


def plan_sliced(base: dict, scenario: Scenario, catalog: Catalog, cs: CandidateSet,  # type: ignore[type-arg]
                columns: list[Column], offers: list[ModeOffer], periods: Periods, demand: Demand,
                one_time: dict[int, float], floors: list[float | None], deadline: solvers.Deadline, gap: float,
                stats: dict[str, int]) -> Plan:
    start = time.perf_counter()
    slices = time_slices(scenario.workload, scenario.horizon, scenario.plan.time_slices, catalog.load_shapes)
    check_slices(scenario, slices)
    name = scenario.solver.name
    if scenario.plan.max_variants == 1:  # one variant serves every class: the others cannot plan alone
        columns = serving_every_class(columns, scenario)
        if not columns:
            return infeasible_plan(base, [Infeasibility(
                family="quality", workload=None, requirement="one variant serving every class on priced hardware "
                                                             "(plan.max_variants = 1)", best_achievable="none",
                message="no one variant serves every class on the priced hardware (each class has deployments, "
                        "but of different variants); with plan.max_variants = 2 a class may run another variant, "
                        "or a target or floor can be loosened")], None)
    if scenario.plan.max_variants == 2 and len({c.variant for c in columns}) > 1:
        problem, outcome = _screen_with_pairs(scenario, cs, columns, offers, periods, demand, one_time, floors, slices,
                                              deadline, gap, stats)
    else:
        _check_mixed_size(scenario, catalog, columns, periods, slices)
        problem, outcome = _screen(scenario, cs, columns, offers, periods, demand, one_time, floors, slices, deadline,
                                   gap, stats)
    values = [abs(a) for c in problem.prob.constraints.values() for a in c.values() if a != 0]
    cmin, cmax = (min(values), max(values)) if values else (1.0, 1.0)
    base = {**base, "timings": {"solve_s": time.perf_counter() - start}}
    info = SolverInfo(name=name, status=outcome.status, gap=outcome.gap, message=outcome.message,
                      variables=problem.stats["variables"], constraints=problem.stats["constraints"],
                      integer_variables=problem.stats["integer_variables"], pruning=stats,
                      coefficient_min=cmin, coefficient_max=cmax)
    if outcome.status == SolveStatus.INFEASIBLE:
        finding = Infeasibility(family="solver", workload=None, requirement="every constraint of the time-sliced model",
                                best_achievable="none", message=(
                                    "no plan meets every constraint in every time slice (quota, power, budget, "
                                    "min_replicas or a deadline): lift one to see which binds"))
        return infeasible_plan(base, [finding], info)
    failed = unsolved_plan(base, info, outcome, lambda: verify_sliced(problem))
    if failed is not None:
        return failed
    return extract_sliced(base, scenario, cs, problem, periods, demand, one_time, floors, info, outcome)


def serving_every_class(columns: list[Column], scenario: Scenario) -> list[Column]:
    """The columns of the variants that have a column for every class (a single-variant plan must serve
    them all; the time-sliced model of a variant lacking one is infeasible by construction,
    :func:`~planner.optimize.milp_slices.build_sliced`, and need not be built)."""
    served: dict[int, set[int]] = {}
    for c in columns:
        served.setdefault(c.variant, set()).add(c.workload)
    return [c for c in columns if len(served[c.variant]) == len(scenario.workload)]


def _screen_with_pairs(scenario: Scenario, cs: CandidateSet, columns: list[Column], offers: list[ModeOffer],
                       periods: Periods, demand: Demand, one_time: dict[int, float], floors: list[float | None],
                       slices: TimeSlices, deadline: solvers.Deadline, gap: float, stats: dict[str, int]
                       ) -> tuple[SlicedProblem, solvers.SolveOutcome]:
    """``plan.max_variants = 2``: the variants meeting every quality floor screened alone
    (:func:`_screen`), then every pair (:mod:`planner.optimize.sliced_pairs`) below the best of them."""
    alone_columns = [c for c in columns if meets_floors(cs, c.variant, floors)]
    alone = scenario.model_copy(update={"plan": scenario.plan.model_copy(update={"max_variants": 1})})
    single = _screen(alone, cs, alone_columns, offers, periods, demand, one_time, floors, slices, deadline, gap,
                     stats) if alone_columns else None
    return screen_pairs(scenario, cs, columns, offers, periods, demand, one_time, floors, slices, deadline, gap, stats,
                        single)


def refuse_oversized_mixed(scenario: Scenario, catalog: Catalog, cs: CandidateSet,
                           exclude_variants: frozenset[str]) -> None:
    """:func:`_check_mixed_size` on the columns the mixed model would hold, run by
    :func:`planner.optimize.planning.plan_scenario` before the single-variant plan it solves first, so
    that a model it would refuse is refused at once (the demo in 4 slices with ``max_variants = 3``
    solved its single-variant plan, 30 s on a loaded machine, before exit 2)."""
    periods = periods_of(scenario.horizon)
    offers, _ = mode_offers(scenario.market, scenario.horizon.terminal_value, catalog, list(cs.hardware), periods)
    floors = quality_floors(scenario.workload, scenario.quality, cs.base_score)
    columns, _ = priced_columns(cs, scenario, floors, exclude_variants, {o.hardware for o in offers})
    slices = time_slices(scenario.workload, scenario.horizon, scenario.plan.time_slices, catalog.load_shapes)
    _check_mixed_size(scenario, catalog, columns, periods, slices)


def _check_mixed_size(scenario: Scenario, catalog: Catalog, columns: list[Column], periods: Periods,
                      slices: TimeSlices) -> None:
    """Refuse, before building it, a model over every variant (``plan.max_variants > 2``) with more than
    ``max_sliced_mixed_variables`` variables, counted as :data:`VARIABLES_PER_COLUMN_SLICE` per column,
    period and slice: its PuLP build and first relaxation cannot be stopped by the time limit (the
    demo in 4 slices with every technique option: 195,288 variables, 160 s and 7.2 GB to build)."""
    variants = {c.variant for c in columns}
    if scenario.plan.max_variants <= 2 or len(variants) == 1:
        return  # one variant, or pairs screened (:mod:`planner.optimize.sliced_pairs`)
    size = VARIABLES_PER_COLUMN_SLICE * len(columns) * periods.count * slices.count
    limit = catalog.defaults.max_sliced_mixed_variables
    if size > limit:
        raise ScenarioError(
            f"{scenario.plan.max_variants} variants per plan with time slices need one model over every variant: "
            f"{len(variants)} variants with {len(columns):,} deployments × {periods.count} periods × {slices.count} "
            f"slices, about {size:,} variables, beyond the planner's limit of {limit:,} (building it alone would "
            "outlast the time limit); use plan.max_variants = 1 or 2 (variants and pairs screened exactly), fewer "
            "technique "
            "options, fewer plan.time_slices or fewer periods", "plan.max_variants")


def _first_proofs(bounded: list[tuple[float, int, SlicedProblem]], scenario: Scenario, deadline: solvers.Deadline,
                  gap: float) -> dict[int, solvers.SolveOutcome]:
    r"""The proofs of the first :data:`~planner.optimize.solver.PROOF_WAVE` variants in bound order, run at once (threads; HiGHS
    releases the GIL), as :func:`planner.optimize.proof_waves.first_proofs` does on the one-slice path.

    Their restricted-support starts are made first, one after the other.  A variant joins while its LP
    bound is below ``s·(1 − gap)``, ``s`` the cheapest start so far (otherwise its bound closes it);
    the ``i``-th proof gets the cutoff ``min(s_0, …, s_{i−1})`` it would get had the proofs before it
    ended at their starts — never below the final best plan, so a variant it cuts off is proven out.
    The cutoffs are fixed before the proofs start, so the answer does not depend on scheduling.  The
    4-slice demo's two tied variants (FP8 and INT8, the same plan to the cent) took 64 s and 74 s one
    after the other.  Empty with fewer than two variants, or with CBC.
    """
    if scenario.solver.name != "highs" or len(bounded) < 2 or not solvers.proofs_at_once(scenario.solver.threads):
        return {}
    settled: dict[int, solvers.SolveOutcome] = {}
    wave: list[tuple[int, SlicedProblem, float | None, StagedStart]] = []
    cheapest: float | None = None
    for lower, v, problem in bounded[:solvers.PROOF_WAVE]:
        if cheapest is not None and lower * USD_PER_KUSD >= cheapest * (1 - gap):
            break  # its bound closes it, in the sequential order too
        cutoff = None if cheapest is None else solvers.incumbent_cutoff(cheapest)
        begun = staged_start(problem, scenario, deadline, gap, cutoff)
        if begun.done is not None:
            settled[v] = begun.done  # decided without a proof (its LP bound reached the cutoff)
            continue
        wave.append((v, problem, cutoff, begun))
        if begun.found_usd is not None:
            cheapest = begun.found_usd if cheapest is None else min(cheapest, begun.found_usd)
    def prove(problem: SlicedProblem, cutoff: float | None, begun: StagedStart) -> Callable[[], solvers.SolveOutcome]:
        return lambda: staged_proof(problem, scenario, deadline, gap, cutoff, begun)

    outcomes = solvers.side_by_side([prove(problem, cutoff, begun) for _v, problem, cutoff, begun in wave])
    return {**settled, **{v: outcome for (v, *_rest), outcome in zip(wave, outcomes, strict=True)}}


class _BoundOrder:
    """The variants in order of their LP relaxation (then index), each built and relaxed only when the
    order reaches it.

    ``item(i)`` is the ``i``-th variant ``(LP bound in k$, variant, its compact model)`` of the full
    sort, variants with an infeasible relaxation left out, or None past the end.  Variants are built
    in order of their cheap bound ``LB_v ≤ LP_v`` (:mod:`planner.optimize.sliced_bounds`); a built
    variant is handed out only once every unbuilt one has ``LB > LP`` of it, so the order is exactly
    the one sorting every variant's relaxation gives, and the screening's answer is the same.  What
    it saves: :func:`_screen` stops at the first variant whose bound reaches its best plan, so the
    variants whose ``LB_v`` already does are never built (30 of the 4-slice demo's 40: 2.0 s of
    model building and their relaxations).
    """

    def __init__(self, scenario: Scenario, cs: CandidateSet, columns: list[Column], offers: list[ModeOffer],
                 periods: Periods, demand: Demand, one_time: dict[int, float], floors: list[float | None],
                 slices: TimeSlices, deadline: solvers.Deadline, gap: float) -> None:
        self._build = lambda v: build_sliced(scenario, cs, [c for c in columns if c.variant == v], offers, periods,
                                             demand, one_time, floors, slices, compact=True)
        self._relax = lambda problem: solvers.run(problem.prob, scenario.solver.name, deadline.left(), gap, mip=False,
                                                  threads=scenario.solver.threads)
        cheap = sliced_lower_bounds(scenario.workload, cs, columns, offers, periods, demand, one_time, slices,
                                    scenario.horizon.peak_to_average)
        self._unbuilt = sorted(cheap, key=lambda v: (cheap[v], v))
        self._cheap = cheap
        self._built: list[tuple[float, int, SlicedProblem]] = []  # a heap
        self._ordered: list[tuple[float, int, SlicedProblem]] = []
        self._count = 0

    def item(self, i: int, ceiling: float = math.inf) -> tuple[float, int, SlicedProblem] | None:
        """The ``i``-th variant; ``ceiling`` (k$, a plan's cost): variants whose cheap bound reaches it
        are not built, as their relaxation would (None when only those are left).  Without a plan
        every variant is built when the order reaches it, even one whose bound is infinite (no
        column the market can supply: its relaxation says so)."""
        while len(self._ordered) <= i:
            while self._unbuilt and (self._cheap[self._unbuilt[0]] < ceiling or ceiling == math.inf) and (
                    not self._built or self._cheap[self._unbuilt[0]] <= self._built[0][0]):
                self._add(self._unbuilt.pop(0))
            if not self._built:
                return None
            self._ordered.append(heapq.heappop(self._built))
        return self._ordered[i]

    @property
    def built(self) -> int:
        """How many variants' models were built and relaxed so far."""
        return self._count

    def _add(self, v: int) -> None:
        self._count += 1
        problem = self._build(v)
        relaxed = self._relax(problem)
        if relaxed.status == SolveStatus.INFEASIBLE:
            return
        lower = float(pulp.value(problem.prob.objective)) if relaxed.status == SolveStatus.OPTIMAL else -math.inf
        heapq.heappush(self._built, (lower, v, problem))


def _screen(scenario: Scenario, cs: CandidateSet, columns: list[Column], offers: list[ModeOffer],
            periods: Periods, demand: Demand, one_time: dict[int, float], floors: list[float | None],
            slices: TimeSlices, deadline: solvers.Deadline, gap: float, stats: dict[str, int]
            ) -> tuple[SlicedProblem, solvers.SolveOutcome]:
    """With ``max_variants = 1``: each variant's own (compact) model, bounded by its LP relaxation;
    then, cheapest bound first, solved with the best plan so far as the cutoff, and skipped once its
    bound reaches that plan's cost.  The answer is optimal when every variant was solved to optimality
    or closed by its bound or the cutoff; otherwise feasible, with the gap measured from the lowest
    proven bound of any variant not closed.  Several variants together: one model.

    ``stats`` (the plan's ``solver.pruning``) gets ``variants_screened`` (every variant),
    ``variants_lp_bounded`` (the models built and relaxed; the others were closed by their cheap
    bound) and ``variants_searched`` (those given a start and a proof, or closed by the cutoff)."""
    variants = sorted({c.variant for c in columns})
    if scenario.plan.max_variants > 1 or len(variants) == 1:
        problem = build_sliced(scenario, cs, columns, offers, periods, demand, one_time, floors, slices,
                               compact=len(variants) == 1)
        return problem, solve_staged(problem, scenario, deadline, gap, None)
    order = _BoundOrder(scenario, cs, columns, offers, periods, demand, one_time, floors, slices, deadline, gap)
    ahead = _first_proofs([item for i in range(solvers.PROOF_WAVE) if (item := order.item(i)) is not None],
                          scenario, deadline, gap)
    best: tuple[SlicedProblem, solvers.SolveOutcome, float] | None = None  # problem, outcome, cost in k$
    open_bounds: list[float] = []  # proven lower bounds (k$) of variants neither solved nor closed
    seconds = 0.0
    i = searched = 0
    while (item := order.item(i, best[2] if best is not None else math.inf)) is not None:
        lower, v, problem = item
        i += 1
        if v not in ahead and best is not None and lower >= best[2] * (1 - gap):
            break  # in bound order: every later variant's bound is at least this one's
        cutoff = solvers.incumbent_cutoff(best[2] * USD_PER_KUSD) if best is not None else None
        outcome = ahead[v] if v in ahead else solve_staged(problem, scenario, deadline, gap, cutoff)
        seconds += outcome.seconds
        searched += 1
        if outcome.status in (SolveStatus.CUTOFF, SolveStatus.INFEASIBLE):
            continue
        if outcome.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            open_bounds.append(lower)
            continue
        cost = float(pulp.value(problem.prob.objective))
        if outcome.status == SolveStatus.FEASIBLE:
            open_bounds.append(max(lower, outcome.bound) if outcome.bound is not None else lower)
        if best is None or solvers.improves(cost, best[2]):
            best = (problem, outcome, cost)
    stats.update(variants_screened=len(variants), variants_lp_bounded=order.built, variants_searched=searched)
    if best is None:
        first = order.item(0)
        problem = first[2] if first is not None else build_sliced(scenario, cs, columns, offers, periods, demand,
                                                                  one_time, floors, slices)
        if open_bounds:  # some variant's search stopped without a plan: not a proof of infeasibility
            return problem, solvers.SolveOutcome(SolveStatus.NO_SOLUTION, scenario.solver.name, seconds, None,
                                                 solvers.no_solution_message(deadline), min(open_bounds))
        return problem, solvers.SolveOutcome(SolveStatus.INFEASIBLE, scenario.solver.name, seconds, None,
                                             "no variant has a plan meeting every constraint")
    return best[0], screened_status(best[1], best[2], open_bounds, f"{len(variants)} variants", seconds, gap, deadline)
