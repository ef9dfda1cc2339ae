"""Hand-calculated figures for the formulas a mutation review found unchecked: owned running costs,
lead times, spot prices and restarts, salvage book values, the levelized volume, the training
crossover month, spares, and the quota and power rows of the lifetime model.  Every expected figure
is written out with its arithmetic; nothing is copied from the code under test."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import planner
from planner.economics.offers import lead_periods, mode_offers
from planner.economics.ownership import owned_gpu
from planner.economics.periods import periods_of
from planner.units import DAYS_PER_MONTH, DAYS_PER_YEAR, HOURS_PER_MONTH


def scenario(market: dict[str, Any] | None = None, model: dict[str, Any] | None = None,
             workload: dict[str, Any] | None = None, **horizon: Any) -> planner.Scenario:
    """One class of 1 request/s (86,400 a day) of 100 + 100 tokens on Llama-3.1-8B, 12 months in quarters;
    whole spares, so owned GPUs' charges carry no ``1/(1 − u)`` (``test_spares_policy.py`` checks the default
    ``"expected"`` is exactly that factor on every part of the cost)."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "hand", "model": {"base": "llama-3.1-8b", **(model or {})},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100, **(workload or {})}],
        "horizon": {"months": 12, "period_months": 3, **horizon},
        "market": {"hardware": ["h100-sxm"], "spares": "whole", "modes": ["on-demand", "buy"], **(market or {})},
    })


def busy(market: dict[str, Any]) -> planner.Scenario:
    """30 requests/s of 2,000 + 500 tokens on Llama-3.1-70B: three 8-GPU servers' worth when bought."""
    return scenario(market={"lead_time_months": {"buy": 0}, **market}, model={"base": "llama-3.1-70b"},
                    workload={"queries_per_day": 30 * 86_400, "input_tokens": 2000, "output_tokens": 500,
                              "ttft_ms": 1000, "tpot_ms": 50})


def offers_of(sc: planner.Scenario, catalog, hw: str = "h100-sxm"):  # type: ignore[no-untyped-def]
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, [catalog.hardware[hw]],
                            periods_of(sc.horizon))
    return {o.mode: o for o in offers}


def capex_of(catalog, hw: str = "h100-sxm") -> float:  # type: ignore[no-untyped-def]
    """All-in capex of one owned GPU (card + server share + network share; tests/economics/test_offers.py)."""
    gpu = owned_gpu(catalog.hardware[hw], catalog.price(hw, "buy"), catalog)
    assert not isinstance(gpu, str), gpu
    return gpu.capex_usd


def gpus_in_service(plan: planner.Plan, hardware: str, mode: str | None = None) -> list[int]:
    """GPUs of ``hardware`` (of ``mode``, or every mode) in service per period of the plan."""
    out = [0] * plan.periods
    for f in plan.fleet:
        if f.hardware == hardware and (mode is None or f.mode == mode):
            out[f.period] += f.gpus_in_service
    return out


# ---------------------------------------------------------------------------------- offers (E*)

def test_operations_cost_is_a_yearly_share_of_capex_prorated_to_the_period(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"lead_time_months": {"buy": 0}, "operations_fraction_per_year": 0.07})
    buy = offers_of(sc, catalog)["buy"]
    capex = capex_of(catalog)
    # 7 % of capex a year = 0.07 x capex x 3/12 per quarter; no discounting (rate 0)
    per_quarter = 0.07 * capex * 3 / 12
    # entering service in quarter p it serves the 4 - p quarters left in the 12-month horizon
    np.testing.assert_allclose(buy.breakdown["operations"], [per_quarter * 4, per_quarter * 3, per_quarter * 2,
                                                             per_quarter * 1], rtol=1e-12)
    assert buy.breakdown["operations"][0] == pytest.approx(0.07 * capex)  # a whole year: 7 % of the capex


