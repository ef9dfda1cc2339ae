"""Economics: periods, demand, discounting, and the cost of a GPU in each acquisition mode."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import planner
from planner.economics.offers import mode_offers
from planner.economics.periods import demand_of, periods_of
from planner.units import HOURS_PER_MONTH


def scenario(**horizon: Any) -> planner.Scenario:
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "f", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100}],
        "horizon": {"months": 12, "period_months": 3, **horizon},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand", "reserved-1y", "buy"]},
    })


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


def test_rent_reserve_buy_costs(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()
    p = periods_of(sc.horizon)
    offers, missing = mode_offers(sc.market, catalog, [catalog.hardware["h100-sxm"]], p)
    by_mode = {o.mode: o for o in offers}
    od_price = catalog.prices[("h100-sxm", "on-demand")].usd_per_gpu_hour
    assert by_mode["on-demand"].cost_usd[0] == pytest.approx(od_price * p.hours)
    assert by_mode["on-demand"].covers.sum() == 4  # each rental serves its own period
    res = by_mode["reserved-1y"]
    assert res.covers[0].tolist() == [True] * 4 and res.covers[3].tolist() == [False, False, False, True]
    # paid for the whole 1-year term even when acquired in the last quarter
    expected = od_price * (1 - catalog.defaults.reserved_1y_discount) * p.hours * 4
    assert res.cost_usd[3] == pytest.approx(expected)
    buy = by_mode["buy"]
    d = catalog.defaults
    capex = catalog.prices[("h100-sxm", "buy")].usd_per_gpu
    kw = catalog.hardware["h100-sxm"].board_power_w / 1000
    energy = kw * d.pue * p.hours * d.electricity_usd_per_kwh * 4
    hosting = kw * d.hosting_usd_per_kw_month * 12
    residual = capex * (1 - 1 / d.hardware_useful_life_years)  # one year held of the useful life
    assert buy.cost_usd[0] == pytest.approx(capex + energy + hosting - residual)
    assert not missing


def test_price_scale_scales_every_hardware_price(catalog) -> None:  # type: ignore[no-untyped-def]
    base = scenario()
    doubled = planner.scenario_from_dict({**base.model_dump(mode="json"), "market": {
        **base.market.model_dump(mode="json"), "modes": ["on-demand", "reserved-1y"], "price_scale": 2.0}})
    p = periods_of(base.horizon)
    one, _ = mode_offers(base.market, catalog, [catalog.hardware["h100-sxm"]], p)
    two, _ = mode_offers(doubled.market, catalog, [catalog.hardware["h100-sxm"]], p)
    for a, b in zip(one[:2], two, strict=True):
        np.testing.assert_allclose(b.cost_usd, 2 * a.cost_usd)


def test_missing_prices_are_reported_not_invented(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario()
    _, missing = mode_offers(sc.market, catalog, [catalog.hardware["l40s"]], periods_of(sc.horizon))
    assert any("l40s buy" in m for m in missing)
