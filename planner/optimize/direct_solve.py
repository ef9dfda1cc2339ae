r"""Solving a :class:`~planner.optimize.direct.DirectModel` with HiGHS: one run, and the exact
single-model method (relaxation → start → proof).

**One run** (:func:`run_highs`) maps HiGHS's model status to a :class:`SolveStatus`, as
:func:`planner.optimize.solver.run` does for PuLP.  Two HiGHS 1.16 behaviours are guarded:

* *Cutoff* (``objective_bound``): a search that finds nothing below the bound ends ``Infeasible``,
  or ``Optimal`` with a leftover plan *above* the bound.  Both are :attr:`SolveStatus.CUTOFF`
  ("no plan cheaper than the cutoff"), never an optimum.
* *MIP start* (``setSolution``): when presolve maps the start onto a better point of the reduced
  model, HiGHS reports that better objective and ``Optimal`` but returns the start's columns
  (reproduced on the brute-force test's falsifying example: a plan 2 % too expensive; on the
  disaggregated demo's pair model a 1,650.5 k$ start was read as 1,613.7 k$, exactly one period's
  cost short).  Re-verification in original units cannot catch this, because it recomputes the
  cost from the returned columns.  So a started run is guarded three ways (:func:`run_highs`):
  a *pre-check* (the same model and start, stopped before the root node: ``mip_max_leaves = 0``,
  0.03 s on that model) compares the objective HiGHS reads for the start with ``c·x + offset``;
  when they differ the search runs from the start with presolve off, which reads it correctly
  (40 s on that model: 1,650.5 k$ kept, bound 1,517.8, against 1,716.2 and 1,512.1 for the search
  without the start).  After every started run the same comparison is made again, and on a
  mismatch the run is repeated, first without presolve, then without the start — each repeat
  within the time the first run left, so a guarded run never outlasts its limit (before
  2026-12-06 the repeat took the whole limit again: a 5 s run took 10.2 s).

**The method** (:func:`solve_model`), exact:

1. The LP relaxation (a bound; a relaxation within the gap of the cutoff proves the model out at once).
2. A primal start (:func:`primal_start`).  When some offer sells whole servers (``u_o > 1`` GPUs
   per unit), the *rounded-server start*: every such offer's cumulative acquisitions in the
   relaxation, ``C_{o,p} = Σ_{q≤p} n*_{o,q}``, rounded to the nearest whole number and made
   non-decreasing, ``Ĉ_{o,p} = max_{q≤p} round(C_{o,q})``, fix ``n_{o,p} = Ĉ_{o,p} − Ĉ_{o,p−1}``
   (within its bounds), and the MILP over everything else (replicas, spares, single-GPU offers,
   every hardware type) is solved at the requested gap, with HiGHS's improvement heuristics on.
   With the servers fixed that MILP is easy (one node on the calibrated demo), and the start it
   gives is close: on this catalog's demo it is the optimum (on the previous one 0.006 % above),
   where the restricted-support start below was 1.3 % above (proof 7.5 s CPU from it against 51 s).
   Otherwise the *restricted-support start*: the MILP restricted to the hardware types the
   relaxation uses (at the requested gap) — usually the optimum with single GPUs.
3. The proof: the full MILP from that start, with HiGHS's improvement heuristics (RINS, RENS, root
   reduced cost, feasibility jump) off — with a good start they cost more than they find
   (:func:`proof_search`).  Under a node limit that search gets a share of it, and when it stops
   outside the gap the rest goes to a search from its best plan with the heuristics on
   (:func:`continue_with_heuristics`): there the start, not the bound, is what is missing.

With an incumbent cutoff (a later variant in screening) steps 2–3 are replaced by one search with
HiGHS's defaults below the cutoff: a losing variant ends at its root (0.03 s on the demo, where
its restricted start alone took 3.9 s), a winning one is solved whole.  "Nothing below the cutoff
``c``" proves ``z* ≥ c·(1 − g)``, no more (:func:`~planner.optimize.solver.incumbent_cutoff`).

A start only supplies an incumbent; the proof is over the full model, so the answer is the full
model's optimum within the gap.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel
from planner.optimize.milp import USD_PER_KUSD
from planner.optimize.solver import SolveStatus

#: A start's objective may differ from ``c·x + offset`` by this relative amount (HiGHS's own
#: primal feasibility tolerance scale); beyond it the start bug above is assumed and the run repeated.
OBJECTIVE_CHECK_TOLERANCE = 1e-7
#: The start trap's pre-check: the started run stopped before its root node (HiGHS has read the start
#: by then), to compare the objective it reads with ``c·x + offset``.
PRE_CHECK_OPTIONS: dict[str, bool | int | str] = {"mip_max_leaves": 0}
#: No root restarts (:func:`run_highs`'s ``restarts=False``).
NO_RESTARTS: dict[str, bool | int | str] = {"mip_allow_restart": False}
#: A started run that the pre-check caught misreading its start runs without presolve.
NO_PRESOLVE: dict[str, bool | int | str] = {"presolve": "off"}
#: The restricted-support MILP is solved to this share of the requested gap (a start, not the answer;
#: a tighter start proved no faster on the demo: 1e-5 took 3.0 s against 2.2 s at 1e-4, same start).
START_GAP_SHARE = 1.0
#: Largest share of the time left that the restricted-support start may use.
START_TIME_SHARE = 0.25
#: Most branch-and-bound nodes a start's search may take (both paths).  The start only supplies an
#: incumbent, and the incumbent it reaches decides which plan within the gap the proof reports: a
#: start stopped by its time share alone depended on the machine's load (a 4-slice fuzzed scenario
#: printed $85,953.24 and $85,956.93, both "optimal", in two runs).  A node limit stops it at the same
#: plan on any load; the time share stays as the safety net.  Measured 2026-12-07 (no start limit /
#: 200 / 1,000 / 5,000 nodes): the fuzzed case $85,956.93 / 85,953.24 / 85,953.24 / 85,956.93 in 7.0–7.6 s
#: (200 nodes take 3.1 s of the start's 5 s share, 1,000 take 4.2–4.8 s: too close to it); the demo, its
#: single-GPU and useful-life-4 variants, the 4-slice demo and examples/daily-load.toml: the same plans
#: and times at every limit (their starts end within 200 nodes).
START_NODES = 200
#: Heuristics switched off for the proof run when a good start is given.
PROOF_OPTIONS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False,
                 "mip_heuristic_run_root_reduced_cost": False, "mip_heuristic_run_feasibility_jump": False}
#: Under a node limit, the share of it the proof's first search (heuristics off) may use before the
#: search with them on (:func:`continue_with_heuristics`).  Measured on ``explain``'s fifteen re-solves
#: of the demo (2,000 nodes, 0.5 % gap, one thread, one after the other, 2026-12-06): without the second
#: search 56.2 s with two intervals; with it, after 1/8, 1/4 or all of the nodes: 71.6, 65.8 and 77.6 s,
#: all fifteen proven.
FIRST_SEARCH_NODE_SHARE = 0.25
#: A value this close to a whole number counts as whole when reading integer columns.
INTEGRALITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class TimeLeft:
    """What remains of one time limit shared by successive runs (never below zero): ``left()``."""

    limit_s: float
    begin: float = field(default_factory=lambda: time.perf_counter())

    def __call__(self) -> float:
        return max(0.0, self.limit_s - (time.perf_counter() - self.begin))


@dataclass(frozen=True)
class DirectOutcome:
    status: SolveStatus
    seconds: float
    objective: float | None  # k$, offset included
    bound: float | None  # proven lower bound, k$
    gap: float | None
    values: NDArray[np.float64] | None
    message: str
    decided_by_relaxation: bool = False  # the LP relaxation alone settled it (no MILP run)


def run_highs(model: DirectModel, time_limit_s: float, gap_rel: float, *, threads: int | None = None,
              mip: bool = True, start: NDArray[np.float64] | None = None, cutoff: float | None = None,
              heuristics: bool = True, col_upper: NDArray[np.float64] | None = None,
              node_limit: int | None = None, restarts: bool = True) -> DirectOutcome:
    """One HiGHS run of ``model`` (``cutoff`` in k$, offset included; ``col_upper`` overrides the
    bounds; ``node_limit`` caps the branch-and-bound nodes, a limit that does not depend on load;
    ``restarts=False``: no root restarts, for a model searched only for a plan, without a start)."""
    if start is None or not mip:
        return _run_once(model, time_limit_s, gap_rel, threads, mip, start, cutoff, heuristics, col_upper, node_limit,
                         None if restarts else NO_RESTARTS)
    if not restarts:
        raise ValueError("restarts=False is for runs without a start")
    left = TimeLeft(time_limit_s)
    check = _run_once(model, time_limit_s, gap_rel, threads, mip, start, cutoff, heuristics, col_upper, node_limit,
                      PRE_CHECK_OPTIONS)
    if check.status == SolveStatus.OPTIMAL and _agrees(model, check):
        return check  # presolve and the start settled it
    presolve = _agrees(model, check)
    outcome = _run_once(model, left(), gap_rel, threads, mip, start, cutoff, heuristics, col_upper, node_limit,
                        None if presolve else NO_PRESOLVE)
    if _agrees(model, outcome):
        return outcome
    if presolve:  # the trap after all: once more from the start, without presolve
        outcome = _run_once(model, left(), gap_rel, threads, mip, start, cutoff, heuristics, col_upper, node_limit,
                            NO_PRESOLVE)
        if _agrees(model, outcome):
            return outcome
    return _run_once(model, left(), gap_rel, threads, mip, None, cutoff, True, col_upper, node_limit)


def _agrees(model: DirectModel, outcome: DirectOutcome) -> bool:
    """Whether the objective HiGHS reports is ``c·x + offset`` of the columns it returns (true when it
    returns none: there is nothing to misread)."""
    if outcome.values is None or outcome.objective is None:
        return True
    recomputed = float(model.cost @ outcome.values) + model.offset
    return abs(recomputed - outcome.objective) <= OBJECTIVE_CHECK_TOLERANCE * max(1.0, abs(outcome.objective))


def _run_once(model: DirectModel, time_limit_s: float, gap_rel: float, threads: int | None, mip: bool,
              start: NDArray[np.float64] | None, cutoff: float | None, heuristics: bool,
              col_upper: NDArray[np.float64] | None, node_limit: int | None = None,
              extra: dict[str, bool | int | str] | None = None) -> DirectOutcome:
    import highspy

    begin = time.perf_counter()
    try:
        with solvers.highs_threads(threads) as thread_option:
            with solvers.quiet_stdout():
                h = highspy.Highs()
            options = _options(time_limit_s, gap_rel, mip, cutoff, heuristics, node_limit) | thread_option
            for key, value in (options | (extra or {})).items():
                h.setOptionValue(key, value)
            upper = model.col_upper if col_upper is None else col_upper
            integrality = model.integrality if mip else np.zeros_like(model.integrality)
            h.passModel(model.num_col, model.num_row, int(model.value.shape[0]), 2, 1, model.offset, model.cost,
                        model.col_lower, upper, model.row_lower, model.row_upper, model.starts, model.index,
                        model.value, integrality)
            if start is not None:
                h.setSolution(model.num_col, np.arange(model.num_col, dtype=np.int32), start)
            with solvers.quiet_stdout():
                h.run()
    except RuntimeError as exc:  # another thread count than a concurrent run's (solver.highs_threads)
        return DirectOutcome(SolveStatus.ERROR, 0.0, None, None, None, None, str(exc))
    return _outcome(h, model, mip, cutoff, time_limit_s, time.perf_counter() - begin)


def _options(time_limit_s: float, gap_rel: float, mip: bool, cutoff: float | None,
             heuristics: bool, node_limit: int | None) -> dict[str, bool | float | str]:
    """HiGHS's options for one run but its thread count (:func:`planner.optimize.solver.highs_threads`)."""
    options: dict[str, bool | float | str] = {"output_flag": False, "log_to_console": False, "random_seed": 0,
                                              "time_limit": max(time_limit_s, 1e-3), "mip_rel_gap": gap_rel}
    if cutoff is not None:
        options["objective_bound"] = cutoff
    if node_limit is not None and mip:
        options["mip_max_nodes"] = node_limit
    if not heuristics:
        options.update(PROOF_OPTIONS)
    return options


