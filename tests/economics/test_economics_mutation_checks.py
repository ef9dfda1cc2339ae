"""Hand-calculated checks of :mod:`planner.economics` that a second mutation review found unpinned:
the order offers are built in, reservations over periods that do not divide their term, the
scenario's own ownership terms (power, energy price, colocation, life, resale), the capex components
of the breakdown and of the cash flow, why a hardware type has no offer, the price rows of the
providers (published spot and reserved rows, ties, vendors, the sources' wording), the provider
check of a market, and the time slices' tie-breaking, tolerance, labels and unprofiled classes.

Catalog figures used (catalogs/*.toml): H100-SXM on-demand 2.99 $/GPU-hour (lambda, a neocloud) and
6.88 (aws, us-east-1, a hyperscaler); card 30,000 USD (street-msrp, ``includes = "card"``); DGX H100
10.2 kW for 8 GPUs = 1.275 kW a GPU; server share 0.64 of the card; network 19 % of the cluster;
neocloud 1-year discount 0.20; spot discount 0.50; spot restart 0.25 h.  Every expected figure is
written out with its arithmetic; nothing is copied from the code under test.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import planner
from planner.catalog.schema import PlatformRow, PriceRow
from planner.economics.offers import mode_offers, reservation_schedule
from planner.economics.ownership import life_periods, owned_gpu
from planner.economics.periods import periods_of
from planner.economics.providers import check_providers, rental_price
from planner.economics.slices import _group_sorted, time_slices
from planner.errors import ScenarioError
from planner.scenario.schema import Horizon, Workload
from planner.units import HOURS_PER_MONTH

CARD = 30_000.0  # H100-SXM buy row, USD per card
SERVER = 0.64 * CARD  # 19,200 USD: a server costs x1.64 the chips it holds
NETWORK = (CARD + SERVER) * 0.19 / 0.81  # 49,200 x 0.19 / 0.81 = 11,540.74 USD
CAPEX = CARD + SERVER + NETWORK  # 60,740.74 USD = 49,200 / 0.81
KW = 10.2 / 8  # 1.275 kW per GPU (the server's share)


def scenario(market: dict[str, Any] | None = None, **horizon: Any) -> planner.Scenario:
    """One small class on Llama-3.1-8B, 12 months in quarters, undiscounted, H100-SXM; whole spares, so the
    hand figures carry no ``1/(1 − u)`` (``test_spares_policy.py`` checks the default is exactly that factor)."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "mut", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100}],
        "horizon": {"months": 12, "period_months": 3, **horizon},
        "market": {"hardware": ["h100-sxm"], "spares": "whole", "modes": ["on-demand", "buy"],
                   "lead_time_months": {"buy": 0},
                   **(market or {})},
    })


def offers(sc: planner.Scenario, catalog, hw: str = "h100-sxm"):  # type: ignore[no-untyped-def]
    """(offers in the order built, why the others are missing)."""
    return mode_offers(sc.market, sc.horizon.terminal_value, catalog, [catalog.hardware[hw]], periods_of(sc.horizon))


def by_mode(sc: planner.Scenario, catalog, hw: str = "h100-sxm"):  # type: ignore[no-untyped-def]
    return {o.mode: o for o in offers(sc, catalog, hw)[0]}


