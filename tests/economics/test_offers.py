"""Economics: periods, demand, discounting, and the cost of a GPU in each acquisition mode — every
figure checked against a hand calculation from the catalog rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import planner
from planner.economics.offers import mode_offers
from planner.economics.ownership import annuity_per_period, life_periods, owned_gpu
from planner.economics.periods import demand_of, periods_of
from planner.units import DAYS_PER_YEAR, HOURS_PER_MONTH


def scenario(market: dict[str, Any] | None = None, **horizon: Any) -> planner.Scenario:
    """Whole spares: the hand figures carry no ``1/(1 − u)`` (``test_spares_policy.py`` checks that factor)."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "f", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100}],
        "horizon": {"months": 12, "period_months": 3, **horizon},
        "market": {"hardware": ["h100-sxm"], "spares": "whole", "modes": ["on-demand", "reserved-1y", "buy"],
                   **(market or {})},
    })


def offers_of(sc: planner.Scenario, catalog, hw: str = "h100-sxm"):  # type: ignore[no-untyped-def]
    offers, missing = mode_offers(sc.market, sc.horizon.terminal_value, catalog, [catalog.hardware[hw]],
                                  periods_of(sc.horizon))
    return {o.mode: o for o in offers}, missing


def test_periods_and_discounting() -> None:
    p = periods_of(scenario(discount_rate_per_year=0.10).horizon)
    assert p.count == 4 and p.hours == pytest.approx(3 * HOURS_PER_MONTH)
    np.testing.assert_allclose(p.mid_years, [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(p.discount_mid, 1.1 ** -p.mid_years)
    assert periods_of(scenario().horizon).discount_mid.tolist() == [1.0] * 4


def test_demand_grows_and_provisions_for_the_period_end_at_peak() -> None:
    sc = scenario(growth_per_year=1.0, peak_to_average=2.0)
    d = demand_of(sc.workload, sc.horizon, periods_of(sc.horizon))
    # 86,400 queries/day = 1 request/s on average; period 0 ends at 0.25 years
    assert d.peak_rps[0, 0] == pytest.approx(2.0 * 2 ** 0.25)
    assert d.peak_rps[0, 3] == pytest.approx(2.0 * 2 ** 1.0)
    assert d.queries[0, 0] == pytest.approx(86_400 * 2 ** 0.125 * 365.25 / 12 * 3)


def test_all_in_capex_and_server_power_of_an_owned_h100(catalog) -> None:  # type: ignore[no-untyped-def]
    row = catalog.price("h100-sxm", "buy")
    gpu = owned_gpu(catalog.hardware["h100-sxm"], row, catalog)
    card = row.usd_per_gpu
    assert gpu.card_usd == card
    assert gpu.server_usd == pytest.approx(card * 0.64)  # Epoch: a server is x1.64 its chips
    assert gpu.network_usd == pytest.approx(card * 1.64 * 0.19 / 0.81)  # network = 19 % of the cluster
    assert gpu.capex_usd == pytest.approx(card * 1.64 / 0.81)  # x2.02 the card
    assert gpu.server_power_w == pytest.approx(10_200 / 8)  # DGX H100: 10.2 kW for 8 GPUs
    assert gpu.gpus_per_server == 8


def test_a_row_priced_as_a_whole_server_adds_only_the_network(catalog) -> None:  # type: ignore[no-untyped-def]
    row = catalog.price("a100-40gb", "buy")
    assert row.includes == "server"
    gpu = owned_gpu(catalog.hardware["a100-40gb"], row, catalog)
    assert gpu.server_usd == 0 and gpu.capex_usd == pytest.approx(row.usd_per_gpu / 0.81)


@pytest.mark.parametrize("rate", [0.0, 0.08, 0.25])
def test_the_annuity_over_the_life_equals_the_capex(rate: float) -> None:
    p = periods_of(scenario(discount_rate_per_year=rate, months=60).horizon)
    life = life_periods(5, p)
    assert life == 20
    a = annuity_per_period(100_000.0, life, p)
    # paid in the middle of each period of the life, discounted to the service start (period 0)
    assert float((a * p.discount_mid[:life]).sum()) == pytest.approx(100_000.0, rel=1e-12)
    if rate == 0.0:
        assert a == pytest.approx(100_000.0 / 20)


def test_buy_under_annuity_pays_the_annuity_for_periods_inside_the_horizon(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(discount_rate_per_year=0.08, market={"lead_time_months": {"buy": 0}})
    by_mode, missing = offers_of(sc, catalog)
    p = periods_of(sc.horizon)
    d = catalog.defaults
    gpu = owned_gpu(catalog.hardware["h100-sxm"], catalog.price("h100-sxm", "buy"), catalog)
    a = annuity_per_period(gpu.capex_usd, 20, p)
    kw = gpu.server_power_w / 1000
    running = (kw * d.average_power_fraction * d.pue * p.hours * d.electricity_usd_per_kwh
               + kw * d.hosting_usd_per_kw_month * 3)
    buy = by_mode["buy"]
    for start in range(4):  # bought in period `start`, it pays (A + R) for the periods left in the horizon
        assert buy.cost_usd[start] == pytest.approx(((a + running) * p.discount_mid[start:]).sum())
    assert buy.gpus_per_unit == 8  # whole DGX-class servers by default
    assert buy.supply_factor == pytest.approx(1 - d.annual_failure_rate * d.repair_days / DAYS_PER_YEAR)
    assert buy.power_kw == pytest.approx(kw * d.pue)
    assert not missing


def test_salvage_reproduces_the_cash_view_of_one_gpu(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(discount_rate_per_year=0.08, terminal_value="salvage",
                  market={"lead_time_months": {"buy": 0}, "resale_fraction": 0.5})
    buy = offers_of(sc, catalog)[0]["buy"]
    p = periods_of(sc.horizon)
    d = catalog.defaults
    gpu = owned_gpu(catalog.hardware["h100-sxm"], catalog.price("h100-sxm", "buy"), catalog)
    kw = gpu.server_power_w / 1000
    running = (kw * d.average_power_fraction * d.pue * p.hours * d.electricity_usd_per_kwh
               + kw * d.hosting_usd_per_kw_month * 3)
    resale = 0.5 * gpu.capex_usd * (1 - 1 / 5)  # one year of a 5-year straight-line life is gone
    cash = [gpu.capex_usd + running, running, running, running]  # by hand, per quarter, inside the horizon
    np.testing.assert_allclose(buy.flow[0], cash)
    pv = gpu.capex_usd + running * p.discount_mid.sum() - resale * 1.08 ** -1.0
    assert buy.cost_usd[0] == pytest.approx(pv)
    # each dollar discounted from when it is paid: capex at month 0, running mid-quarter, resale at month 12
    np.testing.assert_allclose(buy.flow_pv[0], [gpu.capex_usd + running * 1.08 ** -0.125, running * 1.08 ** -0.375,
                                                running * 1.08 ** -0.625, running * 1.08 ** -0.875])
    assert buy.settlement_pv[0] == pytest.approx(-resale * 1.08 ** -1.0)
    # entering service in the second quarter: capex at month 3, resale of a 9-month-old card
    assert buy.flow_pv[1, 1] == pytest.approx(gpu.capex_usd * 1.08 ** -0.25 + running * 1.08 ** -0.375)
    assert buy.settlement_pv[1] == pytest.approx(-0.5 * gpu.capex_usd * (1 - 0.75 / 5) * 1.08 ** -1.0)


@pytest.mark.parametrize("terminal_value", ["annuity", "salvage"])
def test_every_offer_spends_its_cost_by_date(catalog, terminal_value: str) -> None:  # type: ignore[no-untyped-def]
    """``Σ_q flow_pv[p, q] + settlement_pv[p] = cost(p)`` for every mode and entry period; nothing
    is settled at the end under annuity, and no period's spend is negative (a resale credit is not
    booked in the last period)."""
    sc = scenario(discount_rate_per_year=0.08, terminal_value=terminal_value,
                  market={"modes": ["on-demand", "spot", "reserved-1y", "reserved-3y", "buy"],
                          "lead_time_months": {"buy": 3}})
    by_mode, _ = offers_of(sc, catalog)
    assert set(by_mode) == {"on-demand", "spot", "reserved-1y", "reserved-3y", "buy"}
    for mode, offer in by_mode.items():
        np.testing.assert_allclose(offer.flow_pv.sum(axis=1) + offer.settlement_pv, offer.cost_usd, rtol=1e-12,
                                   err_msg=mode)
        assert (offer.flow_pv >= 0).all() and (offer.flow >= 0).all()
        np.testing.assert_array_equal(offer.flow_pv > 0, offer.covers)
        if terminal_value == "annuity" or mode in ("on-demand", "spot"):
            assert not offer.settlement_pv.any()
    if terminal_value == "salvage":
        p = periods_of(sc.horizon)
        on_demand = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour
        hour = on_demand * (1 - catalog.defaults.reserved_3y_discount_neocloud)
        # a 3-year reservation from the third quarter: 2 quarters inside, 10 past the horizon, each mid-quarter
        past = sum(hour * p.hours * 1.08 ** -(0.625 + 0.25 * k) for k in range(2, 12))
        assert by_mode["reserved-3y"].settlement_pv[2] == pytest.approx(past)
        assert (by_mode["buy"].settlement_pv < 0).all()


def test_reservations_past_the_horizon_are_charged_only_under_salvage(catalog) -> None:  # type: ignore[no-untyped-def]
    p = periods_of(scenario().horizon)
    od = catalog.price("h100-sxm", "on-demand")
    reserved_hour = od.usd_per_gpu_hour * (1 - catalog.defaults.reserved_1y_discount_neocloud)  # a neocloud row
    assert od.provider_kind == "neocloud"
    annuity = offers_of(scenario(), catalog)[0]
    salvage = offers_of(scenario(terminal_value="salvage"), catalog)[0]
    assert annuity["on-demand"].cost_usd[0] == pytest.approx(od.usd_per_gpu_hour * p.hours)
    # acquired in the last quarter: one quarter inside the horizon, three past it
    assert annuity["reserved-1y"].cost_usd[3] == pytest.approx(reserved_hour * p.hours)
    assert salvage["reserved-1y"].cost_usd[3] == pytest.approx(reserved_hour * p.hours * 4)
    assert "derived" in annuity["reserved-1y"].source


def test_providers_restrict_rented_offers_and_pick_their_discount(catalog) -> None:  # type: ignore[no-untyped-def]
    by_mode, _ = offers_of(scenario(market={"providers": ["aws"]}), catalog)
    aws = catalog.price("h100-sxm", "on-demand", ["aws"])
    p = periods_of(scenario().horizon)
    assert by_mode["on-demand"].provider == "aws"
    assert by_mode["on-demand"].cost_usd[0] == pytest.approx(aws.usd_per_gpu_hour * p.hours)
    hyperscaler = aws.usd_per_gpu_hour * (1 - catalog.defaults.reserved_1y_discount_hyperscaler)
    assert by_mode["reserved-1y"].cost_usd[0] == pytest.approx(hyperscaler * p.hours * 4)
    assert by_mode["buy"].provider == catalog.price("h100-sxm", "buy").provider  # buying is not restricted


def test_lead_time_keeps_bought_gpus_out_of_period_zero(catalog) -> None:  # type: ignore[no-untyped-def]
    by_mode, _ = offers_of(scenario(market={"lead_time_months": {"buy": 3}}), catalog)
    assert by_mode["buy"].available.tolist() == [False, True, True, True]
    assert by_mode["on-demand"].available.all()
    plan = planner.plan(scenario(market={"lead_time_months": {"buy": 3}, "modes": ["on-demand", "buy"]},
                                 months=12))
    assert plan.status == "optimal"
    assert not [f for f in plan.fleet if f.mode == "buy" and f.period == 0]
    assert [f for f in plan.fleet if f.period == 0 and f.mode == "on-demand"]


def test_a_buy_only_market_cannot_serve_inside_the_lead_time() -> None:
    plan = planner.plan(scenario(market={"lead_time_months": {"buy": 3}, "modes": ["buy"]}))
    assert plan.status == "infeasible"
    [finding] = plan.infeasibility
    assert finding.family == "lead time" and "market.lead_time_months" in finding.message
    assert finding.best_achievable == "month 3"
    mixed = planner.plan(scenario(market={"lead_time_months": {"buy": 3}, "modes": ["on-demand", "buy"]}))
    assert any("buy hardware serves from month 3" in w for w in mixed.warnings)


def test_catalog_show_lists_every_owned_cost_component_with_its_source(whatif) -> None:  # type: ignore[no-untyped-def]
    import json

    result = whatif("catalog", "show", "h100-sxm", "--format", "json")
    assert result.code == 0, result.err
    parts = {c["component"]: c for c in json.loads(result.out)["owned_cost"]}
    assert {"card", "server share", "network share", "all-in capex", "server power (contracted)"} <= set(parts)
    assert all(len(c["source"]) > 10 for c in parts.values())
    assert parts["all-in capex"]["usd_per_gpu"] == pytest.approx(
        parts["card"]["usd_per_gpu"] + parts["server share"]["usd_per_gpu"] + parts["network share"]["usd_per_gpu"])


@pytest.mark.parametrize("months", [12, 36, 60])
def test_levelized_cost_of_a_flat_buy_only_plan_does_not_depend_on_the_horizon(months: int) -> None:
    sc = scenario(months=months, discount_rate_per_year=0.08,
                  market={"modes": ["buy"], "lead_time_months": {"buy": 0}, "repair_days": 0})
    plan = planner.plan(sc)
    assert plan.status == "optimal"
    reference = planner.plan(scenario(months=60, discount_rate_per_year=0.08,
                                      market={"modes": ["buy"], "lead_time_months": {"buy": 0}, "repair_days": 0}))
    assert plan.cost_per_million_queries_usd == pytest.approx(reference.cost_per_million_queries_usd, rel=0.01)


def test_price_scale_scales_every_hardware_price(catalog) -> None:  # type: ignore[no-untyped-def]
    base = scenario()
    doubled = scenario(market={"modes": ["on-demand", "reserved-1y"], "price_scale": 2.0})
    one, _ = offers_of(base, catalog)
    two, _ = offers_of(doubled, catalog)
    for mode in ("on-demand", "reserved-1y"):
        np.testing.assert_allclose(two[mode].cost_usd, 2 * one[mode].cost_usd)


def test_missing_prices_are_reported_not_invented(catalog) -> None:  # type: ignore[no-untyped-def]
    _, missing = offers_of(scenario(market={"hardware": ["l40s"]}), catalog, "l40s")
    assert any("l40s buy" in m for m in missing)
