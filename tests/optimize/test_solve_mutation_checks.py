"""Solve control checks a mutation review of the solve modules found unpinned: HiGHS's statuses read as
:class:`SolveStatus` (:func:`planner.optimize.direct_solve._outcome`), the start trap's check
(reported objective against ``c·x + offset``) and the repeats it triggers (:func:`run_highs`), the
start a stopped search never falls below (:func:`_no_worse_than`), the bound :func:`solve_model`
reports, the rounded-server counts, the memo's proven facts and the union's bound.

The rule behind most of them: a status is never ``optimal`` unless proven, and a bound is never above
the true optimum.  HiGHS is never run: its runs are scripted (monkeypatched) or read from a stand-in
``Highs`` object, so the whole file runs in well under a second.  Every expected figure is worked out
by hand in the test's docstring."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import Any

import highspy
import numpy as np
import pytest
from numpy.typing import NDArray

from planner.optimize import direct_solve
from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel
from planner.optimize.direct_solve import DirectOutcome, Prepared
from planner.optimize.solve_memo import SolveMemo
from planner.optimize.solver import Deadline, SolveStatus
from tests.optimize.test_proof_search import _scripted as scripted_model_search

S = highspy.HighsModelStatus

# --------------------------------------------------------------------------------------------------
# helpers


def outcome(status: SolveStatus, objective: float | None = None, bound: float | None = None,
            values: list[float] | None = None, relaxation: bool = False) -> DirectOutcome:
    """A DirectOutcome with only the figures a test reads (k$)."""
    return DirectOutcome(status, 0.0, objective, bound, None, None if values is None else np.array(values, dtype=float),
                         str(status), decided_by_relaxation=relaxation)


def model(cost: list[float], offset: float = 0.0, upper: list[float] | None = None,
          integer: bool = False, n: list[list[int]] | None = None) -> DirectModel:
    """``len(cost)`` columns in [0, upper] (10 by default) and no rows; ``n``: the offers' columns per period."""
    k = len(cost)
    empty = np.zeros((0, 0), dtype=np.int64)
    offers = np.array(n, dtype=np.int64) if n is not None else empty
    return DirectModel(cost=np.array(cost, dtype=float), offset=offset, col_lower=np.zeros(k),
                       col_upper=np.array(upper if upper is not None else [10.0] * k, dtype=float),
                       integrality=np.full(k, 1 if integer else 0, dtype=np.int32), row_lower=np.zeros(0),
                       row_upper=np.zeros(0), starts=np.zeros(0, dtype=np.int32), index=np.zeros(0, dtype=np.int32),
                       value=np.zeros(0), columns=[], offers=list(range(offers.shape[0])), r=empty, n=offers,
                       spares={}, x={}, variants=[0], hardware_of_offer=[0] * offers.shape[0])


class FakeHighs:
    """What :func:`direct_solve._outcome` reads of a ``highspy.Highs`` after a run."""

    def __init__(self, status: Any, objective: float | None = None, bound: float = math.inf,
                 gap: float = math.inf, values: list[float] | None = None) -> None:
        self.status, self.values = status, values
        self.info = SimpleNamespace(primal_solution_status=2 if values is not None else 0,
                                    objective_function_value=objective if objective is not None else 0.0,
                                    mip_dual_bound=bound, mip_gap=gap)

    def getModelStatus(self) -> Any:
        return self.status

    def getInfo(self) -> Any:
        return self.info

    def getSolution(self) -> Any:
        return SimpleNamespace(col_value=self.values)

    def modelStatusToString(self, status: Any) -> str:
        return str(status)


def read(status: Any, objective: float | None = None, bound: float = math.inf, cutoff: float | None = None,
         mip: bool = True, values: list[float] | None = None) -> DirectOutcome:
    """HiGHS's ``status`` after a run of a one-column model, read by ``_outcome`` (5 s limit)."""
    if values is None and objective is not None:
        values = [1.0]
    return direct_solve._outcome(FakeHighs(status, objective, bound, 0.01 if mip else math.inf, values),
                                 model([objective or 0.0], integer=mip), mip, cutoff, 5.0, 0.1)


# --------------------------------------------------------------------------------------------------
# _outcome: HiGHS's model status as a SolveStatus


def test_a_leftover_plan_at_or_above_the_cutoff_is_a_cutoff_never_an_optimum() -> None:
    """Module docstring: a cutoff search that finds nothing below the bound may end ``Optimal`` with a
    leftover plan above it.  Cutoff 100 k$: a plan at 105 and a plan at exactly 100 are both "no plan
    cheaper than the cutoff", not optimal; a plan at 99 is optimal."""
    assert read(S.kOptimal, 105.0, 90.0, cutoff=100.0).status == SolveStatus.CUTOFF
    assert read(S.kOptimal, 100.0, 90.0, cutoff=100.0).status == SolveStatus.CUTOFF
    assert read(S.kOptimal, 99.0, 98.0, cutoff=100.0).status == SolveStatus.OPTIMAL


def test_an_infeasible_cutoff_search_is_a_cutoff_and_without_cutoff_infeasible() -> None:
    """``Infeasible`` below an ``objective_bound`` only says no plan is cheaper than it (the model may
    have dearer plans): CUTOFF.  Without a cutoff it is the model's own infeasibility."""
    assert read(S.kInfeasible, cutoff=100.0).status == SolveStatus.CUTOFF
    assert read(S.kInfeasible).status == SolveStatus.INFEASIBLE
    assert read(S.kObjectiveBound, cutoff=100.0).status == SolveStatus.CUTOFF


def test_a_run_stopped_at_the_objective_target_is_feasible_not_optimal() -> None:
    """``objective_target`` stops the search at a plan, which is not a proof: feasible, with its bound."""
    out = read(S.kObjectiveTarget, 101.0, 95.0)
    assert out.status == SolveStatus.FEASIBLE and out.objective == 101.0 and out.bound == 95.0


def test_each_stop_names_its_own_limit() -> None:
    """``kSolutionLimit`` is HiGHS's node-limit stop (``mip_max_nodes``); ``kTimeLimit`` the wall clock (5 s)."""
    assert read(S.kSolutionLimit, 101.0, 95.0).message == solvers.NODE_LIMIT_MESSAGE
    assert read(S.kTimeLimit, 101.0, 95.0).message == solvers.TIME_LIMIT_MESSAGE.format(limit=5.0)
    stopped = read(S.kTimeLimit, bound=95.0)  # no plan: no solution, the bound kept
    assert stopped.status == SolveStatus.NO_SOLUTION and stopped.bound == 95.0