def with_prices(catalog, *rows: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The shipped catalog plus price rows (each a PriceRow's fields; source filled in)."""
    prices = dict(catalog.prices)
    for fields in rows:
        row = PriceRow.model_validate({"source": "test row", "source_date": "2026-01-01", **fields})
        prices[(row.hardware, row.mode, row.provider)] = row
    return dataclasses.replace(catalog, prices=prices)


# ---------------------------------------------------------------------------------- offers

def test_offers_are_built_in_mode_order_whatever_the_scenarios_order(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"modes": ["buy", "reserved-1y", "spot", "on-demand"]})
    built, missing = offers(sc, catalog)
    assert [o.mode for o in built] == ["on-demand", "spot", "reserved-1y", "buy"]  # MODE_ORDER
    assert not missing


@pytest.mark.parametrize(("term", "months", "expected"), [
    (12, 1, (12, 12)), (12, 3, (4, 12)), (12, 12, (1, 12)), (12, 24, (1, 24)), (36, 12, (3, 36)),  # whole terms
    (12, 5, (2, 12)), (12, 7, (1, 12)), (36, 5, (7, 36)), (12, 18, (1, 24)), (36, 24, (1, 36))])  # months unused
def test_a_reservation_serves_the_whole_periods_its_terms_cover(term: int, months: int,
                                                                  expected: tuple[int, int]) -> None:
    """``(L, k·T)``: ``L = max(1, ⌊T/m⌋)`` periods served, ``k = ⌈L·m/T⌉`` terms paid; 5-month periods
    and a 1-year term: 2 periods (10 months) for 12 months paid; 18-month periods: two terms."""
    assert reservation_schedule(term, months) == expected


def test_a_reservation_over_periods_that_do_not_divide_its_term_pays_the_months_it_cannot_use(catalog) -> None:  # type: ignore[no-untyped-def]
    """5-month periods over 15 months, no discounting: a 1-year reservation serves 2 periods (10 months)
    and pays 12 (until the nineteenth session it served ⌈12/5⌉ = 3 periods, 15 months, for the price of
    15).  Per period ``k`` = 2.99 × (1 − 0.20) = 2.392 $/h × 5 × 730.5 h = 8,736.78 USD.  ``annuity``:
    each period served inside the horizon pays 12/10 of ``k``; one made in the last period serves one
    period inside.  ``salvage``: every reservation pays its 12 months, 2.4 ``k``: the 2 unused months
    (0.4 ``k``) in the period after those served, or past the horizon with the served periods there."""
    k = 2.99 * 0.8 * 5 * HOURS_PER_MONTH
    market = {"modes": ["reserved-1y"], "providers": ["lambda"]}
    annuity = by_mode(scenario(market=market, months=15, period_months=5), catalog)["reserved-1y"]
    assert annuity.covers.tolist() == [[True, True, False], [False, True, True], [False, False, True]]
    assert annuity.cost_usd.tolist() == pytest.approx([2.4 * k, 2.4 * k, 1.2 * k], rel=1e-12)
    assert annuity.flow == pytest.approx(1.2 * k * np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]]), rel=1e-12)
    assert annuity.settlement_pv.tolist() == [0.0, 0.0, 0.0]
    salvage = by_mode(scenario(market=market, months=15, period_months=5, terminal_value="salvage"),
                      catalog)["reserved-1y"]
    assert salvage.covers.tolist() == annuity.covers.tolist()
    assert salvage.cost_usd.tolist() == pytest.approx([2.4 * k] * 3, rel=1e-12)
    assert salvage.flow == pytest.approx(k * np.array([[1, 1, 0.4], [0, 1, 1], [0, 0, 1]]), rel=1e-12)
    assert salvage.settlement_pv.tolist() == pytest.approx([0.0, 0.4 * k, 1.4 * k], rel=1e-12)


def test_a_discounted_reservation_pays_its_unused_months_when_they_fall(catalog) -> None:  # type: ignore[no-untyped-def]
    """The same at 10 %/year under ``salvage``: a period served is discounted at its mid-point and the
    2 unused months at theirs, month 11 from the reservation's start (months 10–12)."""
    k = 2.99 * 0.8 * 5 * HOURS_PER_MONTH
    market = {"modes": ["reserved-1y"], "providers": ["lambda"]}
    sc = scenario(market=market, months=15, period_months=5, terminal_value="salvage", discount_rate_per_year=0.1)
    salvage = by_mode(sc, catalog)["reserved-1y"]
    at = [1.1 ** -(month / 12) for month in (2.5, 7.5, 11.0, 12.5, 16.0, 17.5, 21.0)]
    assert salvage.cost_usd.tolist() == pytest.approx([
        k * (at[0] + at[1]) + 0.4 * k * at[2], k * (at[1] + at[3]) + 0.4 * k * at[4],
        k * (at[3] + at[5]) + 0.4 * k * at[6]], rel=1e-12)
    assert salvage.settlement_pv.tolist() == pytest.approx([0.0, 0.4 * k * at[4], k * at[5] + 0.4 * k * at[6]],
                                                           rel=1e-12)