def _outcome(h: Any, model: DirectModel, mip: bool, cutoff: float | None, time_limit_s: float,
             seconds: float) -> DirectOutcome:
    """HiGHS's model status after a run as a :class:`DirectOutcome` (the cutoff reading of the module
    docstring; a stopped run keeps its plan, if any, as ``feasible``)."""
    import highspy

    status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.array(h.getSolution().col_value, dtype=float) if has_solution else None
    if values is not None and mip:
        values = np.where(model.integrality == 1, np.round(values), values)
    objective = float(info.objective_function_value) if has_solution else None
    # an LP's objective bounds its optimum only once optimal (a stopped simplex's point may lie above it)
    bound = float(info.mip_dual_bound) if mip and math.isfinite(info.mip_dual_bound) else None
    gap = float(info.mip_gap) if mip and math.isfinite(info.mip_gap) else None
    name = highspy.HighsModelStatus
    if cutoff is not None and (status == name.kInfeasible or status == name.kObjectiveBound
                               or (status == name.kOptimal and (objective is None or objective >= cutoff))):
        return DirectOutcome(SolveStatus.CUTOFF, seconds, objective, bound, gap, values,
                             f"no plan cheaper than the cutoff ({cutoff * USD_PER_KUSD:,.0f} $)")
    if status == name.kOptimal:
        return DirectOutcome(SolveStatus.OPTIMAL, seconds, objective, bound if mip else objective,
                             gap if mip else 0.0, values, "optimal")
    if status == name.kInfeasible:
        return DirectOutcome(SolveStatus.INFEASIBLE, seconds, None, None, None, None,
                             "no plan satisfies every constraint")
    if status in (name.kTimeLimit, name.kInterrupt, name.kIterationLimit, name.kSolutionLimit,
                  name.kObjectiveTarget):
        if has_solution:
            limit = (solvers.TIME_LIMIT_MESSAGE.format(limit=time_limit_s) if status == name.kTimeLimit
                     else solvers.NODE_LIMIT_MESSAGE if status == name.kSolutionLimit  # mip_max_nodes
                     else f"stopped early ({h.modelStatusToString(status)}): best plan found, not proven optimal")
            return DirectOutcome(SolveStatus.FEASIBLE, seconds, objective, bound, gap, values, limit)
        return DirectOutcome(SolveStatus.NO_SOLUTION, seconds, None, bound, None, None,
                             f"stopped after {seconds:.1f} s (limit {time_limit_s:g} s) without a solution")
    return DirectOutcome(SolveStatus.ERROR, seconds, objective, bound, gap, values,
                         f"unexpected HiGHS outcome: {h.modelStatusToString(status)}")


