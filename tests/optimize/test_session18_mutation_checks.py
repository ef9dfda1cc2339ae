"""Mutation checks of the 2026-12-07 cutoff change (the incumbent itself as the search cutoff,
``best·(1 − gap)`` as the bound that closes a model, ties to floating point kept), the solution
re-check of :mod:`planner.optimize.verify` and the quality rows' :func:`~planner.optimize.pruning.row_score`:
each test fails on one recorded mutant of that code and passes on the code itself.  Solvers are stubbed."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from planner.optimize import proof_waves, screening
from planner.optimize import solver as solvers
from planner.optimize.direct_solve import DirectOutcome
from planner.optimize.solve_memo import SolveMemo
from planner.optimize.solver import Deadline, SolveStatus
from tests.optimize.test_solve_mutation_checks import model, outcome, wave_prepared

# --------------------------------------------------------------------------------------------------
# solver.improves: the boundary


def test_a_plan_exactly_tie_rel_below_the_incumbent_does_not_replace_it() -> None:
    """``improves`` asks for more than ``TIE_REL`` below: at exactly ``best·(1 − TIE_REL)`` it is a tie."""
    best = 1000.0
    assert not solvers.improves(best * (1.0 - solvers.TIE_REL), best)
    assert solvers.improves(math.nextafter(best * (1.0 - solvers.TIE_REL), 0.0), best)


# --------------------------------------------------------------------------------------------------
# screening._answer: the cutoff, the memo's question and what the memo is told


class RecordingMemo:
    """A memo that knows nothing and notes what it is asked and told."""

    def __init__(self) -> None:
        self.asked: list[float | None] = []
        self.told: list[float | None] = []

    def lookup(self, model: Any, gap: float, cutoff: float | None) -> None:
        self.asked.append(cutoff)

    def record(self, model: Any, gap: float, cutoff: float | None, outcome: Any) -> None:
        self.told.append(cutoff)


def test_a_later_variant_is_searched_below_the_incumbent_and_the_memo_asked_for_the_gap_below_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Incumbent 200 k$, gap 5 %: the search's cutoff is 200 (not 190, not none); the memo is asked whether
    it proves 200·0.95 = 190 and is told of a search below 200 (which proves 190)."""
    cutoffs: list[float | None] = []

    def solve_model(model: Any, deadline: Any, gap: float, *, cutoff: float | None = None, **kw: Any) -> DirectOutcome:
        cutoffs.append(cutoff)
        return outcome(SolveStatus.CUTOFF)

    monkeypatch.setattr(screening, "solve_model", solve_model)
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
    memo = RecordingMemo()
    answer, fresh = screening._answer(None, 0, model([1.0]), 200.0, Deadline(10.0), 0.05, None, None, {},  # type: ignore[arg-type]
                                      memo)  # type: ignore[arg-type]
    assert answer.status == SolveStatus.CUTOFF and fresh
    assert cutoffs == [200.0]
    assert memo.asked == [pytest.approx(190.0)]
    assert memo.told == [200.0]


def test_a_variant_without_an_incumbent_is_searched_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    cutoffs: list[float | None] = []

    def solve_model(model: Any, deadline: Any, gap: float, *, cutoff: float | None = None, **kw: Any) -> DirectOutcome:
        cutoffs.append(cutoff)
        return outcome(SolveStatus.OPTIMAL, 10.0, 10.0, [1.0])

    monkeypatch.setattr(screening, "solve_model", solve_model)
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
    memo = RecordingMemo()
    screening._answer(None, 0, model([1.0]), math.inf, Deadline(10.0), 0.05, None, None, {}, memo)  # type: ignore[arg-type]
    assert cutoffs == [None] and memo.asked == [None] and memo.told == [None]


# --------------------------------------------------------------------------------------------------
# screening.screen_single: a tie keeps the first plan


