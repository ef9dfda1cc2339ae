"""Hand-checked rules of the planner's top level that a mutation review of
:mod:`planner.optimize.planning`, :mod:`planner.optimize.direct_path`, :mod:`planner.optimize.screening`
and :mod:`planner.optimize.extract_slices` found unpinned.

* the one-time and training costs priced on the training hardware, scaled by ``market.price_scale``;
* :func:`~planner.optimize.planning._verify`: integers rounded within 10⁻⁵, a column's replicas, a class
  served whole, each row relative to its constant, a pair's own check;
* :func:`~planner.optimize.planning.better_of`: the mixed plan unless the single-variant one is cheaper,
  then ``feasible`` with its gap to the mixed bound ``cost·(1 − gap)``;
* the path chosen by :func:`~planner.optimize.planning.plan_scenario`, the period limit, the no-solution
  message and the requested gap of :func:`~planner.optimize.planning._plan_scenario`;
* the PuLP path's variant screening (:func:`_screen_variants`, :func:`_solve_alone`,
  :func:`_screened_outcome`): the bound order, the LP bound in $, the incumbent cutoff
  ``best·(1 − gap)``, what is proven, what is kept, and the gap of a plan whose time ran out;
* lead times, unserved classes, priced columns (:func:`planner.optimize.pruning.priced_columns`), the
  plan header, spot without a price and the calibration warnings;
* :func:`~planner.optimize.direct_path.solve_direct`: the variants meeting the floors, the incumbent in $,
  the compact form and the outcome carried over.

The expensive work (solves, model builds) is stubbed: every test runs in milliseconds.  Every expected
figure is written out with its arithmetic.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pulp
import pytest

from planner.errors import InputError, ScenarioError
from planner.optimize import direct_path, input_checks, planning, pruning
from planner.optimize import solver as solvers
from planner.optimize.direct_solve import DirectOutcome
from planner.optimize.disagg_milp import PairVariables
from planner.optimize.pruning import Column
from planner.optimize.solver import SolveOutcome, SolveStatus
from planner.plan_model import Infeasibility, Plan, SolverInfo

# ------------------------------------------------------------------------------------------ helpers


def column(variant: int, workload: int = 0, hardware: int = 0) -> Column:
    return Column(row=0, variant=variant, workload=workload, hardware=hardware, tp=1, batch=8,
                  capacity_rps=1.0, ttft_ms=100.0, tpot_ms=20.0)


def info(status: str = "optimal", gap: float | None = 0.0, message: str = "") -> SolverInfo:
    return SolverInfo(name="highs", status=status, gap=gap, message=message, variables=1, constraints=1,
                      integer_variables=1, pruning={}, coefficient_min=1.0, coefficient_max=1.0)


def plan(status: str, cost: float | None, gap: float | None = 0.0, solve_s: float = 0.0,
         message: str = "m") -> Plan:
    """A plan with only what :func:`better_of` reads (unvalidated)."""
    return Plan.model_construct(scenario="s", model="m", status=status, message=message, lifetime_cost_usd=cost,
                                solver=info(status, gap, message), timings={"solve_s": solve_s})


class Fake(SimpleNamespace):
    """A scenario stand-in whose ``model_copy(update=...)`` returns a copy with the fields replaced."""

    def model_copy(self, update: dict[str, Any]) -> Fake:
        return Fake(**{**vars(self), **update})


def scenario(max_variants: int = 1, gap_rel: float | None = None, **plan_fields: Any) -> Fake:
    return Fake(name="s", plan=Fake(max_variants=max_variants, split_granularity=None, pooled_capacity=False,
                                    disaggregation=False, **plan_fields),
                solver=Fake(name="highs", time_limit_s=60.0, node_limit=None, threads=None, gap_rel=gap_rel),
                market=Fake(modes=["on-demand"], price_scale=1.5, terminal_value="annuity", spares="expected",
                            spot_reclaims="expected"),
                training=Fake(hardware="h100-sxm", mfu=0.4),
                horizon=Fake(terminal_value="annuity", growth_per_year=0.5, discount_rate_per_year=0.08),
                workload=[Fake(name="chat")], quality=Fake(metric="mmlu"))


# ------------------------------------------------------------------------------- one-time costs

def test_one_time_work_is_the_dearest_profiles_dollars_plus_its_flops_priced_and_scaled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Variant a: no FLOPs, fixed $100 and $300 on its two classes → the larger, $300 (the work is done
    once, not per class).  Variant b: $50 fixed plus 10¹⁸ FLOPs priced at $20 on the training hardware,
    times ``price_scale`` 1.5 → 50 + 20 × 1.5 = $80."""
    priced: list[float] = []

    def price_training(flops: float, **kwargs: Any) -> SimpleNamespace:
        priced.append(flops)
        return SimpleNamespace(cost_usd=20.0, hardware=kwargs["hardware"])

    monkeypatch.setattr(planning, "price_training", price_training)
    cs: Any = SimpleNamespace(variants=[
        SimpleNamespace(index=0, name="a", one_time_flops=lambda: 0.0,
                        profiles={"x": SimpleNamespace(one_time_usd=100.0), "y": SimpleNamespace(one_time_usd=300.0)}),
        SimpleNamespace(index=1, name="b", one_time_flops=lambda: 1e18,
                        profiles={"x": SimpleNamespace(one_time_usd=50.0)})])
    assert planning.one_time_costs(scenario(), cs, None) == {0: 300.0, 1: pytest.approx(80.0)}  # type: ignore[arg-type]
    assert priced == [1e18]  # variant a has no work to price

    monkeypatch.setattr(planning, "price_training", lambda flops, **kw: SimpleNamespace(cost_usd=None, hardware="x"))
    with pytest.raises(InputError, match="no on-demand price to price one-time work of b"):
        planning.one_time_costs(scenario(), cs, None)  # type: ignore[arg-type]


