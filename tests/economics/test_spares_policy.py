"""``market.spares``: whole spare GPUs against the spare share charged at its expectation (the default
since 2026-12-08).

One class on Llama-3.1-8B (1,000 + 200 tokens) whose flat load needs exactly 8 replicas of one H100
(TP1, 22.15 requests/s each at batch 256), bought in 8-GPU servers with no lead time, four quarters
at 10 %/year.  The catalog's failures (0.106 per GPU-year, 5 days each) put ``u = 0.106 · 5 / 365.25
= 0.145 %`` of an owned fleet out for repair, 0.0116 of the 8 GPUs."""

from __future__ import annotations

import math
from typing import Any

import pytest

import planner
from planner.catalog.store import Catalog
from planner.economics.offers import mode_offers
from planner.economics.periods import periods_of
from planner.optimize.planning import plan_scenario
from planner.report.build import _reserve
from tests.optimize.test_candidates_hand_figures import NONE

U = 0.106 * 5 / 365.25


def scenario(**market: Any) -> planner.Scenario:
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "spares", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 14_356_000, "input_tokens": 1000, "output_tokens": 200,
                      "ttft_ms": 2000, "tpot_ms": 100}],
        "horizon": {"months": 12, "period_months": 3, "peak_to_average": 1.0, "discount_rate_per_year": 0.1},
        "market": {"hardware": ["h100-sxm"], "modes": ["buy"], "lead_time_months": {"buy": 0}, **market},
        "techniques": NONE})


def buy_offer(sc: planner.Scenario, catalog: Catalog) -> Any:
    [offer], _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, [catalog.hardware["h100-sxm"]],
                             periods_of(sc.horizon))
    return offer


@pytest.mark.parametrize("terminal_value", ["annuity", "salvage"])
def test_expected_spares_charge_every_part_of_an_owned_gpu_by_one_over_the_share_in_service(
        catalog: Catalog, terminal_value: str) -> None:
    """Every charge (capital, running costs, resale) is ``1/(1 − u)`` of the whole-spares offer's, and the
    GPU counts 1 in the supply rows instead of ``1 − u``."""
    expected = buy_offer(planner.scenario_from_dict({**scenario(spares="expected").model_dump(mode="json"),
                                                     "horizon": {**scenario().horizon.model_dump(mode="json"),
                                                                 "terminal_value": terminal_value}}), catalog)
    whole = buy_offer(planner.scenario_from_dict({**scenario(spares="whole").model_dump(mode="json"),
                                                  "horizon": {**scenario().horizon.model_dump(mode="json"),
                                                              "terminal_value": terminal_value}}), catalog)
    assert whole.supply_factor == pytest.approx(1 - U, rel=1e-12) and expected.supply_factor == 1.0
    assert whole.repair_share == pytest.approx(U, rel=1e-12) and expected.repair_share == whole.repair_share
    assert expected.cost_usd == pytest.approx(whole.cost_usd / (1 - U), rel=1e-12)
    for part, usd in whole.breakdown.items():
        assert expected.breakdown[part] == pytest.approx(usd / (1 - U), rel=1e-12, abs=1e-12), part
    assert expected.flow_pv == pytest.approx(whole.flow_pv / (1 - U), rel=1e-12)
    assert expected.settlement_pv == pytest.approx(whole.settlement_pv / (1 - U), rel=1e-12, abs=1e-12)


def test_whole_spares_buy_a_second_server_for_a_hundredth_of_a_gpu_and_expected_spares_do_not(
        catalog: Catalog) -> None:
    """8 replicas on 8 owned GPUs leave 8 (1 − u) = 7.988 in service: with whole spares the plan holds a
    spare GPU and so buys a second server (16 GPUs, twice the cost); with ``"expected"`` it buys one
    server, charged ``1/(1 − u)`` of what it costs with no failures at all."""
    whole = plan_scenario(scenario(spares="whole"), catalog)
    expected = plan_scenario(scenario(spares="expected"), catalog)
    assert expected.lifetime_cost_usd == pytest.approx(plan_scenario(scenario(), catalog).lifetime_cost_usd, rel=1e-12)
    no_failures = plan_scenario(scenario(annual_failure_rate=0.0), catalog)
    assert {s.replicas for s in expected.serving} == {8}
    assert [f.gpus_in_service for f in whole.fleet] == [16] * 4
    assert [f.gpus_in_service for f in expected.fleet] == [f.gpus_in_service for f in no_failures.fleet] == [8] * 4
    assert [f.spare_gpus for f in expected.fleet] == pytest.approx([8 * U] * 4, rel=1e-12)  # expected out, not held
    assert [f.spare_gpus for f in whole.fleet] == pytest.approx([16 * U] * 4, rel=1e-12)
    assert expected.lifetime_cost_usd == pytest.approx(no_failures.lifetime_cost_usd / (1 - U), rel=1e-9)
    assert whole.lifetime_cost_usd == pytest.approx(2 * no_failures.lifetime_cost_usd, rel=1e-9)
    [whole_line] = _reserve(whole, scenario(spares="whole"))
    assert whole_line.startswith("spares: up to 0.023 owned GPUs expected out")  # 16 u
    [held] = _reserve(expected, scenario(spares="expected"))
    assert held.startswith("spares: up to 0.012 owned GPUs expected out") and "no whole spare GPU held" in held
    # 8 owned GPUs each out u of the time: at least one out 1 − (1 − u)^8 = 1.2 % of it
    assert held.endswith(f'(market.spares = "expected"), so that month at least one of the 8 owned GPUs is out '
                         f'{1 - (1 - U) ** 8:.1%} of the time') and f"{1 - (1 - U) ** 8:.1%}" == "1.2%"
    # the JSON names the convention of its figures; an annuity plan credits nothing, +0.0 (not -0.0)
    assert (whole.spares, expected.spares) == ("whole", "expected")
    assert '"spares":"expected"' in expected.model_dump_json()
    assert math.copysign(1.0, expected.cost_breakdown.residual_credit_usd) == 1.0