def restricted_start(model: DirectModel, relaxed: NDArray[np.float64], time_limit_s: float, gap_rel: float,
                     threads: int | None, node_limit: int | None = None) -> DirectOutcome | None:
    """Step 2 of the module docstring: the MILP on the hardware the relaxation uses, or None."""
    started = model.acquisitions(relaxed)
    used_hw = {model.hardware_of_offer[k] for k in range(len(model.offers))
               if started[k].sum() > INTEGRALITY_TOLERANCE}
    if not used_hw:
        return None
    upper = model.col_upper.copy()
    for k, h in enumerate(model.hardware_of_offer):
        if h not in used_hw:
            upper[model.n[k]] = 0.0
    outcome = run_highs(model, time_limit_s, gap_rel * START_GAP_SHARE, threads=threads, col_upper=upper,
                        node_limit=node_limit)
    return outcome if outcome.values is not None else None


def rounded_server_start(model: DirectModel, relaxed: NDArray[np.float64], unit_sizes: NDArray[np.float64],
                         time_limit_s: float, gap_rel: float, threads: int | None,
                         node_limit: int | None = None) -> DirectOutcome | None:
    """Step 2 of the module docstring for whole servers: the MILP with every whole-server offer's
    acquisitions fixed at the relaxation's rounded cumulative count, or None (no such offer, or
    no plan with those servers)."""
    servers = [k for k in range(len(model.offers)) if unit_sizes[k] > 1]
    if not servers:
        return None
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    for k, values in zip(servers, rounded_server_counts(model, relaxed, servers), strict=True):
        lower[model.n[k]] = upper[model.n[k]] = values
    fixed_model = dataclasses.replace(model, col_lower=lower, col_upper=upper)
    # HiGHS's improvement heuristics stay on: with the servers fixed they find the plan at the root
    # (the demo's winner: 1 node, 0.50 s, against 490 nodes, 1.02 s with them off; 24 quarterly
    # periods: 1 node, 0.64 s against 156 nodes, 1.24 s; the same plans)
    outcome = run_highs(fixed_model, time_limit_s, gap_rel, threads=threads, node_limit=node_limit)
    return outcome if outcome.values is not None and outcome.objective is not None else None