def test_a_missing_rental_price_names_the_providers_asked(catalog) -> None:  # type: ignore[no-untyped-def]
    sc = scenario(market={"hardware": ["l40s"], "modes": ["on-demand"], "providers": ["lambda"]})
    built, missing = offers(sc, catalog, "l40s")  # L40S is priced by aws only
    assert not built
    assert missing == ["l40s on-demand: no price in the catalog from ['lambda']"]


def test_spot_restarts_are_priced_at_the_allowed_providers_on_demand_rate(catalog) -> None:  # type: ignore[no-untyped-def]
    """Only aws allowed: spot = 6.88 x (1 - 0.5) = 3.44 $/h, and a restart costs 0.25 h at aws's
    on-demand 6.88 = 1.72 USD (not at lambda's cheaper 2.99: 0.7475 USD)."""
    spot = by_mode(scenario(market={"modes": ["on-demand", "spot"], "providers": ["aws"]}), catalog)["spot"]
    assert spot.provider == "aws"
    assert spot.cost_usd[0] == pytest.approx(3.44 * 3 * HOURS_PER_MONTH, rel=1e-12)
    assert spot.restart_usd == pytest.approx(0.25 * 6.88, rel=1e-12)


def test_a_spot_restart_where_no_allowed_provider_rents_on_demand_is_priced_at_spot(catalog) -> None:  # type: ignore[no-untyped-def]
    """A provider that publishes only a spot row (1.00 $/h): the replacement is spot too, so a
    restart costs 0.25 h x 1.00 = 0.25 USD, x price_scale 2 = 0.50 USD (it was free)."""
    cat = with_prices(catalog, {"hardware": "h100-sxm", "mode": "spot", "usd_per_gpu_hour": 1.0,
                                "provider": "spotonly", "provider_kind": "neocloud"})
    market = {"modes": ["spot"], "providers": ["spotonly"], "price_scale": 2.0}
    spot = by_mode(scenario(market=market), cat)["spot"]
    assert spot.provider == "spotonly"
    assert spot.restart_usd == pytest.approx(0.25 * 1.0 * 2.0, rel=1e-12)


def test_price_scale_scales_the_purchase_and_each_capex_component(catalog) -> None:  # type: ignore[no-untyped-def]
    """Salvage, undiscounted: a GPU entering service in quarter 0 is charged its capex components at
    month 0 (x 1), doubled by price_scale 2: card 60,000, server 38,400, network 23,081.48 USD."""
    market = {"modes": ["buy"], "price_scale": 2.0}
    buy = by_mode(scenario(market=market, terminal_value="salvage"), catalog)["buy"]
    assert buy.breakdown["capex"][0] == pytest.approx(2 * CARD, rel=1e-12)
    assert buy.breakdown["server"][0] == pytest.approx(2 * SERVER, rel=1e-12)
    assert buy.breakdown["network"][0] == pytest.approx(2 * NETWORK, rel=1e-12)
    assert buy.flow[0, 0] - buy.flow[0, 1] == pytest.approx(2 * CAPEX, rel=1e-12)  # capex paid in quarter 0 only
    gpu = owned_gpu(catalog.hardware["h100-sxm"], catalog.price("h100-sxm", "buy"), catalog, price_scale=2.0)
    assert not isinstance(gpu, str)
    assert gpu.card_usd == pytest.approx(60_000.0)
    assert gpu.capex_usd == pytest.approx(2 * 49_200 / 0.81)


def test_the_breakdown_keeps_server_and_network_shares_apart(catalog) -> None:  # type: ignore[no-untyped-def]
    buy = by_mode(scenario(market={"modes": ["buy"]}, terminal_value="salvage"), catalog)["buy"]
    assert buy.breakdown["capex"][0] == pytest.approx(30_000.0)
    assert buy.breakdown["server"][0] == pytest.approx(19_200.0)  # 0.64 x 30,000
    assert buy.breakdown["network"][0] == pytest.approx(11_540.740740740741)  # 49,200 x 0.19 / 0.81


