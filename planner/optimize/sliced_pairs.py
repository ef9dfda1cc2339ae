r"""``plan.max_variants = 2`` with time slices, by exact pair screening.

A plan of at most two variants is the cheaper of the best single-variant plan (found first by the
variant screening of :mod:`planner.optimize.sliced_path`, over the variants meeting every quality
floor) and the best plan over each pair ``{v₁, v₂}`` using both.  The one model over every variant
this replaces did not scale: the demo in 4 slices made it 194,880 variables, 160 s and 7.2 GB to
build before its first relaxation.

**The pair bound.**  A plan using both variants pays ``F₁ + F₂`` (one-time and recurring monthly
costs, :class:`~planner.optimize.sliced_bounds.ClassCosts`) and serves each class ``c`` and period
``p`` with the two variants' columns.  Let ``w_k ∈ [0, 1]`` be the part of item ``k`` (a slice of an
interactive class; a deferrable class's day) that ``v₁`` serves; the least cost of a share is linear
in it, so the class's GPU and traffic cost in ``p`` is at least ``Σ_k w_k ℓ_{1,k} + (1 − w_k) ℓ_{2,k}``.
Its quality row (``Σ_j q_j Σ_s V_{c,s} x_{j,p,s} ≥ Q_c``, volume-weighted over the cycle, with
``Σ_s V_{c,s} = 1``) reads ``q₂ + (q₁ − q₂) W ≥ Q_c`` with ``W = Σ_k V_k w_k``, an interval
``[lo, hi]`` of ``W`` (no row where neither variant is below the floor, as in the model).  So

    ``LB(v₁, v₂) = F₁ + F₂ + Σ_{c,p} min { Σ_k w_k ℓ_{1,k} + (1 − w_k) ℓ_{2,k} : lo ≤ Σ_k V_k w_k ≤ hi, 0 ≤ w ≤ 1 }``

— a fractional knapsack per (pair, class, period), solved exactly by :func:`fluid_split_cost`.
Like the single-variant bound it drops whole replicas and servers, full-term payment, spares and
every cap, so it never exceeds the cost of a plan using both variants.  It is computed under both
of :func:`~planner.optimize.sliced_bounds.sliced_class_costs`' GPU pricings (by the slices' hours,
and peak-weighted), and the larger is kept (:func:`best_pair_bounds`).

**The search** (:func:`screen_pairs`).  Pairs are visited in order of that bound (ties by variant
indices) until it reaches ``best·(1 − gap)``, two at a time (proofs side by side, both below the
incumbent of the moment the two start, so the answer does not depend on scheduling).  A visited
pair's model (:func:`~planner.optimize.milp_slices.build_sliced` over the two variants' columns,
both ``y_v`` fixed at 1 — a plan using one of them is a single-variant plan, already priced) is
bounded by its LP relaxation, then solved by
:func:`~planner.optimize.sliced_solve.solve_staged` below the cutoff (:func:`_search` says why
without the one-slice screening's node-limited probe).  A cheaper plan becomes the incumbent.  The
answer is optimal when every pair was bounded, cut off or solved within the gap; a pair stopped
by the time limit leaves its proven bound, and the gap is measured from the lowest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pulp
from numpy.typing import NDArray

from planner.economics.offers import ModeOffer
from planner.economics.periods import Demand, Periods
from planner.economics.slices import TimeSlices
from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.milp_slices import SlicedProblem, build_sliced
from planner.optimize.pruning import SHARE_TOLERANCE, Column, quality_interval, row_score
from planner.optimize.sliced_bounds import ClassCosts, sliced_class_costs
from planner.optimize.sliced_solve import screened_status, solve_staged
from planner.optimize.solver import SolveStatus
from planner.scenario.schema import Scenario

FloatArray = NDArray[np.float64]
#: Pairs searched under a node limit (``solver.node_limit``, as ``explain``'s re-solves): the first
#: in bound order; the pairs after it keep their fluid bound as the plan's, so the answer is the same
#: under any load.  Without it a node-limited screening searched every pair whose bound is below the
#: best plan, each two roots of 17–29 s and nodes of 0.05–0.1 s (the demo in 4 slices): an
#: ``explain`` of that scenario ran more than 15 minutes without finishing; with two pairs one
#: re-solve took 117 s on one thread.
NODE_LIMITED_PAIRS = 1


def fluid_split_cost(first: FloatArray, second: FloatArray, volume: FloatArray, low: FloatArray,
                     high: FloatArray) -> FloatArray:
    r"""``min Σ_k w_k a_k + (1 − w_k) b_k`` subject to ``low ≤ Σ_k V_k w_k ≤ high``, ``0 ≤ w ≤ 1``, per row.

    ``first``/``second`` ``[m, K]`` are ``a``/``b`` (``inf``: that variant cannot serve the item, so
    the other must), ``volume`` ``[K]`` is ``V``, ``low``/``high`` ``[m]``; ``inf`` where no split is
    feasible.  Items a variant must serve are fixed; the rest is a fractional knapsack: the cost
    ``f(W)`` of moving volume ``W`` onto ``a`` is convex and piecewise linear (items by ascending
    ``(a_k − b_k)/V_k``), least at ``W*`` = the volume of the items ``a`` serves cheaper, so its
    minimum over the interval is ``f`` at ``W*`` clipped into it.  Items of zero volume are free
    either way: each takes the cheaper side."""
    must_first, must_second = ~np.isfinite(second), ~np.isfinite(first)
    neither = (must_first & must_second).any(axis=1)
    a, b = np.where(must_second, 0.0, first), np.where(must_first, 0.0, second)
    cost = np.where(must_first, a, b).sum(axis=1)
    forced = (must_first * volume[None, :]).sum(axis=1)
    free = ~must_first & ~must_second
    delta = np.where(free, a - b, 0.0)
    weightless = free & (volume[None, :] <= 0)
    cost = cost + np.where(weightless, np.minimum(delta, 0.0), 0.0).sum(axis=1)
    movable = free & (volume[None, :] > 0)
    weight = np.where(movable, volume[None, :], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(movable, delta / np.where(movable, volume[None, :], 1.0), np.inf)
    order = np.argsort(ratio, axis=1, kind="stable")
    ratio, weight = np.take_along_axis(ratio, order, axis=1), np.take_along_axis(weight, order, axis=1)
    lo, hi = np.maximum(low - forced, 0.0), np.minimum(high - forced, weight.sum(axis=1))
    feasible = (lo <= hi + SHARE_TOLERANCE) & ~neither
    target = np.clip((weight * (ratio < 0)).sum(axis=1), lo, np.maximum(lo, hi))
    left = target.copy()
    for k in range(weight.shape[1]):  # fill the cheapest moves first, up to the target volume
        take = np.minimum(weight[:, k], left)
        cost = cost + take * np.where(take > 0, ratio[:, k], 0.0)  # a weightless item's ratio is inf
        left = left - take
    return np.where(feasible, cost, np.inf)


def sliced_pair_bounds(costs: ClassCosts, quality: dict[int, list[float | None]], floors: Sequence[float | None],
                       variants: Sequence[int], periods: int) -> dict[tuple[int, int], float]:
    """``LB(v₁, v₂)`` of the module docstring (k$) for every pair of ``variants``, vectorised over pairs."""
    i, k = np.triu_indices(len(variants), 1)
    index = np.asarray(variants)
    total = np.array([costs.fixed_usd[v] for v in variants])
    total = total[i] + total[k]
    for c, floor in enumerate(floors):
        volume = costs.volume[c]
        items = np.full((len(variants), periods, len(volume)), np.inf)
        for a, v in enumerate(variants):
            if (v, c) in costs.items:
                items[a] = costs.items[(v, c)]
        q = np.array([0.0 if floor is None else row_score(quality[v][c], floor) for v in variants])
        below = np.array([floor is not None and quality[v][c] is not None and quality[v][c] < floor  # type: ignore[operator]
                          for v in variants])
        lo, hi = quality_interval(q[i], q[k], below[i] | below[k], floor)
        first = items[i].reshape(-1, len(volume))
        second = items[k].reshape(-1, len(volume))
        split = fluid_split_cost(first, second, volume, np.repeat(lo, periods), np.repeat(hi, periods))
        total = total + split.reshape(len(i), periods).sum(axis=1)
    return {(int(index[a]), int(index[b])): float(t) / USD_PER_KUSD for a, b, t in zip(i, k, total, strict=True)}


def best_pair_bounds(pricings: Sequence[ClassCosts], quality: dict[int, list[float | None]],
                     floors: Sequence[float | None], variants: Sequence[int], periods: int
                     ) -> dict[tuple[int, int], float]:
    """The larger of the pair bounds under each pricing (both valid; which is stronger depends on the pair)."""
    each = [sliced_pair_bounds(costs, quality, floors, variants, periods) for costs in pricings]
    return {pair: max(bounds[pair] for bounds in each) for pair in each[0]}


@dataclass
class _Search:
    """What the pair screening holds so far (costs and bounds in k$)."""

    best: tuple[SlicedProblem, solvers.SolveOutcome, float] | None = None  # model, outcome, cost
    open_bounds: list[float] = field(default_factory=list)  # proven lower bounds of searches not closed
    bounded: int = 0  # pair models built and relaxed
    solved: int = 0  # pairs searched
    seconds: float = 0.0

    @classmethod
    def after(cls, single: tuple[SlicedProblem, solvers.SolveOutcome] | None) -> _Search:
        """The state the variant screening's answer ``single`` leaves: its plan as the incumbent, and
        its bound left open when it was not proven (0 when it gave none)."""
        state = cls()
        if single is None:
            return state
        problem, outcome = single
        state.seconds = outcome.seconds
        if outcome.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            state.best = (problem, outcome, float(pulp.value(problem.prob.objective)))
        if outcome.status not in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE, SolveStatus.CUTOFF):
            state.open_bounds.append(outcome.bound if outcome.bound is not None else 0.0)
        return state

    def no_plan(self, name: str, what: str, deadline: solvers.Deadline) -> solvers.SolveOutcome:
        """The answer when no single variant or pair gave a plan: stopped searches prove nothing
        (``no_solution``, with their lowest bound), otherwise every plan was shown impossible."""
        if self.open_bounds:
            return solvers.SolveOutcome(SolveStatus.NO_SOLUTION, name, self.seconds, None,
                                        f"no plan found: {solvers.limit_reached(deadline)}", min(self.open_bounds))
        return solvers.SolveOutcome(SolveStatus.INFEASIBLE, name, self.seconds, None,
                                    f"no plan of one or two variants meets every constraint ({what} screened)")

    def cutoff(self, gap: float) -> tuple[float | None, float | None]:
        """The cutoff a pair is searched below (the incumbent itself: a search below ``c`` proves only
        ``z* ≥ c·(1 − gap)``) and the bound at which a pair is closed without one (``best·(1 − gap)``), k$."""
        return (None, None) if self.best is None else solvers.search_limits(self.best[2], gap)

    def record(self, problem: SlicedProblem, lower: float, outcome: solvers.SolveOutcome) -> None:
        """One pair's search below the cutoff: a cheaper plan becomes the incumbent; an unfinished
        search leaves its bound (``lower``: the pair's relaxation)."""
        self.solved += 1
        self.seconds += outcome.seconds
        if outcome.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            cost = float(pulp.value(problem.prob.objective))
            if self.best is None or solvers.improves(cost, self.best[2]):
                self.best = (problem, outcome, cost)
            if outcome.status == SolveStatus.FEASIBLE:
                self.open_bounds.append(lower if outcome.bound is None else max(lower, outcome.bound))
        elif outcome.status not in (SolveStatus.CUTOFF, SolveStatus.INFEASIBLE):
            self.open_bounds.append(lower)


def screen_pairs(scenario: Scenario, cs: CandidateSet, columns: list[Column], offers: list[ModeOffer],
                 periods: Periods, demand: Demand, one_time: dict[int, float], floors: list[float | None],
                 slices: TimeSlices, deadline: solvers.Deadline, gap: float, stats: dict[str, int],
                 single: tuple[SlicedProblem, solvers.SolveOutcome] | None
                 ) -> tuple[SlicedProblem, solvers.SolveOutcome]:
    """The module docstring's search from ``single`` (the variant screening's model and answer over
    the variants meeting every floor; None when none does).  ``stats`` gets ``pairs_screened``,
    ``pairs_lp_bounded`` and ``pairs_solved``."""
    variants = sorted({c.variant for c in columns})
    quality = {v: [cs.variants[v].profiles[w].quality_score for w in cs.workloads] for v in variants}
    bounds = best_pair_bounds(sliced_class_costs(scenario.workload, cs, columns, offers, periods, demand, one_time,
                                                 slices, scenario.horizon.peak_to_average),
                              quality, floors, variants, periods.count)
    order = sorted(((pair, b) for pair, b in bounds.items() if math.isfinite(b)), key=lambda kv: (kv[1], kv[0]))
    state = _Search.after(single)
    # one pair at a time under a node limit, so that exactly NODE_LIMITED_PAIRS are searched
    size = solvers.PROOF_WAVE if solvers.proofs_at_once(scenario.solver.threads) and deadline.node_limit is None else 1
    last: SlicedProblem | None = None
    for at in range(0, len(order), size):
        cutoff, enough = state.cutoff(gap)
        wave = [(pair, b) for pair, b in order[at:at + size] if enough is None or b < enough]
        if not wave:
            break  # in bound order: every later pair's bound is at least these
        if deadline.expired or (deadline.node_limit is not None and state.solved >= NODE_LIMITED_PAIRS):
            state.open_bounds += [b for _pair, b in order[at:] if enough is None or b < enough]
            break
        jobs: list[tuple[SlicedProblem, float, Callable[[], solvers.SolveOutcome]]] = []
        for pair, bound in wave:  # built and relaxed here, one after the other (PuLP holds the GIL)
            last = problem = _pair_model(scenario, cs, columns, pair, offers, periods, demand, one_time, floors, slices)
            state.bounded += 1
            relaxed = solvers.run(problem.prob, scenario.solver.name, deadline.left(), gap, mip=False,
                                  threads=scenario.solver.threads)
            state.seconds += relaxed.seconds
            if relaxed.status == SolveStatus.INFEASIBLE:
                continue
            lower = float(pulp.value(problem.prob.objective)) if relaxed.status == SolveStatus.OPTIMAL else bound
            if enough is not None and lower >= enough:
                continue  # its relaxation closes it
            jobs.append((problem, max(lower, bound), _search(problem, scenario, deadline, gap, cutoff)))
        answers = solvers.side_by_side([job for _p, _b, job in jobs])
        for (problem, lower, _job), answer in zip(jobs, answers, strict=True):
            state.record(problem, lower, answer)
    stats.update(pairs_screened=len(bounds), pairs_lp_bounded=state.bounded, pairs_solved=state.solved)
    what = f"{len(variants)} variants' plans alone and {len(bounds):,} pairs"
    if state.best is not None:
        problem, outcome, cost = state.best
        return problem, screened_status(outcome, cost, state.open_bounds, what, state.seconds, gap, deadline)
    model = single[0] if single is not None else last if last is not None else build_sliced(
        scenario, cs, [c for c in columns if c.variant == variants[0]], offers, periods, demand, one_time, floors,
        slices)
    return model, state.no_plan(scenario.solver.name, what, deadline)


def _pair_model(scenario: Scenario, cs: CandidateSet, columns: list[Column], pair: tuple[int, int],
                offers: list[ModeOffer], periods: Periods, demand: Demand, one_time: dict[int, float],
                floors: list[float | None], slices: TimeSlices) -> SlicedProblem:
    """The model over the two variants' columns with both in use (``y_v = 1``)."""
    problem = build_sliced(scenario, cs, [c for c in columns if c.variant in pair], offers, periods, demand, one_time,
                           floors, slices)
    for v in pair:
        problem.y[v].lowBound = 1
    return problem


def _search(problem: SlicedProblem, scenario: Scenario, deadline: solvers.Deadline, gap: float,
            cutoff: float | None) -> Callable[[], solvers.SolveOutcome]:
    """The pair's staged solve below ``cutoff`` (k$), ready to run beside another.

    No node-limited cutoff probe first, as the one-slice pair screening has
    (:data:`planner.optimize.pairs.PROBE_NODES`): on the demo in 4 slices a 64-node probe of the
    first pair model took 54.6 of the 60 s (its nodes cost about 0.85 s each), where the staged
    solve found the pair's plan ($1,510,725, 11.4 % below the best single variant's) in the same
    time."""
    cutoff_usd = None if cutoff is None else cutoff * USD_PER_KUSD
    return lambda: solve_staged(problem, scenario, deadline, gap, cutoff_usd)
