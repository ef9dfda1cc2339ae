r"""Proof waves of variant screening (:func:`planner.optimize.screening.screen_single`): which variants
are searched side by side, below which cutoffs, in which share of the time.

* **The first wave** (:func:`first_wave`, :func:`first_proofs`): the first :data:`PROOF_WAVE`
  variants of the proof order that hold a start, proven concurrently in threads, each below the
  cutoff it would get had the proofs before it ended at their starts.
* **Later waves** (:func:`later_waves`, disaggregated pair models only): the variants after the first
  wave, :data:`PROOF_WAVE` at a time, in equal shares of the time the first wave leaves them
  (:data:`PAIR_LATER_SHARE`), below the best plan answered so far.

:func:`proof_waves` runs both and returns every answer, which the screening loop then reads instead
of solving those variants again.  The cutoffs of a wave are fixed before its searches start, so the
answers do not depend on how the threads are scheduled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel, ModelData, build, scaling_refusal
from planner.optimize.direct_solve import DirectOutcome, Prepared, solve_model
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.solve_memo import SolveMemo
from planner.optimize.solver import (
    PROOF_WAVE,
    SolveStatus,
    proofs_at_once,
    side_by_side,
)
from planner.optimize.union import Answers

#: A wave: its variants, each with its cutoff (k$, None for none).
Wave = list[tuple[int, float | None]]

#: With disaggregated pairs, the share of the time left when the first proof wave starts that is kept
#: for the variants after it (:func:`later_waves`), when there are any.  Pair models' proofs do not
#: close inside the limit, and a variant never searched counts in the plan's gap with its relaxation.
#: Measured on the disaggregated demo (2026-12-06, one thread per search): the first two variants'
#: bounds rise from 1,507 to 1,521 k$ between 5 and 15 s and are about 1,525 k$ at the 60 s limit,
#: while the two after them relax to 1,491.4 k$ (the plan's 9.2 % gap) and their cutoff searches
#: below 1,643.2 k$ reach 1,558 k$ in 5 s.  A third of the time left moves the lowest bound to the
#: first wave's, costing it a few k$ of bound.
#: Not with a node limit (``solver.node_limit``, as ``explain``'s re-solves): each search then stops at a
#: node count, the same on any machine, and a share of the time limit could stop it first, under load.
PAIR_LATER_SHARE = 1 / 3


def offer_unit_sizes(data: ModelData, model: DirectModel) -> NDArray[np.float64]:
    """GPUs per unit of each of the model's offers (whole servers > 1)."""
    return np.array([data.offers[o].gpus_per_unit for o in model.offers], dtype=float)


def _prove(data: ModelData, model: DirectModel, deadline: solvers.Deadline, gap: float, threads: int | None,
           cutoff: float | None, prepared: Prepared | None) -> Callable[[], DirectOutcome]:
    """One variant's search below ``cutoff``, ready to run (in a wave's thread or in this one)."""
    return lambda: solve_model(model, deadline, gap, threads=threads, cutoff=cutoff,
                               unit_sizes=offer_unit_sizes(data, model), prepared=prepared)


def _cheapest(best: float, answers: Answers) -> float:
    """``best`` or the cheapest plan among ``answers`` that improves on it (k$,
    :func:`~planner.optimize.solver.improves`: a tie to floating point leaves ``best``)."""
    for _c, o in answers.values():
        if o.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) and o.objective is not None \
                and solvers.improves(o.objective, best):
            best = o.objective
    return best


def first_wave(order: list[tuple[int, float]], prepared: dict[int, Prepared], built: dict[int, DirectModel],
               gap: float, best: float, memo: SolveMemo | None, known_winner: int | None) -> tuple[Wave, float]:
    """The variants :func:`first_proofs` proves side by side, each with its cutoff (its docstring), and
    the incumbent after them had every one ended at its start (k$; ``best`` when the wave is empty)."""
    wave: Wave = []
    incumbent = best
    for v, bound in order:
        if len(wave) == PROOF_WAVE:
            break
        prep = prepared.get(v)
        if (v == known_winner or prep is None or prep.start is None or prep.start.objective is None
                or v not in built or scaling_refusal(built[v])):
            continue
        cutoff, enough = solvers.search_limits(incumbent, gap)
        if enough is not None and bound / USD_PER_KUSD >= enough:
            continue
        if memo is not None and memo.lookup(built[v], gap, enough) is not None:
            continue
        wave.append((v, cutoff))
        incumbent = min(incumbent, prep.start.objective)
    return wave, incumbent


def first_proofs(data: ModelData, wave: Wave, prepared: dict[int, Prepared], built: dict[int, DirectModel],
                 deadline: solvers.Deadline, gap: float, threads: int | None) -> Answers:
    r"""The first :data:`PROOF_WAVE` variants of the proof order that hold a start
    (:func:`first_wave`), proven concurrently.

    Each gets the cutoff it would get if every variant before it in the wave had ended at its own
    start: ``c_i = min(best, s_0, …, s_{i−1})`` with ``s_k`` the start's cost.  Every ``s_k`` is a
    plan that exists, so ``c_i`` is never below the final ``best``: a variant cut off at ``c_i``
    (proven ``z* ≥ c_i·(1 − gap)``, :func:`~planner.optimize.direct_solve.solve_model`) is proven out
    within the gap, and one solved below it is solved as in the sequential order.  The cutoffs are
    fixed before the proofs start, so the answer is the same however the threads are scheduled.  Returns ``variant -> (cutoff, outcome)``; empty when fewer
    than two variants qualify (nothing to overlap).
    """
    if len(wave) < 2 or deadline.expired or not proofs_at_once(threads):
        return {}
    outcomes = side_by_side([_prove(data, built[v], deadline, gap, threads, cutoff, prepared[v])
                             for v, cutoff in wave])
    return {v: (cutoff, outcome) for (v, cutoff), outcome in zip(wave, outcomes, strict=True)}