def test_a_platforms_own_server_overhead_replaces_the_default(catalog) -> None:  # type: ignore[no-untyped-def]
    """A platform row with server_overhead_fraction 0.5: server 15,000, network 45,000 x 0.19 / 0.81."""
    platform = catalog.platforms["h100-sxm"]
    own = PlatformRow.model_validate({**platform.model_dump(), "server_overhead_fraction": 0.5})
    cat = dataclasses.replace(catalog, platforms={**catalog.platforms, "h100-sxm": own})
    gpu = owned_gpu(cat.hardware["h100-sxm"], cat.price("h100-sxm", "buy"), cat)
    assert not isinstance(gpu, str)
    assert gpu.server_usd == pytest.approx(15_000.0)
    assert gpu.network_usd == pytest.approx(45_000 * 0.19 / 0.81)  # 10,555.56 USD


def test_hardware_without_a_platform_row_cannot_be_bought(catalog) -> None:  # type: ignore[no-untyped-def]
    cat = dataclasses.replace(catalog, platforms={k: v for k, v in catalog.platforms.items() if k != "h100-sxm"})
    built, missing = offers(scenario(), cat)
    assert [o.mode for o in built] == ["on-demand"]
    assert missing == ["h100-sxm buy: no platform row in the catalog (server power and GPUs per server unknown)"]


def test_the_annuity_cash_flow_pays_capital_and_every_running_cost(catalog) -> None:  # type: ignore[no-untyped-def]
    """Annuity, undiscounted, 5-year life = 20 quarters: A = capex / 20 = 3,037.04 USD a quarter.
    Running per quarter (2,191.5 h): energy 1.275 kW x 0.75 x 1.58 x 2,191.5 h x 0.0806 $/kWh = 266.87,
    hosting 1.275 x 184.06 x 3 = 704.03, operations 0.07 x capex x 3/12 = 1,062.96 USD."""
    d = catalog.defaults
    assert (d.average_power_fraction, d.pue, d.electricity_usd_per_kwh, d.hosting_usd_per_kw_month) == \
        (0.75, 1.58, 0.0806, 184.06)
    sc = scenario(market={"modes": ["buy"], "operations_fraction_per_year": 0.07})
    buy = by_mode(sc, catalog)["buy"]
    hours = 3 * HOURS_PER_MONTH
    energy = KW * 0.75 * 1.58 * hours * 0.0806
    hosting = KW * 184.06 * 3
    operations = 0.07 * CAPEX * 3 / 12
    per_quarter = CAPEX / 20 + energy + hosting + operations  # ≈ 5,070.90 USD
    np.testing.assert_allclose(buy.flow[0], [per_quarter] * 4, rtol=1e-12)
    np.testing.assert_allclose(buy.flow[2], [0.0, 0.0, per_quarter, per_quarter], rtol=1e-12)
    assert buy.cost_usd[0] == pytest.approx(4 * per_quarter, rel=1e-12)


def test_the_scenarios_power_energy_and_colocation_terms_replace_the_catalogs(catalog) -> None:  # type: ignore[no-untyped-def]
    """PUE 1.2, 0.10 $/kWh, 100 $/kW-month: energy per quarter 1.275 x 0.75 x 1.2 x 2,191.5 x 0.10 =
    251.47 USD, hosting 1.275 x 100 x 3 = 382.50 USD, facility power 1.275 x 1.2 = 1.53 kW a GPU."""
    sc = scenario(market={"modes": ["buy"], "pue": 1.2, "electricity_usd_per_kwh": 0.10,
                          "hosting_usd_per_kw_month": 100.0})
    buy = by_mode(sc, catalog)["buy"]
    hours = 3 * HOURS_PER_MONTH
    assert buy.breakdown["energy"][3] == pytest.approx(KW * 0.75 * 1.2 * hours * 0.10, rel=1e-12)
    assert buy.breakdown["hosting"][3] == pytest.approx(KW * 100.0 * 3, rel=1e-12)
    assert buy.power_kw == pytest.approx(1.53)


def test_a_zero_in_the_scenario_is_a_value_not_a_missing_one(catalog) -> None:  # type: ignore[no-untyped-def]
    """Free electricity, free colocation and no repairs: no energy, no hosting, every GPU in service
    (the catalog's 0.0806 $/kWh, 184.06 $/kW-month and 5 repair days would not be zero)."""
    sc = scenario(market={"modes": ["buy"], "electricity_usd_per_kwh": 0.0, "hosting_usd_per_kw_month": 0.0,
                          "repair_days": 0.0})
    buy = by_mode(sc, catalog)["buy"]
    assert buy.breakdown["energy"].tolist() == [0.0] * 4
    assert buy.breakdown["hosting"].tolist() == [0.0] * 4
    assert buy.supply_factor == 1.0


