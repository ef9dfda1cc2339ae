r"""``plan.max_variants = 2`` by exact pair screening (HiGHS, whole traffic shares).

A plan of at most two variants is the cheaper of the best single-variant plan (found first, by
:mod:`planner.optimize.screening`) and the best plan over each pair ``{v₁, v₂}`` using both.  Pairs
are screened by a fluid lower bound, computed for all pairs at once with numpy:

    LB(v₁, v₂) = F₁ + F₂ + M₁ + M₂ + Σ_{c,p} min_w [ w·ℓ_{1,c,p} + (1 − w)·ℓ_{2,c,p} ]

over the traffic split ``w ∈ [0, 1]`` that keeps the class's quality ``w·q_{1,c} + (1 − w)·q_{2,c}``
at or above its floor ``Q_c`` (``ℓ`` from :func:`planner.optimize.screening.class_lower_bounds`,
``F`` the one-time and ``M`` the fixed monthly costs in PV).  The bracket is linear in ``w``, so its
minimum sits at an end of the feasible interval.  The bound drops integrality and full-term
payment, so it never exceeds the pair's optimum.

Pairs are visited in order of that bound (ties by variant index); the visit stops when the bound
reaches ``best·(1 − gap)``.  Each visited pair's model (aggregated shares,
:func:`planner.optimize.direct.build`) is first bounded by its LP relaxation (closed at
``best·(1 − gap)``), then probed: searched below the incumbent ``best`` itself (HiGHS proves only
``z* ≥ c·(1 − gap)`` below a cutoff ``c``) with HiGHS's improvement heuristics off for at most
``PROBE_NODES`` nodes (:func:`_prove_pair`), which proves most losing pairs out.  A pair the probe
leaves open is searched as a single variant is (:func:`planner.optimize.direct_solve.solve_model`):
the pair's own start (the rounded-server start where whole servers are sold) is computed first, and
a pair whose start beats the cutoff is proven from it.  On the demo the improving pair (Llama FP8
with a swap to Mixtral-8x7B FP8 for part of the traffic) is found and proven in 5.8 s where the
cutoff search alone took 51.8 s; before the probe, each losing pair paid its start (0.5–3 s) too,
which no loser's start could repay.  A cheaper plan becomes the new best and tightens the cutoff.
The answer is ``optimal`` when every pair was bounded, cut off or solved to optimality; a pair
stopped by the time limit leaves the answer ``feasible`` with the gap to the lowest bound not
proven.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel, ModelData, build
from planner.optimize.direct_solve import DirectOutcome, prepare, run_highs, solve_model
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.pruning import quality_interval, row_score
from planner.optimize.screening import offer_unit_sizes, scaling_refusal
from planner.optimize.solver import SolveStatus


@dataclass(frozen=True)
class PairResult:
    """The best pair plan found (None: no pair beats the single-variant plan) and the proof status."""

    pair: tuple[int, int] | None
    model: DirectModel | None
    outcome: DirectOutcome | None
    proven: bool  # every pair bounded, cut off or solved to optimality
    lowest_open_bound: float | None  # k$: the least bound of a pair left unproven (time limit)
    pairs_bounded: int
    pairs_solved: int


def pair_lower_bounds(ell: dict[tuple[int, int], NDArray[np.float64]], variants: Sequence[int],
                      fixed_usd: dict[int, float], quality: dict[int, list[float | None]],
                      floors: list[float | None], periods: int) -> dict[tuple[int, int], float]:
    """``LB(v₁, v₂)`` of the module docstring for every pair (in $), vectorised over pairs."""
    V, C = len(variants), len(floors)
    L = np.full((V, C, periods), np.inf)
    q = np.zeros((V, C))
    below = np.zeros((V, C), dtype=bool)  # a score under the floor: the model has the class's quality row
    for a, v in enumerate(variants):
        for c, floor in enumerate(floors):
            if (v, c) in ell:
                L[a, c] = ell[(v, c)]
            q[a, c] = 0.0 if floor is None else row_score(quality[v][c], floor)
            below[a, c] = floor is not None and quality[v][c] is not None and quality[v][c] < floor  # type: ignore[operator]
    i, k = np.triu_indices(V, 1)
    total = np.array([fixed_usd[variants[int(a)]] + fixed_usd[variants[int(b)]] for a, b in zip(i, k)])
    for c, floor in enumerate(floors):
        l1, l2 = L[i, c], L[k, c]  # [pairs, P]
        lo, hi = quality_interval(q[i, c], q[k, c], below[i, c] | below[k, c], floor)
        feasible = lo <= hi
        value = np.minimum(_blend(lo, l1, l2), _blend(hi, l1, l2)).sum(axis=1)
        total = total + np.where(feasible, value, np.inf)
    return {(variants[int(a)], variants[int(b)]): float(t) for a, b, t in zip(i, k, total)}


def _blend(w: NDArray[np.float64], l1: NDArray[np.float64], l2: NDArray[np.float64]) -> NDArray[np.float64]:
    """``w·ℓ₁ + (1 − w)·ℓ₂`` per pair and period, with a zero weight ignoring an infinite ℓ."""
    w = np.clip(np.where(np.isfinite(w), w, 0.0), 0.0, 1.0)[:, None]
    with np.errstate(invalid="ignore"):
        first = np.where(w > 0, w * l1, 0.0)
        second = np.where(w < 1, (1 - w) * l2, 0.0)
    return first + second


def screen_pairs(data: ModelData, ell: dict[tuple[int, int], NDArray[np.float64]], best_usd: float,
                 deadline: solvers.Deadline, gap: float, threads: int | None) -> PairResult:
    """The module docstring's search, starting from the best single-variant cost ``best_usd``.

    Pairs are proven two at a time (:data:`~planner.optimize.solver.PROOF_WAVE`, side by side), both
    below the incumbent of the moment the two start; the pairs of a wave are the next two in bound
    order whose bound is below that cutoff, so which pairs are proven with which cutoff does not
    depend on how the threads are scheduled."""
    variants = sorted(data.traffic_kusd)
    fixed_usd = {v: (data.one_time_kusd[v] + data.fixed_kusd[v]) * USD_PER_KUSD for v in variants}
    bounds = pair_lower_bounds(ell, variants, fixed_usd, data.quality, data.floors, data.periods)
    state = _Search(best=best_usd / USD_PER_KUSD)
    order = [(pair, bound / USD_PER_KUSD) for pair, bound in sorted(bounds.items(), key=lambda kv: (kv[1], kv[0]))
             if math.isfinite(bound)]
    size = solvers.PROOF_WAVE if solvers.proofs_at_once(threads) else 1
    for at in range(0, len(order), size):
        cutoff, enough = solvers.search_limits(state.best, gap)  # enough: a bound there closes the pair
        if enough is not None and order[at][1] >= enough:
            break
        if deadline.expired:
            state.open_bounds += [bound for _pair, bound in order[at:] if enough is None or bound < enough]
            break
        wave = [(pair, bound) for pair, bound in order[at:at + size] if enough is None or bound < enough]

        def prove(pair: tuple[int, int], cutoff: float | None = cutoff) -> Callable[[], _PairAnswer]:
            return lambda: _prove_pair(data, pair, cutoff, deadline, gap, threads)

        for (pair, bound), answer in zip(wave, solvers.side_by_side([prove(pair) for pair, _b in wave]), strict=True):
            state.record(pair, bound, answer)
    lowest = min(state.open_bounds) if state.open_bounds else None
    if state.found is None:
        return PairResult(None, None, None, lowest is None, lowest, state.bounded, state.solved)
    pair, model, outcome = state.found
    return PairResult(pair, model, outcome, lowest is None and outcome.status == SolveStatus.OPTIMAL,
                      lowest, state.bounded, state.solved)


#: Branch-and-bound nodes of a pair's cutoff probe (:func:`_prove_pair`).  On the demo's
#: ``max_variants = 2`` screening, of the first 23 losing pairs' cutoff searches 19 ended within 24
#: nodes and 21 within 64 (the other two took 198 and 542).
PROBE_NODES = 64
#: One pair's answer (:func:`_prove_pair`): its model (None when badly scaled), whether its relaxation
#: closed it, and the search's outcome (None when no search ran).
_PairAnswer = tuple[DirectModel | None, bool, DirectOutcome | None]


@dataclass
class _Search:
    """What the pair screening has found so far (costs in k$)."""

    best: float
    found: tuple[tuple[int, int], DirectModel, DirectOutcome] | None = None
    open_bounds: list[float] = field(default_factory=list)  # proven lower bounds of pairs not closed
    bounded: int = 0
    solved: int = 0

    def record(self, pair: tuple[int, int], bound: float, answer: _PairAnswer) -> None:
        """Take one pair's answer in: a cheaper plan becomes the incumbent; an unfinished one leaves its bound."""
        model, closed, outcome = answer
        self.bounded += model is not None
        if outcome is None:  # badly scaled (open) or closed by its relaxation
            if not closed:
                self.open_bounds.append(bound)
            return
        self.solved += 1
        if outcome.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) and outcome.objective is not None:
            if solvers.improves(outcome.objective, self.best) and model is not None:
                self.best, self.found = outcome.objective, (pair, model, outcome)
            if outcome.status == SolveStatus.FEASIBLE:
                self.open_bounds.append(outcome.bound if outcome.bound is not None else bound)
        elif outcome.status not in (SolveStatus.CUTOFF, SolveStatus.INFEASIBLE):
            self.open_bounds.append(outcome.bound if outcome.bound is not None else bound)


