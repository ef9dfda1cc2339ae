"""The proof's search under a node limit (:func:`planner.optimize.direct_solve.proof_search`): a share of
the nodes with HiGHS's improvement heuristics off, then, outside the gap, a search with them on from the
best plan found; the two runs' answers combined without claiming more than either proved."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from planner.optimize import direct_solve
from planner.optimize import solver as solvers
from planner.optimize.direct import DirectModel, build
from planner.optimize.direct_solve import DirectOutcome, proof_search
from planner.optimize.solver import SolveStatus
from tests.optimize.test_direct import synthetic

GAP = 0.005


def _model() -> DirectModel:
    return build(synthetic(np.random.default_rng(3), periods=2), [0])


def _scripted(monkeypatch: pytest.MonkeyPatch, outcomes: list[DirectOutcome]) -> list[dict[str, Any]]:
    """``run_highs`` replaced by one that returns ``outcomes`` in turn and records each call's options."""
    calls: list[dict[str, Any]] = []

    def run_highs(model: DirectModel, time_limit_s: float, gap_rel: float, **kwargs: Any) -> DirectOutcome:
        calls.append(kwargs)
        return outcomes[len(calls) - 1]

    monkeypatch.setattr(direct_solve, "run_highs", run_highs)
    return calls


def _stopped(objective: float, bound: float, values: np.ndarray) -> DirectOutcome:
    return DirectOutcome(SolveStatus.FEASIBLE, 1.0, objective, bound, 1 - bound / objective, values,
                         solvers.NODE_LIMIT_MESSAGE)


def test_a_search_stopped_outside_the_gap_continues_with_heuristics_from_its_plan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """First search: heuristics off, a quarter of the node limit; stopped at [100, 104] (3.8 %), so a
    second search runs with the heuristics on, from the first's plan, with the whole node limit and the
    same cutoff.  Its plan (101) is kept with the higher of the two bounds (100.6 > 100.2): proven
    within 0.5 %."""
    model = _model()
    first_plan, second_plan = np.zeros(model.num_col), np.ones(model.num_col)
    calls = _scripted(monkeypatch, [_stopped(104.0, 100.6, first_plan), _stopped(101.0, 100.2, second_plan)])
    out = proof_search(model, solvers.Deadline(60.0, node_limit=2_000), GAP, None, first_plan, cutoff=500.0)
    assert [c["heuristics"] for c in calls] == [False, True]
    assert [c["node_limit"] for c in calls] == [math.ceil(2_000 * direct_solve.FIRST_SEARCH_NODE_SHARE), 2_000]
    assert calls[1]["start"] is first_plan and calls[0]["cutoff"] == calls[1]["cutoff"] == 500.0
    assert out.status == SolveStatus.OPTIMAL and out.objective == 101.0 and out.values is second_plan
    assert out.bound == 100.6 and out.gap == pytest.approx(1 - 100.6 / 101.0)


def test_the_continuation_keeps_the_first_plan_when_it_is_cheaper_and_stays_feasible_outside_the_gap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model()
    first_plan, second_plan = np.zeros(model.num_col), np.ones(model.num_col)
    _scripted(monkeypatch, [_stopped(104.0, 95.0, first_plan), _stopped(105.0, 96.0, second_plan)])
    out = proof_search(model, solvers.Deadline(60.0, node_limit=100), GAP, None, first_plan)
    assert out.status == SolveStatus.FEASIBLE and out.objective == 104.0 and out.values is first_plan
    assert out.bound == 96.0


@pytest.mark.parametrize("node_limit", [None, 2_000])
def test_one_search_when_there_is_no_node_limit_or_the_first_closes_the_gap(monkeypatch: pytest.MonkeyPatch,
                                                                            node_limit: int | None) -> None:
    """Without a node limit the search is the plan's own, whole (the time limit leaves nothing to
    continue with); with one, a first search inside the gap is the answer."""
    model = _model()
    plan = np.zeros(model.num_col)
    inside = DirectOutcome(SolveStatus.OPTIMAL, 1.0, 100.0, 99.9, 0.001, plan, "optimal")
    stopped = _stopped(104.0, 100.0, plan)
    calls = _scripted(monkeypatch, [inside if node_limit else stopped])
    out = proof_search(model, solvers.Deadline(60.0, node_limit=node_limit), GAP, None, plan)
    assert len(calls) == 1 and calls[0]["heuristics"] is False
    assert calls[0]["node_limit"] == (None if node_limit is None else 500)
    assert out is (inside if node_limit else stopped)


def test_a_node_limited_demo_continues_and_brackets_its_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo with one node per MILP: its twins' union search stops at once, outside the gap, and is
    continued (spied); the plan's interval ``[cost·(1 − gap), cost]`` still holds the demo's optimum,
    solved here without a node limit."""
    import planner

    continued: list[DirectOutcome] = []
    real = direct_solve.continue_with_heuristics

    def spy(model: DirectModel, outcome: DirectOutcome, *args: Any, **kwargs: Any) -> DirectOutcome:
        if outcome.status == SolveStatus.FEASIBLE:
            continued.append(outcome)
        return real(model, outcome, *args, **kwargs)

    monkeypatch.setattr(direct_solve, "continue_with_heuristics", spy)
    optimum = planner.plan(planner.load_scenario(planner.demo_scenario_path()))
    assert optimum.status == "optimal" and optimum.lifetime_cost_usd is not None and not continued
    stopped = planner.plan(planner.load_scenario(planner.demo_scenario_path(), ["solver.node_limit=1"]))
    assert continued  # a search stopped outside the gap went on with the heuristics
    assert stopped.status == "feasible" and stopped.lifetime_cost_usd is not None and stopped.solver is not None
    assert stopped.solver.gap is not None and optimum.solver is not None and optimum.solver.gap is not None
    # the optimum z* lies in [cost·(1 − gap), cost] of the proven plan; the stopped plan's interval must hold it
    assert stopped.lifetime_cost_usd >= optimum.lifetime_cost_usd * (1 - optimum.solver.gap) * (1 - 1e-12)
    assert stopped.lifetime_cost_usd * (1 - stopped.solver.gap) <= optimum.lifetime_cost_usd * (1 + 1e-12)