def test_the_scenarios_useful_life_sets_service_annuity_and_book_value(catalog) -> None:  # type: ignore[no-untyped-def]
    """A 1-year life over three yearly periods: a GPU serves only the year it enters (not the
    catalog's 5 years), its annuity is the whole capex in that year (r = 0: A = capex / 1)."""
    sc = scenario(market={"modes": ["buy"], "useful_life_years": 1}, months=36, period_months=12)
    buy = by_mode(sc, catalog)["buy"]
    assert buy.covers.tolist() == [[True, False, False], [False, True, False], [False, False, True]]
    hosting = KW * 184.06 * 12
    assert buy.breakdown["hosting"].tolist() == pytest.approx([hosting] * 3, rel=1e-12)
    assert buy.breakdown["capex"][0] + buy.breakdown["server"][0] + buy.breakdown["network"][0] == \
        pytest.approx(CAPEX, rel=1e-12)
    # salvage over one year with a 2-year life: held 1 year of 2, book 1/2, resale 0.5 x capex x 1/2
    two = by_mode(scenario(market={"modes": ["buy"], "useful_life_years": 2, "resale_fraction": 0.5},
                           terminal_value="salvage"), catalog)["buy"]
    assert two.settlement_pv[0] == pytest.approx(-0.5 * CAPEX * 0.5, rel=1e-12)  # -15,185.19 USD
    # entering service at month 9: held 3 months, book 1 - 0.25/2 = 0.875
    assert two.settlement_pv[3] == pytest.approx(-0.5 * CAPEX * 0.875, rel=1e-12)


def test_a_life_that_ends_inside_a_period_is_sold_at_retirement_under_annuity(catalog) -> None:  # type: ignore[no-untyped-def]
    """7-month periods and a 5-year life: a GPU serves ⌊60/7⌋ = 8 periods (56 months) and is sold then
    for resale × capex × (1 − 56/60) = 0.4 × capex / 15.  At 10 %/year the annuity of that credit,
    ``A_b`` with ``Σ_{k<8} A_b (1.1)^{−(7k + 3.5)/12} = credit · 1.1^{−56/12}``, comes off every period's
    capital charge: the offer costs ``A_b · Σ_served δ_q`` less than with nothing resold, shown as the
    residual.  With quarters (the life a whole number of periods) nothing is sold."""
    market = {"modes": ["buy"], "lead_time_months": {"buy": 0}}
    sc = scenario(market=market, months=14, period_months=7, discount_rate_per_year=0.1)
    kept = by_mode(scenario(market={**market, "resale_fraction": 0.0}, months=14, period_months=7,
                            discount_rate_per_year=0.1), catalog)["buy"]
    sold = by_mode(sc, catalog)["buy"]
    credit = 0.4 * CAPEX / 15 * 1.1 ** -(56 / 12)
    a_b = credit / sum(1.1 ** -((7 * k + 3.5) / 12) for k in range(8))
    served = [[1.1 ** -(3.5 / 12), 1.1 ** -(10.5 / 12)], [1.1 ** -(10.5 / 12)]]
    assert (kept.cost_usd - sold.cost_usd).tolist() == pytest.approx([a_b * sum(d) for d in served], rel=1e-12)
    assert sold.breakdown["residual"].tolist() == pytest.approx([-a_b * sum(d) for d in served], rel=1e-12)
    assert kept.flow - sold.flow == pytest.approx(a_b * np.array([[1, 1], [0, 1]]), rel=1e-12)
    quarters = by_mode(scenario(market=market, discount_rate_per_year=0.1), catalog)["buy"]
    assert quarters.breakdown["residual"].tolist() == [0.0] * 4  # +0.0: nothing sold prints no credit


