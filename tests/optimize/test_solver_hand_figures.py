"""Hand-calculated figures for the solve machinery a mutation review found unchecked: the solve wrapper's
typed statuses, its bounds and gaps (:mod:`planner.optimize.solver`), the pair screening of
``plan.max_variants = 2`` (:mod:`planner.optimize.pairs`), the twins' union (:mod:`planner.optimize.union`),
the memo of solves (:mod:`planner.optimize.solve_memo`) and the proof waves
(:mod:`planner.optimize.proof_waves`).

Every expected figure is written out with its arithmetic, or a stated property ("a cutoff never labels
a worse plan optimal", "a stopped solve's figure is an interval"); nothing is copied from the code under
test.  The searches themselves are scripted (HiGHS is monkeypatched out) wherever the rule under test
is the wrapper's reading of an outcome, so every test runs in milliseconds."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pulp
import pytest
from numpy.typing import NDArray

from planner.optimize import pairs, proof_waves, union
from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel, ModelData, build
from planner.optimize.direct_solve import DirectOutcome, Prepared, run_highs
from planner.optimize.solve_memo import SolveMemo
from planner.optimize.solver import Deadline, SolveOutcome, SolveStatus
from tests.optimize.test_direct import synthetic

# --------------------------------------------------------------------------------------------------
# helpers


def outcome(status: SolveStatus, objective: float | None = None, bound: float | None = None,
            values: NDArray[np.float64] | None = None, relaxation: bool = False) -> DirectOutcome:
    """A DirectOutcome with only the figures a test reads (k$)."""
    return DirectOutcome(status, 0.0, objective, bound, None, values, str(status), decided_by_relaxation=relaxation)


def tiny_model(cost: list[float], offset: float = 0.0) -> DirectModel:
    """A model of ``len(cost)`` continuous columns in [0, 10] and no rows (what the memo and the union read)."""
    n = len(cost)
    empty = np.zeros(0, dtype=np.int64)
    return DirectModel(cost=np.array(cost, dtype=float), offset=offset, col_lower=np.zeros(n),
                       col_upper=np.full(n, 10.0), integrality=np.zeros(n, dtype=np.int32), row_lower=np.zeros(0),
                       row_upper=np.zeros(0), starts=np.zeros(0, dtype=np.int32), index=np.zeros(0, dtype=np.int32),
                       value=np.zeros(0), columns=[], offers=[], r=empty.reshape(0, 0), n=empty.reshape(0, 0),
                       spares={}, x={}, variants=[0], hardware_of_offer=[])


def fake_data(**fields: Any) -> ModelData:
    """A stand-in for ModelData holding only the fields the function under test reads."""
    return cast(ModelData, SimpleNamespace(**fields))


class ScriptedProblem(pulp.LpProblem):  # type: ignore[misc]
    """A PuLP problem whose ``solve`` sets the two status fields PuLP would, without a solver run."""

    def __init__(self, status: int, sol_status: int) -> None:
        super().__init__("scripted", pulp.LpMinimize)
        self.scripted = (status, sol_status)

    def solve(self, solver: Any = None, **kwargs: Any) -> int:
        self.status, self.sol_status = self.scripted
        return int(self.status)


# --------------------------------------------------------------------------------------------------
# solver.py: deadlines, gaps, bounds


def test_a_deadline_past_its_limit_leaves_one_percent_and_remains_nothing() -> None:
    """``left()`` never falls below ``FALLBACK_MIN_SHARE`` (1 %) of the whole: 20 s into a 10 s deadline
    a solve still gets 10 × 0.01 = 0.1 s, while ``remaining()`` is 0 and the deadline has expired."""
    late = Deadline(10.0, start=time.perf_counter() - 20.0)
    assert late.left() == pytest.approx(0.1)
    assert late.remaining() == 0.0 and late.expired
    fresh = Deadline(10.0)
    assert 9.0 < fresh.left() <= 10.0 and not fresh.expired


def test_a_deadline_portion_never_raises_the_node_limit_nor_passes_the_time_left() -> None:
    """A portion's node limit is the smaller of the two (30 of a 30-node plan, asked for 50; 20 when
    asked for 20), its own when the parent has none (50); a fraction above 1 gets only what is left."""
    parent = Deadline(10.0, node_limit=30)
    assert parent.portion(0.5, nodes=50).node_limit == 30
    assert parent.portion(0.5, nodes=20).node_limit == 20
    assert parent.portion(0.5).node_limit == 30
    assert Deadline(10.0).portion(0.5, nodes=50).node_limit == 50
    assert parent.portion(3.0).total_s <= 10.0
    assert parent.portion(0.5).total_s == pytest.approx(5.0, abs=0.5)


def test_which_limit_stopped_a_plan_names_the_time_once_it_ran_out() -> None:
    """A node limit set but the time used up: the message names the (wall-clock) time limit; with time left
    it names the node limit (the reproducible stop)."""
    expired = Deadline(10.0, start=time.perf_counter() - 20.0, node_limit=100)
    assert solvers.limit_reached(expired).startswith("time limit reached (10 s wall-clock")
    running = Deadline(10.0, node_limit=100)
    assert solvers.limit_reached(running).startswith("node limit reached (solver.node_limit = 100 nodes")


def test_the_gap_left_is_one_minus_floor_over_best_and_never_negative() -> None:
    """``1 − 99/100 = 0.01``; a floor above the plan (tolerances) is a gap of 0, not −0.01; a zero-cost plan 0."""
    assert solvers.gap_left(100.0, 99.0) == pytest.approx(0.01)
    assert solvers.gap_left(100.0, 101.0) == 0.0
    assert solvers.gap_left(0.0, 5.0) == 0.0


def test_a_cutoff_search_proves_no_more_than_the_cutoff_less_the_gap() -> None:
    """``min(b, c·(1 − g))``: with a cutoff of 100 at a 5 % gap the search proves at most 95, so a dual
    bound of 99 proves 95 (HiGHS may have pruned nodes within the gap of the cutoff) and one of 90 proves 90;
    without a cutoff the bound stands, without a bound nothing is proven."""
    assert solvers.cutoff_search_bound(99.0, 100.0, 0.05) == pytest.approx(95.0)
    assert solvers.cutoff_search_bound(90.0, 100.0, 0.05) == pytest.approx(90.0)
    assert solvers.cutoff_search_bound(99.0, None, 0.05) == 99.0
    assert solvers.cutoff_search_bound(None, 100.0, 0.05) is None


# --------------------------------------------------------------------------------------------------
# solver.py: run() maps both PuLP fields to a typed status


@pytest.mark.parametrize(("status", "sol_status", "expected"), [
    (pulp.LpStatusOptimal, pulp.LpSolutionOptimal, SolveStatus.OPTIMAL),
    # PuLP says "Optimal" for a time-limited incumbent: sol_status 2 is a plan, not a proof
    (pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible, SolveStatus.FEASIBLE),
    (pulp.LpStatusInfeasible, pulp.LpSolutionNoSolutionFound, SolveStatus.INFEASIBLE),
    (pulp.LpStatusNotSolved, pulp.LpSolutionInfeasible, SolveStatus.INFEASIBLE),
    (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound, SolveStatus.NO_SOLUTION),
    (pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded, SolveStatus.ERROR),
])
def test_a_solver_outcome_is_a_typed_status_never_assumed_optimal(status: int, sol_status: int,
                                                                 expected: SolveStatus) -> None:
    outcome = solvers.run(ScriptedProblem(status, sol_status), "highs", 60.0, 1e-4)
    assert outcome.status == expected


def test_a_stopped_plan_names_the_node_limit_only_while_time_was_left() -> None:
    """With ``mip_max_nodes`` set, a stop inside the time limit is the node limit; a stop at or past the
    time limit (here a limit of 1 ns, used up before the solve returns) is the time limit."""
    feasible = (pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
    nodes = solvers.run(ScriptedProblem(*feasible), "highs", 60.0, 1e-4, options={"mip_max_nodes": 10})
    assert nodes.status == SolveStatus.FEASIBLE and nodes.message == solvers.NODE_LIMIT_MESSAGE
    timed = solvers.run(ScriptedProblem(*feasible), "highs", 1e-9, 1e-4, options={"mip_max_nodes": 10})
    assert timed.status == SolveStatus.FEASIBLE and timed.message.startswith("stopped at the 1e-09 s time limit")


def test_the_dual_bound_includes_the_objectives_constant() -> None:
    """min x + 5 over integer x ≥ 1.5: the optimum is x = 2, objective 2 + 5 = 7, and the proven bound
    (HiGHS's MIP dual bound, which leaves PuLP's constant out) is reported as 7 too, not 2."""
    prob = pulp.LpProblem("constant", pulp.LpMinimize)
    x = pulp.LpVariable("x", lowBound=1.5, upBound=10, cat=pulp.LpInteger)
    prob += x + 5
    solved = solvers.run(prob, "highs", 30.0, 0.0)
    assert solved.status == SolveStatus.OPTIMAL
    assert pulp.value(prob.objective) == pytest.approx(7.0)
    assert solved.bound == pytest.approx(7.0)


# --------------------------------------------------------------------------------------------------
# solver.py: lp_bound and relax_and_target, with scripted runs


Script = list[tuple[SolveOutcome, dict[str, float]]]


def scripted_runs(monkeypatch: pytest.MonkeyPatch, prob: pulp.LpProblem, script: Script) -> list[dict[str, Any]]:
    """Replace ``solvers.run``: each call sets the problem's variables to the next scripted values and
    returns the next scripted outcome; returns the calls' keyword arguments (options, limits)."""
    calls: list[dict[str, Any]] = []
    variables = {v.name: v for v in prob.variables()}

    def run(prob: pulp.LpProblem, name: str, time_limit_s: float, gap_rel: float, mip: bool = True,
            threads: int | None = None, options: dict[str, float] | None = None) -> SolveOutcome:
        answer, values = script[len(calls)]
        calls.append({"options": options, "mip": mip, "time_limit_s": time_limit_s})
        for key, value in values.items():
            variables[key].varValue = value
        return answer

    monkeypatch.setattr(solvers, "run", run)
    return calls