def test_an_lp_optimum_is_its_own_bound_with_a_zero_gap() -> None:
    """An LP has no MIP dual bound (HiGHS leaves it infinite): the optimum of an LP is itself the bound."""
    out = read(S.kOptimal, 42.0, mip=False)
    assert out.status == SolveStatus.OPTIMAL and out.bound == 42.0 and out.gap == 0.0


def test_an_lp_stopped_at_a_limit_claims_no_bound() -> None:
    """A simplex stopped at its time limit holds a point whose objective (45) may lie above the LP's
    optimum: it is no lower bound, so none is reported (it was reported as one, unread, until 2026-12-07)."""
    out = read(S.kTimeLimit, 45.0, mip=False)
    assert out.status == SolveStatus.FEASIBLE and out.objective == 45.0 and out.bound is None


# --------------------------------------------------------------------------------------------------
# the start trap: _agrees and run_highs's repeats


def test_the_start_check_recomputes_c_x_plus_offset_to_one_part_in_ten_million() -> None:
    """c = (2, 3), offset 5, x = (1, 1): c·x + offset = 2 + 3 + 5 = 10.  A reported 10 agrees; 10.00001
    differs by 1e-5 > 1e-7·10 = 1e-6 (the trap); 10 + 5e-7 is within it."""
    m = model([2.0, 3.0], offset=5.0)
    assert direct_solve._agrees(m, outcome(SolveStatus.OPTIMAL, 10.0, values=[1.0, 1.0]))
    assert not direct_solve._agrees(m, outcome(SolveStatus.OPTIMAL, 10.00001, values=[1.0, 1.0]))
    assert direct_solve._agrees(m, outcome(SolveStatus.OPTIMAL, 10.0 + 5e-7, values=[1.0, 1.0]))
    assert not direct_solve._agrees(m, outcome(SolveStatus.OPTIMAL, 5.0, values=[1.0, 1.0]))  # the offset left out


def scripted_runs(monkeypatch: pytest.MonkeyPatch, script: list[DirectOutcome]) -> list[dict[str, Any]]:
    """Replace ``direct_solve._run_once``: each call returns the next outcome; returns what each was given."""
    calls: list[dict[str, Any]] = []

    def run_once(model: DirectModel, time_limit_s: float, gap_rel: float, threads: int | None, mip: bool,
                 start: NDArray[np.float64] | None, cutoff: float | None, heuristics: bool,
                 col_upper: Any, node_limit: int | None = None, extra: Any = None) -> DirectOutcome:
        calls.append({"start": start, "heuristics": heuristics, "extra": extra, "cutoff": cutoff})
        return script[len(calls) - 1]

    monkeypatch.setattr(direct_solve, "_run_once", run_once)
    return calls


def test_a_pre_check_optimum_that_misreads_its_start_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """c = (2, 3), offset 5, start x = (1, 1) costs 10.  The pre-check reports ``optimal`` at 9 with those
    columns (the trap: 9 ≠ 10), so it is not the answer: the search runs from the start without presolve
    and its agreeing optimum (10) is returned."""
    m = model([2.0, 3.0], offset=5.0)
    calls = scripted_runs(monkeypatch, [outcome(SolveStatus.OPTIMAL, 9.0, 9.0, [1.0, 1.0]),
                                        outcome(SolveStatus.OPTIMAL, 10.0, 10.0, [1.0, 1.0])])
    out = direct_solve.run_highs(m, 5.0, 0.0, start=np.array([1.0, 1.0]))
    assert out.objective == 10.0 and len(calls) == 2
    assert calls[0]["extra"] == direct_solve.PRE_CHECK_OPTIONS and calls[1]["extra"] == direct_solve.NO_PRESOLVE


def test_a_search_that_misreads_its_start_is_repeated_without_presolve_then_without_the_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-check agrees (stopped, 10 = 10), the search reports 9 for columns costing 10 (the trap):
    repeated without presolve, which reports 9.5 for them (still wrong), then without the start and with
    the heuristics on, whose 10 is returned — never the misread 9 labelled optimal."""
    m = model([2.0, 3.0], offset=5.0)
    calls = scripted_runs(monkeypatch, [outcome(SolveStatus.FEASIBLE, 10.0, 8.0, [1.0, 1.0]),
                                        outcome(SolveStatus.OPTIMAL, 9.0, 9.0, [1.0, 1.0]),
                                        outcome(SolveStatus.OPTIMAL, 9.5, 9.5, [1.0, 1.0]),
                                        outcome(SolveStatus.OPTIMAL, 10.0, 10.0, [1.0, 1.0])])
    out = direct_solve.run_highs(m, 5.0, 0.0, start=np.array([1.0, 1.0]), heuristics=False)
    assert out.objective == 10.0 and len(calls) == 4
    assert [c["extra"] for c in calls[1:]] == [None, direct_solve.NO_PRESOLVE, None]
    assert calls[3]["start"] is None and calls[3]["heuristics"] is True


# --------------------------------------------------------------------------------------------------
# _no_worse_than: a stopped search never hands back less than its start


def test_a_stopped_search_dearer_than_its_start_hands_back_the_start() -> None:
    """Start 100 k$ at x = (1); the search stopped at 110 with bound 95: the start is kept, feasible,
    bound 95, gap 1 − 95/100 = 5 %."""
    start = outcome(SolveStatus.FEASIBLE, 100.0, values=[1.0])
    out = direct_solve._no_worse_than(outcome(SolveStatus.FEASIBLE, 110.0, 95.0, [2.0]), start)
    assert out.status == SolveStatus.FEASIBLE and out.objective == 100.0 and out.bound == 95.0
    assert out.gap == pytest.approx(0.05) and out.values is not None and out.values.tolist() == [1.0]


def test_a_stopped_search_tied_with_its_start_keeps_its_own_plan() -> None:
    """A search's plan at exactly the start's 100 is no worse: it is kept as it is (its own columns)."""
    start = outcome(SolveStatus.FEASIBLE, 100.0, values=[1.0])
    searched = outcome(SolveStatus.FEASIBLE, 100.0, 95.0, [2.0])
    assert direct_solve._no_worse_than(searched, start) is searched


def test_a_bound_above_the_start_it_falls_back_to_is_dropped() -> None:
    """A cutoff search's dual bound may pass the plan it hands back (it covers only plans below the
    cutoff): bound 105 over the start's 100 would be a bound above a known plan, so none is kept."""
    start = outcome(SolveStatus.FEASIBLE, 100.0, values=[1.0])
    out = direct_solve._no_worse_than(outcome(SolveStatus.FEASIBLE, 130.0, 105.0, [3.0]), start)
    assert out.objective == 100.0 and out.bound is None and out.gap is None