def test_the_base_training_bill_is_given_or_six_n_d_priced_and_scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given: returned as is.  No tokens anywhere: unknown (None).  Tokens: 6 · N_active · D = 6 × 8·10⁹ ×
    10¹² = 4.8·10²² FLOPs, priced at $1,000, times price_scale 1.5 = $1,500; the catalog's 2·10¹² tokens
    when the scenario gives none: $3,000, sourced "catalog", and none (not an error) when unpriced."""
    priced: list[float] = []
    cost: list[float | None] = [1000.0]

    def price_training(flops: float, **kwargs: Any) -> SimpleNamespace:
        priced.append(flops)
        return SimpleNamespace(cost_usd=None if cost[0] is None else cost[0] * flops / 4.8e22, hardware="h100-sxm")

    monkeypatch.setattr(planning, "price_training", price_training)
    cs: Any = SimpleNamespace(base_model=SimpleNamespace(params_active=8e9, training_tokens=None))
    sc = scenario()
    sc.model = Fake(training_cost_usd=2e4, training_tokens=1e12)
    assert planning.base_training_cost(sc, cs, None) == (2e4, "model.training_cost_usd")  # type: ignore[arg-type]
    sc.model = Fake(training_cost_usd=None, training_tokens=None)
    assert planning.base_training_cost(sc, cs, None) == (None, None)  # type: ignore[arg-type]
    sc.model = Fake(training_cost_usd=None, training_tokens=1e12)
    usd, source = planning.base_training_cost(sc, cs, None)  # type: ignore[arg-type]
    assert usd == pytest.approx(1500.0) and source == "model.training_tokens"
    assert priced == [pytest.approx(4.8e22)]
    cs.base_model.training_tokens = 2e12
    sc.model = Fake(training_cost_usd=None, training_tokens=None)
    usd, source = planning.base_training_cost(sc, cs, None)  # type: ignore[arg-type]
    assert usd == pytest.approx(3000.0) and source == "catalog"
    cost[0] = None
    assert planning.base_training_cost(sc, cs, None) == (None, None)  # type: ignore[arg-type]
    sc.model = Fake(training_cost_usd=None, training_tokens=1e12)
    with pytest.raises(InputError, match="no on-demand price"):
        planning.base_training_cost(sc, cs, None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- verification

def verify_problem(replicas: float, shares: list[float], capacity: float = 4.0, rows: list[Any] | None = None,
                   extra: Any = None) -> tuple[Any, pulp.LpVariable]:
    """One class in one period served by ``len(shares)`` columns of capacity coefficient ``capacity``
    (replicas per unit share); column 0 holds ``replicas`` (an integer variable); ``rows`` are added
    as they are."""
    prob = pulp.LpProblem("v", pulp.LpMinimize)
    r = {(j, 0): pulp.LpVariable(f"r_{j}_0", 0, cat=pulp.LpInteger) for j in range(len(shares))}
    x = {(j, 0): pulp.LpVariable(f"x_{j}_0", 0, 1) for j in range(len(shares))}
    for j, share in enumerate(shares):
        r[j, 0].varValue = replicas if j == 0 else 10.0
        x[j, 0].varValue = share
    prob += pulp.lpSum(r.values()) + pulp.lpSum(x.values())
    prob += pulp.lpSum(x.values()) <= 5, "tie"  # holds
    for row in rows or []:
        prob += row
    problem = SimpleNamespace(prob=prob, x=x, r=r, columns=[column(0) for _ in shares], extra=extra,
                              coef={"capacity": {(j, 0): capacity for j in range(len(shares))}},
                              shares=lambda: {key: var.value() for key, var in x.items()})
    return problem, r[0, 0]


def test_verification_rounds_integers_within_the_tolerance_and_refuses_others() -> None:
    """r = 2.000004 is 4·10⁻⁶ ≤ 10⁻⁵ from 2: rounded to 2.0 and accepted (capacity 4 × 0.5 = 2 ≤ 2).
    r = 2.00002 is 2·10⁻⁵ away: not integral.  A continuous share of 0.5 is never rounded."""
    problem, r = verify_problem(2.000004, [0.5, 0.5])
    assert planning._verify(problem) is None  # type: ignore[arg-type]
    assert r.varValue == 2.0
    assert problem.x[0, 0].varValue == 0.5
    problem, _ = verify_problem(2.00002, [0.5, 0.5])
    assert planning._verify(problem) == "integer variable r_0_0 = 2.00002 is not integral"  # type: ignore[arg-type]
    problem, r = verify_problem(2.0, [0.5, 0.5])
    r.varValue = None
    assert planning._verify(problem) == "variable r_0_0 has no value"  # type: ignore[arg-type]


def test_verification_refuses_a_column_carrying_more_than_its_replicas_serve() -> None:
    """Capacity 4 replicas per unit share: a share of 0.6 needs 2.4 replicas; 2 are deployed."""
    problem, _ = verify_problem(2.0, [0.6, 0.4])
    assert planning._verify(problem) == "column 0 in period 0 carries more traffic than its replicas serve"  # type: ignore[arg-type]


def test_verification_refuses_a_class_served_only_in_part() -> None:
    """Shares 0.25 + 0.25 = 0.5 of the class: |0.5 − 1| > 10⁻⁵ (under-served, not only over-served)."""
    problem, _ = verify_problem(2.0, [0.25, 0.25])
    assert planning._verify(problem) == "class 0 in period 0 is served 0.500000 of its traffic, not all"  # type: ignore[arg-type]


def test_verification_checks_each_row_relative_to_its_constant() -> None:
    """A ≤ row with constant 10⁶ may be off by 10⁻⁵ × 10⁶ = 10 ($ or GPUs in original units): 5 passes,
    20 does not.  A ≥ row x ≥ 1 (constant 1, scale 1) at 0.9 is short by 0.1; an = row at −0.5 too."""
    y = pulp.LpVariable("y", 0)
    z = pulp.LpVariable("z", 0)
    y.varValue, z.varValue = 1e6 + 5, 0.9

    def check(*rows: Any) -> str | None:
        problem, _ = verify_problem(2.0, [0.5, 0.5], rows=list(rows))
        return planning._verify(problem)  # type: ignore[arg-type]

    assert check((y <= 1e6, "cap")) is None
    y.varValue = 1e6 + 20
    assert check((y <= 1e6, "cap")) == "constraint cap violated by 20"
    assert check((z >= 1, "floor")) == "constraint floor violated by 0.1"
    z.varValue = 0.5
    assert check((z == 1, "same")) == "constraint same violated by 0.5"


def test_verification_asks_the_pairs_their_own_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model holding disaggregated pairs is refused when :func:`verify_pairs` refuses it, before the
    class totals (which the pairs complete) are read."""
    seen: list[dict[tuple[int, int], float]] = []

    def verify_pairs(state: Any, totals: dict[tuple[int, int], float]) -> str:
        seen.append(dict(totals))
        return "pair 0 in period 0 is short"

    monkeypatch.setattr(planning, "verify_pairs", verify_pairs)
    problem, _ = verify_problem(2.0, [0.25], extra=SimpleNamespace(state=PairVariables(pairs=[])))
    assert planning._verify(problem) == "pair 0 in period 0 is short"  # type: ignore[arg-type]
    assert seen == [{(0, 0): 0.25}]


# ------------------------------------------------------------------------- single against mixed

def test_a_cheaper_single_variant_plan_is_feasible_with_its_gap_to_the_mixed_bound() -> None:
    """Mixed: feasible at $110 with gap 0.1 → its bound 110 × (1 − 0.1) = $99.  Single: $100.  The answer
    is the single plan, feasible, gap (100 − 99) / 100 = 0.01; the solve times add, 2 + 3 = 5 s."""
    mixed, single = plan("feasible", 110.0, 0.1, 2.0, "time limit"), plan("optimal", 100.0, 0.0, 3.0)
    answer = planning.better_of(mixed, single)
    assert answer.lifetime_cost_usd == 100.0 and answer.status == "feasible"
    assert answer.solver is not None and answer.solver.status == "feasible"
    assert answer.solver.gap == pytest.approx(0.01)
    assert answer.message.startswith("time limit; no mixed plan found beats the best single-variant plan")
    assert answer.message.endswith("(optimal among single-variant plans)")
    assert answer.solver.message == answer.message
    assert answer.timings == {"solve_s": 5.0}
    # a single plan itself only feasible is not called optimal among single-variant plans
    unproven = planning.better_of(mixed, plan("feasible", 100.0, 0.05, 3.0))
    assert unproven.message.endswith("(feasible among single-variant plans)")


def test_a_mixed_bound_above_the_single_plan_gives_no_negative_gap() -> None:
    """Mixed $110 at gap 0.05: bound 104.5 > the single plan's $100; the gap is max(0, −0.045) = 0."""
    answer = planning.better_of(plan("feasible", 110.0, 0.05), plan("optimal", 100.0))
    assert answer.solver is not None and answer.solver.gap == 0.0


def test_the_mixed_plan_stands_when_optimal_or_not_dearer() -> None:
    """An optimal mixed plan at $100.005 (within its gap of the single $100) is the answer; a feasible
    mixed plan at exactly the single plan's cost is too (ties go to the mixed plan).  Times still add."""
    optimal = planning.better_of(plan("optimal", 100.005, 0.0, 1.0), plan("optimal", 100.0, 0.0, 1.0))
    assert optimal.lifetime_cost_usd == 100.005 and optimal.status == "optimal"
    assert optimal.timings == {"solve_s": 2.0}
    tie = planning.better_of(plan("feasible", 100.0, 0.02, message="mixed"), plan("optimal", 100.0, message="single"))
    assert tie.message == "mixed" and tie.solver is not None and tie.solver.gap == 0.02


def test_a_mixed_search_without_a_plan_leaves_the_single_plan_without_a_gap() -> None:
    """No mixed plan: no bound to measure from, so the single plan is feasible with gap None."""
    answer = planning.better_of(plan("no_solution", None, None), plan("optimal", 100.0))
    assert answer.lifetime_cost_usd == 100.0 and answer.status == "feasible"
    assert answer.solver is not None and answer.solver.gap is None