def two_column_problem() -> tuple[pulp.LpProblem, pulp.LpVariable]:
    """min 2x + 3y + 5 with x the relaxed (slice-count) integer; the constant 5 is PuLP's."""
    prob = pulp.LpProblem("relax", pulp.LpMinimize)
    x = pulp.LpVariable("x", lowBound=0, upBound=10, cat=pulp.LpInteger)
    y = pulp.LpVariable("y", lowBound=0, upBound=10)
    prob += 2 * x + 3 * y + 5
    prob += x + y >= 1.5
    return prob, x


def highs(status: SolveStatus, bound: float | None = None) -> SolveOutcome:
    return SolveOutcome(status, "highs", 0.0, None, str(status), bound)


def test_an_lp_bound_is_read_only_from_an_optimal_relaxation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relaxation stopped with values in hand gives no bound (None); an optimal one gives 2·1.5 + 5 = 8."""
    prob, _x = two_column_problem()
    scripted_runs(monkeypatch, prob, [(highs(SolveStatus.NO_SOLUTION), {"x": 1.5, "y": 0.0})])
    assert solvers.lp_bound(prob, "highs", 10.0) is None
    prob, _x = two_column_problem()
    scripted_runs(monkeypatch, prob, [(highs(SolveStatus.OPTIMAL), {"x": 1.5, "y": 0.0})])
    assert solvers.lp_bound(prob, "highs", 10.0) == pytest.approx(8.0)


def test_the_target_is_the_relaxed_bound_plus_the_gap_less_the_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relaxed bound L = 2·1.5 + 5 = 8 at x = 1.5 (fractional, so the MILP runs).  Gap 1 %:
    target 8 + max(0.08, 1e-6) = 8.08, passed to HiGHS without PuLP's constant: 8.08 − 5 = 3.08.  Gap 0:
    target 8 + 1e-6 (MIP_ABS_GAP), option 3.000001.  The MILP's plan x = 2 costs 2·2 + 5 = 9 > 8.08: not
    met, so it stays ``feasible``, bounded by max(L = 8, its own 7.5) = 8 — the higher proven bound."""
    for gap, option in ((0.01, 3.08), (0.0, 3.000001)):
        prob, _x = two_column_problem()
        calls = scripted_runs(monkeypatch, prob, [(highs(SolveStatus.OPTIMAL, bound=8.0), {"x": 1.5, "y": 0.0}),
                                                  (highs(SolveStatus.FEASIBLE, bound=7.5), {"x": 2.0, "y": 0.0})])
        answer = solvers.relax_and_target(prob, [_x], "highs", 30.0, gap)
        assert len(calls) == 2 and calls[0]["options"] is None
        assert calls[1]["options"]["objective_target"] == pytest.approx(option, abs=1e-12)
        assert answer.status == SolveStatus.FEASIBLE
        assert answer.bound == pytest.approx(8.0)
        assert _x.cat == pulp.LpInteger  # restored after the relaxation


