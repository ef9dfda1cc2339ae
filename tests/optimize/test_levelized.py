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
    # the spend by period, each dollar discounted from its date, adds up to the lifetime cost
    assert plan.horizon_end_settlement_usd == 0.0  # every example is priced under annuity
    assert plan.one_time_cost_usd + sum(plan.discounted_spend_by_period_usd) == pytest.approx(
        plan.lifetime_cost_usd, rel=1e-9)


@pytest.mark.parametrize("slices", [1, 2])
@pytest.mark.parametrize("mode", ["buy", "reserved-1y"])
def test_salvage_spend_by_period_and_the_horizons_end_add_up_to_the_lifetime_cost(mode: str, slices: int) -> None:
    """Capex discounted from the start of its period, the resale credit and the reservation months past
    the horizon settled at its end: the per-period present values, the settlement and the one-time
    costs sum to the lifetime cost, and no period's spend is negative (the resale credit once made the
    last period's so, and the training crossover read "never" in a plan that overtakes)."""
    sc = planner.scenario_from_dict({
        "schema_version": 1, "name": "salvage", "model": {"base": "llama-3.1-8b", "training_cost_usd": 2e6},
        "workload": [{"name": "a", "queries_per_day": 20_000_000, "input_tokens": 800, "output_tokens": 250,
                      "ttft_ms": 2000, "tpot_ms": 100, "profile": "chat-regional"}],
        "horizon": {"months": 12, "period_months": 3, "growth_per_year": 1.0, "discount_rate_per_year": 0.08,
                    "terminal_value": "salvage"},
        "market": {"hardware": ["h100-sxm"], "modes": [mode], "lead_time_months": {"buy": 0}},
        "plan": {"time_slices": slices}, "techniques": {"quantization": ["none"], "caching": ["none"]},
    })
    plan = planner.plan(sc)
    assert plan.status == "optimal", plan.message
    # the resale credit of what was bought; the months past the horizon of the later reservations
    assert plan.horizon_end_settlement_usd < 0.0 if mode == "buy" else plan.horizon_end_settlement_usd > 0.0
    assert plan.one_time_cost_usd + sum(plan.discounted_spend_by_period_usd) + plan.horizon_end_settlement_usd \
        == pytest.approx(plan.lifetime_cost_usd, rel=1e-9)
    assert min(plan.discounted_spend_by_period_usd) > 0 and min(plan.spend_by_period_usd) > 0
    assert plan.inference_overtakes_training_month is None or plan.inference_overtakes_training_month <= 12 \
        or plan.inference_overtakes_training_extrapolated