def dispatch(monkeypatch: pytest.MonkeyPatch, direct: bool) -> list[tuple[int, Any]]:
    calls: list[tuple[int, Any]] = []

    def plan_one(sc: Any, catalog: Any, registry: Any, cs: Any, excluded: Any, deadline: Any = None,
                 memo: Any = None, hint: Any = None) -> str:
        calls.append((sc.plan.max_variants, deadline))
        return f"plan{len(calls)}"

    monkeypatch.setattr(planning, "_plan_scenario", plan_one)
    monkeypatch.setattr(planning, "direct_applies", lambda sc, name: direct)
    monkeypatch.setattr(planning, "build_candidates", lambda *args: "cs")
    monkeypatch.setattr(planning, "better_of", lambda mixed, single: (mixed, single))
    return calls


def test_the_pulp_path_solves_singles_first_then_the_mixed_model_in_one_deadline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = dispatch(monkeypatch, direct=False)
    catalog: Any = SimpleNamespace(defaults=SimpleNamespace(solver_time_limit_s=30.0))
    answer = planning.plan_scenario(scenario(max_variants=2), catalog)  # type: ignore[arg-type]
    assert answer == ("plan2", "plan1")  # better_of(mixed, single)
    assert [v for v, _d in calls] == [1, 2]
    assert calls[0][1] is calls[1][1] and calls[0][1].total_s == 60.0


def test_the_direct_path_solves_two_variant_plans_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = dispatch(monkeypatch, direct=True)
    assert planning.plan_scenario(scenario(max_variants=2), None) == "plan1"  # type: ignore[arg-type]
    assert calls == [(2, None)]


# ---------------------------------------------------------------------------------- _plan_scenario

class Reached(Exception):
    pass


def test_the_period_limit_allows_exactly_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """max_periods 4: four periods pass the guard (and reach the demand), five are refused."""
    count = {"n": 4}
    monkeypatch.setattr(planning, "check_disaggregation", lambda sc: None)
    monkeypatch.setattr(planning, "periods_of", lambda horizon: SimpleNamespace(count=count["n"]))

    def demand_of(*args: Any) -> None:
        raise Reached

    monkeypatch.setattr(planning, "demand_of", demand_of)
    catalog: Any = SimpleNamespace(defaults=SimpleNamespace(max_periods=4))
    with pytest.raises(Reached):
        planning._plan_scenario(scenario(), catalog, None, "cs", frozenset())  # type: ignore[arg-type]
    count["n"] = 5
    with pytest.raises(ScenarioError, match="5 periods exceed the planner's limit of 4"):
        planning._plan_scenario(scenario(), catalog, None, "cs", frozenset())  # type: ignore[arg-type]


def test_a_plan_with_slices_gets_its_calibration_notes_and_a_class_nobody_serves_ends_the_plan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A time-sliced plan with a cost carries the calibration notes after its own warnings; one without
    a cost is returned as it is.  Before that, a class no priced column serves makes the plan infeasible
    with that finding (no model is built)."""
    from planner.optimize import sliced_path

    seen = stub_pipeline(monkeypatch, SolveStatus.OPTIMAL)
    monkeypatch.setattr(planning, "needs_slices", lambda *a: True)
    monkeypatch.setattr(planning, "calibration_warnings", lambda plan, cs, catalog: ["h1 is uncalibrated"])
    sliced = {"plan": Plan.model_construct(lifetime_cost_usd=5.0, warnings=["own"])}
    monkeypatch.setattr(sliced_path, "plan_sliced", lambda *a: sliced["plan"])
    catalog: Any = SimpleNamespace(defaults=SimpleNamespace(max_periods=10, solver_time_limit_s=30.0,
                                                            solver_gap_rel=1e-4))
    cs: Any = SimpleNamespace(base_score=None, hardware=[])
    answer = planning._plan_scenario(scenario(), catalog, None, cs, frozenset())  # type: ignore[arg-type]
    assert answer.warnings == ["own", "h1 is uncalibrated"]
    sliced["plan"] = Plan.model_construct(lifetime_cost_usd=None, warnings=["own"])
    assert planning._plan_scenario(scenario(), catalog, None, cs, frozenset()) is sliced["plan"]  # type: ignore[arg-type]
    assert "gap" not in seen  # the one-slice model was never built
    finding = Infeasibility(family="price", workload="chat", requirement="r", best_achievable="none", message="x")
    monkeypatch.setattr(planning, "_unserved_classes", lambda *a: [finding])
    monkeypatch.setattr(planning, "infeasible_plan", lambda base, findings, solver_info: ("infeasible", findings))
    assert planning._plan_scenario(scenario(), catalog, None, cs, frozenset()) == ("infeasible", [finding])  # type: ignore[arg-type]


def test_calibration_notes_are_appended_only_when_there_are_some(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = Plan.model_construct(warnings=["own"])
    monkeypatch.setattr(planning, "calibration_warnings", lambda *a: [])
    assert planning._with_calibration_notes(bare, None, None) is bare  # type: ignore[arg-type]
    monkeypatch.setattr(planning, "calibration_warnings", lambda *a: ["note"])
    assert planning._with_calibration_notes(bare, None, None).warnings == ["own", "note"]  # type: ignore[arg-type]


def stub_pipeline(monkeypatch: pytest.MonkeyPatch, status: SolveStatus) -> dict[str, Any]:
    """Every step of :func:`_plan_scenario` before and after the solve stubbed; the solve answers
    ``status``; what reaches the end is recorded."""
    seen: dict[str, Any] = {}
    for name, value in [("check_disaggregation", lambda sc: None),
                        ("periods_of", lambda h: SimpleNamespace(count=2)),
                        ("demand_of", lambda *a: None), ("quality_floors", lambda *a: [None]),
                        ("mode_offers", lambda *a: ([], [])), ("check_offers", lambda *a: None),
                        ("_plan_header", lambda *a: ({}, [])),
                        ("priced_columns", lambda *a: ([column(0)], {})),
                        ("_unserved_classes", lambda *a: []), ("one_time_costs", lambda *a: {}),
                        ("needs_slices", lambda *a: False)]:
        monkeypatch.setattr(planning, name, value)

    def build_and_solve(sc: Any, cs: Any, columns: Any, offers: Any, periods: Any, demand: Any, one_time: Any,
                        floors: Any, name: Any, deadline: Any, gap: float, *rest: Any) -> Any:
        seen["gap"], seen["deadline"] = gap, deadline
        problem = SimpleNamespace(stats={"variables": 1, "constraints": 1, "integer_variables": 0})
        return columns, problem, SolveOutcome(status, "highs", 0.5, None, "the last solve's share"), (1.0, 1.0)

    def unsolved(base: Any, solver_info: SolverInfo, outcome: Any, verify: Any) -> str:
        seen["info"] = solver_info
        return "unsolved"

    monkeypatch.setattr(planning, "_build_and_solve", build_and_solve)
    monkeypatch.setattr(planning, "unsolved_plan", unsolved)
    return seen


def test_a_plan_without_a_solution_names_the_plans_limit_and_the_requested_gap_is_used(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The scenario asks for gap 0.03 (the catalog default is 10⁻⁴); a search stopped without a plan
    says the plan's whole limit (60 s), not the last solve's share."""
    seen = stub_pipeline(monkeypatch, SolveStatus.NO_SOLUTION)
    catalog: Any = SimpleNamespace(defaults=SimpleNamespace(max_periods=10, solver_time_limit_s=30.0,
                                                            solver_gap_rel=1e-4))
    cs: Any = SimpleNamespace(base_score=None, hardware=[])
    assert planning._plan_scenario(scenario(gap_rel=0.03), catalog, None, cs, frozenset()) == "unsolved"  # type: ignore[arg-type]
    assert seen["gap"] == 0.03
    assert seen["info"].message == solvers.no_solution_message(seen["deadline"])
    assert "60 s wall-clock" in seen["info"].message
    seen = stub_pipeline(monkeypatch, SolveStatus.NO_SOLUTION)
    planning._plan_scenario(scenario(), catalog, None, cs, frozenset())  # type: ignore[arg-type]
    assert seen["gap"] == 1e-4


# ------------------------------------------------------------------------ the PuLP path's screening

def screened(best: float, winner: int, status: SolveStatus, proven: set[int], lp: dict[int, float],
             gap: float | None = 0.0) -> Any:
    found = planning._Screened()
    found.best = best
    found.best_problem = (winner, f"model {winner}", SolveOutcome(status, "highs", 1.0, gap, "m"))  # type: ignore[assignment]
    found.proven, found.lp_bounds, found.solved = set(proven), dict(lp), 3
    return found


