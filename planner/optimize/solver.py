"""Solver adapters: HiGHS (default, in-process via highspy) and CBC (PuLP's bundled binary).

Every solve has a time limit and an explicit relative gap; the outcome is mapped to a typed
:class:`SolveStatus` from *both* PuLP fields — ``status`` and ``sol_status`` — because PuLP reports
``Optimal`` for a time-limited incumbent (``sol_status == 2``): that is ``feasible``, never
``optimal``.  HiGHS prints a banner on stdout when it starts; it is silenced at the file-descriptor
level so that JSON output stays clean.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

import pulp


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"  # proven optimal within the gap
    FEASIBLE = "feasible"  # a solution, not proven optimal (time limit)
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped (time limit) before any solution was found
    ERROR = "error"  # solver missing, crashed, or returned something we cannot trust
    CUTOFF = "cutoff"  # proven: no solution cheaper than the incumbent cutoff it was given (screening only)


@dataclass
class Deadline:
    """The solve time one plan may spend, shared by all of its solves (screening, the model, the
    diagnosis): each solve gets what is left, at least ``FALLBACK_MIN_SHARE`` of the whole."""

    total_s: float
    start: float = field(default_factory=time.perf_counter)
    node_limit: int | None = None  # HiGHS mip_max_nodes of every MILP of the plan (a deterministic limit)

    def left(self) -> float:
        return max(self.total_s - (time.perf_counter() - self.start), self.total_s * FALLBACK_MIN_SHARE)

    @property
    def expired(self) -> bool:
        return time.perf_counter() - self.start >= self.total_s

    def remaining(self) -> float:
        """Seconds until the limit, 0 once it has passed (without :meth:`left`'s floor)."""
        return max(0.0, self.total_s - (time.perf_counter() - self.start))

    def portion(self, fraction: float, nodes: int | None = None) -> Deadline:
        """A deadline for part of the work: it ends once ``fraction`` of the time now left has passed
        or at ``nodes`` (when given; never more than this deadline's node limit); never later than
        this one."""
        limit = nodes if self.node_limit is None else self.node_limit if nodes is None else min(nodes, self.node_limit)
        return Deadline(self.remaining() * min(max(fraction, 0.0), 1.0), node_limit=limit)


@dataclass(frozen=True)
class SolveOutcome:
    status: SolveStatus
    solver: str
    seconds: float
    gap: float | None
    message: str
    bound: float | None = None  # proven lower bound on the objective (HiGHS MIP), None when unknown


SOLVER_FIX = {
    "highs": "install highspy (pip install highspy), a dependency of whatif-planner",
    "cbc": "PuLP's bundled CBC binary is missing on this platform; use --solver highs",
}


@dataclass
class _Silence:
    """The one redirection of file descriptor 1 shared by every solve running at the moment."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    depth: int = 0  # solves inside quiet_stdout now
    saved: int | None = None  # the descriptor fd 1 pointed at before the first of them


_SILENCE = _Silence()


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence writes to file descriptor 1 (C libraries' banners) for the duration.

    Re-entrant and thread-safe: the descriptor is process-wide, so concurrent solves (the screening's
    proof wave runs two in threads) share one redirection — the first to enter points fd 1 at
    ``/dev/null``, the last to leave restores it.  Two independent save/restore pairs interleaved
    across threads would leave fd 1 pointing at ``/dev/null`` for good (``whatif plan`` printing
    nothing)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. a captured stream without a descriptor
        yield
        return
    with _SILENCE.lock:
        if _SILENCE.depth == 0:
            sys.stdout.flush()
            _SILENCE.saved = os.dup(fd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        _SILENCE.depth += 1
    try:
        yield
    finally:
        with _SILENCE.lock:
            _SILENCE.depth -= 1
            if _SILENCE.depth == 0 and _SILENCE.saved is not None:
                sys.stdout.flush()
                os.dup2(_SILENCE.saved, fd)
                os.close(_SILENCE.saved)
                _SILENCE.saved = None


T = TypeVar("T")

#: Proofs run side by side (:func:`side_by_side`): the screening's first two variants
#: (:func:`planner.optimize.proof_waves.first_proofs`, :func:`planner.optimize.sliced_path._first_proofs`)
#: and the pairs of ``max_variants = 2`` two by two.  HiGHS's branch and bound runs on one thread and
#: releases the GIL, so two proofs share the two cores of the machine this is sized for: the demo's two
#: tied proofs (FP8 and INT8) take 1.3 s wall together against 2.1 s one after the other, same
#: answers.  A constant, not the machine's core count: the cutoffs the proofs get depend on it, and
#: the answer must not depend on the machine.
PROOF_WAVE = 2


def proofs_at_once(threads: int | None) -> bool:
    """Whether proofs may run side by side: not when the scenario asks for one solver thread
    (``solver.threads = 1``, as sweep and ``explain`` workers do — their parallelism is across
    processes already, and a second proof below a start-based cutoff can cost more CPU than the
    sequential order's search below a proven plan: +29 % CPU over 8 sweep points, the same wall)."""
    return threads is None or threads >= PROOF_WAVE


def side_by_side(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``jobs`` at once in threads (HiGHS releases the GIL while it solves); results in order.
    The callers fix every input of a job before any starts, so the results do not depend on
    scheduling."""
    if len(jobs) <= 1:
        return [job() for job in jobs]
    with cf.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [future.result() for future in futures]


#: HiGHS's thread count where the scenario sets none (``solver.threads``).  HiGHS's own default (0)
#: sizes its scheduler from the machine's hardware threads (half of them, per its documentation), and
#: its branch and bound takes another path with another count: the demo's FP8/INT8 union model
#: (captured, re-run alone, 2026-12-06) took 1,308 nodes with 1 thread, 1,313 with 2, 1,884 with 4
#: and 2,279 with 8; its single-variant model 15, 13 and 13 nodes with 1, 2 and 3 threads, to
#: different bounds — each proven within the gap, but not always at the same plan (24 quarterly
#: periods: 1 and 2 threads printed different plans).  On this 2-core machine HiGHS's default ran
#: node for node as 2 on both models.  A constant, like :data:`PROOF_WAVE`, so a plan does not
#: depend on the machine; 2, the count of the machine this is sized for, so that every figure
#: measured here with HiGHS's default stands.
DEFAULT_HIGHS_THREADS = 2
#: What a search stopped by its wall-clock limit with a plan in hand says (HiGHS ``kTimeLimit``).
TIME_LIMIT_MESSAGE = ("stopped at the {limit:g} s time limit, a wall-clock limit (under another machine load "
                      "the search may stop elsewhere; solver.node_limit gives a reproducible stop): best plan "
                      "found, not proven optimal")
#: What a search stopped by ``solver.node_limit`` with a plan in hand says (HiGHS reports a solution limit).
NODE_LIMIT_MESSAGE = ("stopped at the node limit (solver.node_limit, the same stop under any machine load): "
                      "best plan found, not proven optimal")
#: :func:`relax_and_target` always leaves its final, direct solve this share of the time limit.
FALLBACK_MIN_SHARE = 0.01
#: An objective excess this small (absolute, in the objective's units) counts as closed, as HiGHS's
#: own ``mip_abs_gap`` (default 1e-6, HiGHS documentation, options) does for a gap of zero.
MIP_ABS_GAP = 1e-6
#: A relaxed value this close to an integer counts as whole (HiGHS's default mip_feasibility_tolerance).
INTEGRALITY_TOLERANCE = 1e-6


def gap_left(best: float, floor: float) -> float:
    """The relative gap ``1 − floor/best`` between a plan's cost and the lowest lower bound left over every
    model a screening searched (singles, pairs, time-sliced variants); 0 for a zero-cost plan.  At or
    below the requested gap the plan is optimal by HiGHS's own criterion, even when some search
    stopped at its limit (:func:`within_gap_message`)."""
    return max(0.0, 1.0 - floor / best) if best else 0.0


def limit_reached(deadline: Deadline) -> str:
    """Which limit left a plan unproven, for its message: the node limit is a work limit (the same
    stop under any machine load), the time limit a wall-clock one (another load may stop elsewhere).
    A plan whose time ran out names the time limit even when a node limit was set too."""
    if deadline.node_limit is not None and not deadline.expired:
        return (f"node limit reached (solver.node_limit = {deadline.node_limit:,} nodes per MILP, the same stop "
                "under any machine load)")
    return (f"time limit reached ({deadline.total_s:g} s wall-clock: under another machine load the search may "
            "stop elsewhere; solver.node_limit gives a reproducible stop)")


def no_solution_message(deadline: Deadline) -> str:
    """Why a plan has no solution although none was proven impossible, and what to change: the
    plan's own limit, not the share of it the last solve had left."""
    return (f"no plan found before the solver stopped: {limit_reached(deadline)}; raise solver.time_limit_s "
            "(or solver.node_limit), or make the model smaller (fewer variants, hardware types or periods)")


def within_gap_message(gap: float) -> str:
    return (f"optimal within the gap: every lower bound left is within {gap:.3%} of this plan "
            "(searches stopped at a limit included)")


#: A plan replaces the incumbent only when cheaper by more than this share of its cost
#: (:func:`improves`).  Sums of the same plan's terms differ by about 1e-15 of the cost (measured,
#: 2026-12-07: the time-sliced pair screening, searching below the one-variant plan itself, found a
#: two-variant plan 1.8e-15 below it and took it: one more variant for nothing), and HiGHS's own
#: feasibility tolerance is 1e-7.
TIE_REL = 1e-9


def incumbent_cutoff(best: float) -> float | None:
    r"""The cutoff a later search gets below an incumbent plan costing ``best`` (None when there is
    none yet): ``best`` itself, not ``best·(1 − g)``.

    HiGHS 1.16 prunes a node whose bound is within the gap ``g`` of ``objective_bound`` even with no
    incumbent of its own (measured: 2 of 80 random small covers searched below ``z*·(1 + g/2)`` came
    back with a plan above the cutoff though one below existed), so "nothing below ``c``" proves only
    ``z* ≥ c·(1 − g)``.  Below ``best`` that is the gap the winner is labelled with; below
    ``best·(1 − g)``, as searches were cut off before 2026-12-07, it proved ``best·(1 − g)²`` — the
    winner optimal within about ``2g``, labelled ``g``.  Whether a search is worth starting at all is
    decided by a lower bound against ``best·(1 − g)``: a bound there proves the model out within the
    gap.  A plan the search finds at the incumbent's cost (a tie, to floating point) does not replace
    it (:func:`improves`)."""
    return best if math.isfinite(best) else None


def search_limits(best: float, gap_rel: float) -> tuple[float | None, float | None]:
    """``(cutoff, enough)`` below an incumbent costing ``best``: the search's cutoff
    (:func:`incumbent_cutoff`) and the lower bound at which a model is proven out without a search,
    ``best·(1 − gap)``; ``(None, None)`` when there is no incumbent yet."""
    return (incumbent_cutoff(best), best * (1.0 - gap_rel)) if math.isfinite(best) else (None, None)


def improves(cost: float, best: float) -> bool:
    """Whether a plan costing ``cost`` replaces an incumbent costing ``best`` (any units): cheaper by
    more than :data:`TIE_REL` of it."""
    return cost < best * (1.0 - TIE_REL) if math.isfinite(best) else cost < best


def cutoff_search_bound(bound: float | None, cutoff: float | None, gap_rel: float) -> float | None:
    r"""A proven lower bound on a model's optimum ``z*`` from a search stopped at a limit.

    Given ``objective_bound = c``, HiGHS prunes nodes whose bound reaches the cutoff (within the gap
    ``g``), so its dual bound ``b`` covers only plans below ``c·(1 − g)``: if ``z* < c·(1 − g)`` the
    optimum's node is still open and ``b ≤ z*``; otherwise ``c·(1 − g) ≤ z*``.  Either way
    ``min(b, c·(1 − g)) ≤ z*``.  Without a cutoff ``b`` itself; None when HiGHS gave no bound."""
    if bound is None or cutoff is None:
        return bound
    return min(bound, cutoff * (1.0 - gap_rel))


@dataclass
class _Scheduler:
    """HiGHS's thread scheduler, which is process-global: the count it was started with and the
    HiGHS runs using it now."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: int | None = None  # None: no HiGHS run in this process yet
    active: int = 0


_SCHEDULER = _Scheduler()


@contextlib.contextmanager
def highs_threads(threads: int | None) -> Iterator[dict[str, int]]:
    """HiGHS's ``threads`` option for one run, held for the run's duration (wrap the solve in it).

    HiGHS's scheduler is process-global: a run asking for another count than the one it was started
    with logs an error and returns "Not Solved" (solver-and-sweeps §1.4).  So when the count changes
    the scheduler is restarted first (``Highs.resetGlobalScheduler``), which is safe only while no
    other HiGHS run is active in the process: a change while one is (another thread solving with
    another count) is refused with ``RuntimeError``.  ``threads = None`` is always
    :data:`DEFAULT_HIGHS_THREADS`, whatever the process ran before, so a scenario without
    ``solver.threads`` solves the same way in a fresh process and after any other plan (before the
    ninth session, 2026-12-06, it kept the count in use: ``plan()`` after a ``threads = 1`` plan ran on one thread,
    and ``plan(threads=2)`` after it was refused)."""
    wanted = DEFAULT_HIGHS_THREADS if threads is None else threads
    with _SCHEDULER.lock:
        if _SCHEDULER.threads is not None and _SCHEDULER.threads != wanted:
            if _SCHEDULER.active:
                raise RuntimeError(f"HiGHS runs with threads={_SCHEDULER.threads} in another thread of this "
                                   f"process; threads={wanted} must wait for it to finish or use another process")
            import highspy

            highspy.Highs.resetGlobalScheduler(True)
        _SCHEDULER.threads = wanted
        _SCHEDULER.active += 1
    try:
        yield {"threads": wanted}
    finally:
        with _SCHEDULER.lock:
            _SCHEDULER.active -= 1


class _HiGHS(pulp.HiGHS):  # type: ignore[misc,name-defined]
    """PuLP's HiGHS interface, reading a search stopped by ``mip_max_nodes`` too.

    HiGHS reports that stop as ``kSolutionLimit``, which PuLP 3.3's status table lacks: the lookup
    raised ``KeyError`` after the solution had been read, so every PuLP-built search stopped by
    ``solver.node_limit`` (the time-sliced path, ``explain``'s re-solves of it) came back as a
    solver error, its plan lost.  Read as PuLP reads a time limit: a plan in hand is integer
    feasible, none is not solved."""

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        try:
            return super().findSolutionValues(lp)  # type: ignore[no-any-return]
        except KeyError:
            import highspy

            model = lp.solverModel
            if model.getModelStatus() != highspy.HighsModelStatus.kSolutionLimit:
                raise
            if model.getInfo().primal_solution_status == PRIMAL_FEASIBLE:
                return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


#: HiGHS's ``primal_solution_status`` of a feasible solution (``kSolutionStatusFeasible``).
PRIMAL_FEASIBLE = 2


def make_solver(name: str, time_limit_s: float, gap_rel: float, mip: bool = True,
                threads: int | None = None, options: dict[str, float] | None = None) -> pulp.LpSolver:
    """A PuLP solver with the planner's settings; ``options`` are extra HiGHS options (ignored by CBC).
    Solve with it inside :func:`highs_threads` (``threads``), as :func:`run` does."""
    if name == "highs":
        extra: dict[str, float] = {"threads": DEFAULT_HIGHS_THREADS if threads is None else threads}
        extra.update(options or {})
        return _HiGHS(mip=mip, msg=False, timeLimit=time_limit_s, gapRel=gap_rel, log_to_console=False,
                      output_flag=False, random_seed=0, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PULP_CBC_CMD leaves PuLP 4; it is the cross-check
        return pulp.PULP_CBC_CMD(mip=mip, msg=False, timeLimit=time_limit_s, gapRel=gap_rel, threads=1)


def lp_bound(prob: pulp.LpProblem, name: str, time_limit_s: float, threads: int | None = None) -> float | None:
    """Objective of the LP relaxation (a lower bound for a minimisation), or None when not solved."""
    outcome = run(prob, name, time_limit_s, 0.0, mip=False, threads=threads)
    if outcome.status != SolveStatus.OPTIMAL:
        return None
    value = pulp.value(prob.objective)
    return float(value) if value is not None else None


def run(prob: pulp.LpProblem, name: str, time_limit_s: float, gap_rel: float, mip: bool = True,
        threads: int | None = None, options: dict[str, float] | None = None) -> SolveOutcome:
    """Solve ``prob`` and map every outcome to a :class:`SolveStatus`; never raises."""
    start = time.perf_counter()
    try:
        with quiet_stdout(), warnings.catch_warnings(), \
                (highs_threads(threads) if name == "highs" else contextlib.nullcontext()):
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = make_solver(name, time_limit_s, gap_rel, mip, threads, options)
            if not solver.available():
                return SolveOutcome(SolveStatus.ERROR, name, 0.0, None,
                                    f"solver '{name}' is not available: {SOLVER_FIX[name]}")
            prob.solve(solver)
    except Exception as exc:  # noqa: BLE001  (a crashing solver becomes a typed error)
        return SolveOutcome(SolveStatus.ERROR, name, time.perf_counter() - start, None,
                            f"solver '{name}' failed: {type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    gap, bound = _gap(prob, name), (_dual_bound(prob, name) if mip else None)
    if prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal:
        return SolveOutcome(SolveStatus.OPTIMAL, name, seconds, gap, "optimal", bound)
    if prob.sol_status == pulp.LpSolutionIntegerFeasible:
        # PuLP does not say which limit stopped the search: a node limit was set and the time was not used up
        by_nodes = options is not None and "mip_max_nodes" in options and seconds < time_limit_s
        message = NODE_LIMIT_MESSAGE if by_nodes else TIME_LIMIT_MESSAGE.format(limit=time_limit_s)
        return SolveOutcome(SolveStatus.FEASIBLE, name, seconds, gap, message, bound)
    if prob.status == pulp.LpStatusInfeasible or prob.sol_status == pulp.LpSolutionInfeasible:
        return SolveOutcome(SolveStatus.INFEASIBLE, name, seconds, None, "no plan satisfies every constraint")
    if prob.status == pulp.LpStatusNotSolved:
        return SolveOutcome(SolveStatus.NO_SOLUTION, name, seconds, None,
                            f"stopped after {seconds:.1f} s (limit {time_limit_s:g} s) without a solution")
    return SolveOutcome(SolveStatus.ERROR, name, seconds, None,
                        f"unexpected solver outcome: status {pulp.LpStatus.get(prob.status)}, "
                        f"solution {pulp.LpSolution.get(prob.sol_status)}")


def _highs_info(prob: pulp.LpProblem, name: str, field: str) -> float | None:
    """A finite figure from HiGHS's info after a solve (``mip_gap``, ``mip_dual_bound``), else None."""
    model = getattr(prob, "solverModel", None)
    if name != "highs" or model is None:
        return None
    try:
        value = float(getattr(model.getInfo(), field))
    except Exception:  # noqa: BLE001
        return None
    return value if math.isfinite(value) else None


def _dual_bound(prob: pulp.LpProblem, name: str) -> float | None:
    """HiGHS's proven lower bound on the objective (plus the objective's constant, which PuLP keeps)."""
    bound = _highs_info(prob, name, "mip_dual_bound")
    if bound is None:
        return None
    return bound + float(prob.objective.constant if prob.objective is not None else 0.0)


def _gap(prob: pulp.LpProblem, name: str) -> float | None:
    return _highs_info(prob, name, "mip_gap")


def relax_and_target(prob: pulp.LpProblem, relax: list[pulp.LpVariable], name: str, time_limit_s: float,
                     gap_rel: float, threads: int | None = None) -> SolveOutcome:
    r"""Solve ``prob`` with a bound taken from a relaxation, so that the search stops when it meets it.

    1. **Relax**: solve with the ``relax`` variables continuous.  Its proven bound ``L`` (HiGHS's
       MIP dual bound) is a lower bound on the original optimum ``z*``: the relaxation's feasible
       set contains the original one.
    2. **Solve** the original problem with HiGHS's ``objective_target`` at
       ``L + max(gap_rel·|L|, MIP_ABS_GAP)``: a solution at or below it is optimal within the gap
       (``L ≤ z* ≤ z``), so the search ends there instead of proving what step 1 already proved.
       Without a target hit it ends as any solve does (proven optimal, time limit, infeasible).

    Used for split granularity (``relax`` = the slice counts): the continuous split is the model
    the planner solves by default and its bound is usually the k-split optimum itself (every
    Mélange SYN case), while the direct MILP spends most of its time proving the last fraction of
    a percent.  Needs a proven bound, so CBC (which PuLP gives none for) and a problem without
    ``relax`` variables are solved directly.
    """
    start = time.perf_counter()
    if name != "highs" or not relax:
        return run(prob, name, time_limit_s, gap_rel, threads=threads)
    categories = [v.cat for v in relax]
    for v in relax:
        v.cat = pulp.LpContinuous
    try:
        relaxed = run(prob, name, time_limit_s, gap_rel, threads=threads)
    finally:
        for v, cat in zip(relax, categories):
            v.cat = cat
    if relaxed.status == SolveStatus.INFEASIBLE:  # no relaxed plan, so no plan at all
        return dataclasses.replace(relaxed, seconds=time.perf_counter() - start)
    remaining = Deadline(time_limit_s, start).left

    if relaxed.status != SolveStatus.OPTIMAL or relaxed.bound is None:
        outcome = run(prob, name, remaining(), gap_rel, threads=threads)
        return dataclasses.replace(outcome, seconds=time.perf_counter() - start)
    bound = relaxed.bound
    values = [v.value() for v in relax]
    if all(value is not None and abs(value - round(value)) <= INTEGRALITY_TOLERANCE for value in values):
        for v, value in zip(relax, values):
            v.varValue = round(value)  # whole already: the relaxation's optimum is the original's
        return dataclasses.replace(relaxed, seconds=time.perf_counter() - start)
    target = bound + max(gap_rel * abs(bound), MIP_ABS_GAP)
    outcome = run(prob, name, remaining(), gap_rel, threads=threads,
                  options={"objective_target": target - float(prob.objective.constant or 0.0)})
    seconds = time.perf_counter() - start
    objective = pulp.value(prob.objective)
    if outcome.status == SolveStatus.FEASIBLE and objective is not None and objective <= target:
        gap = max(0.0, objective - bound) / abs(objective) if objective else 0.0
        return SolveOutcome(SolveStatus.OPTIMAL, name, seconds, gap,
                            "optimal (met the continuous split's bound)", bound)
    return dataclasses.replace(outcome, seconds=seconds,
                               bound=max(bound, outcome.bound) if outcome.bound is not None else bound)