def test_a_lead_time_shorter_than_a_period_still_costs_a_whole_period(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(months=24, period_months=12, market={"lead_time_months": {"buy": 3}})
    # ceil(3 months / 12 months per period) = 1: a purchase serves from period 1 (month 12), not period 0
    assert lead_periods(sc.market, catalog, "buy", periods_of(sc.horizon)) == 1
    by_mode = offers_of(sc, catalog)
    assert by_mode["buy"].available.tolist() == [False, True]
    assert by_mode["on-demand"].available.tolist() == [True, True]


def test_spot_restart_cost_scales_with_the_price_scale(catalog) -> None:  # type: ignore[no-untyped-def]
    modes = {"modes": ["on-demand", "spot"]}
    one = offers_of(scenario(market=modes), catalog)["spot"]
    scaled = offers_of(scenario(market={**modes, "price_scale": 1.5}), catalog)["spot"]
    hours = catalog.defaults.spot_restart_hours
    od = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour  # lambda, 2.99 $/GPU-hour
    assert one.restart_usd == pytest.approx(hours * od)  # 0.25 h x 2.99 = 0.7475 USD per reclaimed GPU
    assert scaled.restart_usd == pytest.approx(1.5 * hours * od)  # x 1.5 = 1.12125 USD
    assert scaled.restart_usd == pytest.approx(1.5 * one.restart_usd)


def test_hardware_older_than_its_life_at_the_horizon_end_resells_for_nothing(catalog) -> None:  # type: ignore[no-untyped-def]
    """A 72-month horizon and a 5-year life: GPUs entering service in the first five quarters are
    fully depreciated at month 72 (book value 0, not negative): no credit, and never a charge."""
    sc = scenario(months=72, discount_rate_per_year=0.08, terminal_value="salvage",
                  market={"lead_time_months": {"buy": 0}, "useful_life_years": 5, "resale_fraction": 0.5})
    buy = offers_of(sc, catalog)["buy"]
    capex = capex_of(catalog)
    # entering service in quarter p (year p/4), held 6 - p/4 years at the end; book = 1 - held/5, floored at 0
    held = 6 - np.arange(24) / 4
    book = np.array([max(0.0, 1 - h / 5) for h in held])
    assert book[:5].tolist() == [0.0] * 5  # held 6, 5.75, 5.5, 5.25, 5 years: past (or at) the 5-year life
    assert book[5] == pytest.approx(0.05)  # held 4.75 years: 1 - 4.75/5
    expected = -0.5 * capex * book * 1.08 ** -6.0  # credited at month 72
    np.testing.assert_allclose(buy.settlement_pv, expected, rtol=1e-12, atol=1e-9)
    assert (buy.settlement_pv <= 0).all()
    assert buy.breakdown["residual"][0] == 0.0


def test_derived_spot_price_is_the_on_demand_price_less_the_discount(catalog) -> None:  # type: ignore[no-untyped-def]
    modes = {"modes": ["on-demand", "spot"]}
    hours = 3 * HOURS_PER_MONTH  # 2,191.5 hours a quarter, no discounting
    od = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour  # 2.99 $/GPU-hour (lambda); no spot row published
    assert catalog.defaults.spot_discount == 0.5
    spot = offers_of(scenario(market=modes), catalog)["spot"]
    assert spot.cost_usd[0] / hours == pytest.approx(2.99 * (1 - 0.5))  # 1.495 $/GPU-hour
    assert spot.cost_usd[0] / hours == pytest.approx(od * (1 - catalog.defaults.spot_discount))
    given = offers_of(scenario(market={**modes, "spot_discount": 0.3}), catalog)["spot"]
    assert given.cost_usd[0] / hours == pytest.approx(2.99 * (1 - 0.3))  # 2.093 $/GPU-hour, not 2.99 x 0.3
    np.testing.assert_allclose(given.cost_usd, [2.99 * 0.7 * hours] * 4, rtol=1e-12)


def test_reserved_price_takes_the_scenarios_discount_over_the_catalogs(catalog) -> None:  # type: ignore[no-untyped-def]
    """``market.reserved_discount`` replaces the catalog's discount by provider kind for every provider
    without a reserved row (lambda, a GPU cloud: 0.20 for one year by default)."""
    from planner.economics.providers import rental_price

    od = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour  # 2.99 $/GPU-hour (lambda)
    default = rental_price(catalog, "h100-sxm", "reserved-1y", ["lambda"])
    assert default is not None and default.usd_per_gpu_hour == pytest.approx(2.99 * (1 - 0.20))  # 2.392
    assert catalog.defaults.reserved_1y_discount_neocloud == 0.20
    given = rental_price(catalog, "h100-sxm", "reserved-1y", ["lambda"], reserved_discount={"reserved-1y": 0.41})
    assert given is not None and given.usd_per_gpu_hour == pytest.approx(od * (1 - 0.41))  # 1.7641
    assert "market.reserved_discount.reserved-1y" in given.source
    three = rental_price(catalog, "h100-sxm", "reserved-3y", ["lambda"], reserved_discount={"reserved-1y": 0.41})
    assert three is not None and three.usd_per_gpu_hour == pytest.approx(2.99 * (1 - 0.36))  # the 3-year default
    plan = offers_of(scenario(market={"modes": ["reserved-1y"], "providers": ["lambda"],
                                      "reserved_discount": {"reserved-1y": 0.41}}), catalog)["reserved-1y"]
    # one reservation bought in period 0 pays its 12 months (4 quarters, undiscounted in this scenario)
    assert plan.cost_usd[0] == pytest.approx(2.99 * 0.59 * 12 * HOURS_PER_MONTH, rel=1e-12)


# ---------------------------------------------------------------------------------- plans (X*, O*)

def test_levelized_tokens_are_discounted_like_the_costs(catalog) -> None:  # type: ignore[no-untyped-def]
    plan = planner.plan(scenario(discount_rate_per_year=0.10, market={"modes": ["on-demand"]}), catalog=catalog)
    assert plan.status == "optimal"
    # 86,400 queries/day x 365.25/12 days x 3 months per quarter, 200 tokens each, paid mid-quarter:
    # δ_p = 1.1^-(0.125, 0.375, 0.625, 0.875)
    per_quarter = 86_400 * DAYS_PER_MONTH * 3 * 200
    deltas = [1.1 ** -0.125, 1.1 ** -0.375, 1.1 ** -0.625, 1.1 ** -0.875]
    hand = per_quarter * sum(deltas)  # ≈ 6.0199e9 tokens
    undiscounted = 86_400 * 365.25 * 200  # 6.3115e9 tokens in the year
    assert plan.discounted_tokens is not None and plan.lifetime_cost_usd is not None
    assert plan.discounted_tokens == pytest.approx(hand, rel=1e-12)
    assert plan.discounted_tokens < undiscounted
    assert plan.discounted_queries == pytest.approx(86_400 * DAYS_PER_MONTH * 3 * sum(deltas), rel=1e-12)
    assert plan.cost_per_million_tokens_usd == pytest.approx(plan.lifetime_cost_usd / hand * 1e6)


def test_serving_overtakes_training_in_the_month_computed_by_hand(catalog) -> None:  # type: ignore[no-untyped-def]
    """One on-demand H100 serves the class every quarter, so the PV spend of quarter p is
    2.99 $/h x 2,191.5 h x δ_p; a training bill of one and a half quarters' spend is reached
    halfway through the second quarter: month 3 + 0.5 x 3 = 4.5."""
    hours = 3 * HOURS_PER_MONTH
    deltas = np.array([1.1 ** -0.125, 1.1 ** -0.375, 1.1 ** -0.625, 1.1 ** -0.875])
    spend = 2.99 * hours * deltas  # ≈ [6,475.0, 6,322.5, 6,173.7, 6,028.3] USD (PV)
    training = spend[0] + 0.5 * spend[1]
    plan = planner.plan(scenario(discount_rate_per_year=0.10, market={"modes": ["on-demand"]},
                                 model={"training_cost_usd": float(training)}), catalog=catalog)
    assert plan.status == "optimal"
    assert gpus_in_service(plan, "h100-sxm") == [1, 1, 1, 1]
    np.testing.assert_allclose(plan.discounted_spend_by_period_usd, spend, rtol=1e-9)
    assert plan.inference_overtakes_training_month == pytest.approx(4.5)  # months, not periods (1.5)


def test_spares_of_an_owned_fleet_are_its_expected_share_out_of_service(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"modes": ["buy"], "lead_time_months": {"buy": 0}, "annual_failure_rate": 0.1,
                          "repair_days": 10})
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "optimal"
    owned = [f for f in plan.fleet if f.mode == "buy"]
    assert owned and all(f.gpus_in_service == 8 for f in owned)  # one 8-GPU server
    # availability = 1 - 0.1 failures/GPU-year x 10 days / 365.25 days; spares = GPUs x (1 - availability)
    for f in owned:
        assert f.spare_gpus == pytest.approx(8 * 0.1 * 10 / DAYS_PER_YEAR, rel=1e-12)  # 0.021903 GPUs
        assert f.spare_gpus == pytest.approx(8 * (1 - (1 - 0.1 * 10 / 365.25)), rel=1e-12)