def test_the_full_model_keeps_every_unproven_variant_whose_bounds_leave_room(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Best $100 (v0, optimal), gap 10⁻⁴: room below 100 × (1 − 10⁻⁴) = $99.99.
    v1: fluid 80 but LP 99.995 → max 99.995, no room; v2: 95, room → kept; v3: 99.99, not below → out;
    v4: 60 but proven (cut off) → out; v0 is the winner → kept.  Kept {0, 2}: the full model is still
    needed (no problem returned)."""
    cols = [column(v) for v in range(5)]
    stats: dict[str, int] = {}
    found = screened(100.0, 0, SolveStatus.OPTIMAL, {0, 4}, {1: 99.995})
    kept, problem, outcome = planning._screened_outcome(cols, {0: 50.0, 1: 80.0, 2: 95.0, 3: 99.99, 4: 60.0},
                                                        found, 1e-4, solvers.Deadline(60.0), stats)
    assert [c.variant for c in kept] == [0, 2] and problem is None and outcome is None
    assert stats == {"variants_screened": 5, "variants_lp_bounded": 1, "variants_solved_alone": 3,
                     "variants_kept": 2}


def test_a_lone_winner_is_reused_only_when_proven_optimal() -> None:
    """Only v0 is left: its optimal single-variant model is the answer; a feasible one is not (the full
    model must be solved again)."""
    bounds = {0: 50.0, 1: 99.995}
    kept, problem, outcome = planning._screened_outcome([column(0), column(1)], bounds,
                                                        screened(100.0, 0, SolveStatus.OPTIMAL, {0}, {}), 1e-4,
                                                        solvers.Deadline(60.0), {})
    assert [c.variant for c in kept] == [0] and problem == "model 0"
    assert outcome is not None and outcome.status == SolveStatus.OPTIMAL
    _kept, problem, outcome = planning._screened_outcome([column(0), column(1)], bounds,
                                                         screened(100.0, 0, SolveStatus.FEASIBLE, set(), {}), 1e-4,
                                                         solvers.Deadline(60.0), {})
    assert problem is None and outcome is None


def test_out_of_time_the_best_single_plan_is_feasible_with_the_gap_to_the_lowest_bound_left() -> None:
    """Best $100 from v0, stopped at its own gap 0.02 → its bound 98.  v2 is left: fluid 95, LP 99 →
    its bound max(95, 99) = 99.  The lowest bound left: min(98, 99) = 98 → gap 1 − 98/100 = 0.02."""
    found = screened(100.0, 0, SolveStatus.FEASIBLE, set(), {2: 99.0}, gap=0.02)
    kept, problem, outcome = planning._screened_outcome([column(0), column(2)], {0: 50.0, 2: 95.0}, found, 1e-4,
                                                        solvers.Deadline(0.0), {})
    assert [c.variant for c in kept] == [0] and problem == "model 0"
    assert outcome is not None and outcome.status == SolveStatus.FEASIBLE
    assert outcome.gap == pytest.approx(0.02)
    assert "while screening variants: the best single-variant plan found, 1 variant(s) not solved" in outcome.message


def stub_screening(monkeypatch: pytest.MonkeyPatch, bounds: dict[int, float], relaxed: dict[int, float],
                   answers: dict[int, tuple[SolveStatus, float | None]]) -> list[tuple[str, int, Any]]:
    """Fluid bounds and LP relaxations (k$) and each single-variant search's answer (status, k$), by variant."""
    calls: list[tuple[str, int, Any]] = []

    def build_problem(sc: Any, cs: Any, restricted: list[Column], *args: Any, **kwargs: Any) -> Any:
        v = restricted[0].variant
        calls.append(("build", v, kwargs.get("compact")))
        _status, cost = answers.get(v, (SolveStatus.ERROR, None))
        return SimpleNamespace(v=v, prob=SimpleNamespace(objective=cost, v=v))

    def lp_bound(prob: Any, name: str, time_limit: float, threads: Any = None) -> float | None:
        return relaxed.get(prob.v)

    def solve(sub: Any, name: str, time_limit: float, gap: float, **kwargs: Any) -> SolveOutcome:
        calls.append(("solve", sub.v, kwargs["cutoff_usd"]))
        return SolveOutcome(answers[sub.v][0], "highs", 0.1, 0.0, "m")

    monkeypatch.setattr(planning, "variant_lower_bounds", lambda *args: dict(bounds))
    monkeypatch.setattr(planning, "build_problem", build_problem)
    monkeypatch.setattr(planning.solvers, "lp_bound", lp_bound)
    monkeypatch.setattr(planning, "solve", solve)
    return calls


def test_the_screening_visits_bounds_in_order_and_searches_below_the_incumbent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Gap 2⁻⁷ (exact in binary).  Fluid bounds $10k, $20k, $30k, $127k.
    v0: LP 90 k$, solved without a cutoff: optimal at 128 k$ — the incumbent.
    v1: LP 95 k$ < 128 × (1 − 2⁻⁷) = 127 k$: searched below the incumbent $128,000: cut off (proven out
    within the gap; below $127,000 it would prove only 127 × (1 − 2⁻⁷)).
    v2: LP 128 k$ ≥ 127 k$: bounded out without a search (its LP bound is in $, 128,000).
    v3: fluid $127k ≥ $127k: never visited.
    Only v0 is left and optimal: its model is the answer.  LP-bounded 3, solved alone 2, kept 1."""
    calls = stub_screening(monkeypatch, {3: 127e3, 1: 20e3, 0: 10e3, 2: 30e3}, {0: 90.0, 1: 95.0, 2: 128.0},
                           {0: (SolveStatus.OPTIMAL, 128.0), 1: (SolveStatus.CUTOFF, 95.5),
                            2: (SolveStatus.OPTIMAL, 129.0), 3: (SolveStatus.OPTIMAL, 130.0)})
    stats: dict[str, int] = {}
    cols = [column(v) for v in range(4)]
    answer: Any = planning._screen_variants(scenario(), None, cols, None, None, None, {}, None, "highs",
                                            solvers.Deadline(60.0), 2.0 ** -7, stats)
    kept, problem, outcome = answer
    assert [c for c in calls if c[0] == "solve"] == [("solve", 0, None), ("solve", 1, 128e3)]
    assert [c[1] for c in calls if c[0] == "build"] == [0, 0, 1, 1, 2]
    assert [c.variant for c in kept] == [0] and problem is not None and problem.v == 0
    assert outcome is not None and outcome.status == SolveStatus.OPTIMAL
    assert stats == {"variants_screened": 4, "variants_lp_bounded": 3, "variants_solved_alone": 2,
                     "variants_kept": 1}


def test_a_variant_stopped_with_a_plan_is_not_proven_and_stays_in_the_full_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """v0's search stops feasible at 130 k$; v1 (LP 95) is then optimal at 128 k$, the new incumbent.
    v0's fluid bound $10k leaves room below 127 k$ and it was not proven: both stay, and the full model
    is solved (no problem returned)."""
    stub_screening(monkeypatch, {0: 10e3, 1: 20e3}, {0: 90.0, 1: 95.0},
                   {0: (SolveStatus.FEASIBLE, 130.0), 1: (SolveStatus.OPTIMAL, 128.0)})
    kept, problem, outcome = planning._screen_variants(scenario(), None, [column(0), column(1)], None, None, None,
                                                       {}, None, "highs", solvers.Deadline(60.0), 2.0 ** -7, {})
    assert [c.variant for c in kept] == [0, 1] and problem is None and outcome is None


def test_a_variant_with_pairs_is_searched_in_the_full_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disaggregated pairs need the traffic shares: the single-variant MILP is not the compact form;
    without pairs (and whole shares) it is."""
    calls = stub_screening(monkeypatch, {}, {}, {0: (SolveStatus.OPTIMAL, 128.0)})
    monkeypatch.setattr(planning, "pair_hook", lambda *args: None)
    found = planning._Screened()
    pairs: Any = [SimpleNamespace(variant=0)]
    planning._solve_alone(scenario(), None, 0, [column(0)], None, None, None, {}, None, "highs",
                          solvers.Deadline(60.0), 1e-4, pairs, found)
    planning._solve_alone(scenario(), None, 0, [column(0)], None, None, None, {}, None, "highs",
                          solvers.Deadline(60.0), 1e-4, None, found)
    assert [c[2] for c in calls if c[0] == "build"] == [None, False, None, True]
    assert found.best == pytest.approx(128e3)


def test_a_badly_scaled_model_is_refused_before_the_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Coefficients from 1 to 2·10⁹ span more than the 10⁹ the solver is trusted with: an error outcome
    naming the span, and no solve; 1 to 10⁹ is solved."""
    span = {"max": 2e9}
    monkeypatch.setattr(planning, "direct_applies", lambda *a: False)
    monkeypatch.setattr(planning, "build_problem", lambda *a, **k: "problem")
    monkeypatch.setattr(planning, "coefficient_range", lambda problem: (1.0, span["max"]))
    monkeypatch.setattr(planning, "solve", lambda *a, **k: SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.0, 0.0, "ok"))
    args: Any = (scenario(max_variants=2), None, [column(0)], None, None, None, {}, None, "highs",
                 solvers.Deadline(60.0), 1e-4, {})
    _cols, _problem, outcome, (cmin, cmax) = planning._build_and_solve(*args)
    assert outcome.status == SolveStatus.ERROR and (cmin, cmax) == (1.0, 2e9)
    assert outcome.message == "coefficients span 1 to 2e+09: too badly scaled to solve reliably"
    span["max"] = 1e9
    assert planning._build_and_solve(*args)[2].status == SolveStatus.OPTIMAL


def test_two_variants_of_a_one_variant_plan_are_screened_and_the_models_pairs_are_the_kept_variants(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """max_variants 1 with variants 0 and 1: the screening runs; it keeps variant 0, so the full model
    holds variant 0's pair only."""
    hooked: list[Any] = []
    monkeypatch.setattr(planning, "direct_applies", lambda *a: False)
    monkeypatch.setattr(planning, "_screen_variants", lambda sc, cs, cols, *a: ([c for c in cols if c.variant == 0],
                                                                                None, None))
    monkeypatch.setattr(planning, "pair_hook", lambda sc, cs, kept, *a: hooked.append(kept))
    monkeypatch.setattr(planning, "build_problem", lambda *a, **k: "problem")
    monkeypatch.setattr(planning, "coefficient_range", lambda problem: (1.0, 1.0))
    monkeypatch.setattr(planning, "solve", lambda *a, **k: SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.0, 0.0, "ok"))
    pairs = [SimpleNamespace(variant=0, n="p0"), SimpleNamespace(variant=1, n="p1")]
    cols, *_ = planning._build_and_solve(scenario(), None, [column(0), column(1)], None, None, None, {}, None,
                                         "highs", solvers.Deadline(60.0), 1e-4, {}, pairs)
    assert [c.variant for c in cols] == [0]
    assert [[k.n for k in kept] for kept in hooked] == [["p0"]]


