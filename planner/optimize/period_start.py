r"""The period-split start for disaggregated pair models: fix what links the periods, solve each
period alone.

A pair model's periods are linked only by acquisitions that serve more than one period — whole
servers (cumulative counts ``S_{o,p}``) and multi-period rentals (``reserved-1y`` serves four
quarters) — and, where the scenario has one, a budget row.  Fix the links at the relaxation's
rounded values (servers as the rounded-server start does, :func:`~planner.optimize.direct_solve.
rounded_server_start`; every other linking acquisition to its nearest whole number within its
bounds), and the rest of the model falls apart into one MILP per period: a period's replicas, pair
shares and pools, spares and single-period rentals, against that period's rows with the fixed
columns moved into their bounds.  Each is searched for :data:`PERIOD_NODES` nodes without root
restarts (to the requested gap where that suffices); together with the fixed
links they are a plan of the whole model, checked row by row (:func:`~planner.optimize.union.holds`)
and costed as ``c·x + offset``.

**Why.**  With only the servers fixed the whole-horizon MILP of the disaggregated demo's first
variant is still hard: the rounded-server start stopped at its 15 s time share at 1,689.6 k$, and
that plan depended on how far the search got in 15 s, so on the machine's load.  Its twelve period
MILPs (284 columns, 198 integers each) are solved to the gap in 0.06–2.8 s each (12–16 s in all)
and give 1,643.2 k$ (2.7 % cheaper), the same plan on any load as long as no period reaches the
time limit.  Since pools over intra-node links fill whole servers (tenth session) the periods have
more columns and a search to the gap no longer fits the share; a node limit keeps the start the same
on any load (:data:`PERIOD_NODES`).  Measured
on the captured model (2026-12-06): relax-and-fix over the periods (each period's integers in turn,
the later periods relaxed) reached 1,636.7 k$ but took 66 s; at a 2 s limit per period, 1,721.4 k$.

**When.**  Only for models with disaggregated pairs (co-located models keep the rounded-server
start, which is the optimum at one node on the demo), and only when fixing the links does separate
the periods: a row whose free columns span two periods (a budget) or a fixed row that no longer
holds returns None, and the caller falls back to the rounded-server start.  A start only supplies
an incumbent; the proof is over the full model.
"""

from __future__ import annotations

import concurrent.futures as cf
import time

import numpy as np
from numpy.typing import NDArray

from planner.optimize.direct import DirectModel
from planner.optimize.direct_solve import (
    DirectOutcome,
    TimeLeft,
    rounded_server_counts,
    run_highs,
)
from planner.optimize.solver import PROOF_WAVE, SolveStatus, proofs_at_once
from planner.optimize.union import FEASIBILITY_TOLERANCE, holds

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: Branch-and-bound nodes of each period's MILP, searched without root restarts: a start needs a good
#: plan, not a proof.  On the disaggregated demo (tenth session, pools over intra-node links in whole
#: servers) the twelve periods solved to the gap overran the start's 15 s share (the plan at 60 s:
#: $1,731,754 and $1,744,168, gap 17 %, or $1,644,845 when they finished); with 50 nodes and no
#: restarts they took 6 s and the plan was $1,648,763 in two runs (20 nodes with restarts: 8-9 s,
#: $1,651,339; one node without: $1,648,785).
PERIOD_NODES = 50
#: No period: a column not tied to one (the model cannot be split).
NO_PERIOD = -1


def column_periods(model: DirectModel) -> IntArray:
    """The period of each column (``NO_PERIOD`` for a column the model does not tie to one)."""
    period = np.full(model.num_col, NO_PERIOD, dtype=np.int64)
    for array in (model.r, model.n, model.pair_x):
        if array.size:
            period[array] = np.arange(array.shape[-1])[None, :]
    if model.pair_pools.size:
        period[model.pair_pools] = np.arange(model.pair_pools.shape[-1])[None, None, :]
    for (_h, p), index in model.spares.items():
        period[index] = p
    for (_i, p), index in model.pair_units.items():
        period[index] = p
    for (_v, _c, p), index in model.x.items():
        period[index] = p
    return period


def _entries(model: DirectModel) -> IntArray:
    """The row of each nonzero of the row-wise matrix."""
    return np.repeat(np.arange(model.num_row), np.diff(np.append(model.starts, len(model.index))))


def linking_values(model: DirectModel, relaxed: FloatArray, unit_sizes: NDArray[np.float64],
                   period: IntArray) -> dict[int, float]:
    """The fixed value of every column that links periods (module docstring): the whole-server
    offers' columns at the rounded-server start's counts, every other acquisition that serves a
    later period at its rounded relaxation value.  An acquisition serves a later period when it
    shares a row with a later period's deployment (replicas, pools, shares, spares): a supply row.
    A row of acquisitions only (a budget) marks none, so it still joins the periods afterwards."""
    fixed: dict[int, float] = {}
    servers = [k for k in range(len(model.offers)) if unit_sizes[k] > 1]
    for k, values in zip(servers, rounded_server_counts(model, relaxed, servers), strict=True):
        fixed.update(zip(model.n[k].tolist(), values.tolist(), strict=True))
    rows = _entries(model)
    acquisitions = np.zeros(model.num_col, dtype=bool)
    acquisitions[model.n.ravel()] = True
    deployed = ~acquisitions[model.index]
    latest = np.full(model.num_row, NO_PERIOD, dtype=np.int64)
    np.maximum.at(latest, rows[deployed], period[model.index[deployed]])
    serves_later = ~deployed & (latest[rows] > period[model.index])
    for j in np.unique(model.index[serves_later]).tolist():
        if j not in fixed:
            fixed[j] = float(np.clip(np.rint(relaxed[j]), model.col_lower[j], model.col_upper[j]))
    return fixed