def test_a_life_that_ends_inside_a_period_is_sold_at_retirement_under_salvage(catalog) -> None:  # type: ignore[no-untyped-def]
    """7-month periods over 21 months and a 1-year life: a GPU serves ⌊12/7⌋ = 1 period and is sold at
    its end for 0.4 × capex × (1 − 7/12) (until the nineteenth session it was retired with 5/12 of its
    book value and nothing credited).  Bought in period 0 or 1 it is sold inside the horizon, booked
    at that period's end (nominal −credit, PV at month 7 or 14); bought in period 2 it is sold at the
    horizon's end, as before, and settled there."""
    market = {"modes": ["buy"], "lead_time_months": {"buy": 0}, "useful_life_years": 1}
    sc = scenario(market=market, months=21, period_months=7, terminal_value="salvage", discount_rate_per_year=0.1)
    sold = by_mode(sc, catalog)["buy"]
    kept = by_mode(scenario(market={**market, "resale_fraction": 0.0}, months=21, period_months=7,
                            terminal_value="salvage", discount_rate_per_year=0.1), catalog)["buy"]
    credit = 0.4 * CAPEX * 5 / 12
    pv = [credit * 1.1 ** -(month / 12) for month in (7, 14, 21)]
    assert sold.breakdown["residual"].tolist() == pytest.approx([-x for x in pv], rel=1e-12)
    assert (kept.cost_usd - sold.cost_usd).tolist() == pytest.approx(pv, rel=1e-12)
    assert sold.settlement_pv.tolist() == pytest.approx([0.0, 0.0, -pv[2]], rel=1e-12)
    assert kept.flow - sold.flow == pytest.approx(np.diag([credit, credit, 0.0]), rel=1e-12)
    assert kept.flow_pv - sold.flow_pv == pytest.approx(np.diag([pv[0], pv[1], 0.0]), rel=1e-12)
    assert sold.cost_usd == pytest.approx(sold.flow_pv.sum(axis=1) + sold.settlement_pv, rel=1e-12)


def test_a_life_shorter_than_a_period_still_serves_one_period() -> None:
    quarters = periods_of(scenario().horizon)
    assert life_periods(0.1, quarters) == 1  # 0.1 x 12 / 3 = 0.4 periods, at least one
    assert life_periods(1.0, quarters) == 4


# ---------------------------------------------------------------------------------- providers

def test_a_price_rows_source_names_provider_region_and_date(catalog) -> None:  # type: ignore[no-untyped-def]
    aws = catalog.price("h100-sxm", "on-demand", ["aws"])
    price = rental_price(catalog, "h100-sxm", "on-demand", ["aws"])
    assert price is not None and price.usd_per_gpu_hour == 6.88
    assert price.source == f"aws, us-east-1: {aws.source} (2026-12-04)"
    lam = catalog.price("h100-sxm", "on-demand", ["lambda"])
    assert rental_price(catalog, "h100-sxm", "on-demand", ["lambda"]).source == f"lambda: {lam.source} (2026-11-30)"


def test_derived_prices_say_how_they_were_derived(catalog) -> None:  # type: ignore[no-untyped-def]
    lam = catalog.price("h100-sxm", "on-demand", ["lambda"])
    reserved = rental_price(catalog, "h100-sxm", "reserved-1y", ["lambda"])
    assert reserved is not None and reserved.derived
    row = catalog.default_rows["reserved_1y_discount_neocloud"]
    assert reserved.source == (f"derived: lambda on-demand 2.99 x (1 - 0.2) [reserved_1y_discount_neocloud: "
                               f"{row.source}, {row.source_date}]; on-demand from lambda: {lam.source} (2026-11-30)")
    spot = rental_price(catalog, "h100-sxm", "spot", ["lambda"])
    assert spot is not None and spot.derived and spot.usd_per_gpu_hour == pytest.approx(1.495)
    src = catalog.default_rows["spot_discount"]
    assert f"x (1 - 0.5) [spot_discount: {src.source}, {src.source_date}]" in spot.source
    given = rental_price(catalog, "h100-sxm", "spot", ["lambda"], spot_discount=0.3)
    assert given is not None and "x (1 - 0.3) [market.spot_discount]" in given.source