# --------------------------------------------------------------------- checks before the model

def lead_offer(mode: str, first: int | None) -> Any:
    return SimpleNamespace(mode=mode, may_start=lambda p: first is not None and p >= first)


def test_lead_times_name_the_first_month_any_mode_serves() -> None:
    """Four 3-month periods.  on-demand from period 0, buy from period 2 (month 6), reserved never:
    no finding, and a warning for buy only (reserved never serves: no month to name)."""
    periods: Any = SimpleNamespace(count=4, months=3)
    findings, warnings = planning.lead_time_checks(
        [lead_offer("on-demand", 0), lead_offer("buy", 2), lead_offer("reserved", None)], periods)
    assert findings == [] and len(warnings) == 1 and warnings[0].startswith("buy hardware serves from month 6 ")


def test_no_mode_serving_month_zero_is_a_lead_time_finding() -> None:
    """buy from period 2 (month 6), reserved never (month 4 × 3 = 12): nothing serves months 0-5;
    no warning besides the finding.  buy from period 1: months 0-2."""
    periods: Any = SimpleNamespace(count=4, months=3)
    findings, warnings = planning.lead_time_checks([lead_offer("buy", 2), lead_offer("reserved", None)], periods)
    assert warnings == [] and len(findings) == 1
    assert findings[0].best_achievable == "month 6"
    assert findings[0].message.startswith("no allowed mode can serve months 0-5: buy from month 6, reserved from "
                                          "month 12 (market.lead_time_months)")
    [one], _ = planning.lead_time_checks([lead_offer("buy", 1)], periods)
    assert one.best_achievable == "month 3" and "months 0-2:" in one.message


def test_a_class_no_priced_deployment_serves_is_named_with_the_reason() -> None:
    sc = scenario()
    sc.workload = [Fake(name="a"), Fake(name="b"), Fake(name="c")]
    [finding] = planning._unserved_classes(sc, [column(0, 0), column(0, 2)], excluding=False)  # type: ignore[arg-type]
    assert finding.workload == "b" and finding.message.startswith("class b: every latency- and quality-feasible")
    [finding] = planning._unserved_classes(sc, [column(0, 0), column(0, 2)], excluding=True)  # type: ignore[arg-type]
    assert finding.message == "class b: no variant other than the excluded ones can serve it"


