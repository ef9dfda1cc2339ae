"""The numpy-built path of the planner (HiGHS, whole traffic shares, at most two variants):
variant screening (:mod:`planner.optimize.screening`), pair screening for ``max_variants = 2``
(:mod:`planner.optimize.pairs`), and the winner written back onto its PuLP model so that the
planner verifies and extracts it as on the PuLP path.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import pulp

from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel, model_data
from planner.optimize.direct_solve import DirectOutcome
from planner.optimize.milp import USD_PER_KUSD, Problem, build_problem
from planner.optimize.pruning import Column, meets_floors
from planner.optimize.screening import (
    class_lower_bounds,
    load_solution,
    screen_single,
    variant_lower_bounds,
)
from planner.optimize.solver import SolveStatus
from planner.scenario.schema import Scenario

if TYPE_CHECKING:  # pair screening is imported when a scenario allows two variants (start-up time)
    from planner.optimize.pairs import PairResult


def direct_applies(scenario: Scenario, name: str) -> bool:
    """Whether the numpy-built models solve this scenario (:mod:`planner.optimize.screening`,
    :mod:`planner.optimize.pairs`): HiGHS, whole traffic shares (no split granularity, no pooled
    capacity) and at most two variants per plan; disaggregated pairs included."""
    return (name == "highs" and scenario.plan.split_granularity is None and not scenario.plan.pooled_capacity
            and scenario.plan.max_variants <= 2 and pulp.HiGHS(msg=False).available())


def solve_direct(scenario, cs, columns, offers, periods, demand, one_time, floors, name, deadline, gap,  # type: ignore[no-untyped-def]
                  stats, memo=None, disaggregated=None, hint=None
                  ) -> tuple[list[Column], Problem, solvers.SolveOutcome] | None:
    """Screen and solve on the numpy-built models; the winner is loaded onto its PuLP model.

    With ``max_variants = 2`` the best single-variant plan (over variants meeting every floor) is
    the incumbent of the pair screening.  None when no plan was found: the PuLP path then builds the
    full model, whose infeasibility the caps diagnosis explains.  ``memo``
    (:class:`~planner.optimize.solve_memo.SolveMemo`): single-variant answers proven earlier.
    ``disaggregated``: prefill/decode pair columns (:mod:`planner.optimize.disagg_columns`) beside
    the co-located ones; every bound is then the lower of the co-located and the pair bound per class.
    ``hint``: a plan whose deployments, re-priced, the answer is never dearer than
    (:mod:`planner.optimize.plan_hint`; one variant, no pairs)."""
    data = model_data(scenario, cs, columns, offers, periods, demand, one_time, floors, pairs=disaggregated)
    ell = class_lower_bounds(cs, columns, offers, periods, demand)
    if disaggregated is None:
        bounds = variant_lower_bounds(cs, columns, offers, periods, demand, one_time)
    else:
        from planner.optimize.disagg_milp import (
            pair_class_lower_bounds,
            variant_lower_bounds_with_pairs,
        )

        by_pairs = pair_class_lower_bounds(cs, disaggregated, offers, periods, demand)
        bounds = variant_lower_bounds_with_pairs(ell, by_pairs, sorted({c.variant for c in columns}),
                                                 len(cs.workloads), one_time)
        for key, pair_bound in by_pairs.items():
            ell[key] = np.minimum(ell[key], pair_bound) if key in ell else pair_bound
    singles = {v: b for v, b in bounds.items() if meets_floors(cs, v, floors)}
    known = None
    if hint is not None and scenario.plan.max_variants == 1 and disaggregated is None:
        from planner.optimize.plan_hint import hinted, no_dearer_than

        known = hinted(data, cs, set(singles), hint, deadline, gap, scenario.solver.threads)
    found = screen_single(data, singles, deadline, gap, scenario.solver.threads, stats, memo, known)
    if known is not None:
        found = no_dearer_than(found, known)
    if scenario.plan.max_variants == 2:
        from planner.optimize.pairs import screen_pairs

        best_usd = found[2].objective * USD_PER_KUSD if found and found[2].objective is not None else math.inf
        pairs = screen_pairs(data, ell, best_usd, deadline, gap, scenario.solver.threads)
        stats["pairs_lp_bounded"], stats["pairs_solved"] = pairs.pairs_bounded, pairs.pairs_solved
        single_open = _single_open_bound(found, singles)
        if pairs.pair is not None and pairs.model is not None and pairs.outcome is not None:
            found = (-1, pairs.model, pairs.outcome)
        if found is not None:
            found = (found[0], found[1], _pair_status(found[2], pairs, single_open if found[0] == -1 else None,
                                                      gap, deadline))
    if found is None or found[2].values is None:
        return None
    _v, model, direct = found
    values = found[2].values
    kept_variants = set(model.variants)
    kept = [c for c in columns if c.variant in kept_variants]
    extra = None
    if disaggregated is not None:
        from planner.optimize.disagg_milp import pair_hook

        extra = pair_hook(scenario, cs, [k for k in disaggregated if k.variant in kept_variants], periods, demand)
    problem = build_problem(scenario, cs, kept, offers, periods, demand, one_time, floors,
                            compact=len(kept_variants) == 1 and scenario.plan.max_variants == 1 and extra is None,
                            extra=extra)
    load_solution(problem, model, values)
    outcome = solvers.SolveOutcome(direct.status, name, direct.seconds, direct.gap, direct.message, direct.bound)
    return kept, problem, outcome


def _single_open_bound(single: tuple[int, DirectModel, DirectOutcome] | None, singles: dict[int, float]
                       ) -> float | None:
    """The lowest bound the single-variant screening left open (k$; None: it proved its answer): its
    answer's bound when not optimal; when it found no plan, the lowest of the variants' own bounds
    (``singles``, USD), unless no variant meets every floor alone.  A pair plan that replaces the
    single answer is optimal only where this is within the gap too."""
    if single is None:
        finite = [b for b in singles.values() if math.isfinite(b)]
        return min(finite) / USD_PER_KUSD if finite else None
    outcome = single[2]
    if outcome.status == SolveStatus.OPTIMAL:
        return None
    return outcome.bound if outcome.bound is not None else 0.0  # a stopped search without a bound proves nothing


def _pair_status(outcome: DirectOutcome, pairs: PairResult, single_open: float | None, gap_rel: float,
                 deadline: solvers.Deadline) -> DirectOutcome:
    """The plan's status over singles and pairs: optimal when both searches are proven, or when the
    lowest bound left (single or pair) is within ``gap_rel`` of the plan.  ``outcome`` is the single
    screening's answer, or the winning pair's with ``single_open`` what the single screening left open
    (until 2026-12-07 a pair win counted the singles as proven: a single screening stopped at its node
    limit with a bound of 80 k$ and a pair at 95 k$ was labelled optimal)."""
    if pairs.proven and single_open is None and outcome.status == SolveStatus.OPTIMAL:
        return outcome
    if outcome.objective is None:
        return outcome
    floor = min(b for b in (outcome.bound, pairs.lowest_open_bound, single_open, outcome.objective) if b is not None)
    left = solvers.gap_left(outcome.objective, floor)
    if left <= gap_rel and outcome.values is not None:  # every bound left is within the requested gap
        return dataclasses.replace(outcome, status=SolveStatus.OPTIMAL, gap=left, bound=floor,
                                   message=solvers.within_gap_message(left))
    return dataclasses.replace(outcome, status=SolveStatus.FEASIBLE, gap=left, bound=floor,
                               message=f"{solvers.limit_reached(deadline)} while screening variant pairs: the best "
                                       "plan found")