def test_a_search_stopped_without_a_plan_falls_back_to_its_start() -> None:
    """NO_SOLUTION (bound 90) from a start at 100: the start is a plan, feasible, gap 1 − 90/100 = 10 %."""
    start = outcome(SolveStatus.FEASIBLE, 100.0, values=[1.0])
    out = direct_solve._no_worse_than(outcome(SolveStatus.NO_SOLUTION, None, 90.0), start)
    assert out.status == SolveStatus.FEASIBLE and out.objective == 100.0 and out.gap == pytest.approx(0.10)


# --------------------------------------------------------------------------------------------------
# solve_model: the bound it reports


def prepared(relaxed: float, start: float) -> Prepared:
    return Prepared(outcome(SolveStatus.OPTIMAL, relaxed, relaxed, [0.5]), outcome(SolveStatus.FEASIBLE, start,
                                                                                   values=[1.0]), 0.0)


def test_a_stopped_cutoff_search_bounds_the_model_by_no_more_than_the_cutoff_less_the_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Relaxation 95, start 100, cutoff 120, gap 5 %: the search stops (feasible, 100) with HiGHS's bound
    119.  That bound covers only plans below 120·(1 − 0.05) = 114, so the model is bounded by
    max(min(119, 114), 95) = 114 — not 119, which could pass the optimum."""
    scripted_model_search(monkeypatch, [outcome(SolveStatus.FEASIBLE, 100.0, 119.0, [1.0])])
    out = direct_solve.solve_model(model([100.0]), Deadline(10.0), 0.05, cutoff=120.0,
                                   prepared=prepared(95.0, 100.0))
    assert out.status == SolveStatus.FEASIBLE and out.objective == 100.0
    assert out.bound == pytest.approx(114.0)


@pytest.mark.parametrize(("searched", "status"), [
    (outcome(SolveStatus.NO_SOLUTION, None, 119.0), SolveStatus.NO_SOLUTION),
    (outcome(SolveStatus.FEASIBLE, 125.0, 119.0, [1.0]), SolveStatus.FEASIBLE),  # a leftover plan above the cutoff
], ids=["no-plan", "leftover-plan"])
def test_a_later_variants_stopped_cutoff_search_proves_no_more_than_the_cutoff_less_the_gap(
        monkeypatch: pytest.MonkeyPatch, searched: DirectOutcome, status: SolveStatus) -> None:
    """A later variant (no start of its own below the incumbent's cutoff 120) is searched below the
    cutoff at a 5 % gap; stopped at a limit with HiGHS's bound 119, it proves max(min(119, 114), 95) = 114,
    as the first variant's path does (the early return of the cutoff path kept 119)."""
    scripted_model_search(monkeypatch, [searched])
    no_start = Prepared(outcome(SolveStatus.OPTIMAL, 95.0, 95.0, [0.5]), None, 0.0)
    out = direct_solve.solve_model(model([100.0]), Deadline(10.0), 0.05, cutoff=120.0, prepared=no_start)
    assert out.status == status and out.bound == pytest.approx(114.0)
    if status == SolveStatus.FEASIBLE:  # its gap measured from the bound kept: 1 − 114/125
        assert out.gap == pytest.approx(1.0 - 114.0 / 125.0)


def test_a_search_without_an_optimal_relaxation_proves_no_more_than_the_cutoff_less_the_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The relaxation stopped (no bound from it): the plain search below the cutoff 120 at 5 % stops with
    HiGHS's bound 119, which proves min(119, 114) = 114."""
    scripted_model_search(monkeypatch, [outcome(SolveStatus.NO_SOLUTION, None, None),
                                        outcome(SolveStatus.NO_SOLUTION, None, 119.0)])
    out = direct_solve.solve_model(model([100.0]), Deadline(10.0), 0.05, cutoff=120.0)
    assert out.status == SolveStatus.NO_SOLUTION and out.bound == pytest.approx(114.0)


def test_a_search_bound_below_the_relaxation_is_raised_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relaxation 95 (a proven bound), the proof optimal at 100 with HiGHS's bound 90: max(90, 95) = 95."""
    scripted_model_search(monkeypatch, [outcome(SolveStatus.OPTIMAL, 100.0, 90.0, [1.0])])
    out = direct_solve.solve_model(model([100.0]), Deadline(10.0), 0.1, prepared=prepared(95.0, 100.0))
    assert out.status == SolveStatus.OPTIMAL and out.bound == 95.0


def test_a_stopped_search_without_a_bound_is_bounded_by_its_relaxation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped with a plan at 100 and no dual bound: the relaxation's 95 is the bound reported."""
    scripted_model_search(monkeypatch, [outcome(SolveStatus.FEASIBLE, 100.0, None, [1.0])])
    out = direct_solve.solve_model(model([100.0]), Deadline(10.0), 0.01, prepared=prepared(95.0, 100.0))
    assert out.status == SolveStatus.FEASIBLE and out.bound == 95.0


def test_a_cutoff_answer_contradicting_the_start_is_searched_again_without_cutoff(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Start 100 below the cutoff 120: a CUTOFF answer ("nothing below 120") contradicts it, so the model
    is searched again without a cutoff, and that search's optimum (100) is the answer."""
    calls = scripted_model_search(monkeypatch, [outcome(SolveStatus.CUTOFF, None, 121.0),
                                                outcome(SolveStatus.OPTIMAL, 100.0, 100.0, [1.0])])
    out = direct_solve.solve_model(model([100.0]), Deadline(10.0), 0.01, cutoff=120.0,
                                   prepared=prepared(95.0, 100.0))
    assert out.status == SolveStatus.OPTIMAL and out.objective == 100.0
    assert [c["cutoff"] for c in calls] == [120.0, None]


def test_the_first_proof_search_takes_a_quarter_of_the_node_limit_rounded_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Node limit 10: the first search (heuristics off) gets ⌈10 · 1/4⌉ = ⌈2.5⌉ = 3 nodes; it closes
    the gap, so no second search runs."""
    calls = scripted_model_search(monkeypatch, [outcome(SolveStatus.OPTIMAL, 100.0, 100.0, [1.0])])
    direct_solve.proof_search(model([100.0]), Deadline(10.0, node_limit=10), 0.01, None, np.array([1.0]))
    assert [c["node_limit"] for c in calls] == [3] and calls[0]["heuristics"] is False


# --------------------------------------------------------------------------------------------------
# rounded_server_counts


def test_rounded_server_counts_round_the_cumulative_count_within_each_periods_bound() -> None:
    """One whole-server offer over three periods (columns 0, 1, 2, not cumulative), relaxation
    n* = (0.6, 0.3, 0.7): C = (0.6, 0.9, 1.6), rounded (1, 1, 2), started (1, 0, 1)."""
    m = model([1.0, 1.0, 1.0], n=[[0, 1, 2]])
    counts = direct_solve.rounded_server_counts(m, np.array([0.6, 0.3, 0.7]), [0])
    assert counts[0].tolist() == [1.0, 0.0, 1.0]


def test_a_rounded_count_never_starts_more_than_its_period_allows() -> None:
    """n* = (0.45, 1.1) with at most 1 unit started in period 2: C = (0.45, 1.55), rounded (0, 2), so
    period 2 would start 2 − 0 = 2 > 1: capped at min(2, 1) = 1."""
    m = model([1.0, 1.0], upper=[5.0, 1.0], n=[[0, 1]])
    counts = direct_solve.rounded_server_counts(m, np.array([0.45, 1.1]), [0])
    assert counts[0].tolist() == [0.0, 1.0]


# --------------------------------------------------------------------------------------------------
# solve_memo: what a record proves


def test_a_relaxation_decided_cutoff_proves_its_relaxation_but_a_search_only_the_cutoff_less_the_gap() -> None:
    """Cutoff 100, gap 10 %.  A relaxation at 120 (decided by it) proves z* ≥ max(100·0.9, 120) = 120;
    a search's CUTOFF whose HiGHS bound reads 120 proves only 100·0.9 = 90 (its bound need not hold
    above the cutoff: solver.cutoff_search_bound).  So a later cutoff of 110 is decided for the first
    model and not for the second, nor is a cutoff of 95 (90 < 95); one of 90 is."""
    relaxed, searched = model([1.0]), model([2.0])
    memo = SolveMemo()
    memo.record(relaxed, 0.1, 100.0, outcome(SolveStatus.CUTOFF, None, 120.0, relaxation=True))
    memo.record(searched, 0.1, 100.0, outcome(SolveStatus.CUTOFF, None, 120.0))
    decided = memo.lookup(relaxed, 0.1, 110.0)
    assert decided is not None and decided.status == SolveStatus.CUTOFF and decided.bound == 120.0
    assert memo.lookup(searched, 0.1, 110.0) is None
    assert memo.lookup(searched, 0.1, 95.0) is None  # 90 < 95: not proven (the cutoff itself, 100, is not)
    assert memo.lookup(searched, 0.1, 90.0) is not None


def test_a_proven_infeasible_model_answers_infeasible_to_any_cutoff() -> None:
    memo = SolveMemo()
    m = model([1.0])
    memo.record(m, 0.01, None, outcome(SolveStatus.INFEASIBLE))
    out = memo.lookup(m, 0.01, 1e9)
    assert out is not None and out.status == SolveStatus.INFEASIBLE


def test_the_fingerprint_tells_models_apart_by_their_row_upper_bounds() -> None:
    """Two models equal but for one row's upper bound (2 against 3) are different problems."""
    a = model([1.0])
    a = DirectModel(**{**a.__dict__, "row_lower": np.array([0.0]), "row_upper": np.array([2.0]),
                       "starts": np.array([0], dtype=np.int32), "index": np.array([0], dtype=np.int32),
                       "value": np.array([1.0])})
    b = DirectModel(**{**a.__dict__, "row_upper": np.array([3.0])})
    memo = SolveMemo()
    memo.record(a, 0.01, None, outcome(SolveStatus.OPTIMAL, 5.0, 5.0, [5.0]))
    assert memo.solution(a, 0.01) is not None and memo.solution(b, 0.01) is None


# --------------------------------------------------------------------------------------------------
# relax_and_target: only a whole relaxation is the answer


def test_a_relaxation_a_thousandth_off_whole_is_not_taken_as_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """min 2x + 3y + 5, x integer: a relaxation at x = 2.001 is not whole (|2.001 − 2| = 1e-3 > 1e-6, HiGHS's
    integrality tolerance), so rounding it to 2 would hand back a plan that was never solved as the
    optimum: the MILP runs (a second run), and its own answer (feasible, x = 3) is returned."""
    import pulp

    prob = pulp.LpProblem("relax", pulp.LpMinimize)
    x = pulp.LpVariable("x", lowBound=0, upBound=10, cat=pulp.LpInteger)
    y = pulp.LpVariable("y", lowBound=0, upBound=10)
    prob += 2 * x + 3 * y + 5
    prob += x + y >= 2.001
    script = [(SolveStatus.OPTIMAL, 9.002, 2.001), (SolveStatus.FEASIBLE, 10.0, 3.0)]
    calls: list[dict[str, Any]] = []

    def run(prob: pulp.LpProblem, name: str, time_limit_s: float, gap_rel: float, mip: bool = True,
            threads: int | None = None, options: dict[str, float] | None = None) -> solvers.SolveOutcome:
        status, bound, value = script[len(calls)]
        calls.append({"options": options})
        x.varValue, y.varValue = value, 0.0
        return solvers.SolveOutcome(status, "highs", 0.0, None, str(status), bound)

    monkeypatch.setattr(solvers, "run", run)
    answer = solvers.relax_and_target(prob, [x], "highs", 30.0, 1e-4)
    assert len(calls) == 2 and answer.status == SolveStatus.FEASIBLE and x.varValue == 3.0


# --------------------------------------------------------------------------------------------------
# the starts: restricted support, rounded servers, their node limit; prepare and solve_model's cutoff


def capture_runs(monkeypatch: pytest.MonkeyPatch, answer: DirectOutcome) -> list[dict[str, Any]]:
    """Replace ``direct_solve.run_highs`` by one returning ``answer``; returns each call's model and options."""
    calls: list[dict[str, Any]] = []

    def run_highs(model: DirectModel, time_limit_s: float, gap_rel: float, **kwargs: Any) -> DirectOutcome:
        calls.append({"model": model, **kwargs})
        return answer

    monkeypatch.setattr(direct_solve, "run_highs", run_highs)
    return calls


def two_offers() -> DirectModel:
    """Two offers over two periods, offer 0 (columns 0, 1) on hardware 0, offer 1 (columns 2, 3) on hardware 1."""
    m = model([1.0, 1.0, 2.0, 2.0], n=[[0, 1], [2, 3]])
    return DirectModel(**{**m.__dict__, "hardware_of_offer": [0, 1]})


def test_the_restricted_start_closes_the_hardware_the_relaxation_leaves_unused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The relaxation starts 0.5 units of offer 0 and none of offer 1: the start's MILP keeps offer 0's
    bounds (10) and closes offer 1's columns (upper 0).  A relaxation using no hardware gives no start."""
    calls = capture_runs(monkeypatch, outcome(SolveStatus.OPTIMAL, 1.0, 1.0, [1.0, 0.0, 0.0, 0.0]))
    m = two_offers()
    assert direct_solve.restricted_start(m, np.array([0.5, 0.0, 0.0, 0.0]), 5.0, 0.01, None) is not None
    assert calls[0]["col_upper"].tolist() == [10.0, 10.0, 0.0, 0.0]
    assert direct_solve.restricted_start(m, np.zeros(4), 5.0, 0.01, None) is None and len(calls) == 1


def test_only_offers_of_whole_servers_are_fixed_by_the_rounded_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offer 0 sells single GPUs (1 per unit), offer 1 whole servers (8): only offer 1's columns are fixed,
    at the rounded relaxation n* = (0.6, 0.6) → C = (0.6, 1.2) → (1, 1) → started (1, 0); offer 0 keeps
    its bounds [0, 10].  With single GPUs only there is no rounded start (and no run)."""
    calls = capture_runs(monkeypatch, outcome(SolveStatus.OPTIMAL, 1.0, 1.0, [0.0, 0.0, 1.0, 0.0]))
    m = two_offers()
    relaxed = np.array([0.3, 0.3, 0.6, 0.6])
    assert direct_solve.rounded_server_start(m, relaxed, np.array([1.0, 8.0]), 5.0, 0.01, None) is not None
    fixed = calls[0]["model"]
    assert fixed.col_lower.tolist() == [0.0, 0.0, 1.0, 0.0] and fixed.col_upper.tolist() == [10.0, 10.0, 1.0, 0.0]
    assert direct_solve.rounded_server_start(m, relaxed, np.array([1.0, 1.0]), 5.0, 0.01, None) is None
    assert len(calls) == 1


@pytest.mark.parametrize(("plan_nodes", "start_nodes"), [(None, 200), (1_000, 200), (50, 50)])
def test_a_start_search_takes_at_most_start_nodes_and_never_more_than_the_plans_limit(
        monkeypatch: pytest.MonkeyPatch, plan_nodes: int | None, start_nodes: int) -> None:
    """START_NODES = 200: min(plan's node limit, 200), 200 without a plan limit."""
    calls = capture_runs(monkeypatch, outcome(SolveStatus.OPTIMAL, 1.0, 1.0, [1.0, 0.0, 0.0, 0.0]))
    direct_solve.primal_start(two_offers(), np.array([0.5, 0.0, 0.0, 0.0]), None, 5.0, 0.01, None, plan_nodes)
    assert calls[0]["node_limit"] == start_nodes


def test_a_relaxation_exactly_at_the_cutoff_proves_the_model_out_without_a_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Relaxation 100 = cutoff 100: no plan is below 100, so no start is sought (prepare) and the model is
    out at once (solve_model), decided by the relaxation with its objective as the bound."""
    calls = capture_runs(monkeypatch, outcome(SolveStatus.OPTIMAL, 100.0, 100.0, [0.5, 0.0, 0.0, 0.0]))
    ready = direct_solve.prepare(two_offers(), Deadline(10.0), 0.01, cutoff=100.0)
    assert ready.start is None and len(calls) == 1  # the relaxation only
    out = direct_solve.solve_model(two_offers(), Deadline(10.0), 0.01, cutoff=100.0)
    assert out.status == SolveStatus.CUTOFF and out.decided_by_relaxation and out.bound == 100.0
    assert len(calls) == 2  # the relaxation again, no search


# --------------------------------------------------------------------------------------------------
# continue_with_heuristics: the second search under a node limit


def test_a_search_stopped_exactly_at_the_gap_is_not_searched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan 100, bound 75, gap 25 %: 1 − 75/100 = 0.25 ≤ 0.25, inside the gap: no second search."""
    calls = capture_runs(monkeypatch, outcome(SolveStatus.OPTIMAL, 90.0, 90.0, [1.0]))
    first = outcome(SolveStatus.FEASIBLE, 100.0, 75.0, [2.0])
    assert direct_solve.continue_with_heuristics(model([1.0]), first, Deadline(10.0, node_limit=100), 0.25,
                                                 None) is first
    assert calls == []


def test_the_second_search_keeps_the_cheaper_plan_and_the_higher_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """First search: plan 104, bound 100.6.  Second (heuristics on): plan 101, bound 100.2.  Kept: plan 101
    and bound max(100.6, 100.2) = 100.6; gap 1 − 100.6/101 = 0.396 % — above 0.3 % (feasible), within
    0.5 % (optimal)."""
    first = outcome(SolveStatus.FEASIBLE, 104.0, 100.6, [4.0])
    again = outcome(SolveStatus.FEASIBLE, 101.0, 100.2, [1.0])
    deadline = Deadline(10.0, node_limit=100)
    capture_runs(monkeypatch, again)
    out = direct_solve.continue_with_heuristics(model([1.0]), first, deadline, 0.003, None)
    assert out.status == SolveStatus.FEASIBLE and out.objective == 101.0
    assert out.bound == pytest.approx(100.6) and out.gap == pytest.approx(1 - 100.6 / 101.0)
    out = direct_solve.continue_with_heuristics(model([1.0]), first, deadline, 0.005, None)
    assert out.status == SolveStatus.OPTIMAL and out.objective == 101.0


def test_a_second_search_that_proves_its_plan_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """First search: 104 with bound 95 (gap 8.7 % > 1 %); the second ends optimal at 101 with bound 100.5:
    kept, bound max(95, 100.5) = 100.5, gap 1 − 100.5/101 = 0.495 % ≤ 1 %: optimal."""
    capture_runs(monkeypatch, outcome(SolveStatus.OPTIMAL, 101.0, 100.5, [1.0]))
    first = outcome(SolveStatus.FEASIBLE, 104.0, 95.0, [4.0])
    out = direct_solve.continue_with_heuristics(model([1.0]), first, Deadline(10.0, node_limit=100), 0.01, None)
    assert out.status == SolveStatus.OPTIMAL and out.objective == 101.0 and out.bound == pytest.approx(100.5)


# --------------------------------------------------------------------------------------------------
# union.holds and lift


def one_row_model() -> DirectModel:
    """Columns x₀ (integer, in [0, 3]) and x₁ (continuous, in [0, 10]); one row 2 ≤ x₀ + x₁ ≤ 4."""
    m = model([1.0, 1.0], upper=[3.0, 10.0])
    return DirectModel(**{**m.__dict__, "integrality": np.array([1, 0], dtype=np.int32),
                          "row_lower": np.array([2.0]), "row_upper": np.array([4.0]),
                          "starts": np.array([0], dtype=np.int32), "index": np.array([0, 1], dtype=np.int32),
                          "value": np.array([1.0, 1.0])})


def test_a_plan_holds_only_with_every_row_bound_and_integer_within_tolerance() -> None:
    """(1, 1): row 2 ∈ [2, 4], x₀ whole: holds.  (1, 0.9999): row 1.9999 < 2 − 1e-6: no.  (0.5, 1.5): row 2
    but x₀ = 0.5 not whole: no.  (4, 0): row 4 but x₀ = 4 > its bound 3: no.  (1, 1 − 5e-7): within 1e-6: holds."""
    from planner.optimize import union

    m = one_row_model()
    assert union.holds(m, np.array([1.0, 1.0]))
    assert not union.holds(m, np.array([1.0, 0.9999]))
    assert not union.holds(m, np.array([0.5, 1.5]))
    assert not union.holds(m, np.array([4.0, 0.0]))
    assert union.holds(m, np.array([1.0, 1.0 - 5e-7]))


def test_a_member_plan_lifted_into_the_union_is_capped_at_the_unions_column_bound() -> None:
    """The member's column (class 0, hardware 0, TP 1) holds 5 replicas; the union's column of the same
    deployment allows at most 3: lifted to min(5, 3) = 3."""
    from planner.optimize import union

    data = SimpleNamespace(workload=[0, 0], hardware=[0, 0], tp=[1.0, 1.0])
    member = DirectModel(**{**model([1.0]).__dict__, "columns": [0], "r": np.array([[0]])})
    joined = DirectModel(**{**model([1.0], upper=[3.0]).__dict__, "columns": [1], "r": np.array([[0]])})
    assert union.lift(data, member, joined, np.array([5.0])).tolist() == [3.0]  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# proof_waves: what the memo already decided, and what counts as a plan


def wave_prepared(starts: dict[int, float]) -> dict[int, Prepared]:
    """Each variant relaxed 10 k$ below its start (k$)."""
    return {v: Prepared(outcome(SolveStatus.OPTIMAL, s - 10.0, s - 10.0), outcome(SolveStatus.FEASIBLE, s,
                                                                                 values=[1.0]), 0.0)
            for v, s in starts.items()}


def test_a_cutoff_answer_is_no_plan_even_with_a_leftover_objective() -> None:
    """HiGHS may end a cutoff search ``optimal`` with a leftover plan above the cutoff (read as CUTOFF, its
    objective kept): not a plan of the wave's answers, so the cheapest stays min(100) = 100, not 80."""
    from planner.optimize import proof_waves

    answers: dict[int, tuple[float | None, DirectOutcome]] = {0: (90.0, outcome(SolveStatus.CUTOFF, 80.0, 85.0))}
    assert proof_waves._cheapest(100.0, answers) == 100.0


def test_a_variant_the_memo_already_cut_off_is_left_out_of_the_first_wave(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 1 %; v0 (start 100) opens the wave without cutoff; v1's cutoff would be 100 (a bound of
    100·0.99 = 99 proves it out), and the memo proved v1's model has no plan below 120
    (relaxation-decided cutoff at 120): v1 is not searched, v2 (start 97) joins with cutoff 100."""
    from planner.optimize import proof_waves

    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    built = {v: model([float(v + 1)]) for v in range(3)}  # three different models (fingerprints)
    memo = SolveMemo()
    memo.record(built[1], 0.01, 120.0, outcome(SolveStatus.CUTOFF, None, 120.0, relaxation=True))
    order = [(0, 80_000.0), (1, 80_000.0), (2, 80_000.0)]
    wave, incumbent = proof_waves.first_wave(order, wave_prepared({0: 100.0, 1: 98.0, 2: 97.0}), built, 0.01,
                                             math.inf, memo, None)
    assert wave == [(0, None), (2, 100.0)] and incumbent == 97.0


def test_a_later_variant_the_memo_already_cut_off_is_not_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan at 100 k$ known (v0), gap 1 %: later variants v1, v2 (bounds 50 k$) below 99.  The memo proved
    v1 out (no plan below 120 ≥ 99): only v2 is searched, below 100."""
    from planner.optimize import proof_waves

    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    searched: list[tuple[int, float | None]] = []

    def prove(data: Any, m: DirectModel, deadline: Deadline, gap: float, threads: int | None, cutoff: float | None,
              prepared: Prepared | None) -> Any:
        def run() -> DirectOutcome:
            searched.append((int(m.cost[0]), cutoff))
            return outcome(SolveStatus.CUTOFF)
        return run

    monkeypatch.setattr(proof_waves, "_prove", prove)
    built = {v: model([float(v)]) for v in range(3)}
    memo = SolveMemo()
    memo.record(built[1], 0.01, 120.0, outcome(SolveStatus.CUTOFF, None, 120.0, relaxation=True))
    ahead = {0: (None, outcome(SolveStatus.OPTIMAL, 100.0, 100.0))}
    out = proof_waves.later_waves(SimpleNamespace(), [(v, 50_000.0) for v in range(3)], ahead,  # type: ignore[arg-type]
                                  {}, built, Deadline(100.0), 0.01, None, math.inf, memo, None)
    assert sorted(out) == [2] and searched == [(2, 100.0)]


# --------------------------------------------------------------------------------------------------
# period_start: the links fixed, each period alone


def two_period_model(offset: float = 5.0, n0_upper: float = 10.0) -> DirectModel:
    """Columns r₀, r₁ (replicas in periods 0, 1), n₀, n₁ (one offer's units started in periods 0, 1; a
    unit started in period 0 serves period 1 too).  Rows: period 0, r₀ − n₀ ≤ 0; period 1, r₁ − n₀ − n₁ ≤ 0.
    Costs (1, 1, 10, 10) k$, offset ``offset``; n₀ ≤ ``n0_upper``."""
    m = model([1.0, 1.0, 10.0, 10.0], offset=offset, upper=[10.0, 10.0, n0_upper, 10.0], integer=True)
    return DirectModel(**{**m.__dict__, "r": np.array([[0, 1]]), "n": np.array([[2, 3]]), "columns": [0],
                          "offers": [0], "hardware_of_offer": [0], "row_lower": np.array([-np.inf, -np.inf]),
                          "row_upper": np.array([0.0, 0.0]), "starts": np.array([0, 2], dtype=np.int32),
                          "index": np.array([0, 2, 1, 2, 3], dtype=np.int32),
                          "value": np.array([1.0, -1.0, 1.0, -1.0, -1.0])})


def test_only_an_acquisition_serving_a_later_period_links_the_periods() -> None:
    """n₀ shares period 1's row with r₁ (a later period's deployment): a link, fixed at its relaxation 1.4
    rounded to 1.  n₁ serves only its own period: free.  At 2.6 with n₀ ≤ 2 the rounded 3 is held to 2."""
    from planner.optimize import period_start

    m = two_period_model()
    period = period_start.column_periods(m)
    assert period.tolist() == [0, 1, 0, 1]
    assert period_start.linking_values(m, np.array([1.0, 1.0, 1.4, 0.0]), np.array([1.0]), period) == {2: 1.0}
    capped = two_period_model(n0_upper=2.0)
    assert period_start.linking_values(capped, np.array([1.0, 1.0, 2.6, 0.0]), np.array([1.0]), period) == {2: 2.0}


def scripted_periods(monkeypatch: pytest.MonkeyPatch, plans: dict[int, list[float]]) -> list[dict[str, Any]]:
    """Replace ``period_start.run_highs``: a period's model (told apart by its column count: period 0 has r₀,
    period 1 has r₁ and n₁) gets the plan ``plans[columns]``."""
    from planner.optimize import period_start

    calls: list[dict[str, Any]] = []

    def run_highs(sub: DirectModel, time_limit_s: float, gap_rel: float, **kwargs: Any) -> DirectOutcome:
        calls.append({"model": sub, **kwargs})
        return outcome(SolveStatus.FEASIBLE, 0.0, None, plans[sub.num_col])

    monkeypatch.setattr(period_start, "run_highs", run_highs)
    return calls


def test_the_split_start_is_the_periods_plans_with_the_links_costed_with_the_offset(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Relaxation n₀ = 2.2 → fixed n₀ = 2.  Period 1's row r₁ − n₁ ≤ 0 + 2 (n₀'s −2 moved into its bound).
    Period 0 plans r₀ = 2, period 1 r₁ = 3, n₁ = 1: the whole plan (2, 3, 2, 1) holds (2 − 2 ≤ 0,
    3 − 2 − 1 ≤ 0) and costs 2 + 3 + 20 + 10 + 5 = 40 k$.  Each period searches min(50, 1,000) = 50 nodes."""
    from planner.optimize import period_start

    calls = scripted_periods(monkeypatch, {1: [2.0], 2: [3.0, 1.0]})
    out = period_start.period_split_start(two_period_model(), np.array([2.0, 3.0, 2.2, 0.8]), np.array([1.0]), 5.0,
                                          0.01, None, node_limit=1_000)
    assert out is not None and out.objective == pytest.approx(40.0)
    assert out.values is not None and out.values.tolist() == [2.0, 3.0, 2.0, 1.0]
    later = next(c["model"] for c in calls if c["model"].num_col == 2)
    assert later.row_upper.tolist() == [2.0]
    assert sorted(c["node_limit"] for c in calls) == [50, 50] and all(c["restarts"] is False for c in calls)


def test_a_split_start_whose_periods_break_a_row_of_the_whole_model_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Period 1 answers r₁ = 4, n₁ = 1 with n₀ fixed at 2: 4 − 2 − 1 = 1 > 0 breaks period 1's row of the
    whole model, so there is no start (None), never a plan that does not hold."""
    from planner.optimize import period_start

    scripted_periods(monkeypatch, {1: [2.0], 2: [4.0, 1.0]})
    assert period_start.period_split_start(two_period_model(), np.array([2.0, 3.0, 2.2, 0.8]), np.array([1.0]), 5.0,
                                           0.01, None) is None


def test_a_row_joining_two_periods_after_the_links_are_fixed_declines_the_split(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A row r₀ + r₁ ≤ 20 over both periods' replicas still joins them once n₀ is fixed: no split (None),
    no period searched."""
    from planner.optimize import period_start

    m = two_period_model()
    joined = DirectModel(**{**m.__dict__, "row_lower": np.array([-np.inf, -np.inf, -np.inf]),
                            "row_upper": np.array([0.0, 0.0, 20.0]), "starts": np.array([0, 2, 5], dtype=np.int32),
                            "index": np.array([0, 2, 1, 2, 3, 0, 1], dtype=np.int32),
                            "value": np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 1.0])})
    calls = scripted_periods(monkeypatch, {1: [2.0], 2: [3.0, 1.0]})
    assert period_start.period_split_start(joined, np.array([2.0, 3.0, 2.2, 0.8]), np.array([1.0]), 5.0, 0.01,
                                           None) is None
    assert calls == []


def test_a_row_of_fixed_links_only_that_fails_declines_the_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row n₀ ≥ 3 over the fixed link alone: n₀ fixed at round(2.2) = 2 < 3, so the fixed links are no
    plan of the whole model: None, no period searched."""
    from planner.optimize import period_start

    m = two_period_model()
    settled = DirectModel(**{**m.__dict__, "row_lower": np.array([-np.inf, -np.inf, 3.0]),
                             "row_upper": np.array([0.0, 0.0, np.inf]), "starts": np.array([0, 2, 5], dtype=np.int32),
                             "index": np.array([0, 2, 1, 2, 3, 2], dtype=np.int32),
                             "value": np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])})
    calls = scripted_periods(monkeypatch, {1: [2.0], 2: [3.0, 1.0]})
    assert period_start.period_split_start(settled, np.array([2.0, 3.0, 2.2, 0.8]), np.array([1.0]), 5.0, 0.01,
                                           None) is None
    assert calls == []


# --------------------------------------------------------------------------------------------------
# union_proof: when the twins are proven, and the bounds it hands back; carry_over's offers


def scripted_union(monkeypatch: pytest.MonkeyPatch, search: DirectOutcome, relaxed: dict[int, float]) -> Any:
    """``union_proof`` of v0 (start 100 k$) and twin v1 (start 100), one-column models; the union's search is
    scripted and its plan projects onto no member (v0 keeps its start); ``relaxed``: each one's relaxation."""
    from planner.optimize import union

    members = {0: model([1.0]), 1: model([1.0])}
    prepared = {v: Prepared(outcome(SolveStatus.OPTIMAL, r, r), outcome(SolveStatus.FEASIBLE, 100.0, values=[1.0]),
                            0.0) for v, r in relaxed.items()}
    monkeypatch.setattr(union, "build", lambda data, variants, union=False: model([1.0]))
    monkeypatch.setattr(union, "scaling_refusal", lambda m: None)
    monkeypatch.setattr(union, "lift", lambda data, member, m, values: np.zeros(1))
    monkeypatch.setattr(union, "proof_search", lambda *args, **kwargs: search)
    monkeypatch.setattr(union, "project", lambda *args: None)
    return union.union_proof(SimpleNamespace(pairs=None), [(0, 0.0), (1, 0.0)], prepared,  # type: ignore[arg-type]
                             Deadline(60.0), 1e-3, None, spread=math.inf, tie=1e-3, built=dict(members))


def test_a_union_bound_just_outside_the_gap_proves_no_twin_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """v0's start 100, the union's search stopped at bound 99.85: 1 − 99.85/100 = 0.15 % > 0.1 %, so v0 stays
    feasible (gap 0.15 %) and v1 unsolved — not optimal and cut off."""
    out = scripted_union(monkeypatch, outcome(SolveStatus.FEASIBLE, 100.5, 99.85, [1.0]), {0: 90.0, 1: 90.0})
    won, lost = out[0][1], out[1][1]
    assert won.status == SolveStatus.FEASIBLE and won.gap == pytest.approx(0.0015)
    assert lost.status == SolveStatus.NO_SOLUTION


def test_the_kept_plans_bound_is_its_own_relaxation_when_that_is_higher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Union bound 95 (stopped), v0's relaxation 98: v0's plan (its start, 100) is bounded by
    max(95, 98) = 98 — both are proven lower bounds of v0's model; v1's by max(95, 96) = 96."""
    out = scripted_union(monkeypatch, outcome(SolveStatus.FEASIBLE, 101.0, 95.0, [1.0]), {0: 98.0, 1: 96.0})
    assert out[0][1].objective == 100.0 and out[0][1].bound == 98.0
    assert out[1][1].bound == 96.0


def test_a_plan_buying_an_offer_the_target_lacks_is_not_carried_over() -> None:
    """The source buys 1 unit of offer 0 and 2 of offer 1; the target sells offer 0 only (3 k$ a unit, offset
    5): no carry-over (None).  Without offer 1's units the plan carries over at 3·1 + 5 = 8 k$."""
    from planner.optimize import union

    source, target = model([1.0, 1.0], n=[[0], [1]]), model([3.0], offset=5.0, n=[[0]])
    data = SimpleNamespace()
    assert union.carry_over(data, source, target, np.array([1.0, 2.0])) is None  # type: ignore[arg-type]
    carried = union.carry_over(data, source, target, np.array([1.0, 0.0]))  # type: ignore[arg-type]
    assert carried is not None and carried.objective == 8.0 and carried.values is not None
    assert carried.values.tolist() == [1.0]


# --------------------------------------------------------------------------------------------------
# odds and ends: HiGHS's infinite figures, whole integers, a known start, an expired union search


def test_an_infinite_dual_bound_from_highs_is_no_bound() -> None:
    """HiGHS reports mip_dual_bound = ±inf (and mip_gap = inf) when it has none: read as None, never as a
    bound of +inf that would prove every plan optimal."""
    for figure in (math.inf, -math.inf, math.nan):
        prob = SimpleNamespace(solverModel=SimpleNamespace(getInfo=lambda f=figure: SimpleNamespace(
            mip_dual_bound=f, mip_gap=f)), objective=None)
        assert solvers._dual_bound(prob, "highs") is None  # type: ignore[arg-type]
        assert solvers._gap(prob, "highs") is None  # type: ignore[arg-type]


def test_integer_columns_are_read_whole_and_continuous_ones_as_they_are() -> None:
    """HiGHS returns integers within 1e-6 of whole: x₀ = 2.0000004 (integer) is read 2; x₁ = 0.5000004
    (continuous) is kept."""
    m = DirectModel(**{**model([1.0, 1.0]).__dict__, "integrality": np.array([1, 0], dtype=np.int32)})
    h = FakeHighs(S.kOptimal, 2.5, 2.5, 0.0, [2.0000004, 0.5000004])
    out = direct_solve._outcome(h, m, True, None, 5.0, 0.1)
    assert out.values is not None and out.values.tolist() == [2.0, 0.5000004]


def test_a_known_plan_is_the_start_and_no_start_is_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    """``known`` (a twin's plan carried over) is taken as the start: primal_start is not run.  Without it,
    the start search gets START_TIME_SHARE = 1/4 of the 8 s left: 2 s."""
    seen: list[float] = []

    def primal_start(m: DirectModel, relaxed: Any, units: Any, time_limit_s: float, *args: Any) -> None:
        seen.append(time_limit_s)

    monkeypatch.setattr(direct_solve, "primal_start", primal_start)
    relaxed = outcome(SolveStatus.OPTIMAL, 90.0, 90.0, [0.5])
    known = outcome(SolveStatus.FEASIBLE, 100.0, values=[1.0])
    assert direct_solve.prepare(model([1.0]), Deadline(8.0), 0.01, known=known, relaxed=relaxed).start is known
    assert seen == []
    direct_solve.prepare(model([1.0]), Deadline(8.0), 0.01, relaxed=relaxed)
    assert seen == [pytest.approx(2.0, abs=0.05)]


def test_no_union_search_once_the_plans_time_is_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    """An expired deadline: the twins are not searched (nothing decided, {}), not searched with no time."""
    from planner.optimize import union

    monkeypatch.setattr(union, "proof_search", lambda *a, **k: pytest.fail("searched after the deadline"))
    prepared = {v: Prepared(outcome(SolveStatus.OPTIMAL, 99.0, 99.0), outcome(SolveStatus.FEASIBLE, 100.0,
                                                                              values=[1.0]), 0.0) for v in (0, 1)}
    spent = Deadline(1.0, start=time.perf_counter() - 2.0)
    assert union.union_proof(SimpleNamespace(pairs=None), [(0, 0.0), (1, 0.0)], prepared, spent,  # type: ignore[arg-type]
                             1e-3, None, spread=math.inf, tie=1e-3) == {}