def rounded_server_counts(model: DirectModel, relaxed: NDArray[np.float64], servers: list[int]
                          ) -> list[NDArray[np.float64]]:
    """The values of each whole-server offer's columns at the rounded-server start (module docstring,
    step 2): ``Ĉ_{o,p} = max_{q≤p} round(C_{o,q})`` started as ``Ĉ_{o,p} − Ĉ_{o,p−1}`` within bounds."""
    started, ceiling = model.acquisitions(relaxed), model.acquisitions(model.col_upper)
    out = []
    for k in servers:
        cumulative = np.maximum.accumulate(np.rint(np.cumsum(started[k])))
        out.append(model.acquisition_values(k, np.minimum(np.diff(cumulative, prepend=0.0), ceiling[k])))
    return out


def primal_start(model: DirectModel, relaxed: NDArray[np.float64], unit_sizes: NDArray[np.float64] | None,
                 time_limit_s: float, gap_rel: float, threads: int | None,
                 node_limit: int | None = None) -> DirectOutcome | None:
    """Step 2 of the module docstring: the rounded-server start where whole servers are sold
    (``unit_sizes``: GPUs per unit of each model offer), preceded for disaggregated pair models by the
    period-split start (:mod:`planner.optimize.period_start`), else the restricted-support start."""
    left = TimeLeft(time_limit_s)  # the fallbacks share the one limit
    node_limit = START_NODES if node_limit is None else min(node_limit, START_NODES)
    if unit_sizes is not None and model.pairs:  # disaggregated pairs: the periods solved alone first
        from planner.optimize.period_start import period_split_start

        split = period_split_start(model, relaxed, unit_sizes, left(), gap_rel, threads, node_limit)
        if split is not None:
            return split
    if unit_sizes is not None:
        rounded = rounded_server_start(model, relaxed, unit_sizes, left(), gap_rel, threads, node_limit)
        if rounded is not None:
            return rounded
    return restricted_start(model, relaxed, left(), gap_rel, threads, node_limit)