def test_a_plan_at_the_target_is_optimal_with_its_gap_over_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 20 %: target 8 + 0.2·8 = 9.6; the plan x = 2 costs 9 ≤ 9.6, so it is optimal within the gap,
    its gap (9 − 8)/9 = 0.111… (relative to the plan, as HiGHS's), its bound L = 8."""
    prob, x = two_column_problem()
    scripted_runs(monkeypatch, prob, [(highs(SolveStatus.OPTIMAL, bound=8.0), {"x": 1.5, "y": 0.0}),
                                      (highs(SolveStatus.FEASIBLE, bound=7.5), {"x": 2.0, "y": 0.0})])
    answer = solvers.relax_and_target(prob, [x], "highs", 30.0, 0.2)
    assert answer.status == SolveStatus.OPTIMAL
    assert answer.gap == pytest.approx(1.0 / 9.0)
    assert answer.bound == pytest.approx(8.0)


def test_a_whole_relaxation_is_the_answer_and_a_half_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """x = 2 + 1e-10 is whole within 1e-6: the relaxation is the answer (one run, x rounded to 2).
    x = 1.5 is half-way: the MILP runs (two runs)."""
    prob, x = two_column_problem()
    calls = scripted_runs(monkeypatch, prob, [(highs(SolveStatus.OPTIMAL, bound=9.0), {"x": 2.0 + 1e-10, "y": 0.0})])
    answer = solvers.relax_and_target(prob, [x], "highs", 30.0, 1e-4)
    assert len(calls) == 1 and answer.status == SolveStatus.OPTIMAL and x.varValue == 2
    prob, x = two_column_problem()
    calls = scripted_runs(monkeypatch, prob, [(highs(SolveStatus.OPTIMAL, bound=8.0), {"x": 1.5, "y": 0.0}),
                                              (highs(SolveStatus.OPTIMAL, bound=9.0), {"x": 2.0, "y": 0.0})])
    solvers.relax_and_target(prob, [x], "highs", 30.0, 1e-4)
    assert len(calls) == 2


def test_an_infeasible_relaxation_ends_the_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """No relaxed plan means no plan: infeasible after one run, the MILP never searched."""
    prob, x = two_column_problem()
    calls = scripted_runs(monkeypatch, prob, [(highs(SolveStatus.INFEASIBLE), {})])
    assert solvers.relax_and_target(prob, [x], "highs", 30.0, 1e-4).status == SolveStatus.INFEASIBLE
    assert len(calls) == 1


# --------------------------------------------------------------------------------------------------
# pairs.py: the fluid pair bound


def test_a_pair_whose_first_variant_cannot_serve_a_class_bounds_it_by_the_second() -> None:
    """Variant 0 has no column for the class (ℓ₀ = ∞): the whole class goes to variant 1 (w = 0), so
    LB = F₀ + F₁ + Σ_p ℓ₁ = 1 + 2 + (8 + 9) = 20 — the zero weight must ignore the infinite ℓ₀, not give NaN."""
    ell = {(1, 0): np.array([8.0, 9.0])}
    bound = pairs.pair_lower_bounds(ell, [0, 1], {0: 1.0, 1: 2.0}, {0: [None], 1: [None]}, [None], periods=2)
    assert bound[(0, 1)] == pytest.approx(20.0)


def test_a_floor_met_at_a_single_split_keeps_the_pair() -> None:
    """Scores 80 and 70, floor 80: the quality row 70 + 10·w ≥ 80 allows w = 1 only (lo = hi = 1); the pair
    is feasible there, LB = F + Σ_p ℓ₀ = 3 + (10 + 12) = 25, not infinite."""
    ell = {(0, 0): np.array([10.0, 12.0]), (1, 0): np.array([8.0, 9.0])}
    bound = pairs.pair_lower_bounds(ell, [0, 1], {0: 1.0, 1: 2.0}, {0: [80.0], 1: [70.0]}, [80.0], periods=2)
    assert bound[(0, 1)] == pytest.approx(25.0)


def test_a_score_exactly_at_the_floor_adds_no_quality_row() -> None:
    """Floor 75; variant 1 scores exactly 75, variant 0 has no score.  No variant is *below* the floor, so
    the model has no quality row (``direct_rows``: a row only where some score is under the floor) and the
    split is free, w ∈ [0, 1]: LB = F + Σ_p min(ℓ₀, ℓ₁) = 3 + (8 + 9) = 20.  (Until 2026-12-07, when an
    unscored variant counted 0 in a row, reading 75 as below the floor would have forced w = 0 and given
    3 + (10 + 12) = 25: a bound above plans the model allows.)"""
    ell = {(0, 0): np.array([8.0, 9.0]), (1, 0): np.array([10.0, 12.0])}
    bound = pairs.pair_lower_bounds(ell, [0, 1], {0: 1.0, 1: 2.0}, {0: [None], 1: [75.0]}, [75.0], periods=2)
    assert bound[(0, 1)] == pytest.approx(20.0)


def test_an_unscored_variant_counts_as_the_floor_in_a_quality_row() -> None:
    """Floor 75; variant 1 scores 70 (below: the model has the row), variant 0 has no score.  The row
    counts the unscored variant at the floor, ``75·w + 70·(1 − w) ≥ 75``: w = 1, LB = F + Σ_p ℓ₀ =
    3 + (8 + 9) = 20, as variant 0 could serve alone.  Counted 0 (until 2026-12-07) no split met the row
    and the pair read as impossible (LB = ∞)."""
    ell = {(0, 0): np.array([8.0, 9.0]), (1, 0): np.array([10.0, 12.0])}
    bound = pairs.pair_lower_bounds(ell, [0, 1], {0: 1.0, 1: 2.0}, {0: [None], 1: [70.0]}, [75.0], periods=2)
    assert bound[(0, 1)] == pytest.approx(20.0)


def test_the_milp_quality_row_counts_an_unscored_variant_at_the_floor() -> None:
    """``milp._quality_rows``: columns 0 (no score) and 1 (70) of one class, floor 75, one period: the row
    is ``75·x₀ + 70·x₁ ≥ 75``."""
    from planner.optimize import milp
    from planner.optimize.milp import ExtraColumns

    profiles = [SimpleNamespace(profiles={"chat": SimpleNamespace(quality_score=q)}) for q in (None, 70.0)]
    cs: Any = SimpleNamespace(variants=profiles, workloads=["chat"])
    columns: Any = [SimpleNamespace(variant=0), SimpleNamespace(variant=1)]
    x = {(j, 0): pulp.LpVariable(f"x{j}", 0, 1) for j in range(2)}
    traffic: Any = SimpleNamespace(by_class={0: [0, 1]}, x=x)
    prob = pulp.LpProblem("q", pulp.LpMinimize)
    milp._quality_rows(prob, cs, columns, 1, [75.0], traffic, False, ExtraColumns())
    (row,) = prob.constraints.values()
    assert {v.name: a for v, a in row.items()} == {"x0": 75.0, "x1": 70.0} and row.constant == -75.0


# --------------------------------------------------------------------------------------------------
# pairs.py: the screening's visit order, cutoffs and proof status (pair proofs scripted)


def three_variants() -> ModelData:
    """Three variants, one class, one period, no floor.  In $: ℓ = 50,000, 60,000 and 100,000, one-time
    costs 0, 10,000 and 49,000.  Pair bounds F₁ + F₂ + min(ℓ₁, ℓ₂):
    (0, 1) = 0 + 10,000 + 50,000 = 60 k$; (0, 2) = 0 + 49,000 + 50,000 = 99 k$;
    (1, 2) = 10,000 + 49,000 + 60,000 = 119 k$."""
    return fake_data(traffic_kusd={0: None, 1: None, 2: None}, one_time_kusd={0: 0.0, 1: 10.0, 2: 49.0},
                     fixed_kusd={0: 0.0, 1: 0.0, 2: 0.0}, quality={0: [None], 1: [None], 2: [None]}, floors=[None],
                     periods=1)


THREE_ELL = {(0, 0): np.array([50_000.0]), (1, 0): np.array([60_000.0]), (2, 0): np.array([100_000.0])}


def scripted_pairs(monkeypatch: pytest.MonkeyPatch, answers: dict[tuple[int, int], Any]
                   ) -> list[tuple[tuple[int, int], float]]:
    """Replace ``_prove_pair``: each pair gets its scripted answer; returns (pair, cutoff) per call."""
    calls: list[tuple[tuple[int, int], float]] = []

    def prove(data: ModelData, pair: tuple[int, int], cutoff: float, *args: Any) -> Any:
        calls.append((pair, cutoff))
        return answers[pair]

    monkeypatch.setattr(pairs, "_prove_pair", prove)
    return calls


@pytest.mark.parametrize("threads", [None, 1])
def test_pairs_are_visited_below_the_cutoff_best_times_one_less_gap(monkeypatch: pytest.MonkeyPatch,
                                                                    threads: int | None) -> None:
    """Best single plan 100 k$, gap 1 %: pairs are visited while their bound is below 100·0.99 = 99 k$ and
    searched below 100 itself (``solvers.incumbent_cutoff``).  Pair (0, 1) (bound 60) is proven below 100;
    pair (0, 2) (bound exactly 99) is not visited — its bound is within the gap — whether the proofs run
    two at a time (threads unset: the wave holds only the pairs below 99) or one by one.  (0, 1) cut
    off: every pair bounded or cut off, so the single plan is proven, no pair found."""
    model = tiny_model([1.0])
    calls = scripted_pairs(monkeypatch, {(0, 1): (model, False, outcome(SolveStatus.CUTOFF, bound=99.0))})
    result = pairs.screen_pairs(three_variants(), THREE_ELL, 100_000.0, Deadline(60.0), 0.01, threads)
    assert calls == [((0, 1), 100.0)]
    assert result.pair is None and result.proven and result.lowest_open_bound is None
    assert (result.pairs_bounded, result.pairs_solved) == (1, 1)


def test_a_cheaper_pair_becomes_the_best_and_tightens_the_cutoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Best single plan 120 k$, gap 1 %: 120·0.99 = 118.8 admits (0, 1) at 60 and (0, 2) at 99.  Proven one
    at a time: (0, 1), searched below 120, solves optimal at 95 k$, the new best; the next bar is
    95·0.99 = 94.05, so (0, 2) (bound 99) is never searched.  The answer is (0, 1), proven."""
    model = tiny_model([1.0])
    calls = scripted_pairs(monkeypatch, {(0, 1): (model, False, outcome(SolveStatus.OPTIMAL, 95.0, 94.99))})
    result = pairs.screen_pairs(three_variants(), THREE_ELL, 120_000.0, Deadline(60.0), 0.01, 1)
    assert calls == [((0, 1), 120.0)]
    assert result.pair == (0, 1) and result.proven and result.outcome is not None
    assert result.outcome.objective == 95.0


def test_each_pair_answer_leaves_its_proven_bound_or_none() -> None:
    """What each answer leaves open (k$, pair bound 80, incumbent 100):
    closed by its relaxation → nothing; badly scaled (no model) or not closed → the pair bound 80;
    cut off or infeasible → nothing; stopped without a plan → HiGHS's bound 91 (80 when none);
    a plan at 97 stopped by a limit → the new best at 97, open with its own bound 93;
    an error → its bound.  Only the answers that built a model are counted as bounded."""
    model = tiny_model([1.0])

    def left(answer: Any) -> tuple[list[float], int, int]:
        search = pairs._Search(best=100.0)
        search.record((0, 1), 80.0, answer)
        return search.open_bounds, search.bounded, search.solved

    assert left((model, True, None)) == ([], 1, 0)
    assert left((model, False, None)) == ([80.0], 1, 0)
    assert left((None, False, None)) == ([80.0], 0, 0)
    assert left((model, False, outcome(SolveStatus.CUTOFF, bound=99.0))) == ([], 1, 1)
    assert left((model, False, outcome(SolveStatus.INFEASIBLE))) == ([], 1, 1)
    assert left((model, False, outcome(SolveStatus.NO_SOLUTION, bound=91.0))) == ([91.0], 1, 1)
    assert left((model, False, outcome(SolveStatus.NO_SOLUTION))) == ([80.0], 1, 1)
    assert left((model, False, outcome(SolveStatus.ERROR, bound=85.0))) == ([85.0], 1, 1)
    search = pairs._Search(best=100.0)
    search.record((0, 1), 80.0, (model, False, outcome(SolveStatus.FEASIBLE, 97.0, 93.0)))
    assert search.best == 97.0 and search.found is not None and search.open_bounds == [93.0]


def test_a_pair_plan_that_only_ties_the_incumbent_is_not_taken() -> None:
    """A pair plan at exactly the best single plan's 100 k$ is no improvement: the single plan stays."""
    search = pairs._Search(best=100.0)
    search.record((0, 1), 80.0, (tiny_model([1.0]), False, outcome(SolveStatus.OPTIMAL, 100.0, 100.0)))
    assert search.found is None and search.best == 100.0


def scripted_pair_proof(monkeypatch: pytest.MonkeyPatch, relaxed: DirectOutcome, probe: DirectOutcome | None = None
                        ) -> dict[str, Any]:
    """Replace the solves inside ``_prove_pair``: the relaxation and the probe are scripted, the full
    search returns OPTIMAL at 90; returns what each step was given."""
    seen: dict[str, Any] = {"runs": []}

    def run_highs(model: DirectModel, limit: float, gap: float, **kwargs: Any) -> DirectOutcome:
        seen["runs"].append(kwargs)
        return relaxed if not kwargs.get("mip", True) else cast(DirectOutcome, probe)

    def prepare(model: DirectModel, deadline: Deadline, gap: float, **kwargs: Any) -> str:
        seen["known"] = kwargs["known"]
        return "prepared"

    def solve_model(model: DirectModel, deadline: Deadline, gap: float, **kwargs: Any) -> DirectOutcome:
        seen["prepared"] = kwargs["prepared"]
        return outcome(SolveStatus.OPTIMAL, 90.0, 90.0)

    monkeypatch.setattr(pairs, "build", lambda data, variants: tiny_model([1.0]))
    monkeypatch.setattr(pairs, "scaling_refusal", lambda model: None)
    monkeypatch.setattr(pairs, "offer_unit_sizes", lambda data, model: np.ones(0))
    monkeypatch.setattr(pairs, "run_highs", run_highs)
    monkeypatch.setattr(pairs, "prepare", prepare)
    monkeypatch.setattr(pairs, "solve_model", solve_model)
    return seen


def test_a_pair_relaxing_exactly_to_the_cutoff_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relaxation 99 k$ = the cutoff 99: no plan of the pair is below the cutoff, closed without a search."""
    seen = scripted_pair_proof(monkeypatch, outcome(SolveStatus.OPTIMAL, 99.0, 99.0))
    model, closed, answer = pairs._prove_pair(fake_data(), (0, 1), 99.0, Deadline(60.0), 1e-4, None)
    assert model is not None and closed and answer is None and len(seen["runs"]) == 1


@pytest.mark.parametrize(("node_limit", "probe_nodes"), [(None, 64), (10, 10), (1000, 64)])
def test_the_probe_takes_at_most_the_plans_node_limit(monkeypatch: pytest.MonkeyPatch, node_limit: int | None,
                                                      probe_nodes: int) -> None:
    """The probe's nodes are ``min(PROBE_NODES = 64, solver.node_limit)``: 64, 10 and 64."""
    seen = scripted_pair_proof(monkeypatch, outcome(SolveStatus.OPTIMAL, 50.0, 50.0), outcome(SolveStatus.CUTOFF))
    pairs._prove_pair(fake_data(), (0, 1), 99.0, Deadline(60.0, node_limit=node_limit), 1e-4, None)
    assert seen["runs"][1]["node_limit"] == probe_nodes and seen["runs"][1]["cutoff"] == 99.0


@pytest.mark.parametrize(("found", "start"), [(95.0, True), (99.0, False), (99.5, False)])
def test_a_probe_stopped_at_its_nodes_hands_only_a_plan_below_the_cutoff_on(monkeypatch: pytest.MonkeyPatch,
                                                                            found: float, start: bool) -> None:
    """A probe stopped at its node limit with a plan (``feasible``) proves nothing: the full search runs,
    and gets the probe's plan as its start only when it is below the cutoff 99 (95 yes; 99 and 99.5 no)."""
    probe = outcome(SolveStatus.FEASIBLE, found, 50.0, values=np.ones(1))
    seen = scripted_pair_proof(monkeypatch, outcome(SolveStatus.OPTIMAL, 50.0, 50.0), probe)
    _model, closed, answer = pairs._prove_pair(fake_data(), (0, 1), 99.0, Deadline(60.0), 1e-4, None)
    assert not closed and seen["prepared"] == "prepared"
    assert answer is not None and answer.objective == 90.0  # the full search's answer, not the probe's
    assert (seen["known"] is probe) == start


# --------------------------------------------------------------------------------------------------
# union.py


def test_an_empty_row_has_no_activity() -> None:
    """Two rows over two columns: row 0 empty with 0 ≤ · ≤ 0, row 1 = 3·x₀ + x₁ ≥ 4.  At x = (1, 1) row 1
    is 4 (holds) and row 0 is 0 (holds) — not 3·x₀ = 3, numpy's ``reduceat`` reading the next row's entry."""
    model = dataclasses.replace(tiny_model([1.0, 1.0]), row_lower=np.array([0.0, 4.0]),
                                row_upper=np.array([0.0, np.inf]), starts=np.array([0, 0], dtype=np.int32),
                                index=np.array([0, 1], dtype=np.int32), value=np.array([3.0, 1.0]))
    assert union.holds(model, np.array([1.0, 1.0]))
    assert not union.holds(model, np.array([1.0, 0.5]))  # row 1: 3.5 < 4


def twins_prepared(relaxed: dict[int, float], starts: dict[int, float]) -> dict[int, Prepared]:
    return {v: Prepared(outcome(SolveStatus.OPTIMAL, r, r), outcome(SolveStatus.FEASIBLE, starts[v], values=np.ones(1)),
                        0.0) for v, r in relaxed.items()}


def test_twins_are_near_the_lowest_relaxation_below_the_start_and_tied_relatively() -> None:
    """v₀'s start s₀ = 1,000, spread 1 %, tie 0.1 %.  Lowest relaxation 990 → near = 990·1.01 = 999.9.
    v1: relaxed 995, start 1,000.5 (|0.5| ≤ 0.001·1,000 = 1): a twin.  v2: relaxed 999.95 > 999.9: not.
    v3: relaxed 996, start 1,002 (2 > 1): not.  With spread ∞, v4 relaxed exactly at s₀ = 1,000: not
    (it must be below v₀'s start)."""
    relaxed = {0: 990.0, 1: 995.0, 2: 999.95, 3: 996.0, 4: 1000.0}
    starts = {0: 1000.0, 1: 1000.5, 2: 1000.0, 3: 1002.0, 4: 1000.0}
    order = [(v, 0.0) for v in range(5)]
    twins, _relaxed = union._twins(order, twins_prepared(relaxed, starts), 1000.0, 0.01, 1e-3)
    assert twins == [1]
    twins, _relaxed = union._twins(order, twins_prepared(relaxed, starts), 1000.0, math.inf, 1e-3)
    assert twins == [1, 2]


def scripted_union(monkeypatch: pytest.MonkeyPatch, search: DirectOutcome, project_to: dict[int, float | None]
                   ) -> Callable[[], union.Answers]:
    """``union_proof`` of v0 (start 100 k$, relaxed 98) and twin v1 (start 100, relaxed 99.97), one-column
    models costing 1 k$ per unit; the union's search is scripted and its plan projects onto member ``v`` at
    ``project_to[v]`` k$ (None: the member's rows fail)."""
    members = {0: tiny_model([1.0]), 1: tiny_model([1.0])}
    prepared = twins_prepared({0: 98.0, 1: 99.97}, {0: 100.0, 1: 100.0})
    monkeypatch.setattr(union, "build", lambda data, variants, union=False: tiny_model([1.0]))
    monkeypatch.setattr(union, "scaling_refusal", lambda model: None)
    monkeypatch.setattr(union, "lift", lambda data, member, model, values: np.zeros(1))
    monkeypatch.setattr(union, "proof_search", lambda *args, **kwargs: search)

    def project(data: ModelData, model: DirectModel, member: DirectModel, values: NDArray[np.float64]) -> Any:
        v = next(v for v, m in members.items() if m is member)
        cost = project_to[v]
        return None if cost is None else np.array([cost])

    monkeypatch.setattr(union, "project", project)
    order = [(0, 0.0), (1, 0.0)]
    return lambda: union.union_proof(fake_data(pairs=None), order, prepared, Deadline(60.0), 1e-3, None,
                                     spread=math.inf, tie=1e-3, built=dict(members))


def test_of_equal_member_plans_the_first_variants_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The union's plan projects onto v1 at 100 k$, exactly v0's start: v0 keeps its start (the first of
    equal plans in the proof order).  Bound min(99.95, 100) = 99.95, gap 1 − 99.95/100 = 0.0005 ≤ 0.001:
    proven.  v1 is out below it, its bound max(99.95, relaxed 99.97) = 99.97."""
    search = outcome(SolveStatus.OPTIMAL, 99.96, 99.95, values=np.ones(1))
    out = scripted_union(monkeypatch, search, {0: None, 1: 100.0})()
    (cutoff0, won), (cutoff1, lost) = out[0], out[1]
    assert won.status == SolveStatus.OPTIMAL and won.objective == 100.0
    assert won.gap == pytest.approx(0.0005) and won.bound == pytest.approx(99.95)
    assert lost.status == SolveStatus.CUTOFF and lost.bound == pytest.approx(99.97) and cutoff1 == pytest.approx(99.95)
    assert cutoff0 is None


def test_a_union_bound_above_the_plan_is_capped_at_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dual bound of 100.02 over a kept plan of 100 k$ (tolerances) proves only 100: the plan's bound and
    the twin's cutoff bound are max(min(100.02, 100), relaxed) = 100, never above the plan kept."""
    search = outcome(SolveStatus.OPTIMAL, 100.0, 100.02, values=np.ones(1))
    out = scripted_union(monkeypatch, search, {0: None, 1: None})()
    won, lost = out[0][1], out[1][1]
    assert won.status == SolveStatus.OPTIMAL and won.objective == 100.0
    assert won.bound is not None and won.bound <= won.objective
    assert lost.bound == pytest.approx(100.0) and out[1][0] == pytest.approx(100.0)


def test_a_stopped_union_search_keeps_the_start_and_proves_no_twin_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The union's search stopped (``feasible``) at bound 95: 1 − 95/100 = 5 % > 0.1 %, not proven.  v0
    keeps its start as ``feasible`` with that 5 % gap (an interval [95, 100]); v1 is left unsolved
    (``no_solution`` with bound max(95, 99.97) = 99.97), never ``cutoff``: nothing proved it out."""
    search = outcome(SolveStatus.FEASIBLE, 101.0, 95.0, values=np.ones(1))
    out = scripted_union(monkeypatch, search, {0: None, 1: None})()
    won, lost = out[0][1], out[1][1]
    assert won.status == SolveStatus.FEASIBLE and won.objective == 100.0 and won.gap == pytest.approx(0.05)
    assert lost.status == SolveStatus.NO_SOLUTION and lost.bound == pytest.approx(99.97)


def test_a_union_search_without_a_plan_decides_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped before any plan (``no_solution``), even with a bound: the members are proven one by one."""
    assert scripted_union(monkeypatch, outcome(SolveStatus.NO_SOLUTION, None, 95.0), {0: None, 1: None})() == {}


def test_a_plan_using_a_column_the_target_lacks_is_not_carried_over() -> None:
    """A plan with 5 replicas on a hardware-1 column cannot be carried to a model without that column (the
    source's model with its hardware-1 columns dropped from ``columns``): None, even though the rest of
    the plan (the optimum with every hardware-1 replica held at 0) serves the traffic there."""
    data = synthetic(np.random.default_rng(3), periods=2)
    source = build(data, [0])
    hw0 = [k for k, j in enumerate(source.columns) if data.hardware[j] == 0]
    hw1 = [k for k, j in enumerate(source.columns) if data.hardware[j] == 1]
    assert hw0 and hw1
    upper = source.col_upper.copy()
    upper[source.r[hw1].ravel()] = 0.0
    served = run_highs(source, 30.0, 0.0, col_upper=upper)
    assert served.status == SolveStatus.OPTIMAL and served.values is not None
    target = dataclasses.replace(source, columns=[source.columns[k] for k in hw0], r=source.r[hw0])
    assert union.carry_over(data, source, target, served.values) is not None  # the plan without hardware 1
    values = served.values.copy()
    values[source.r[hw1[0], 0]] = 5.0
    assert union.carry_over(data, source, target, values) is None


# --------------------------------------------------------------------------------------------------
# solve_memo.py


def memo_model() -> DirectModel:
    return build(synthetic(np.random.default_rng(5), periods=2), [0])


def test_a_cutoff_proof_answers_a_cutoff_equal_to_what_it_proved() -> None:
    """A search below 100 k$ at gap 0 cut off proves no plan below 100: a later search below 100 is
    answered (cut off), one below 100.5 is not."""
    model, memo = memo_model(), SolveMemo()
    memo.record(model, 0.0, 100.0, outcome(SolveStatus.CUTOFF))
    answer = memo.lookup(model, 0.0, 100.0)
    assert answer is not None and answer.status == SolveStatus.CUTOFF and answer.bound == 100.0
    assert memo.lookup(model, 0.0, 100.5) is None


def test_a_relaxation_above_the_cutoff_proves_its_own_objective() -> None:
    """Cut off by its relaxation at 105 k$ below a cutoff of 100 (gap 1 %): proven ≥ max(99, 105) = 105,
    so a later cutoff of 104 is answered.  A *search* that reported a bound of 105 when cut off proves
    only 100·0.99 = 99 (HiGHS prunes within the gap of the cutoff), so 104 is not answered."""
    model, memo = memo_model(), SolveMemo()
    memo.record(model, 0.01, 100.0, outcome(SolveStatus.CUTOFF, bound=105.0, relaxation=True))
    answer = memo.lookup(model, 0.01, 104.0)
    assert answer is not None and answer.status == SolveStatus.CUTOFF and answer.bound == 105.0
    searched = SolveMemo()
    searched.record(model, 0.01, 100.0, outcome(SolveStatus.CUTOFF, bound=105.0))
    assert searched.lookup(model, 0.01, 104.0) is None
    assert searched.lookup(model, 0.01, 99.0) is not None


def test_a_weaker_proof_never_lowers_what_the_memo_proved() -> None:
    """Cut off below 100 (gap 1 %: ≥ 99), then below 50 (≥ 49.5): the memo keeps 99, and a cutoff of 98
    is still answered."""
    model, memo = memo_model(), SolveMemo()
    memo.record(model, 0.01, 100.0, outcome(SolveStatus.CUTOFF))
    memo.record(model, 0.01, 50.0, outcome(SolveStatus.CUTOFF))
    assert memo.entries[next(iter(memo.entries))].lower == pytest.approx(99.0)
    assert memo.lookup(model, 0.01, 98.0) is not None


def test_an_optimum_proves_no_more_than_its_own_plan() -> None:
    """An optimum of 120 k$ reported with a bound of 120.5 (tolerances) proves ≥ min(120.5, 120) = 120:
    a cutoff of 120.2 is not answered ``cutoff`` — a plan at 120, below it, exists."""
    model, memo = memo_model(), SolveMemo()
    memo.record(model, 1e-3, None, outcome(SolveStatus.OPTIMAL, 120.0, 120.5, values=model.col_lower.copy()))
    assert memo.entries[next(iter(memo.entries))].lower == 120.0
    assert memo.lookup(model, 1e-4, 120.2) is None


def test_the_fingerprint_tells_models_apart_by_their_constant() -> None:
    """Two models equal but for the objective's constant (+50 k$) are different problems: an optimum of one
    is not an answer for the other."""
    model, memo = memo_model(), SolveMemo()
    memo.record(model, 1e-3, None, outcome(SolveStatus.OPTIMAL, 120.0, 119.9, values=model.col_lower.copy()))
    assert memo.lookup(model, 1e-3, None) is not None
    assert memo.lookup(dataclasses.replace(model, offset=model.offset + 50.0), 1e-3, None) is None


def test_a_known_solution_answers_its_own_gap_and_looser_only() -> None:
    """Proven at 1e-3: an answer for 1e-3 and 1e-2, not for 1e-4."""
    model, memo = memo_model(), SolveMemo()
    optimum = outcome(SolveStatus.OPTIMAL, 120.0, 119.9, values=model.col_lower.copy())
    memo.record(model, 1e-3, None, optimum)
    assert memo.solution(model, 1e-3) is optimum and memo.solution(model, 1e-2) is optimum
    assert memo.solution(model, 1e-4) is None


# --------------------------------------------------------------------------------------------------
# proof_waves.py


def waves_prepared(starts: dict[int, float]) -> dict[int, Prepared]:
    return {v: Prepared(outcome(SolveStatus.OPTIMAL, s - 10.0, s - 10.0), outcome(SolveStatus.FEASIBLE, s,
                                                                                 values=np.ones(1)), 0.0)
            for v, s in starts.items()}


def test_the_first_wave_cuts_each_variant_below_the_starts_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 1 %, no plan known.  v0 (start 100): no cutoff.  v1 (bound 90 k$, start 105): cutoff
    min(100) = 100 (below 100·0.99 = 99 it would prove only 99·0.99), and the incumbent stays
    min(100, 105) = 100.  The wave holds two: v2 is left out."""
    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    order = [(0, 80_000.0), (1, 90_000.0), (2, 95_000.0)]
    built = {v: tiny_model([1.0]) for v in range(3)}
    wave, incumbent = proof_waves.first_wave(order, waves_prepared({0: 100.0, 1: 105.0, 2: 90.0}), built, 0.01,
                                             math.inf, None, None)
    assert wave == [(0, None), (1, 100.0)] and incumbent == 100.0


def test_the_first_wave_skips_a_bound_at_the_cutoff_and_the_known_winner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 1 %, v0's start 100 → cutoff 100, a bound of 100·0.99 = 99 closes a variant.  v1's bound is
    exactly 99 k$: out, not searched.  v2 is the memo's known winner: not searched again.  v3 (bound 50)
    joins with cutoff 100; incumbent min(100, 97) = 97."""
    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    order = [(0, 80_000.0), (1, 99_000.0), (2, 10_000.0), (3, 50_000.0)]
    built = {v: tiny_model([1.0]) for v in range(4)}
    wave, incumbent = proof_waves.first_wave(order, waves_prepared({0: 100.0, 1: 98.0, 2: 50.0, 3: 97.0}), built,
                                             0.01, math.inf, None, known_winner=2)
    assert wave == [(0, None), (3, 100.0)] and incumbent == 97.0


def test_later_variants_are_strictly_below_the_cutoff() -> None:
    """best 100, gap 50 %: cutoff 50 k$; bounds 49,999 $ (in), 50,000 $ (out: reaches it), 60,000 $ (out)."""
    order = [(0, 49_999.0), (1, 50_000.0), (2, 60_000.0)]
    assert proof_waves.later_variants(order, [], 100.0, 0.5) == [0]


def test_the_cheapest_answer_counts_plans_stopped_at_a_limit() -> None:
    """A ``feasible`` plan at 90 is a plan that exists: min(100, 90) = 90; a cut-off answer has none."""
    answers: union.Answers = {0: (None, outcome(SolveStatus.FEASIBLE, 90.0, 80.0)),
                              1: (None, outcome(SolveStatus.CUTOFF, None, 70.0))}
    assert proof_waves._cheapest(100.0, answers) == 90.0


def scripted_proofs(monkeypatch: pytest.MonkeyPatch, answers: dict[int, DirectOutcome]
                    ) -> list[tuple[int, float, float | None]]:
    """Replace ``proof_waves._prove``: returns (variant, deadline's total_s, cutoff) per search run."""
    calls: list[tuple[int, float, float | None]] = []
    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)

    def prove(data: ModelData, model: DirectModel, deadline: Deadline, gap: float, threads: int | None,
              cutoff: float | None, prepared: Prepared | None) -> Callable[[], DirectOutcome]:
        v = int(model.variants[0])

        def run() -> DirectOutcome:
            calls.append((v, deadline.total_s, cutoff))
            return answers[v]
        return run

    monkeypatch.setattr(proof_waves, "_prove", prove)
    return calls


