"""One cost basis: the levelized $/M queries and $/M tokens of every example multiply back to its
lifetime present value (LCOE-style: PV of cost / PV of volume)."""

from __future__ import annotations

from pathlib import Path

import pytest

import planner

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_levelized_cost_times_discounted_volume_is_the_lifetime_cost(path: Path) -> None:
    plan = planner.plan(path)
    assert plan.status == "optimal", plan.message
    assert plan.lifetime_cost_usd and plan.discounted_queries and plan.discounted_tokens
    assert plan.cost_per_million_queries_usd * plan.discounted_queries / 1e6 == pytest.approx(
        plan.lifetime_cost_usd, rel=1e-6)
    assert plan.cost_per_million_tokens_usd * plan.discounted_tokens / 1e6 == pytest.approx(
        plan.lifetime_cost_usd, rel=1e-6)
    # discounted volume never exceeds the nominal volume, and tokens are queries x (input + output)
    assert plan.discounted_queries <= plan.total_queries * (1 + 1e-12)
    assert plan.discounted_tokens > plan.discounted_queries
    # the fleet names where every price came from
    assert all(f.provider and f.price_source for f in plan.fleet)