def test_priced_columns_drop_excluded_variants_and_unpriced_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns (variant, hardware) (0,0), (0,1), (1,0): variant 'b' (1) excluded, hardware 1 unpriced →
    only (0, 0) is left, and the counter says 1."""
    cols = [column(0, hardware=0), column(0, hardware=1), column(1, hardware=0)]
    monkeypatch.setattr(pruning, "prune", lambda cs, max_variants, floors: (list(cols), {"kept": 3}))
    cs: Any = SimpleNamespace(variants=[SimpleNamespace(name="a"), SimpleNamespace(name="b")])
    kept, stats = pruning.priced_columns(cs, scenario(), [None], frozenset({"b"}), {0})  # type: ignore[arg-type]
    assert [(c.variant, c.hardware) for c in kept] == [(0, 0)]
    assert stats == {"kept": 3, "columns_with_prices": 1}


def header(monkeypatch: pytest.MonkeyPatch, offers: list[Any], base_score: float | None) -> Any:
    monkeypatch.setattr(planning, "base_training_cost", lambda *a: (None, None))
    monkeypatch.setattr(planning, "latency_and_quality_checks", lambda *a: [])
    cs: Any = SimpleNamespace(plugin_errors={"toy": "boom"}, base_score=base_score,
                              base_model=SimpleNamespace(slug="llama"), exclusions=[], variants=[], workloads=["a"])
    sc = scenario()
    sc.market.modes = ["on-demand", "buy"]
    periods: Any = SimpleNamespace(count=4, months=3)
    demand: Any = SimpleNamespace(queries=np.array([[1.0, 2.0]]))
    catalog: Any = SimpleNamespace(overlays=[])
    return planning._plan_header(sc, catalog, cs, periods, demand, [None], offers, ["b200 buy"])  # type: ignore[arg-type]


def test_the_plan_header_lists_the_warnings_and_finds_a_market_without_prices(
        monkeypatch: pytest.MonkeyPatch) -> None:
    base, findings = header(monkeypatch, [lead_offer("on-demand", 0), lead_offer("buy", 2)], None)
    assert findings == [] and base["total_queries"] == 3.0
    assert base["warnings"][:3] == ["technique plug-in skipped: toy: boom",
                                    "no mmlu score for llama: quality is not constrained (give quality.base_score)",
                                    "not offered: b200 buy"]
    assert base["warnings"][3].startswith("buy hardware serves from month 6")
    base, findings = header(monkeypatch, [lead_offer("buy", 1)], 0.7)
    assert base["warnings"] == ["technique plug-in skipped: toy: boom", "not offered: b200 buy"]
    assert [f.family for f in findings] == ["lead time"]
    _base, findings = header(monkeypatch, [], 0.7)
    assert [f.family for f in findings] == ["price"]
    assert findings[0].message == "no allowed hardware has a price for any allowed mode (on-demand, buy)"


def test_spot_needs_a_spot_price_on_some_hardware() -> None:
    sc = scenario()
    sc.market.modes = ["on-demand", "spot"]
    input_checks.check_spot_priced(sc, [SimpleNamespace(mode="on-demand"), SimpleNamespace(mode="spot")])  # type: ignore[arg-type, list-item]
    with pytest.raises(ScenarioError, match="'spot' is allowed but no allowed hardware has a spot price"):
        input_checks.check_spot_priced(sc, [SimpleNamespace(mode="on-demand")])  # type: ignore[arg-type, list-item]


def test_calibration_warnings_name_pooled_uncalibrated_and_wide_band_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """h1: served by the pooled row → uncalibrated (once, though two variants use it); h2: its own row,
    fp8 not calibrated; h3: band −20 % .. +35 % (0.55 > 0.5) → wide; h4: band exactly 0.5 → nothing;
    h5: a measured line → nothing; h6+h7: a disaggregated line, each pool by its own hardware (h6
    pooled, h7 fine)."""
    rows = {"h1": ("pooled", None, None), "h2": ("h2", None, None), "h3": ("h3", -0.2, 0.35),
            "h4": ("h4", -0.25, 0.25), "h5": ("pooled", None, None), "h6": ("pooled", None, None),
            "h7": ("h7", None, None)}
    catalog: Any = SimpleNamespace(
        efficiency_for=lambda hw, prec: SimpleNamespace(hardware=rows[hw][0], precision="fp8", error_p10=rows[hw][1],
                                                        error_p90=rows[hw][2]),
        get_hardware=lambda hw: hw)
    monkeypatch.setattr(planning, "calibrated", lambda row, hw, prec, catalog: hw != "h2")
    cs: Any = SimpleNamespace(variants=[SimpleNamespace(name=n, profiles={"w": SimpleNamespace(precision="fp8")})
                                        for n in ("a", "b")])

    def line(hw: str, variant: str = "a", measured: bool = False, pools: tuple[str, str] | None = None) -> Any:
        pool = (lambda h: SimpleNamespace(hardware=h))
        return SimpleNamespace(hardware=hw, variant=variant, measured=measured,
                               prefill=pool(pools[0]) if pools else None, decode=pool(pools[1]) if pools else None)

    served: Any = SimpleNamespace(serving=[line("h1"), line("h1", "b"), line("h2"), line("h3"), line("h4"),
                                           line("h5", measured=True), line("h6+h7", pools=("h6", "h7"))])
    out = planning.calibration_warnings(served, cs, catalog)
    assert out == [
        ("h1 is uncalibrated: its throughput uses the pooled efficiency row pooled/fp8 (no published measurement "
         "of h1 in the fit)"),
        ("h2 fp8 is uncalibrated: no published fp8 measurement on h2; its throughput uses the h2/fp8 row fitted on "
         "the hardware's native formats"),
        "h3 fp8: wide held-out error band (-20% .. +35% speed error)",
        ("h6 is uncalibrated: its throughput uses the pooled efficiency row pooled/fp8 (no published measurement "
         "of h6 in the fit)")]


# -------------------------------------------------------------------------------- the direct path

def stub_direct(monkeypatch: pytest.MonkeyPatch, single: DirectOutcome | None) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(direct_path, "model_data", lambda *a, **k: "data")
    monkeypatch.setattr(direct_path, "class_lower_bounds", lambda *a: {})
    monkeypatch.setattr(direct_path, "variant_lower_bounds", lambda *a: {0: 5.0, 1: 4.0, 2: 6.0})
    monkeypatch.setattr(direct_path, "meets_floors", lambda cs, v, floors: v != 1)

    def screen_single(data: Any, singles: dict[int, float], *args: Any) -> Any:
        seen["singles"] = singles
        return None if single is None else (0, SimpleNamespace(variants=[0]), single)

    def build_problem(*args: Any, **kwargs: Any) -> str:
        seen["compact"] = kwargs["compact"]
        return "problem"

    monkeypatch.setattr(direct_path, "screen_single", screen_single)
    monkeypatch.setattr(direct_path, "build_problem", build_problem)
    monkeypatch.setattr(direct_path, "load_solution", lambda *a: None)
    return seen


def direct_args(max_variants: int) -> Any:
    return (scenario(max_variants=max_variants), None, [column(0), column(1), column(2)], None, None, None, {},
            None, "highs", solvers.Deadline(60.0), 1e-4, {})


def test_the_direct_path_screens_only_variants_meeting_every_floor_and_carries_the_outcome(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Variant 1 misses a floor: only 0 and 2 are screened.  The winner (variant 0) is loaded onto its
    compact PuLP model, with its status, time, gap, message and bound."""
    single = DirectOutcome(SolveStatus.FEASIBLE, 1.5, 100.0, 99.0, 0.01, np.zeros(1), "stopped")
    seen = stub_direct(monkeypatch, single)
    found = direct_path.solve_direct(*direct_args(1))
    assert seen["singles"] == {0: 5.0, 2: 6.0} and seen["compact"] is True
    assert found is not None
    kept, problem, outcome = found
    assert [c.variant for c in kept] == [0] and problem == "problem"
    assert outcome == SolveOutcome(SolveStatus.FEASIBLE, "highs", 1.5, 0.01, "stopped", 99.0)
    seen = stub_direct(monkeypatch, DirectOutcome(SolveStatus.NO_SOLUTION, 1.0, None, None, None, None, "none"))
    assert direct_path.solve_direct(*direct_args(1)) is None