def _prove_pair(data: ModelData, pair: tuple[int, int], cutoff: float | None, deadline: solvers.Deadline, gap: float,
                threads: int | None) -> _PairAnswer:
    """One pair's aggregated-shares MILP below ``cutoff`` (k$): (its model or None when badly scaled,
    whether its relaxation closed it, the search's outcome or None).

    Before its start is sought, the pair gets a **cutoff probe**: the search below ``cutoff`` with the
    improvement heuristics off, stopped after ``PROBE_NODES`` branch-and-bound nodes.  Most pairs
    lose, and most losers are proven out within a few nodes, while their rounded-server start (a MILP
    of its own, 0.5–3 s on the demo) could never have beaten the incumbent.  A probe that ends in
    ``CUTOFF`` is the same proof the full search gives (no plan of the pair below ``cutoff·(1 − gap)``; a
    relaxation at or above that closes the pair before any search), and one
    that ends ``OPTIMAL`` found a plan below the cutoff and proved it within the gap (every node it
    pruned was bounded at or above the cutoff): the full search's answers, reached without the start.
    A probe that stops at its node limit leaves the pair to the full search, with the probe's plan, if
    it found one below the cutoff, as the start.  A node limit, not a time limit, so which pairs the
    probe settles does not depend on the machine's load."""
    model = build(data, list(pair))
    if scaling_refusal(model):
        return None, False, None
    units = offer_unit_sizes(data, model)
    relaxed = run_highs(model, deadline.left(), 0.0, threads=threads, mip=False)
    closed = (relaxed.status == SolveStatus.OPTIMAL and relaxed.objective is not None and cutoff is not None
              and relaxed.objective >= cutoff * (1 - gap))
    if relaxed.status == SolveStatus.INFEASIBLE or closed:
        return model, True, None  # only a finished relaxation bounds the pair (a stopped one's point does not)
    nodes = PROBE_NODES if deadline.node_limit is None else min(PROBE_NODES, deadline.node_limit)
    probe = run_highs(model, deadline.left(), gap, threads=threads, cutoff=cutoff, heuristics=False, node_limit=nodes)
    if probe.status in (SolveStatus.CUTOFF, SolveStatus.INFEASIBLE, SolveStatus.OPTIMAL):
        return model, False, probe  # proven out, or a plan below the cutoff proven optimal within the gap
    found = probe if probe.values is not None and probe.objective is not None and (
        cutoff is None or probe.objective < cutoff) else None
    prepared = prepare(model, deadline, gap, threads=threads, unit_sizes=units, cutoff=cutoff, known=found,
                       relaxed=relaxed)
    return model, False, solve_model(model, deadline, gap, threads=threads, cutoff=cutoff, unit_sizes=units,
                                     prepared=prepared)
