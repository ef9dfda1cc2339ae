"""The refusals found before any model is built (:mod:`planner.optimize.input_checks`) are the
estimator view's too: for each, ``whatif plan`` and ``--estimator-view`` exit 2 on the same field (until
2026-12-08 the view printed an empty table with exit 0 for spot without a spot price)."""

from __future__ import annotations

from typing import Any

import pytest

from planner.catalog.store import Catalog
from planner.errors import ScenarioError
from planner.api import preview
from planner.optimize.planning import plan_scenario
from tests.optimize.test_candidates_hand_figures import scenario

BURST = [3.0] * 8 + [0.0] * 16
RAMP = [float(h + 1) for h in range(24)]  # every hour different: each of 4 slices holds uneven hours

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("spot priced for no allowed hardware", {"market": {"hardware": ["gaudi3"], "modes": ["on-demand", "spot"]}},
     "market.modes"),
    ("a deadline shorter than an uneven slice", {"workload": {"profile": RAMP, "deadline_hours": 1}},
     "workload[a].deadline_hours"),
    ("a traffic split the time-sliced model does not hold", {"workload": {"profile": BURST},
                                                            "plan": {"split_granularity": 4}},
     "plan.split_granularity"),
    ("a profile beside disaggregation", {"workload": {"profile": BURST}, "plan": {"disaggregation": True}},
     "workload[a].profile"),
    ("more periods than the planner takes", {"horizon": {"months": 120, "period_months": 1}}, "horizon"),
    ("an interactive class in a spot-only market", {"market": {"modes": ["spot"]}}, "workload[a].allow_spot"),
]


@pytest.mark.parametrize(("case", "over", "field"), CASES, ids=[c[0] for c in CASES])
def test_the_estimator_view_refuses_what_the_plan_refuses(catalog: Catalog, case: str, over: dict[str, Any],
                                                          field: str) -> None:
    sc = scenario(**over)
    with pytest.raises(ScenarioError) as planned:
        plan_scenario(sc, catalog)
    with pytest.raises(ScenarioError) as viewed:
        preview(sc, catalog=catalog)
    assert planned.value.field == viewed.value.field == field, case
    assert str(planned.value) == str(viewed.value)


def test_the_view_still_answers_a_scenario_the_plan_accepts(catalog: Catalog) -> None:
    """The same checks pass quietly on a time-sliced scenario with spot priced (H100 on Lambda)."""
    sc = scenario(workload={"profile": BURST, "deadline_hours": 12}, market={"modes": ["on-demand", "spot"]})
    assert preview(sc, catalog=catalog).rows
    assert plan_scenario(sc, catalog).status == "optimal"


@pytest.mark.parametrize("workload", [{"allow_spot": True}, {"deadline_hours": 12}])
def test_a_class_allowed_on_spot_is_planned_in_a_spot_only_market(catalog: Catalog, workload: dict[str, Any]) -> None:
    """Allowed explicitly, or deferrable (spot by default): the same market plans it on spot."""
    plan = plan_scenario(scenario(workload=workload, market={"modes": ["spot"]}), catalog)
    assert plan.status == "optimal" and {f.mode for f in plan.fleet} == {"spot"}