def test_the_pair_screening_starts_from_the_single_plan_in_dollars_and_a_pair_win_is_the_full_form(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The single plan costs 100 k$: the pair screening's incumbent is $100,000.  A pair wins: its model
    (variants 0 and 2) is loaded on the full form, and its status is judged as a pair win."""
    import planner.optimize.pairs as pairs_module

    seen = stub_direct(monkeypatch, DirectOutcome(SolveStatus.OPTIMAL, 1.0, 100.0, 100.0, 0.0, np.zeros(1), "ok"))
    pair_outcome = DirectOutcome(SolveStatus.OPTIMAL, 2.0, 90.0, 90.0, 0.0, np.zeros(1), "pair")

    def screen_pairs(data: Any, ell: Any, best_usd: float, *args: Any) -> Any:
        seen["best_usd"] = best_usd
        return SimpleNamespace(pair=(0, 2), model=SimpleNamespace(variants=[0, 2]), outcome=pair_outcome,
                               pairs_bounded=1, pairs_solved=1)

    def pair_status(outcome: DirectOutcome, pairs: Any, single_open: float | None, *args: Any) -> DirectOutcome:
        seen["single_open"] = single_open
        return outcome

    monkeypatch.setattr(pairs_module, "screen_pairs", screen_pairs)
    monkeypatch.setattr(direct_path, "_pair_status", pair_status)
    found = direct_path.solve_direct(*direct_args(2))
    # the single screening was proven (optimal): nothing left open beside the pair's answer
    assert seen["best_usd"] == pytest.approx(1e5) and seen["single_open"] is None and seen["compact"] is False
    assert found is not None and [c.variant for c in found[0]] == [0, 2] and found[2].message == "pair"


def test_a_single_plan_matching_the_pair_bound_left_within_the_gap_is_optimal() -> None:
    """The single plan (100 k$, optimal) won; a pair was left at 99.99 k$: gap 1 − 99.99/100 = 10⁻⁴ ≤
    10⁻⁴ → optimal (the single search is proven though the pair did not win)."""
    plan_outcome = DirectOutcome(SolveStatus.OPTIMAL, 1.0, 100.0, 100.0, 0.0, np.zeros(1), "ok")
    pairs: Any = SimpleNamespace(proven=False, lowest_open_bound=99.99)
    answer = direct_path._pair_status(plan_outcome, pairs, None, 1e-4 + 1e-12, solvers.Deadline(60.0))
    assert answer.status == SolveStatus.OPTIMAL and answer.bound == 99.99
    # exactly at the gap, in binary: 128 k$ against a pair left at 127 k$, gap 2⁻⁷ = 1 − 127/128
    at_gap = dataclasses.replace(plan_outcome, objective=128.0, bound=128.0)
    open_pair: Any = SimpleNamespace(proven=False, lowest_open_bound=127.0)
    answer = direct_path._pair_status(at_gap, open_pair, None, 2.0 ** -7, solvers.Deadline(60.0))
    assert answer.status == SolveStatus.OPTIMAL and answer.gap == 2.0 ** -7
    pairs = SimpleNamespace(proven=True, lowest_open_bound=None)
    pair_win = DirectOutcome(SolveStatus.FEASIBLE, 1.0, 100.0, 99.0, 0.01, np.zeros(1), "stopped")
    answer = direct_path._pair_status(pair_win, pairs, None, 1e-4, solvers.Deadline(60.0))
    assert answer.status == SolveStatus.FEASIBLE and answer.gap == pytest.approx(0.01)


def test_a_pair_win_is_optimal_only_where_the_single_screening_left_nothing_open_below_it() -> None:
    """The single screening stopped at its node limit (best single plan 100 k$, a variant left at 80 k$),
    then a pair at 95 k$ was found and every pair closed: a single variant may still hold a plan between
    80 and 95 k$ (pairs use both variants), so the plan is feasible with bound 80 and gap 1 − 80/95,
    not optimal (it was).  With the singles proven (nothing open) the pair's own proof stands."""
    single = (0, None, DirectOutcome(SolveStatus.FEASIBLE, 1.0, 100.0, 80.0, 0.2, np.zeros(1), "node limit"))
    single_open = direct_path._single_open_bound(single, {0: 70_000.0})  # type: ignore[arg-type]
    assert single_open == 80.0
    pair = DirectOutcome(SolveStatus.OPTIMAL, 1.0, 95.0, 95.0, 0.0, np.zeros(1), "optimal")
    closed: Any = SimpleNamespace(proven=True, lowest_open_bound=None)
    answer = direct_path._pair_status(pair, closed, single_open, 1e-4, solvers.Deadline(60.0))
    assert (answer.status, answer.bound) == (SolveStatus.FEASIBLE, 80.0)
    assert answer.gap == pytest.approx(1.0 - 80.0 / 95.0)
    assert direct_path._pair_status(pair, closed, None, 1e-4, solvers.Deadline(60.0)) is pair
    # no single plan found: the variants' own bounds (USD) are what is open, unless none meets every floor
    assert direct_path._single_open_bound(None, {0: 70_000.0, 1: math.inf}) == 70.0
    assert direct_path._single_open_bound(None, {}) is None
    proven = (0, None, DirectOutcome(SolveStatus.OPTIMAL, 1.0, 100.0, 100.0, 0.0, np.zeros(1), "ok"))
    assert direct_path._single_open_bound(proven, {0: 70_000.0}) is None  # type: ignore[arg-type]


def test_a_single_plan_of_a_two_variant_scenario_keeps_the_full_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """max_variants 2 and no pair beats the single plan: the winner is one variant, but its PuLP model
    is the full form (the compact one is only for max_variants 1)."""
    import planner.optimize.pairs as pairs_module

    seen = stub_direct(monkeypatch, DirectOutcome(SolveStatus.OPTIMAL, 1.0, 100.0, 100.0, 0.0, np.zeros(1), "ok"))
    monkeypatch.setattr(pairs_module, "screen_pairs", lambda *a: SimpleNamespace(
        pair=None, model=None, outcome=None, pairs_bounded=0, pairs_solved=0, proven=True, lowest_open_bound=None))
    found = direct_path.solve_direct(*direct_args(2))
    assert found is not None and [c.variant for c in found[0]] == [0] and seen["compact"] is False


def test_with_disaggregated_pairs_the_pair_screening_reads_the_lower_class_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Co-located ℓ_{0,0} = [5, 7] and pair ℓ_{0,0} = [6, 3]: the pair screening gets the lower per
    period, [5, 3]; variant 1 has only a pair bound, [4, 4], taken as it is."""
    import planner.optimize.pairs as pairs_module
    from planner.optimize import disagg_milp

    seen = stub_direct(monkeypatch, None)
    monkeypatch.setattr(direct_path, "class_lower_bounds", lambda *a: {(0, 0): np.array([5.0, 7.0])})
    monkeypatch.setattr(disagg_milp, "pair_class_lower_bounds",
                        lambda *a: {(0, 0): np.array([6.0, 3.0]), (1, 0): np.array([4.0, 4.0])})
    monkeypatch.setattr(disagg_milp, "variant_lower_bounds_with_pairs", lambda *a: {0: 5.0})

    def screen_pairs(data: Any, ell: Any, best_usd: float, *args: Any) -> Any:
        seen["ell"] = {k: v.tolist() for k, v in ell.items()}
        seen["best_usd"] = best_usd
        return SimpleNamespace(pair=None, model=None, outcome=None, pairs_bounded=0, pairs_solved=0)

    monkeypatch.setattr(pairs_module, "screen_pairs", screen_pairs)
    args = list(direct_args(2))
    sc: Any = args[0]
    sc.workload = [Fake(name="w")]
    cs: Any = SimpleNamespace(workloads=["w"])
    args[1] = cs
    assert direct_path.solve_direct(*args, None, ["pair columns"]) is None  # type: ignore[call-arg]
    assert seen["ell"] == {(0, 0): [5.0, 3.0], (1, 0): [4.0, 4.0]}
    assert seen["best_usd"] == np.inf and seen["singles"] == {0: 5.0}


# ------------------------------------------------------------------ writing the winner back (screening)

def test_the_written_back_plan_uses_only_the_direct_models_variants() -> None:
    """y_v = 1 for the variants of the direct model (here variant 1 only), 0 for the others."""
    from planner.optimize.screening import load_solution

    y = {v: pulp.LpVariable(f"y_{v}", 0, 1, cat=pulp.LpBinary) for v in range(3)}
    problem: Any = SimpleNamespace(prob=pulp.LpProblem("w"), y=y, r={}, periods=1, servers={}, n={}, compact=True)
    model: Any = SimpleNamespace(variants=[1], columns=[], offers=[], acquisitions=lambda values: [], spares={})
    load_solution(problem, model, np.zeros(1))
    assert [y[v].varValue for v in range(3)] == [0.0, 1.0, 0.0]


def fill(values: list[float], x: dict[tuple[int, int, int], int] | None = None, pair_x: int | None = None) -> Any:
    """Two columns of variant 0 for class 0 in one period, each 2 replicas per unit share, with 3 and 4
    replicas (values[0], values[1]); an optional pair of the same class whose share is values[pair_x]."""
    from planner.optimize.screening import _fill_shares

    problem: Any = SimpleNamespace(columns=[column(0), column(0)], periods=1,
                                   coef={"capacity": {(0, 0): 2.0, (1, 0): 2.0}})
    model: Any = SimpleNamespace(x=x or {}, r={(0, 0): 0, (1, 0): 1}, pair_x={(0, 0): pair_x})
    pairs: Any = [] if pair_x is None else [SimpleNamespace(variant=0, workload=0)]
    return _fill_shares(problem, model, np.array(values), pairs)


def test_columns_fill_the_class_in_order_each_up_to_its_replicas() -> None:
    """One variant: the class is served whole.  Column 0 can carry 3/2 = 1.5 of it but only 1 is left:
    it serves 1, column 1 nothing.  A pair share of 0.25 comes first: column 0 then serves 0.75.  A pair
    share of 1.2 is cut to the 1 there is; with aggregated shares x_{0,0,0} = 0.6, column 0 serves 0.6."""
    assert fill([3.0, 4.0]) == ({}, {(0, 0): 1.0, (1, 0): 0.0})
    assert fill([3.0, 4.0, 0.25], pair_x=2) == ({(0, 0): 0.25}, {(0, 0): 0.75, (1, 0): 0.0})
    assert fill([3.0, 4.0, 1.2], pair_x=2) == ({(0, 0): 1.0}, {(0, 0): 0.0, (1, 0): 0.0})
    assert fill([3.0, 4.0, 0.6], x={(0, 0, 0): 2}) == ({}, {(0, 0): pytest.approx(0.6), (1, 0): 0.0})


def test_a_variant_whose_search_ends_without_a_plan_leaves_its_bound_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fluid bounds 10 and 50 k$.  v0 is proven optimal at 100 k$; v1 (50 < 100 × (1 − 10⁻⁴)) is searched
    below it and stops without a plan or a dual bound: nothing proves it out, so its fluid bound 50 stays
    open.  The plan is feasible, bound 50, gap 1 − 50/100 = 0.5 — not optimal."""
    from planner.optimize import screening

    answers = {0: DirectOutcome(SolveStatus.OPTIMAL, 0.0, 100.0, 100.0, 0.0, np.zeros(1), "optimal"),
               1: DirectOutcome(SolveStatus.NO_SOLUTION, 0.0, None, None, None, None, "stopped")}
    monkeypatch.setattr(screening, "build", lambda data, variants: SimpleNamespace(v=variants[0]))
    monkeypatch.setattr(screening, "scaling_refusal", lambda model: None)
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
    monkeypatch.setattr(screening, "solve_model", lambda model, *a, **k: answers[model.v])
    monkeypatch.setattr(screening, "_prepare_near_ties", lambda *args: {})
    monkeypatch.setattr(screening, "union_proof", lambda *args: {})
    monkeypatch.setattr(screening, "proof_waves", lambda *args: {})
    found = screening.screen_single(None, {0: 10e3, 1: 50e3}, solvers.Deadline(60.0), 1e-4, None, {})  # type: ignore[arg-type]
    assert found is not None
    v, _model, answer = found
    assert v == 0 and answer.status == SolveStatus.FEASIBLE
    assert answer.bound == 50.0 and answer.gap == pytest.approx(0.5)
    assert answer.message.endswith("1 variant(s) not proven out")


def test_a_screening_without_a_plan_keeps_no_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both variants are infeasible alone: no plan, and the counters say 2 screened, 2 searched, 0 kept."""
    from planner.optimize import screening

    infeasible = DirectOutcome(SolveStatus.INFEASIBLE, 0.0, None, None, None, None, "infeasible")
    monkeypatch.setattr(screening, "build", lambda data, variants: SimpleNamespace(v=variants[0]))
    monkeypatch.setattr(screening, "scaling_refusal", lambda model: None)
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
    monkeypatch.setattr(screening, "solve_model", lambda model, *a, **k: infeasible)
    monkeypatch.setattr(screening, "_prepare_near_ties", lambda *args: {})
    monkeypatch.setattr(screening, "union_proof", lambda *args: {})
    monkeypatch.setattr(screening, "proof_waves", lambda *args: {})
    stats: dict[str, int] = {}
    assert screening.screen_single(None, {0: 10e3, 1: 50e3}, solvers.Deadline(60.0), 1e-4, None, stats) is None  # type: ignore[arg-type]
    assert stats["variants_screened"] == 2 and stats["variants_solved_alone"] == 2 and stats["variants_kept"] == 0


def test_a_variant_is_searched_below_the_incumbent_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Incumbent 128 k$, gap 2⁻⁷: the search's cutoff is 128 k$ itself (HiGHS's "nothing below 128"
    proves 128 × (1 − 2⁻⁷) = 127, the gap the winner is labelled with), the memo is asked whether it
    already proves 127 (exact in binary) and records the answer under the cutoff 128; with no
    incumbent there is no cutoff."""
    from planner.optimize import screening

    cutoffs: list[float | None] = []
    recorded: list[float | None] = []
    cut = DirectOutcome(SolveStatus.CUTOFF, 0.0, None, None, None, None, "cut off")
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)

    def solve_model(model: Any, *a: Any, **k: Any) -> DirectOutcome:
        cutoffs.append(k["cutoff"])
        return cut

    monkeypatch.setattr(screening, "solve_model", solve_model)
    asked: list[float | None] = []
    memo: Any = SimpleNamespace(lookup=lambda model, gap, cutoff: asked.append(cutoff),
                                record=lambda model, gap, cutoff, outcome: recorded.append(cutoff))
    model: Any = SimpleNamespace()
    for best in (128.0, np.inf):
        outcome, fresh = screening._answer(None, 0, model, best, solvers.Deadline(60.0), 2.0 ** -7, None, None,  # type: ignore[arg-type]
                                           {}, memo)
        assert outcome is cut and fresh
    assert cutoffs == [128.0, None] and recorded == [128.0, None] and asked == [127.0, None]