def test_the_variant_screening_keeps_the_first_of_two_plans_tied_to_floating_point(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """v0 (bound 50 k$) answers 100 k$, v1 (bound 60 k$) the same plan summed in another order, 1e-15
    below: v0 stays the winner (one variant fewer switched for nothing)."""
    answers = {0: outcome(SolveStatus.OPTIMAL, 100.0, 100.0, [1.0]),
               1: outcome(SolveStatus.OPTIMAL, 100.0 * (1 - 1e-15), 100.0 * (1 - 1e-15), [1.0])}
    assert (answers[1].objective or 0.0) < 100.0
    monkeypatch.setattr(screening, "_memo_incumbent", lambda *a: None)
    monkeypatch.setattr(screening, "_prepare_near_ties", lambda *a: {})
    monkeypatch.setattr(screening, "_proof_order", lambda bounds, prepared: sorted(bounds.items(), key=lambda kv: kv[1]))
    monkeypatch.setattr(screening, "union_proof", lambda *a: {})
    monkeypatch.setattr(screening, "proof_waves", lambda *a: {})
    monkeypatch.setattr(screening, "build", lambda data, vs: model([float(vs[0] + 1)]))
    monkeypatch.setattr(screening, "scaling_refusal", lambda m: None)
    monkeypatch.setattr(screening, "_answer", lambda data, v, *a: (answers[v], True))
    monkeypatch.setattr(screening, "_screening_answer", lambda winner, unproven, gap, deadline: winner)
    winner = screening.screen_single(None, {0: 50_000.0, 1: 60_000.0}, Deadline(10.0), 0.01, None, {})  # type: ignore[arg-type]
    assert winner is not None and winner[0] == 0


# --------------------------------------------------------------------------------------------------
# proof_waves


def test_the_cheapest_answer_of_a_wave_ignores_a_tie_to_floating_point() -> None:
    answers: dict[int, tuple[float | None, DirectOutcome]] = {
        1: (100.0, outcome(SolveStatus.OPTIMAL, 100.0 * (1 - 1e-15), 99.0, [1.0]))}
    assert proof_waves._cheapest(100.0, answers) == 100.0
    answers[2] = (100.0, outcome(SolveStatus.FEASIBLE, 98.0, 90.0, [1.0]))
    assert proof_waves._cheapest(100.0, answers) == 98.0


def test_the_first_wave_closes_a_variant_by_its_bound_at_the_gap_below_the_incumbent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 1 %; v0 (start 100 k$) opens the wave.  v1's bound 99.5 k$ and v2's 99 k$ (= 100·0.99, exactly)
    are at or above 99: closed, not searched.  v3 (bound 98.9 k$) joins below 100."""
    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    built = {v: model([float(v + 1)]) for v in range(4)}
    order = [(0, 80_000.0), (1, 99_500.0), (2, 99_000.0), (3, 98_900.0)]
    wave, incumbent = proof_waves.first_wave(order, wave_prepared({0: 100.0, 1: 101.0, 2: 101.0, 3: 101.0}), built,
                                             0.01, math.inf, None, None)
    assert wave == [(0, None), (3, 100.0)] and incumbent == 100.0


def test_the_first_wave_asks_the_memo_for_the_gap_below_the_incumbent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 1 %, v0's start 100 k$: the memo proved v1 ≥ 99.5 (its relaxation), which is ≥ 99 = 100·0.99,
    so v1 is out, though 99.5 is below the search cutoff 100."""
    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    built = {v: model([float(v + 1)]) for v in range(3)}
    memo = SolveMemo()
    memo.record(built[1], 0.01, 50.0, outcome(SolveStatus.CUTOFF, None, 99.5, relaxation=True))
    order = [(0, 80_000.0), (1, 80_000.0), (2, 80_000.0)]
    wave, _incumbent = proof_waves.first_wave(order, wave_prepared({0: 100.0, 1: 101.0, 2: 101.0}), built, 0.01,
                                              math.inf, memo, None)
    assert wave == [(0, None), (2, 100.0)]


def scripted_prove(monkeypatch: pytest.MonkeyPatch, answers: dict[int, DirectOutcome]) -> list[tuple[int, float | None]]:
    """``proof_waves._prove`` replaced: the variant whose model's cost is ``v`` answers ``answers[v]``."""
    searched: list[tuple[int, float | None]] = []

    def prove(data: Any, m: Any, deadline: Any, gap: float, threads: Any, cutoff: float | None, prepared: Any) -> Any:
        def run() -> DirectOutcome:
            searched.append((int(m.cost[0]), cutoff))
            return answers[int(m.cost[0])]
        return run

    monkeypatch.setattr(proof_waves, "_prove", prove)
    monkeypatch.setattr(proof_waves, "scaling_refusal", lambda model: None)
    return searched


def test_a_later_wave_is_searched_below_the_plan_an_earlier_wave_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """One variant a wave (one thread).  Incumbent 100 k$; v1 finds 90: v2 is searched below 90, not 100."""
    searched = scripted_prove(monkeypatch, {1: outcome(SolveStatus.OPTIMAL, 90.0, 90.0, [1.0]),
                                            2: outcome(SolveStatus.CUTOFF)})
    built = {v: model([float(v)]) for v in range(3)}
    ahead = {0: (None, outcome(SolveStatus.OPTIMAL, 100.0, 100.0))}
    monkeypatch.setattr(proof_waves, "proofs_at_once", lambda threads: False)
    proof_waves.later_waves(SimpleNamespace(), [(v, 50_000.0) for v in range(3)], ahead,  # type: ignore[arg-type]
                            {}, built, Deadline(100.0), 0.01, 1, math.inf, None, None)
    assert searched == [(1, 100.0), (2, 90.0)]


def test_later_waves_ask_the_memo_for_the_gap_below_the_incumbent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Incumbent 100 k$, gap 1 %: the memo proved v1 ≥ 99.5 (≥ 99): v1 is not searched."""
    searched = scripted_prove(monkeypatch, {1: outcome(SolveStatus.CUTOFF), 2: outcome(SolveStatus.CUTOFF)})
    built = {v: model([float(v)]) for v in range(3)}
    memo = SolveMemo()
    memo.record(built[1], 0.01, 50.0, outcome(SolveStatus.CUTOFF, None, 99.5, relaxation=True))
    ahead = {0: (None, outcome(SolveStatus.OPTIMAL, 100.0, 100.0))}
    proof_waves.later_waves(SimpleNamespace(), [(v, 50_000.0) for v in range(3)], ahead,  # type: ignore[arg-type]
                            {}, built, Deadline(100.0), 0.01, None, math.inf, memo, None)
    assert searched == [(2, 100.0)]


# --------------------------------------------------------------------------------------------------
# direct_solve: a relaxation within the gap of the cutoff closes the model; a stopped LP bounds nothing


def relaxation_then_search(monkeypatch: pytest.MonkeyPatch, relaxation: float, cutoff: float, gap: float) -> tuple[
        DirectOutcome, list[float | None]]:
    """``solve_model`` on a prepared model whose relaxation is ``relaxation`` k$ and which has no start;
    the search (stubbed) answers CUTOFF.  Returns the answer and each search's cutoff."""
    from planner.optimize import direct_solve
    from planner.optimize.direct_solve import Prepared

    searches: list[float | None] = []

    def run_highs(m: Any, limit: float, gap_rel: float, *, cutoff: float | None = None, **kw: Any) -> DirectOutcome:
        searches.append(cutoff)
        return outcome(SolveStatus.CUTOFF)

    monkeypatch.setattr(direct_solve, "run_highs", run_highs)
    relaxed = outcome(SolveStatus.OPTIMAL, relaxation, relaxation, [1.0])
    answer = direct_solve.solve_model(model([1.0]), Deadline(10.0), gap, cutoff=cutoff,
                                      prepared=Prepared(relaxed, None, 0.0))
    return answer, searches


def test_a_relaxation_at_the_gap_below_the_cutoff_closes_the_model_without_a_search(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Cutoff 100 k$, gap 5 %: a relaxation of 95 (exactly 100·0.95) or 97 proves what a search below 100
    would (z* ≥ 95): CUTOFF at once, decided by the relaxation, its bound the relaxation's."""
    for relaxation in (95.0, 97.0):
        answer, searches = relaxation_then_search(monkeypatch, relaxation, 100.0, 0.05)
        assert answer.status == SolveStatus.CUTOFF and answer.decided_by_relaxation and searches == []
        assert answer.bound == relaxation


def test_a_relaxation_more_than_the_gap_below_the_cutoff_is_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cutoff 100 k$, gap 5 %: a relaxation of 92 (below 95) leaves the model to a search below 100."""
    answer, searches = relaxation_then_search(monkeypatch, 92.0, 100.0, 0.05)
    assert searches == [100.0] and answer.status == SolveStatus.CUTOFF and not answer.decided_by_relaxation


def test_an_lp_stopped_at_a_limit_reports_no_bound() -> None:
    """A simplex stopped by the time limit holds a point (101 k$) that may lie above the LP's optimum: no bound."""
    from tests.optimize.test_solve_mutation_checks import S, read

    stopped = read(S.kTimeLimit, 101.0, mip=False)
    assert stopped.bound is None
    assert read(S.kOptimal, 42.0, mip=False).bound == 42.0


# --------------------------------------------------------------------------------------------------
# sliced_solve: the LP closes a model within the gap of the cutoff; the bound a proof leaves


@pytest.mark.parametrize(("gap", "cutoff_usd"), [(0.1, 5_200.0), (0.5, 10_000.0)])
def test_a_sliced_lp_within_the_gap_of_the_cutoff_settles_the_model(gap: float, cutoff_usd: float) -> None:
    """``tiny``'s relaxation is 5 k$ (b = 1).  Below $5,200 at 10 %: 5,000 ≥ 4,680, settled (though below
    the cutoff itself); below $10,000 at 50 %: 5,000 = 10,000·0.5 exactly, settled.  No start is computed
    (``tiny`` has no replicas to restrict: computing one would fail)."""
    from planner.optimize.sliced_solve import staged_start
    from tests.optimize.test_sliced_mutation_checks import highs, tiny

    begun = staged_start(tiny({}), highs(), Deadline(30.0), gap, cutoff_usd)
    assert begun.done is not None and begun.done.status == SolveStatus.CUTOFF


def test_a_sliced_proof_cut_off_below_the_callers_cutoff_proves_that_cutoff_less_the_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Start $10,000, the caller's cutoff $8,000 (lower), gap 10 %: nothing below 8,000 proves 7.2 k$, not 9."""
    from planner.optimize import sliced_solve
    from planner.optimize.sliced_solve import StagedStart, staged_proof
    from tests.optimize.test_sliced_mutation_checks import highs, tiny

    monkeypatch.setattr(sliced_solve, "solve_once", lambda *a: solvers.SolveOutcome(
        SolveStatus.CUTOFF, "highs", 2.0, None, "cut off"))
    begun = StagedStart(1.0, found_usd=10_000.0, values={"a": 0.0, "b": 2.0}, relaxation=5.0)
    got = staged_proof(tiny({"a": 0.0, "b": 2.0}), highs(), Deadline(10.0), 0.1, 8_000.0, begun)
    assert got.bound == pytest.approx(7.2, rel=1e-12)


def test_a_sliced_proof_stopped_proves_its_dual_bound_only_below_the_cutoff_less_the_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Start $10,000 (the cutoff), gap 10 %; the proof stops with HiGHS's bound 9.5 k$ and no better plan:
    it proves min(9.5, 10·0.9) = 9 (above the relaxation 7.5), so the start's gap is 0.1, not 0.05."""
    from planner.optimize import sliced_solve
    from planner.optimize.sliced_solve import StagedStart, staged_proof
    from tests.optimize.test_sliced_mutation_checks import highs, tiny

    def solve_once(problem: Any, *a: Any) -> solvers.SolveOutcome:
        problem.prob.variablesDict()["a"].varValue = 1.0  # a worse plan held
        return solvers.SolveOutcome(SolveStatus.FEASIBLE, "highs", 2.0, 0.5, "node limit", 9.5)

    monkeypatch.setattr(sliced_solve, "solve_once", solve_once)
    begun = StagedStart(1.0, found_usd=10_000.0, values={"a": 0.0, "b": 2.0}, relaxation=7.5)
    got = staged_proof(tiny({"a": 0.0, "b": 2.0}), highs(), Deadline(10.0), 0.1, None, begun)
    assert got.status == SolveStatus.FEASIBLE
    assert got.bound == pytest.approx(9.0, rel=1e-12) and got.gap == pytest.approx(0.1, rel=1e-9)


# --------------------------------------------------------------------------------------------------
# sliced_path._screen: the stop at the gap below the best plan, ties, and the proofs already in hand


def test_the_sliced_screening_stops_at_a_bound_within_the_gap_of_its_best_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 1 %.  Variant 0's plan costs 9 k$; variant 1's LP bound 8.95 k$ is below 9 but at or above
    9·0.99 = 8.91: it cannot beat the plan by more than the gap, and is not searched."""
    from tests.optimize.test_sliced_mutation_checks import screen_variants, tiny

    optimal = solvers.SolveOutcome(SolveStatus.OPTIMAL, "cbc", 1.0, 0.0, "optimal")
    p0, p1 = tiny({"a": 0.0, "b": 1.8}), tiny({"a": 0.0, "b": 1.79})
    problem, _result, _stats, searched = screen_variants(monkeypatch, [(5.0, 0, p0), (8.95, 1, p1)],
                                                         {0: optimal, 1: optimal})
    assert problem is p0 and searched == [(0, None)]


def test_the_sliced_screening_keeps_the_first_of_two_plans_tied_to_floating_point(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Variant 1's plan is variant 0's 9 k$ less 1e-15 of it (the same plan summed otherwise): a tie."""
    from tests.optimize.test_sliced_mutation_checks import screen_variants, tiny

    optimal = solvers.SolveOutcome(SolveStatus.OPTIMAL, "cbc", 1.0, 0.0, "optimal")
    p0, p1 = tiny({"a": 0.0, "b": 1.8}), tiny({"a": 0.0, "b": 1.8 * (1 - 3e-15)})
    import pulp

    assert pulp.value(p1.prob.objective) < pulp.value(p0.prob.objective)
    problem, *_rest = screen_variants(monkeypatch, [(5.0, 0, p0), (6.0, 1, p1)], {0: optimal, 1: optimal})
    assert problem is p0


def test_a_variant_proven_in_the_first_wave_is_read_even_when_its_bound_is_within_the_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 1 %.  Variant 1 was proven side by side (its answer in hand): an 8.95 k$ plan, below variant 0's
    9 k$ by less than the gap (its LP bound 8.92 ≥ 8.91).  The answer in hand is read, and is the plan."""
    from planner.optimize import sliced_path
    from tests.optimize.test_sliced_mutation_checks import screen_variants, tiny

    optimal = solvers.SolveOutcome(SolveStatus.OPTIMAL, "cbc", 1.0, 0.0, "optimal")
    p0, p1 = tiny({"a": 0.0, "b": 1.8}), tiny({"a": 0.0, "b": 1.79})
    monkeypatch.setattr(sliced_path, "_first_proofs", lambda *a: {1: optimal})
    problem, *_rest = screen_variants(monkeypatch, [(5.0, 0, p0), (8.92, 1, p1)], {0: optimal})
    assert problem is p1


def test_a_cutoff_answer_names_the_cutoff_in_dollars() -> None:
    """The cutoff is in k$: 100 k$ reads "$100,000", not "$100"."""
    from tests.optimize.test_solve_mutation_checks import S, read

    assert "(100,000 $)" in read(S.kInfeasible, cutoff=100.0).message


# --------------------------------------------------------------------------------------------------
# planning._solve_alone: a tie keeps the incumbent


def test_the_pulp_screening_keeps_the_incumbent_against_a_plan_tied_to_floating_point(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Incumbent $128,000; a variant's plan of 128 k$ less 1e-15 of it is the same plan: not taken."""
    from planner.optimize import planning
    from tests.optimize.test_planning_mutation_checks import (
        column,
        scenario,
        stub_screening,
    )

    stub_screening(monkeypatch, {}, {}, {0: (SolveStatus.OPTIMAL, 128.0 * (1 - 1e-15))})
    found = planning._Screened(best=128e3)
    planning._solve_alone(scenario(), None, 0, [column(0)], None, None, None, {}, None, "highs",
                          Deadline(60.0), 1e-4, None, found)
    assert found.best == 128e3 and found.best_problem is None
    stub_screening(monkeypatch, {}, {}, {0: (SolveStatus.OPTIMAL, 127.9)})
    planning._solve_alone(scenario(), None, 0, [column(0)], None, None, None, {}, None, "highs",
                          Deadline(60.0), 1e-4, None, found)
    assert found.best == pytest.approx(127.9e3) and found.best_problem is not None


# --------------------------------------------------------------------------------------------------
# verify.rows_error: each sense, each way


def one_row(sense: str, value: float, rhs: float = 1.0) -> Any:
    import pulp

    prob = pulp.LpProblem("row", pulp.LpMinimize)
    x = pulp.LpVariable("x")
    prob += x
    prob += (x >= rhs if sense == ">=" else x <= rhs if sense == "<=" else x == rhs), "r"
    x.varValue = value
    return prob


def test_each_row_sense_is_checked_in_its_own_direction() -> None:
    """x ≥ 1 at 0.99 (0.995) is violated by 0.01 (0.005); at 1.01 it holds.  x = 1 is violated at 0.99 and at 1.01 alike;
    within 1e-5 it holds."""
    from planner.optimize.verify import rows_error

    assert rows_error(one_row(">=", 0.99)) == "constraint r violated by 0.01"
    assert rows_error(one_row(">=", 0.995)) == "constraint r violated by 0.005"
    assert rows_error(one_row(">=", 1.01)) is None
    assert rows_error(one_row("==", 0.99)) == "constraint r violated by 0.01"
    assert rows_error(one_row("==", 1.01)) == "constraint r violated by 0.01"
    assert rows_error(one_row("==", 1.000005)) is None
    assert rows_error(one_row("<=", 0.99)) is None


def test_a_rows_tolerance_scales_with_its_constant() -> None:
    """x ≤ 10⁶: 5 above is within 10⁻⁵·10⁶ = 10; 20 above is not.  x ≥ −10⁶ likewise below."""
    from planner.optimize.verify import rows_error

    assert rows_error(one_row("<=", 1e6 + 5.0, 1e6)) is None
    assert rows_error(one_row("<=", 1e6 + 20.0, 1e6)) == "constraint r violated by 20"
    assert rows_error(one_row(">=", -1e6 - 5.0, -1e6)) is None
    assert rows_error(one_row("==", 1e6 - 5.0, 1e6)) is None


def test_a_bounds_tolerance_is_relative_to_the_bound_not_the_value() -> None:
    """Upper bound 10⁶: 10.00006 above is outside 10⁻⁵·10⁶ = 10 (relative to the value it would be 10.0001,
    inside).  Lower bound 10⁶: 9.99996 below is inside 10 (relative to the value, 9.9999: outside)."""
    from planner.optimize.verify import values_error
    from tests.optimize.test_verify import one_variable

    assert values_error(one_variable(None, 1e6, 1e6 + 10.00006)) is not None
    assert values_error(one_variable(1e6, None, 1e6 - 9.99996)) is None


def test_a_sliced_plans_rows_are_checked_at_its_rounded_integers() -> None:
    """10⁶·x − 10⁶·y ≥ 0 with x integer at 3.000004 (integral within 1e-5) and y = 3.000004: it holds at the
    solver's values but not at x rounded to 3, the value the plan is read from (violated by 4)."""
    import pulp

    from planner.optimize.extract_slices import verify_sliced

    prob = pulp.LpProblem("rounded", pulp.LpMinimize)
    x, y = pulp.LpVariable("x", 0, 10, cat=pulp.LpInteger), pulp.LpVariable("y", 0, 10)
    prob += x
    prob += 1e6 * x - 1e6 * y >= 0, "r"
    x.varValue, y.varValue = 3.000004, 3.000004
    assert verify_sliced(SimpleNamespace(prob=prob)) == "constraint r violated by 4"  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# milp_slices._quality_rows: an unscored variant counts the floor


def test_a_missing_score_counts_as_the_floor_in_the_sliced_quality_row() -> None:
    """Variant 0 unscored, variant 1 at 70 against a floor of 80: in each slice variant 0's share counts
    80 (``pruning.row_score``), 80/70 of variant 1's coefficient, not 0."""
    from planner.optimize.milp_slices import build_sliced
    from tests.optimize.test_milp_hand_figures import (
        CHAT_WEIGHTS,
        candidates,
        column,
        demand,
        four_hours,
        offer,
        periods,
        profile,
        row,
        scen,
    )

    cs = candidates([{"chat": profile()}, {"chat": profile(quality=70.0)}])
    problem = build_sliced(scen(max_variants=2), cs, [column(0, 10.0, variant=0), column(1, 5.0, variant=1)],
                           [offer("on-demand", (1000.0,))], periods([1.0]), demand([[8.0]]), {}, [80.0],
                           four_hours([CHAT_WEIGHTS]))
    coefs, _sense, rhs = row(problem.prob, "quality_0_0")
    assert rhs == 80.0
    for s in range(problem.slices.count):
        assert coefs.get(f"x_00000_0_{s}", 0.0) == pytest.approx(80.0 / 70.0 * coefs[f"x_00001_0_{s}"])


# --------------------------------------------------------------------------------------------------
# union.union_proof: of two plans tied to floating point the first variant's


def test_the_union_proof_keeps_the_first_variants_plan_against_a_tie(monkeypatch: pytest.MonkeyPatch) -> None:
    """v0's start costs 100 k$; the union's plan projected on twin v1 costs 100 less 1e-15 of it (the same
    plan): v0 keeps it, proven; v1 is cut off."""
    import numpy as np

    from planner.optimize import union
    from planner.optimize.direct_solve import Prepared

    models = {0: model([100.0]), 1: model([100.0 * (1 - 1e-15)])}
    monkeypatch.setattr(union, "_twins", lambda *a: ([1], {0: 99.0, 1: 99.0}))
    monkeypatch.setattr(union, "build", lambda data, vs, union=False: model([1.0, 1.0]) if union else models[vs[0]])
    monkeypatch.setattr(union, "scaling_refusal", lambda m: None)
    monkeypatch.setattr(union, "lift", lambda *a: None)
    monkeypatch.setattr(union, "proof_search", lambda *a: outcome(SolveStatus.OPTIMAL, 100.0, 99.99, [1.0, 1.0]))
    monkeypatch.setattr(union, "project", lambda data, joined, m, values: np.array([1.0]))
    prepared = {0: Prepared(outcome(SolveStatus.OPTIMAL, 99.0, 99.0, [1.0]),
                            outcome(SolveStatus.FEASIBLE, 100.0, values=[1.0]), 0.0)}
    out = union.union_proof(SimpleNamespace(pairs=None), [(0, 80.0), (1, 80.0)], prepared,  # type: ignore[arg-type]
                            Deadline(10.0), 0.01, None, 0.1, 1e-3)
    assert out[0][1].status == SolveStatus.OPTIMAL and out[0][1].objective == 100.0
    assert out[1][1].status == SolveStatus.CUTOFF


# --------------------------------------------------------------------------------------------------
# pairs: ties, the relaxation that closes a pair, a probe's plan with no incumbent


def test_a_pair_plan_tied_to_floating_point_with_the_incumbent_is_not_taken() -> None:
    """The incumbent 100 k$; a pair's plan 1e-15 of it below (the same plan summed otherwise): not taken."""
    from planner.optimize import pairs

    search = pairs._Search(best=100.0)
    search.record((0, 1), 80.0, (model([1.0]), False, outcome(SolveStatus.OPTIMAL, 100.0 * (1 - 1e-15), 99.0, [1.0])))
    assert search.found is None and search.best == 100.0


def test_a_pair_relaxing_within_the_gap_of_the_cutoff_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cutoff 99 k$, gap 0.1 %: a relaxation of 98.95 k$ (below 99, at or above 99·0.999 = 98.901) proves
    what a search below 99 would: closed without one."""
    from planner.optimize import pairs
    from tests.optimize.test_solver_hand_figures import fake_data, scripted_pair_proof

    seen = scripted_pair_proof(monkeypatch, outcome(SolveStatus.OPTIMAL, 98.95, 98.95))
    _model, closed, answer = pairs._prove_pair(fake_data(), (0, 1), 99.0, Deadline(60.0), 1e-3, None)
    assert closed and answer is None and len(seen["runs"]) == 1


def test_without_an_incumbent_a_stopped_probes_plan_is_the_pairs_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """No single-variant plan (cutoff None): the probe stopped at its nodes with a 95 k$ plan hands it to
    the full search as its start (any plan is below no cutoff)."""
    import numpy as np

    from planner.optimize import pairs
    from tests.optimize.test_solver_hand_figures import fake_data, scripted_pair_proof

    probe = outcome(SolveStatus.FEASIBLE, 95.0, 50.0, values=list(np.ones(1)))
    seen = scripted_pair_proof(monkeypatch, outcome(SolveStatus.OPTIMAL, 50.0, 50.0), probe)
    _model, closed, _answer = pairs._prove_pair(fake_data(), (0, 1), None, Deadline(60.0), 1e-4, None)
    assert not closed and seen["known"] is probe


# --------------------------------------------------------------------------------------------------
# sliced_pairs: ties, an unscored variant in the pair bound


def test_a_sliced_pair_plan_tied_to_floating_point_is_not_taken() -> None:
    from planner.optimize import sliced_pairs

    def problem(cost: float) -> SimpleNamespace:
        return SimpleNamespace(prob=SimpleNamespace(objective=cost))

    optimal = solvers.SolveOutcome(SolveStatus.OPTIMAL, "highs", 1.0, 0.0, "optimal")
    single = problem(279.1514454063032)
    state = sliced_pairs._Search.after((single, optimal))  # type: ignore[arg-type]
    state.record(problem(279.1514454063027), 200.0, optimal)  # type: ignore[arg-type]
    assert state.best is not None and state.best[0] is single


def test_an_unscored_variant_counts_the_floor_in_the_sliced_pair_bound() -> None:
    """Scores none, 60, 70 against a floor of 70 (``pair_costs``: items $10, $4, $6).  (0, 1): the row
    60 + (70 − 60) W ≥ 70 puts all on variant 0: 20 a period, 40 → 1,000 + 2,000 + 40 = 3.04 k$ (counted
    0, the row 60 − 60 W ≥ 70 would have no solution: an infinite bound)."""
    from planner.optimize import sliced_pairs
    from tests.optimize.test_extract_mutation_checks import pair_costs

    bounds = sliced_pairs.sliced_pair_bounds(pair_costs(), {0: [None], 1: [60.0], 2: [70.0]}, [70.0], [0, 1, 2], 2)
    assert bounds[(0, 1)] == pytest.approx(3.04)


def test_a_pair_whose_bound_is_within_the_gap_of_the_incumbent_is_not_even_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Incumbent 100 k$, gap 10 %: pair (1, 2)'s bound 95 is below the search cutoff 100 but at or above
    100·0.9 = 90: it cannot beat the incumbent by more than the gap, and is neither built nor relaxed."""
    from tests.optimize.test_disagg_mutation_checks import _screen

    _seen, built, stats = _screen(monkeypatch, {(1, 2): 95.0}, relaxed={(1, 2): (SolveStatus.OPTIMAL, 96.0)},
                                  searched={(1, 2): (SolveStatus.OPTIMAL, 99.0)})
    assert built == [] and stats["pairs_lp_bounded"] == 0