@dataclass(frozen=True)
class Prepared:
    """Steps 1–2 of the module docstring for one model, done ahead of its proof: its LP relaxation
    and, when the relaxation did not settle it, a primal start (None when none was found)."""

    relaxed: DirectOutcome
    start: DirectOutcome | None
    seconds: float


def prepare(model: DirectModel, deadline: solvers.Deadline, gap_rel: float, *, threads: int | None = None,
            unit_sizes: NDArray[np.float64] | None = None, cutoff: float | None = None,
            known: DirectOutcome | None = None, relaxed: DirectOutcome | None = None) -> Prepared:
    """The relaxation and the start of ``model`` (:func:`primal_start`); variant screening prepares
    the near-tied variants first and proves the one with the cheapest start first, so that every
    other one is searched below a good incumbent (:func:`planner.optimize.screening.screen_single`).
    No start is sought when the relaxation is at or above ``cutoff`` (k$).  ``known``: a plan of
    ``model`` already in hand (another variant's start carried over), taken as the start instead of
    searching for one; ``relaxed``: the relaxation already solved (not solved again; its seconds are
    counted in the preparation's, as if solved here)."""
    begin = time.perf_counter() - (relaxed.seconds if relaxed is not None else 0.0)
    if relaxed is None:
        relaxed = run_highs(model, deadline.left(), 0.0, threads=threads, mip=False)
    start = None
    if (relaxed.status == SolveStatus.OPTIMAL and relaxed.values is not None and relaxed.objective is not None
            and (cutoff is None or relaxed.objective < cutoff)):
        start = known if known is not None else primal_start(model, relaxed.values, unit_sizes,
                                                             deadline.left() * START_TIME_SHARE, gap_rel, threads,
                                                             deadline.node_limit)
    return Prepared(relaxed, start, time.perf_counter() - begin)