def test_the_quota_counts_gpus_not_servers(catalog) -> None:  # type: ignore[no-untyped-def]
    market = {"hardware": ["h100-sxm", "h200"], "modes": ["buy"]}
    free = planner.plan(busy(market), catalog=catalog)
    assert free.status == "optimal"
    assert max(gpus_in_service(free, "h100-sxm")) == 24  # three H100 servers when nothing caps them
    # a quota of 8 GPUs = one 8-GPU server; counted in servers it would allow 8 x 8 = 64 GPUs
    capped = planner.plan(busy({**market, "quota_gpus": {"h100-sxm": 8}}), catalog=catalog)
    assert capped.status == "optimal", capped.message
    assert max(gpus_in_service(capped, "h100-sxm")) <= 8
    assert max(gpus_in_service(capped, "h200")) > 0  # the rest moves to H200
    assert capped.lifetime_cost_usd >= free.lifetime_cost_usd  # type: ignore[operator]


def test_the_power_cap_counts_every_gpu_of_an_owned_server(catalog) -> None:  # type: ignore[no-untyped-def]
    market = {"modes": ["on-demand", "buy"]}
    kw_per_gpu = 10.2 / 8 * catalog.defaults.pue  # DGX H100: 10.2 kW for 8 GPUs, x PUE 1.58 = 2.0145 kW per GPU
    free = planner.plan(busy(market), catalog=catalog)
    assert free.status == "optimal"
    assert max(gpus_in_service(free, "h100-sxm", "buy")) * kw_per_gpu > 1.5 * 8 * kw_per_gpu  # cap below binds
    # room for one and a half servers: 12 GPUs x 2.0145 = 24.17 kW, so one whole server (16.1 kW);
    # a row that counted servers, not GPUs, would let 24.17 / 2.0145 = 12 servers (96 GPUs) in
    cap = 1.5 * 8 * kw_per_gpu
    capped = planner.plan(busy({**market, "power_cap_kw": cap}), catalog=catalog)
    assert capped.status == "optimal", capped.message
    owned = gpus_in_service(capped, "h100-sxm", "buy")
    assert all(g * kw_per_gpu <= cap for g in owned)
    assert max(owned) == 8
    assert max(gpus_in_service(capped, "h100-sxm", "on-demand")) > 0  # the rest is rented