def later_variants(order: list[tuple[int, float]], done: Sequence[int], best: float, gap: float) -> list[int]:
    """The variants of the proof order not yet answered whose bound is below ``best·(1 − gap)``."""
    return [v for v, bound in order if v not in done and bound / USD_PER_KUSD < best * (1 - gap)]


def later_waves(data: ModelData, order: list[tuple[int, float]], ahead: Answers, prepared: dict[int, Prepared],
                built: dict[int, DirectModel], deadline: solvers.Deadline, gap: float, threads: int | None,
                best: float, memo: SolveMemo | None, known_winner: int | None) -> Answers:
    r"""Disaggregated models only: the variants after the first wave, searched :data:`PROOF_WAVE` at a
    time side by side (one at a time where :func:`~planner.optimize.solver.proofs_at_once` says no),
    the time left shared equally among the waves (:data:`PAIR_LATER_SHARE` explains why).

    Only once a plan is known: without one every variant would be a later variant, each with a sliver of
    the time (explain's disaggregated demo, its start search starved by the re-solves beside it, searched
    all 40 variants for about 1.5 s each and printed a plan 45× the optimum); the sequential order then
    gives the first variant the time.

    Every variant of a wave gets the same cutoff ``best``, the cheapest plan answered
    when the wave starts (``best`` given: the memo's; then every answer in ``ahead``) — a plan that
    exists, so a variant cut off is proven out — fixed before its searches start.  Never a start not
    yet searched: the variant holding it would be cut off below its own plan and lose it.  A search
    stopped at its share keeps the bound it proved (:func:`~planner.optimize.solver.cutoff_search_bound`),
    which the plan's gap then counts instead of the variant's relaxation.  Returns
    ``variant -> (cutoff, outcome)`` like :func:`first_proofs`.
    """
    out: Answers = {}
    best = _cheapest(best, ahead)
    if not math.isfinite(best):
        return out  # no plan yet: every variant would share the time, none would get enough to find one
    rest = []
    for v in later_variants(order, [*ahead, *([] if known_winner is None else [known_winner])], best, gap):
        model = built[v] if v in built else build(data, [v])
        built[v] = model
        if not scaling_refusal(model) and (memo is None or memo.lookup(model, gap, best * (1 - gap)) is None):
            rest.append(v)
    size = PROOF_WAVE if proofs_at_once(threads) else 1
    waves = [rest[i:i + size] for i in range(0, len(rest), size)]
    for i, wave in enumerate(waves):
        if deadline.expired:
            break
        share = deadline.portion(1 / (len(waves) - i))
        cutoff = solvers.incumbent_cutoff(best)
        outcomes = side_by_side([_prove(data, built[v], share, gap, threads, cutoff, prepared.get(v)) for v in wave])
        answers: Answers = {v: (cutoff, outcome) for v, outcome in zip(wave, outcomes, strict=True)}
        out |= answers
        best = _cheapest(best, answers)
    return out


def proof_waves(data: ModelData, order: list[tuple[int, float]], ahead: Answers, prepared: dict[int, Prepared],
                built: dict[int, DirectModel], deadline: solvers.Deadline, gap: float, threads: int | None,
                best: float, memo: SolveMemo | None, known_winner: int | None) -> Answers:
    """The first wave and, for disaggregated pairs under a time limit, the later waves (module
    docstring): their answers, beside ``ahead`` (the twins' union search).  ``best``: the memo's plan
    (k$, or infinity); ``known_winner``: its variant, not searched again."""
    wave, incumbent = first_wave([(v, b) for v, b in order if v not in ahead], prepared, built, gap,
                                 _cheapest(best, ahead), memo, known_winner)
    share_time = data.pairs is not None and deadline.node_limit is None  # PAIR_LATER_SHARE: why not with nodes
    later = share_time and math.isfinite(incumbent) and bool(
        later_variants(order, [*ahead, *(v for v, _c in wave)], incumbent, gap))
    wave_deadline = deadline.portion(1 - PAIR_LATER_SHARE) if later else deadline
    answers = first_proofs(data, wave, prepared, built, wave_deadline, gap, threads)
    if later and wave and wave[0][0] not in answers:  # one proof at a time: the first alone, in the same share
        v, cutoff = wave[0]
        answers[v] = (cutoff, _prove(data, built[v], wave_deadline, gap, threads, cutoff, prepared[v])())
    if share_time:
        answers |= later_waves(data, order, ahead | answers, prepared, built, deadline, gap, threads, best, memo,
                               known_winner)
    return answers