def test_the_memos_first_incumbent_is_its_cheapest_proven_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo holds answers of 120, 100 and 110 k$ for variants 0, 1, 2: variant 1's is the incumbent."""
    from planner.optimize import screening

    known = {v: DirectOutcome(SolveStatus.OPTIMAL, 0.0, cost, cost, 0.0, np.zeros(1), "memo")
             for v, cost in {0: 120.0, 1: 100.0, 2: 110.0}.items()}
    monkeypatch.setattr(screening, "build", lambda data, variants: SimpleNamespace(v=variants[0]))
    memo: Any = SimpleNamespace(entries=[1], solution=lambda model, gap: known[model.v])
    built: dict[int, Any] = {}
    winner = screening._memo_incumbent(None, {0: 1.0, 1: 2.0, 2: 3.0}, built, 1e-4, memo)  # type: ignore[arg-type]
    assert winner is not None and winner[0] == 1 and winner[2].objective == 100.0
    assert sorted(built) == [0, 1, 2]


def test_a_badly_scaled_variant_model_ends_the_screening_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """v0 is proven at 100 k$; v1's model is refused as badly scaled: the screening answers with v1's
    error (the refusal as its message) rather than searching it or dropping it."""
    from planner.optimize import screening

    searched: list[int] = []

    def solve_model(model: Any, *a: Any, **k: Any) -> DirectOutcome:
        searched.append(model.v)
        return DirectOutcome(SolveStatus.OPTIMAL, 0.0, 100.0, 100.0, 0.0, np.zeros(1), "optimal")

    monkeypatch.setattr(screening, "build", lambda data, variants: SimpleNamespace(v=variants[0]))
    monkeypatch.setattr(screening, "scaling_refusal", lambda model: "coefficients span 1 to 1e12" if model.v else None)
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
    monkeypatch.setattr(screening, "solve_model", solve_model)
    monkeypatch.setattr(screening, "_prepare_near_ties", lambda *args: {})
    monkeypatch.setattr(screening, "union_proof", lambda *args: {})
    monkeypatch.setattr(screening, "proof_waves", lambda *args: {})
    found = screening.screen_single(None, {0: 10e3, 1: 50e3}, solvers.Deadline(60.0), 1e-4, None, {})  # type: ignore[arg-type]
    assert found is not None and found[0] == 1 and searched == [0]
    assert found[2].status == SolveStatus.ERROR and found[2].message == "coefficients span 1 to 1e12"


def test_a_variant_the_memo_decides_gets_no_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo already holds v0's answer below the (absent) cutoff: only v1 is prepared."""
    from planner.optimize import screening
    from planner.optimize.direct_solve import Prepared

    prepared: list[int] = []

    def prepare(model: Any, *a: Any, **k: Any) -> Prepared:
        prepared.append(model.v)
        return Prepared(relaxed=DirectOutcome(SolveStatus.OPTIMAL, 0.0, 90.0, 90.0, 0.0, None, "lp"), start=None,
                        seconds=0.0)

    monkeypatch.setattr(screening, "build", lambda data, variants: SimpleNamespace(v=variants[0]))
    monkeypatch.setattr(screening, "scaling_refusal", lambda model: None)
    monkeypatch.setattr(screening, "offer_unit_sizes", lambda data, model: None)
    monkeypatch.setattr(screening, "_carried_start", lambda *args: None)
    monkeypatch.setattr(screening, "prepare", prepare)
    memo: Any = SimpleNamespace(lookup=lambda model, gap, cutoff: "known" if model.v == 0 else None)
    out = screening._prepare_near_ties(None, {0: 10e3, 1: 20e3}, {}, solvers.Deadline(60.0), 1e-4, None,  # type: ignore[arg-type]
                                       np.inf, memo)
    assert sorted(out) == [1] and prepared == [1]