def labelled(v: int) -> DirectModel:
    return dataclasses.replace(tiny_model([1.0]), variants=[v])


def test_later_waves_share_the_time_equally_and_tighten_the_cutoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan at 100 k$ known (v0), gap 1 %, 100 s left, two proofs at a time.  Variants 1–3 (bounds 50)
    make two waves: [1, 2] with 1/2 of the time (≈ 50 s) below 100; v1 finds 90, so [3] gets all that is
    left (≈ 100 − ε s, 1/1) below 90."""
    calls = scripted_proofs(monkeypatch, {1: outcome(SolveStatus.OPTIMAL, 90.0, 90.0),
                                          2: outcome(SolveStatus.CUTOFF), 3: outcome(SolveStatus.CUTOFF)})
    order = [(v, 50_000.0) for v in range(4)]
    ahead: union.Answers = {0: (None, outcome(SolveStatus.OPTIMAL, 100.0, 100.0))}
    built = {v: labelled(v) for v in range(4)}
    out = proof_waves.later_waves(fake_data(), order, ahead, {}, built, Deadline(100.0), 0.01, None, math.inf,
                                  None, None)
    assert sorted(out) == [1, 2, 3]
    assert sorted(calls[:2]) == [(1, pytest.approx(50.0, abs=0.5), 100.0), (2, pytest.approx(50.0, abs=0.5), 100.0)]
    assert calls[2] == (3, pytest.approx(100.0, abs=1.0), 90.0)


def test_later_waves_wait_for_a_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """No plan known (best ∞, nothing ahead): no later wave runs at all."""
    calls = scripted_proofs(monkeypatch, {})
    order = [(v, 50_000.0) for v in range(3)]
    built = {v: labelled(v) for v in range(3)}
    assert proof_waves.later_waves(fake_data(), order, {}, {}, built, Deadline(100.0), 0.01, None, math.inf,
                                   None, None) == {}
    assert calls == []


def test_a_first_wave_of_one_is_not_run_side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    """One variant qualifies: nothing to overlap, so no proof runs in the wave (the sequential loop proves it)."""
    calls = scripted_proofs(monkeypatch, {0: outcome(SolveStatus.OPTIMAL, 100.0, 100.0)})
    built = {0: labelled(0)}
    assert proof_waves.first_proofs(fake_data(), [(0, None)], waves_prepared({0: 100.0}), built, Deadline(60.0),
                                    1e-4, None) == {}
    assert calls == []


@pytest.mark.parametrize("node_limit", [None, 500])
def test_the_first_wave_leaves_a_third_only_under_a_time_limit(monkeypatch: pytest.MonkeyPatch,
                                                               node_limit: int | None) -> None:
    """Disaggregated pairs, 90 s, v0 and v1 with starts 100 and 105 in the first wave, v2 (bound 50 k$)
    after it.  Under a time limit the first wave gets 90·(1 − 1/3) = 60 s and the later waves the plan's
    deadline; under a node limit the first wave gets the plan's deadline itself and no time is shared."""
    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    seen: dict[str, Any] = {}

    def first(data: ModelData, wave: Any, prepared: Any, built: Any, deadline: Deadline, *args: Any) -> Any:
        seen["first"] = deadline
        return {v: (c, outcome(SolveStatus.OPTIMAL, 100.0, 100.0)) for v, c in wave}

    def later(*args: Any) -> Any:
        seen["later"] = args[5]
        return {}

    monkeypatch.setattr(proof_waves, "first_proofs", first)
    monkeypatch.setattr(proof_waves, "later_waves", later)
    order = [(0, 10_000.0), (1, 20_000.0), (2, 50_000.0)]
    built = {v: labelled(v) for v in range(3)}
    plan = Deadline(90.0, node_limit=node_limit)
    proof_waves.proof_waves(fake_data(pairs=[0]), order, {}, waves_prepared({0: 100.0, 1: 105.0}), built, plan, 0.01,
                            None, math.inf, None, None)
    if node_limit is None:
        assert seen["first"].total_s == pytest.approx(60.0, abs=0.5) and seen["later"] is plan
    else:
        assert seen["first"] is plan and "later" not in seen
