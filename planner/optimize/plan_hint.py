r"""A known plan kept as the answer of a re-solve it still serves, when the search found no cheaper one.

``whatif explain`` re-solves the scenario with one input moved (prices ±20 %, demand, electricity, …)
at a looser gap (0.5 %, :data:`planner.insight.resolve.AUX_GAP_REL`) and a node limit.  A search that
stops within that gap may return a plan dearer than the plan already in hand, re-priced: on the demo,
electricity +20 % came back at $1,807,197 and "another fleet", where the plan itself, whose energy line
is $80,684, costs exactly 20 % of that more, $1,803,006.  A sensitivity that moves a cost by more than
keeping the decision does is no sensitivity of the decision; nor is a "fleet" change that only the gap
made.

So a re-solve may be given the plan (``hint``).  Its replicas are fixed in the changed scenario's model
of the plan's variant — ``r_{j,p}`` of each column ``j`` (class, hardware, TP) at the plan's count of
that deployment in period ``p``, every other column at 0 — and the acquisitions, spares and the rest are
left to HiGHS (a small MILP: the replicas fixed, its search settles at the root on the demo).  Its
optimum ``c_h`` is at most the plan re-priced (the plan's own fleet is one of its solutions), and it is a
plan of the changed scenario.  It is the variant's start where it is cheaper than the start search's
(:func:`planner.optimize.screening.screen_single`'s ``known``), so the proof searches below it: on the demo
the electricity +20 % re-solve took 0.9 s against 1.5 s, hardware prices −20 % 0.8 s against 2.0 s (one
thread, 2026-12-08, the same plans).  And the re-solve's answer is replaced by it when it is cheaper:

* the answer was ``optimal`` within the gap with bound ``b``: ``b ≤ c_h``, so the hint is optimal within
  the gap too (its gap is measured from ``b``);
* the answer was ``feasible`` (a limit): the hint is too, with the same bound.

When the changed scenario needs more than the plan's replicas (demand +20 %, efficiency lower) the fixed
model is infeasible and nothing changes.  Only single-variant co-located plans without time slices are
hinted (``plan.max_variants = 1``, no disaggregation: the numpy-built path's screening).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

from planner.optimize import solver as solvers
from planner.optimize.candidates import CandidateSet
from planner.optimize.direct import DirectModel, ModelData, build
from planner.optimize.direct_rows import column_key
from planner.optimize.direct_solve import DirectOutcome, run_highs
from planner.optimize.solver import SolveStatus
from planner.plan_model import Plan

Answer = tuple[int, DirectModel, DirectOutcome]
#: The fixed-replica model is solved to this gap whatever the re-solve's (its replicas fixed, it is small):
#: at the re-solve's 0.5 % the demo's electricity +20 % hint stopped at $1,807,093, above the plan
#: re-priced ($1,803,006), the very figure it is there to guarantee.
HINT_GAP_REL = 1e-6


def hinted(data: ModelData, cs: CandidateSet, candidates: set[int], hint: Plan, deadline: solvers.Deadline,
           gap: float, threads: int | None) -> Answer | None:
    """The hint's replicas in the changed model of its variant, the rest solved (module docstring); None
    when the hint has no single variant among ``candidates``, uses slices or pools, or does not fit."""
    if len(hint.variant_names) != 1 or any(s.slice is not None or s.prefill is not None for s in hint.serving):
        return None
    v = next((v.index for v in cs.variants if v.name == hint.variant_names[0]), None)
    if v is None or v not in candidates:
        return None
    model = build(data, [v])
    replicas: dict[tuple[int, int, float, int], int] = defaultdict(int)
    classes = {name: c for c, name in enumerate(cs.workloads)}
    hardware = {hw.slug: h for h, hw in enumerate(cs.hardware)}
    for s in hint.serving:
        if s.workload not in classes or s.hardware not in hardware:
            return None
        replicas[(classes[s.workload], hardware[s.hardware], float(s.tp), s.period)] += s.replicas
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    placed = 0
    for k, j in enumerate(model.columns):
        key = column_key(data, j)
        for p in range(model.r.shape[1]):
            count = replicas.get((*key, p), 0)
            placed += count
            lower[model.r[k, p]] = upper[model.r[k, p]] = count
    if placed != sum(replicas.values()):  # a deployment the changed model has no column for
        return None
    fixed = dataclasses.replace(model, col_lower=lower, col_upper=upper)
    outcome = run_highs(fixed, deadline.left(), HINT_GAP_REL, threads=threads, node_limit=deadline.node_limit)
    if outcome.status != SolveStatus.OPTIMAL or outcome.values is None or outcome.objective is None:
        return None
    return v, model, outcome


def no_dearer_than(found: Answer | None, hint: Answer | None) -> Answer | None:
    """``found``, or the hint's plan where it is cheaper, with ``found``'s status and proven bound (module
    docstring); ``found`` as it is when it has no plan (nothing proven to measure the hint against)."""
    if hint is None or found is None or found[2].objective is None:
        return found
    answer, (v, model, own) = found[2], hint
    assert own.objective is not None and answer.objective is not None
    if not solvers.improves(own.objective, answer.objective):
        return found
    bound = answer.bound
    gap = solvers.gap_left(own.objective, bound) if bound is not None else answer.gap
    message = f"{answer.message}; the given plan's deployments, re-priced, are cheaper than the plan the search found"
    return v, model, DirectOutcome(answer.status, answer.seconds + own.seconds, own.objective,
                                   None if bound is None else min(bound, own.objective), gap,
                                   np.asarray(own.values), message)