def test_a_published_spot_or_reserved_row_is_used_not_derived(catalog) -> None:  # type: ignore[no-untyped-def]
    """lambda publishes spot at 2.00 and 1-year reserved at 2.50 $/h: those rows are its prices, even
    though the derived 2.99 x 0.5 = 1.495 and 2.99 x 0.8 = 2.392 would be cheaper."""
    cat = with_prices(catalog,
                      {"hardware": "h100-sxm", "mode": "spot", "usd_per_gpu_hour": 2.0, "provider": "lambda",
                       "provider_kind": "neocloud"},
                      {"hardware": "h100-sxm", "mode": "reserved-1y", "usd_per_gpu_hour": 2.5, "provider": "lambda",
                       "provider_kind": "neocloud"})
    spot = rental_price(cat, "h100-sxm", "spot", ["lambda"])
    assert spot is not None and spot.usd_per_gpu_hour == 2.0 and not spot.derived
    reserved = rental_price(cat, "h100-sxm", "reserved-1y", ["lambda"])
    assert reserved is not None and reserved.usd_per_gpu_hour == 2.5 and not reserved.derived
    assert reserved.source == "lambda: test row (2026-01-01)"


def test_equal_prices_go_to_the_first_provider_id(catalog) -> None:  # type: ignore[no-untyped-def]
    """zeta publishes a 1-year reservation at 2.00 $/h; alpha rents on demand at 2.50, derived
    2.50 x (1 - 0.20) = 2.00: a tie, broken by provider id (alpha < zeta)."""
    assert 2.5 * (1 - 0.2) == 2.0  # exactly, in floating point
    cat = with_prices(catalog,
                      {"hardware": "h100-sxm", "mode": "reserved-1y", "usd_per_gpu_hour": 2.0, "provider": "zeta",
                       "provider_kind": "neocloud"},
                      {"hardware": "h100-sxm", "mode": "on-demand", "usd_per_gpu_hour": 2.5, "provider": "alpha",
                       "provider_kind": "neocloud"})
    price = rental_price(cat, "h100-sxm", "reserved-1y", ["zeta", "alpha"])
    assert price is not None and price.provider == "alpha" and price.derived


def test_a_vendor_is_never_offered_a_derived_reservation_or_spot_price(catalog) -> None:  # type: ignore[no-untyped-def]
    """Commitment discounts exist for hyperscalers and neoclouds only; a vendor's hourly row gets none,
    nor a spot price (it got 1.0 x (1 - 0.5) = 0.50 $/h where the reservation was refused)."""
    cat = with_prices(catalog, {"hardware": "h100-sxm", "mode": "on-demand", "usd_per_gpu_hour": 1.0,
                                "provider": "street-msrp", "provider_kind": "vendor"})
    assert rental_price(cat, "h100-sxm", "reserved-1y", ["street-msrp"]) is None
    assert rental_price(cat, "h100-sxm", "spot", ["street-msrp"]) is None
    other = rental_price(cat, "h100-sxm", "reserved-3y", None)
    assert other is not None and other.provider == "lambda"
    assert other.usd_per_gpu_hour == pytest.approx(2.99 * (1 - 0.36))  # 1.9136 $/h


def test_a_buy_only_market_needs_no_rental_price_from_its_providers(catalog) -> None:  # type: ignore[no-untyped-def]
    check_providers(scenario(market={"modes": ["buy"], "providers": ["lambda"]}).market, catalog)
    check_providers(scenario(market={"hardware": ["gaudi3"], "modes": ["buy"], "providers": ["lambda"]}).market,
                    catalog)  # no rental price for Gaudi3 anywhere, and none is needed
    with pytest.raises(ScenarioError) as err:
        check_providers(scenario(market={"hardware": ["gaudi3"], "providers": ["lambda"]}).market, catalog)
    assert err.value.field == "market.hardware[0]"


def test_one_rented_mode_with_a_price_is_enough(catalog) -> None:  # type: ignore[no-untyped-def]
    """A provider publishing only a 1-year reservation (no on-demand row) passes a market allowing
    on-demand and reserved-1y: the check asks for any rented price, not every one."""
    cat = with_prices(catalog, {"hardware": "h100-sxm", "mode": "reserved-1y", "usd_per_gpu_hour": 2.0,
                                "provider": "onlyres", "provider_kind": "neocloud"})
    market = scenario(market={"modes": ["on-demand", "reserved-1y"], "providers": ["onlyres"]}).market
    assert rental_price(cat, "h100-sxm", "on-demand", ["onlyres"]) is None
    check_providers(market, cat)


