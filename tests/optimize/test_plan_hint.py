"""A known plan as the floor of a re-solve (:mod:`planner.optimize.plan_hint`): its deployments re-priced
in a changed scenario they still serve, taken where the search stopped at a dearer plan; never where they
no longer serve it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.insight.resolve import aux_scenario, modified
from planner.optimize import direct_path
from planner.optimize.direct_solve import DirectOutcome
from planner.optimize.plan_hint import no_dearer_than
from planner.optimize.planning import plan_scenario
from planner.optimize.solver import SolveStatus

#: The demo cut to a year of H200-free quarters with purchases in service at once (an energy line to re-price).
SMALL = ["horizon.months=12", "horizon.period_months=3", 'market.hardware=["h100-sxm"]',
         "market.lead_time_months.buy=0"]
#: How much dearer the stubbed search's answer claims to be (a search stopped within the re-solves' gap).
DEARER = 1.02


@pytest.fixture(scope="module")
def base(catalog: Catalog) -> tuple[planner.Scenario, Any]:
    sc = planner.load_scenario(planner.demo_scenario_path(), SMALL)
    plan = plan_scenario(sc, catalog)
    assert plan.status == "optimal" and plan.cost_breakdown is not None and plan.cost_breakdown.energy_usd > 0
    return sc, plan


def _dearer_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The screening's answer reads 2 % dearer than it is, as a search stopped at a dearer plan would."""
    real = direct_path.screen_single

    def screen_single(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        if found is None or found[2].objective is None:
            return found
        v, model, outcome = found
        return v, model, DirectOutcome(outcome.status, outcome.seconds, outcome.objective * DEARER, outcome.bound,
                                       outcome.gap, outcome.values, outcome.message)

    monkeypatch.setattr(direct_path, "screen_single", screen_single)


def test_a_price_change_keeps_the_plan_re_priced_where_the_search_is_dearer(  # type: ignore[no-untyped-def]
        catalog, base, monkeypatch) -> None:
    """Electricity +20 %: the plan's replicas still serve, so the answer is never above the plan re-priced
    by hand, cost + 0.2 × its energy line; the stubbed search claims more, the hint is taken (and says so)."""
    sc, plan = base
    kwh = catalog.defaults.electricity_usd_per_kwh
    dearer = aux_scenario(modified(sc, [f"market.electricity_usd_per_kwh={kwh * 1.2!r}"]))
    _dearer_search(monkeypatch)
    hinted = plan_scenario(dearer, catalog, hint=plan)
    assert hinted.status == "optimal" and "re-priced" in hinted.message
    assert hinted.lifetime_cost_usd == pytest.approx(plan.lifetime_cost_usd + 0.2 * plan.cost_breakdown.energy_usd,
                                                     rel=1e-9)
    assert {(s.period, s.hardware, s.tp, s.replicas) for s in hinted.serving} == \
        {(s.period, s.hardware, s.tp, s.replicas) for s in plan.serving}
    assert "re-priced" not in plan_scenario(dearer, catalog).message  # no hint, no floor


def test_a_plan_that_no_longer_serves_is_no_floor(catalog, base, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Demand +20 %: the plan's replicas cannot carry it, the fixed model is infeasible, nothing is taken."""
    sc, plan = base
    busier = aux_scenario(modified(sc, [f"workload.{w.name}.queries_per_day={w.queries_per_day * 1.2!r}"
                                        for w in sc.workload]))
    _dearer_search(monkeypatch)
    hinted = plan_scenario(busier, catalog, hint=plan)
    assert hinted.lifetime_cost_usd is not None and "re-priced" not in hinted.message


def outcome(status: SolveStatus, objective: float | None, bound: float | None, values: float = 0.0) -> DirectOutcome:
    return DirectOutcome(status, 1.0, objective, bound, None, None if objective is None else np.array([values]), "m")


def test_the_cheaper_plan_keeps_the_answers_status_and_bound() -> None:
    """Found 100 k$ optimal with bound 99.6; a hint at 99.8 replaces it, optimal, bound 99.6, gap 1 − 99.6/99.8;
    a hint at 100 or above leaves it; a feasible answer stays feasible; no answer, nothing to compare."""
    model: Any = object()
    found = (3, model, outcome(SolveStatus.OPTIMAL, 100.0, 99.6))
    v, _m, kept = no_dearer_than(found, (5, model, outcome(SolveStatus.OPTIMAL, 99.8, None, values=7.0))) or found
    assert (v, kept.status, kept.objective, kept.bound) == (5, SolveStatus.OPTIMAL, 99.8, 99.6)
    assert kept.gap == pytest.approx(1 - 99.6 / 99.8) and kept.values is not None and kept.values[0] == 7.0
    assert no_dearer_than(found, (5, model, outcome(SolveStatus.OPTIMAL, 100.0, None))) is found
    stopped = (3, model, outcome(SolveStatus.FEASIBLE, 100.0, 90.0))
    answer = no_dearer_than(stopped, (5, model, outcome(SolveStatus.OPTIMAL, 95.0, None)))
    assert answer is not None and answer[2].status == SolveStatus.FEASIBLE and answer[2].bound == 90.0
    assert no_dearer_than(None, (5, model, outcome(SolveStatus.OPTIMAL, 95.0, None))) is None
    assert no_dearer_than(found, None) is found


class InProcessBatch:
    """``Batch`` in this process, recording each job's label and hint (the real one spawns workers)."""

    def __init__(self, workers: int, progress: Any) -> None:
        self.jobs: list[tuple[str, Any, Any, Any]] = []
        RECORDED.append(self)

    def __enter__(self) -> InProcessBatch:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def submit(self, scenario: planner.Scenario, catalog: Catalog, label: str, hint: Any = None) -> int:
        self.jobs.append((label, scenario, catalog, hint))
        return len(self.jobs) - 1

    def result(self, index: int) -> Any:
        _label, scenario, catalog, hint = self.jobs[index]
        return plan_scenario(scenario, catalog, hint=hint)


RECORDED: list[InProcessBatch] = []


def test_explain_gives_its_plan_to_every_what_if_it_may_still_serve(  # type: ignore[no-untyped-def]
        catalog, base, monkeypatch) -> None:
    """The sensitivity ends and service levels are given the plan (the baseline, another technique set,
    is not), so the electricity row is never above the plan re-priced by hand: cost ± 0.2 × energy."""
    from planner.insight import explanation

    sc, _plan = base
    monkeypatch.setattr(explanation, "Batch", InProcessBatch)
    RECORDED.clear()
    e = explanation.explain(sc, catalog, alternatives=0, workers=1)
    [batch] = RECORDED
    plan = e.plan
    assert plan.lifetime_cost_usd is not None and plan.cost_breakdown is not None
    hints = {label.split(":")[0]: hint for label, _sc, _cat, hint in batch.jobs}
    assert hints["baseline"] is None and hints["sensitivity"] is plan
    assert all(hint is plan for label, _sc, _cat, hint in batch.jobs if not label.startswith("baseline"))
    [row] = [r for r in e.sensitivity if r.input == "electricity price"]
    energy = plan.cost_breakdown.energy_usd
    assert row.cost_low_usd is not None and row.cost_high_usd is not None
    assert row.cost_low_usd <= plan.lifetime_cost_usd - 0.2 * energy + 1e-6
    assert row.cost_high_usd <= plan.lifetime_cost_usd + 0.2 * energy + 1e-6