def solve_model(model: DirectModel, deadline: solvers.Deadline, gap_rel: float, *, threads: int | None = None,
                cutoff: float | None = None, unit_sizes: NDArray[np.float64] | None = None,
                prepared: Prepared | None = None) -> DirectOutcome:
    """Steps 1–3 of the module docstring; ``cutoff`` (k$) makes a losing model end early as CUTOFF,
    which proves ``z* ≥ cutoff·(1 − gap_rel)`` (HiGHS prunes within the gap of its cutoff; a relaxation
    at or above that closes the model at once, as a search would);
    ``unit_sizes`` (GPUs per unit of each model offer) enables the rounded-server start;
    ``prepared``: steps 1–2 already done (:func:`prepare`), not repeated."""
    begin = time.perf_counter() - (prepared.seconds if prepared is not None else 0.0)

    def search(bound: float | None, heuristics: bool = True, start_values: NDArray[np.float64] | None = None
               ) -> DirectOutcome:
        return run_highs(model, deadline.left(), gap_rel, threads=threads, start=start_values, cutoff=bound,
                         heuristics=heuristics, node_limit=deadline.node_limit)

    relaxed = prepared.relaxed if prepared is not None else run_highs(model, deadline.left(), 0.0, threads=threads,
                                                                       mip=False)
    if relaxed.status == SolveStatus.INFEASIBLE:
        return _timed(relaxed, begin, decided_by_relaxation=True)
    if relaxed.status != SolveStatus.OPTIMAL or relaxed.values is None or relaxed.objective is None:
        return _timed(_proven(search(cutoff), cutoff, gap_rel, None), begin)
    if cutoff is not None and relaxed.objective >= cutoff * (1 - gap_rel):  # proves what a cutoff search would
        return DirectOutcome(SolveStatus.CUTOFF, time.perf_counter() - begin, None, relaxed.objective, None, None,
                             f"relaxation bound within the gap of the cutoff ({cutoff * USD_PER_KUSD:,.0f} $)",
                             decided_by_relaxation=True)
    start = prepared.start if prepared is not None else None
    if cutoff is not None and (start is None or start.objective is None or start.objective >= cutoff):
        # a later variant: most end at the root of a cutoff search; a start costs more.  When the
        # variants were prepared, its own start was no better than the incumbent, so it is searched
        # to prove it out, with the improvement heuristics off (1.25 s against 1.85 s CPU for the
        # calibrated demo's runner-up, the same CUTOFF answer)
        searched = search(cutoff, heuristics=prepared is None or model.heuristics_pay)
        return _timed(_no_worse_than(_proven(searched, cutoff, gap_rel, relaxed.objective), start), begin)
    if prepared is None:
        start = primal_start(model, relaxed.values, unit_sizes, deadline.left() * START_TIME_SHARE, gap_rel, threads,
                             deadline.node_limit)
    if start is not None and start.objective is not None and (cutoff is None or start.objective < cutoff):
        outcome = (search(cutoff, start_values=start.values) if model.heuristics_pay
                   else proof_search(model, deadline, gap_rel, threads, start.values, cutoff))
        if outcome.status == SolveStatus.CUTOFF:
            # the start itself is below the cutoff: a CUTOFF answer would contradict it — search again plainly
            outcome = search(None)
        outcome = _no_worse_than(outcome, start)
    else:
        outcome = search(cutoff)
    return _timed(_proven(outcome, cutoff, gap_rel, relaxed.objective), begin)


def _proven(outcome: DirectOutcome, cutoff: float | None, gap_rel: float, relaxation: float | None) -> DirectOutcome:
    """``outcome`` with the bound it proves (k$): a search stopped at a limit (``feasible``, or
    ``no_solution``) proves its dual bound only below its cutoff
    (:func:`~planner.optimize.solver.cutoff_search_bound`), and the relaxation bounds the model
    whatever the search found; a stopped plan without a dual bound is bounded by the relaxation alone,
    and its gap is measured from the bound kept.  Every search's answer passes here (until 2026-12-07 a
    later variant's cutoff search, and a search without an optimal relaxation, returned HiGHS's dual
    bound as it was: 119 k$ from a search below a 120 k$ cutoff at a 5 % gap, where 114 k$ is proven)."""
    stopped = outcome.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
    bound = solvers.cutoff_search_bound(outcome.bound, cutoff, gap_rel) if stopped else outcome.bound
    if relaxation is not None and (bound is not None or outcome.status == SolveStatus.FEASIBLE):
        bound = relaxation if bound is None else max(bound, relaxation)
    if bound == outcome.bound:
        return outcome
    gap = (max(0.0, 1.0 - bound / outcome.objective) if outcome.status == SolveStatus.FEASIBLE and bound is not None
           and outcome.objective is not None and outcome.objective > 0 else outcome.gap)
    return dataclasses.replace(outcome, bound=bound, gap=gap)