# ---------------------------------------------------------------------------------- time slices

def workload(name: str = "chat", **over: object) -> Workload:
    """1e6 queries a day of 500 + 200 tokens (7e8 tokens a day), interactive unless over says otherwise."""
    return Workload.model_validate({"name": name, "queries_per_day": 1e6, "input_tokens": 500, "output_tokens": 200,
                                    "ttft_ms": 1000, "tpot_ms": 50, **over})


def test_equally_idle_groupings_keep_the_smallest_busy_slice() -> None:
    """Hours at 1.5, 1.0 and 0.5 x the mean, 8 of each, in two slices: {1.5} + {1.0, 0.5} idles
    8 x 0.5 = 4 mean-hours, {1.5, 1.0} + {0.5} too (8 x 0.5); the dynamic programme keeps its first
    minimum, the earlier cut: the busy slice is the 8 hours at 1.5 (tests/economics/test_slices.py)."""
    assert _group_sorted(np.array([3.0, 2.0, 1.0]), 2) == [0, 1]  # {3} + {2, 1} (idle 1) before {3, 2} + {1} (idle 1)
    sl = time_slices([workload(profile=[1.0] * 8 + [3.0] * 8 + [2.0] * 8)], Horizon(), 2, {})
    assert sl.hours.tolist() == [8.0, 16.0]
    assert sl.peak[0].tolist() == [1.5, 1.0]
    assert sl.labels == ("08-16", "00-08, 16-24")


def test_a_flat_profile_with_rounding_noise_is_still_one_slice() -> None:
    """0.1 x 24 is flat, but 0.1 is not exact in binary: the idle capacity of a grouping is then
    ±1e-16-ish rather than 0, within the tie tolerance (1e-12 of the total load); still one slice."""
    sl = time_slices([workload(profile=[0.1] * 24, queries_per_day=1000, input_tokens=100, output_tokens=100)],
                     Horizon(), 4, {})
    assert sl.count == 1 and sl.hours.tolist() == [24.0] and sl.labels == ("00-24",)


def test_without_any_profile_the_one_slice_covers_the_whole_day() -> None:
    sl = time_slices([workload()], Horizon(peak_to_average=2.0), 4, {})
    assert sl.labels == ("00-24",)
    assert sl.cycles_per_day == 1.0


def test_a_weekly_cycle_repeats_a_seventh_of_a_day() -> None:
    sl = time_slices([workload(profile=[1.0] * 120 + [0.2] * 48)], Horizon(), 2, {})
    assert sl.cycle_hours == 168
    assert sl.cycles_per_day == pytest.approx(24 / 168)  # 1/7 of a week a day


def test_a_class_without_a_profile_is_flat_beside_a_shaped_one() -> None:
    """chat: 12 hours at 1.5 (06-18), 12 at 0.5; docs: no profile, weight 1 every hour, so peak 1 in
    each slice and volume = the slice's hours / 24 = 12/24 = 0.5."""
    two_level = [0.5] * 6 + [1.5] * 12 + [0.5] * 6
    sl = time_slices([workload(profile=two_level), workload("docs")], Horizon(), 2, {})
    assert sl.labels == ("06-18", "00-06, 18-24")
    assert sl.peak[1].tolist() == [1.0, 1.0]
    assert sl.volume[1].tolist() == pytest.approx([0.5, 0.5], rel=1e-12)
    assert sl.weights[1].tolist() == [1.0] * 24
    assert sl.peak[0].tolist() == [1.5, 0.5]


def test_a_weekly_run_ending_at_midnight_of_its_own_day_names_one_day() -> None:
    """Busy Monday 09-24 (hours 9..23 of the week): the run ends at 24 o'clock of Monday, "Mon 09-24",
    not "Mon 09-Mon 24"; the rest runs Monday 00-09 and Tuesday 00 to Sunday 24."""
    sl = time_slices([workload(profile=[1.0] * 9 + [3.0] * 15 + [1.0] * 144)], Horizon(), 2, {})
    assert sl.labels == ("Mon 09-24", "Mon 00-09, Tue 00-Sun 24")
