r"""Twin variants decided by one search of their union (variant screening, ``max_variants = 1``).

Variants often tie: the demo's FP8 and INT8 variants run alike on H100 and H200 (INT8 uses Hopper's
FP8 row), differ only on GPU types the plan does not use, relax to the same 1,978.4 k$ and reach the
same rounded-server start.  Proving each alone costs two searches of nearly the same model; their
**union** (:func:`planner.optimize.direct.build` with ``union``: per (class, hardware, TP) the
column of most capacity, the constant of the cheapest variant) costs one, and is no larger than one
of them.

**Why it is exact.** Every plan of a member ``v`` becomes a union plan at the same or a lower cost
(``build``'s docstring), so any dual bound ``b`` of a search of the union satisfies ``b ≤ z*_v`` for
every member.  A union plan is written back into a member's own model by :func:`project` — each
deployment's replicas on the member's column of it, the same GPUs — and kept only when every row of
that model holds there (:func:`holds`: the member's columns may serve fewer requests/s) and its cost
is recomputed as ``c_v·x + K_v``.  The best such plan (or ``v₀``'s start, whichever is cheaper; of
equal ones the first variant's in the proof order) is optimal within the gap ``g`` when
``1 − b/cost ≤ g``, and every other member is then out below it (``CUTOFF`` with bound ``b``) — what
the separate proofs establish.

**When it is used.** Only for *twins*: variants whose relaxation is within the start race's spread
of the lowest and whose start costs within ``tie`` of ``v₀``'s (``screening.UNION_START_TOLERANCE``,
0.1 %).  Where the starts differ the members differ where plans go, and the union's plan may be none
of theirs: a measured trade-off, not a guarantee either way.  On an older catalog, on 36 monthly
periods (FP8 and INT8 starts 2,023.7 and 2,024.8 k$, 0.05 % apart), a union of all their columns
found a plan using FP8's A100 column in one month and INT8's in another, and its 34 s were lost
before the separate proofs (29 s and 21 s), a measurement that kept the tolerance at 1e-9 (the same
plan reached twice) until 2026-12-05.  On that day's catalog the demo's starts are 0.04 % apart and
24 quarterly periods' 0.02 %, and both unions hold a member's plan: the demo in 3.9 s against 4.4 s,
24 quarters proven in 34 s (6,619 nodes) where the separate proofs stop at the 60 s limit.  When a
finished union search holds no member plan within the gap, the members are proven one by one as
before; a search stopped at a limit keeps its best member plan (or ``v₀``'s start) as ``feasible``
and leaves the others unproven with the bound ``max(b, z^{LP}_v)``.  The search starts from ``v₀``'s
start (:func:`lift`) with HiGHS's improvement heuristics off, as the proofs do
(:func:`~planner.optimize.direct_solve.proof_search`).  Disaggregated pairs are not merged (their
searches improve on their starts by heuristics).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel, ModelData, build, scaling_refusal
from planner.optimize.direct_rows import column_key, pair_key
from planner.optimize.direct_solve import DirectOutcome, Prepared, proof_search
from planner.optimize.solver import SolveStatus

FloatArray = NDArray[np.float64]
#: A replica or unit count below this is zero (HiGHS's integrality tolerance is 1e-6).
USED = 1e-6
#: Row and bound slack a projected plan may have (HiGHS's primal feasibility tolerance is 1e-7).
FEASIBILITY_TOLERANCE = 1e-6
#: Answers per variant: ``variant -> (the cutoff it was searched below, its outcome)``, as the proof
#: waves give them (:mod:`planner.optimize.proof_waves`).
Answers = dict[int, tuple[float | None, DirectOutcome]]


def holds(model: DirectModel, values: FloatArray) -> bool:
    """Every row and bound of ``model`` holds at ``values``, its integers whole (HiGHS's tolerances)."""
    ends = np.append(model.starts, len(model.index)).astype(np.int64)
    products = values[model.index] * model.value
    activity = np.add.reduceat(products, ends[:-1]) if len(products) else np.zeros(model.num_row)
    activity[ends[:-1] == ends[1:]] = 0.0  # reduceat reads an empty row's next entry
    whole = np.abs(values - np.round(values))[model.integrality == 1]
    return bool((activity >= model.row_lower - FEASIBILITY_TOLERANCE).all()
                and (activity <= model.row_upper + FEASIBILITY_TOLERANCE).all()
                and (values >= model.col_lower - FEASIBILITY_TOLERANCE).all()
                and (values <= model.col_upper + FEASIBILITY_TOLERANCE).all() and (whole <= USED).all())


def lift(data: ModelData, member: DirectModel, union: DirectModel, values: FloatArray) -> FloatArray:
    """A member's solution as a start of the union: each deployment's replicas on the union's column
    of it (at most that column's bound), the columns the member lacks at zero."""
    out = np.zeros(union.num_col)
    at = {column_key(data, j): k for k, j in enumerate(union.columns)}
    for k, j in enumerate(member.columns):
        cols = union.r[at[column_key(data, j)]]
        out[cols] = np.minimum(values[member.r[k]], union.col_upper[cols])
    offer = {o: k for k, o in enumerate(union.offers)}
    for k, o in enumerate(member.offers):
        out[union.n[offer[o]]] = values[member.n[k]]
    for key, index in member.spares.items():
        out[union.spares[key]] = values[index]
    return out


def project(data: ModelData, union: DirectModel, member: DirectModel, values: FloatArray) -> FloatArray | None:
    """A union solution as a solution of ``member``'s model — each deployment's replicas on the
    member's column of it, the same GPUs — or None when the member lacks a deployment or a GPU type
    the solution uses, or its own columns (fewer requests/s, tighter bounds) do not serve the traffic."""
    carried = carry_over(data, union, member, values)
    return None if carried is None else carried.values


def carry_over(data: ModelData, source: DirectModel, target: DirectModel, values: FloatArray) -> DirectOutcome | None:
    """``source``'s plan as a plan of ``target``'s model — each deployment's replicas on ``target``'s
    column of the same class, hardware and TP (each disaggregated pair's share and pools on
    ``target``'s pair of the same :func:`~planner.optimize.direct_rows.pair_key`), the same GPUs,
    spares and purchases — with its cost
    in ``target``'s terms (``c·x + K``), or None when ``target`` lacks a deployment or GPU offer the
    plan uses or its own columns (other requests/s per replica) do not serve the traffic.

    A near-tied variant's start (:func:`planner.optimize.screening._prepare_near_ties`): the demo's
    FP8 and INT8 variants run alike on H100 and H200, so FP8's start is INT8's plan too, found in
    microseconds where its own rounded-server search took 0.7 s.  It only supplies an incumbent; what
    is proven is unchanged."""
    out = np.zeros(target.num_col)
    at = {column_key(data, j): k for k, j in enumerate(target.columns)}
    for k, j in enumerate(source.columns):
        own = at.get(column_key(data, j))
        if own is None:
            if (np.abs(values[source.r[k]]) > USED).any():
                return None
            continue
        out[target.r[own]] = values[source.r[k]]
    offer = {o: k for k, o in enumerate(target.offers)}
    for k, o in enumerate(source.offers):
        if o in offer:
            out[target.n[offer[o]]] = values[source.n[k]]
        elif (np.abs(values[source.n[k]]) > USED).any():
            return None
    for key, index in source.spares.items():
        if key in target.spares:
            out[target.spares[key]] = values[index]
        elif abs(values[index]) > USED:
            return None
    pair_at = {pair_key(data, k): i for i, k in enumerate(target.pairs)}
    for i, k in enumerate(source.pairs):
        own = pair_at.get(pair_key(data, k))
        if own is None:
            if (np.abs(values[source.pair_x[i]]) > USED).any() or (np.abs(values[source.pair_pools[i]]) > USED).any():
                return None
            continue
        out[target.pair_x[own]] = values[source.pair_x[i]]
        out[target.pair_pools[own]] = values[source.pair_pools[i]]
        for p in range(source.pair_x.shape[1]):
            if (i, p) in source.pair_units:  # the same key: the same unit (direct_rows.pair_key)
                out[target.pair_units[(own, p)]] = values[source.pair_units[(i, p)]]
    if not holds(target, out):
        return None
    cost = float(target.cost @ out) + target.offset
    return DirectOutcome(SolveStatus.FEASIBLE, 0.0, cost, None, None, out,
                         "a near-tied variant's start, carried over (same deployments and GPUs)")


def _twins(order: Sequence[tuple[int, float]], prepared: dict[int, Prepared], s0: float, spread: float,
           tie: float) -> tuple[list[int], dict[int, float]]:
    """The variants after ``v₀`` whose relaxation is within ``spread`` of the lowest and below ``v₀``'s
    start ``s₀`` and whose start costs ``s₀`` (within ``tie``, relative), and every prepared relaxation."""
    relaxed = {v: p.relaxed.objective for v, p in prepared.items()
               if p.relaxed.status == SolveStatus.OPTIMAL and p.relaxed.objective is not None}
    if not relaxed:
        return [], relaxed
    near = min(relaxed.values()) * (1 + spread)
    twins = []
    for v, _b in order[1:]:
        start = prepared[v].start if v in prepared else None
        if (v in relaxed and relaxed[v] <= near and relaxed[v] < s0 and start is not None
                and start.objective is not None and abs(start.objective - s0) <= tie * abs(s0)):
            twins.append(v)
    return twins, relaxed


def union_proof(data: ModelData, order: Sequence[tuple[int, float]], prepared: dict[int, Prepared],
                deadline: solvers.Deadline, gap: float, threads: int | None, spread: float, tie: float,
                built: dict[int, DirectModel] | None = None) -> Answers:
    r"""The first variant of the proof order ``v₀`` and its twins (:func:`_twins`) decided by one search
    of their union (module docstring); empty when there is no twin or nothing was decided.
    ``spread``: relative distance of a twin's relaxation from the lowest; ``tie``: of its start's cost
    from ``v₀``'s; ``built``: the variants' models built so far (the screening's), reused and added to."""
    if not order or deadline.expired or data.pairs is not None:
        return {}
    v0 = order[0][0]
    first = prepared.get(v0)
    if first is None or first.start is None or first.start.objective is None or first.start.values is None:
        return {}
    twins, relaxed = _twins(order, prepared, first.start.objective, spread, tie)
    if not twins:
        return {}
    built = {} if built is None else built
    for v in (v0, *twins):
        if v not in built:
            built[v] = build(data, [v])
    members = {v: built[v] for v in (v0, *twins)}
    union = build(data, list(members), union=True)
    if scaling_refusal(union):
        return {}
    outcome = proof_search(union, deadline, gap, threads, lift(data, members[v0], union, first.start.values))
    if outcome.bound is None or outcome.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return {}
    best = (v0, first.start.objective, first.start.values)
    if outcome.values is not None:
        for v, model in members.items():  # in proof order: of equal plans the first variant's
            own = project(data, union, model, outcome.values)
            if own is not None and solvers.improves(cost := float(model.cost @ own) + model.offset, best[1]):
                best = (v, cost, own)
    v, cost, values = best
    bound = min(outcome.bound, cost)
    proven = solvers.gap_left(cost, bound) <= gap
    if not proven and outcome.status == SolveStatus.OPTIMAL:
        return {}  # the union's optimum mixes the variants: prove them one by one
    message = (f"proven with {len(twins)} twin variant(s) by one search of their union" if proven else
               f"{solvers.limit_reached(deadline)} while searching the twins' union")
    out: Answers = {v: (None, DirectOutcome(SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
                                            first.seconds + outcome.seconds, cost, max(bound, relaxed.get(v, bound)),
                                            solvers.gap_left(cost, bound), values, message))}
    for other in members:
        if other != v:
            out[other] = (bound, DirectOutcome(SolveStatus.CUTOFF if proven else SolveStatus.NO_SOLUTION, 0.0, None,
                                               max(bound, relaxed.get(other, bound)), None, None, message))
    return out