def proof_search(model: DirectModel, deadline: solvers.Deadline, gap_rel: float, threads: int | None,
                 start: NDArray[np.float64] | None, cutoff: float | None = None) -> DirectOutcome:
    """Step 3 of the module docstring: the search from ``start`` with HiGHS's improvement heuristics off,
    under a node limit stopped at :data:`FIRST_SEARCH_NODE_SHARE` of it and then
    :func:`continue_with_heuristics`."""
    nodes = deadline.node_limit
    first = run_highs(model, deadline.left(), gap_rel, threads=threads, start=start, cutoff=cutoff, heuristics=False,
                      node_limit=None if nodes is None else max(1, math.ceil(nodes * FIRST_SEARCH_NODE_SHARE)))
    return continue_with_heuristics(model, first, deadline, gap_rel, threads, cutoff)


def continue_with_heuristics(model: DirectModel, outcome: DirectOutcome, deadline: solvers.Deadline, gap_rel: float,
                             threads: int | None, cutoff: float | None = None) -> DirectOutcome:
    r"""A search run with HiGHS's improvement heuristics off and stopped by the node limit outside the
    gap, searched once more from its best plan with them on (the same node limit and cutoff); the
    cheaper plan and the higher bound of the two runs are kept.  Only under a node limit
    (``solver.node_limit``, as ``explain``'s re-solves): both stops are node counts, so the answer is
    the same on any machine; under a time limit a stopped search has no time left to continue.

    **Why.**  The proofs start from the rounded-server start with the heuristics off, which pays when
    the start is close (:func:`solve_model`, step 3); when it is not, the tree never finds the better
    plan.  Measured on ``explain``'s re-solves of the demo (0.5 % gap, 2,000 nodes, one thread, the
    twins' union search): useful life ×0.8 stopped at [2,057.5, 2,088.9] k$ and efficiency ×1.17 at
    [1,608.2, 1,626.5] k$ (10.5 s each); with the heuristics on they are proven at 2,063.0 and
    1,618.5 k$.  The heuristics stay off in the first run: on for every re-solve, the fifteen took
    74.7 s against 56.2 s.

    Both bounds hold for the same model and cutoff (:func:`~planner.optimize.solver.cutoff_search_bound`
    reads either), so their maximum does; the plan is optimal when it is within ``gap_rel`` of it."""
    if (deadline.node_limit is None or outcome.status != SolveStatus.FEASIBLE or outcome.values is None
            or outcome.objective is None or outcome.bound is None or deadline.expired
            or solvers.gap_left(outcome.objective, outcome.bound) <= gap_rel):
        return outcome
    again = run_highs(model, deadline.left(), gap_rel, threads=threads, start=outcome.values, cutoff=cutoff,
                      heuristics=True, node_limit=deadline.node_limit)
    if again.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) or again.objective is None \
            or again.values is None:
        return dataclasses.replace(outcome, seconds=outcome.seconds + again.seconds)
    kept = again if again.objective < outcome.objective else outcome
    assert kept.objective is not None
    bound = max(outcome.bound, again.bound if again.bound is not None else outcome.bound)
    left = solvers.gap_left(kept.objective, bound)
    proven = left <= gap_rel
    message = (f"proven within the gap after a second search with heuristics on ({left:.2%})" if proven
               else kept.message)
    return DirectOutcome(SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE, outcome.seconds + again.seconds,
                         kept.objective, bound, left, kept.values, message)


def _no_worse_than(outcome: DirectOutcome, start: DirectOutcome | None) -> DirectOutcome:
    """A search stopped at a limit never hands back less than the start it had: HiGHS keeps plans it
    finds above ``objective_bound`` as its incumbent (one 130× the optimum on the demo at a 1.5 s
    limit) and may stop before taking the start in, so a plan dearer than the start, or none, is
    replaced by the start, labelled ``feasible`` with the search's bound."""
    if (start is None or start.values is None or start.objective is None
            or outcome.status not in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
            or (outcome.objective is not None and outcome.objective <= start.objective)):
        return outcome
    bound = outcome.bound if outcome.bound is not None and outcome.bound <= start.objective else None
    gap = max(0.0, 1.0 - bound / start.objective) if bound is not None and start.objective > 0 else None
    return DirectOutcome(SolveStatus.FEASIBLE, outcome.seconds, start.objective, bound, gap, start.values,
                         "stopped at the solver's limit (time or solver.node_limit): the start it began from, "
                         "not proven optimal")


def _timed(outcome: DirectOutcome, begin: float, decided_by_relaxation: bool = False) -> DirectOutcome:
    return DirectOutcome(outcome.status, time.perf_counter() - begin, outcome.objective, outcome.bound, outcome.gap,
                         outcome.values, outcome.message, decided_by_relaxation)