def _period_model(model: DirectModel, columns: IntArray, rows: IntArray, constant: FloatArray) -> DirectModel:
    """``model`` restricted to ``columns`` and ``rows`` (the fixed columns' part of each row moved into
    its bounds: ``constant``); only the arrays HiGHS reads are meaningful."""
    position = np.full(model.num_col, -1, dtype=np.int64)
    position[columns] = np.arange(len(columns))
    entry_rows = _entries(model)
    keep = np.isin(entry_rows, rows) & (position[model.index] >= 0)
    row_position = np.full(model.num_row, -1, dtype=np.int64)
    row_position[rows] = np.arange(len(rows))
    counts = np.bincount(row_position[entry_rows[keep]], minlength=len(rows))
    empty = np.zeros((0, 0), dtype=np.int64)
    return DirectModel(
        cost=model.cost[columns], offset=0.0, col_lower=model.col_lower[columns], col_upper=model.col_upper[columns],
        integrality=model.integrality[columns], row_lower=model.row_lower[rows] - constant[rows],
        row_upper=model.row_upper[rows] - constant[rows],
        starts=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32),
        index=position[model.index[keep]].astype(np.int32), value=model.value[keep], columns=[], offers=[],
        r=empty, n=empty, spares={}, x={}, variants=[], hardware_of_offer=[])


def period_split_start(model: DirectModel, relaxed: FloatArray, unit_sizes: NDArray[np.float64],
                       time_limit_s: float, gap_rel: float, threads: int | None,
                       node_limit: int | None = None) -> DirectOutcome | None:
    """The module docstring's start, or None when fixing the links does not split the periods or a
    period has no plan with them."""
    left = TimeLeft(time_limit_s)
    period = column_periods(model)
    if (period == NO_PERIOD).any():
        return None
    fixed = linking_values(model, relaxed, unit_sizes, period)
    values = np.zeros(model.num_col)
    is_fixed = np.zeros(model.num_col, dtype=bool)
    at = np.fromiter(fixed, dtype=np.int64, count=len(fixed))
    values[at] = np.fromiter(fixed.values(), dtype=float, count=len(fixed))
    is_fixed[at] = True
    rows = _entries(model)
    free = ~is_fixed[model.index]
    constant: FloatArray = np.bincount(rows[~free], weights=model.value[~free] * values[model.index[~free]],
                                       minlength=model.num_row).astype(float)
    low = np.full(model.num_row, np.iinfo(np.int64).max)
    high = np.full(model.num_row, NO_PERIOD, dtype=np.int64)
    np.minimum.at(low, rows[free], period[model.index[free]])
    np.maximum.at(high, rows[free], period[model.index[free]])
    touched = high != NO_PERIOD
    if (low[touched] != high[touched]).any():
        return None  # a row (a budget) still joins periods
    settled = ~touched  # rows of fixed columns only: they must hold as they are
    if ((constant[settled] < model.row_lower[settled] - FEASIBILITY_TOLERANCE).any()
            or (constant[settled] > model.row_upper[settled] + FEASIBILITY_TOLERANCE).any()):
        return None
    periods = sorted(set(period[~is_fixed].tolist()))
    parts = [(np.flatnonzero((period == p) & ~is_fixed), np.flatnonzero(touched & (high == p))) for p in periods]

    nodes = PERIOD_NODES if node_limit is None else min(PERIOD_NODES, node_limit)

    def solve(columns: IntArray, part_rows: IntArray) -> DirectOutcome:
        return run_highs(_period_model(model, columns, part_rows, constant), left(), gap_rel, threads=threads,
                         node_limit=nodes, restarts=False)

    if proofs_at_once(threads) and len(parts) > 1:
        with cf.ThreadPoolExecutor(max_workers=PROOF_WAVE) as pool:
            outcomes = list(pool.map(lambda part: solve(*part), parts))
    else:
        outcomes = [solve(*part) for part in parts]
    for (columns, _rows), outcome in zip(parts, outcomes, strict=True):
        if outcome.values is None:
            return None
        values[columns] = outcome.values
    if not holds(model, values):
        return None
    objective = float(model.cost @ values) + model.offset
    return DirectOutcome(SolveStatus.FEASIBLE, time.perf_counter() - left.begin, objective, None, None, values,
                         f"period-split start ({len(parts)} periods solved alone)")
