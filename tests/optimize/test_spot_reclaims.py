"""``market.spot_reclaims``: a spot GPU counts ``κ`` in a slice's supply rows (``"whole"``, so whole GPUs
cover the expected reclaims) or 1 with its price ``1/κ`` higher (``"expected"``, the default since 2026-12-08).

One deferrable class (a day's deadline) on Llama-3.1-8B, H100 on spot only, one quarter in 4 time
slices: every GPU of the plan is a spot GPU, held in some slice."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.economics.offers import mode_offers
from planner.economics.periods import periods_of
from planner.economics.slices import time_slices
from planner.optimize.milp_slices import elastic_cost_usd, keep_probability, price_factor, supply_keep
from planner.optimize.planning import plan_scenario
from planner.report.build import _reserve
from tests.optimize.test_candidates_hand_figures import NONE


def scenario(**market: Any) -> planner.Scenario:
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "spot", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "batch", "queries_per_day": 3_000_000, "input_tokens": 1000, "output_tokens": 200,
                      "ttft_ms": 10_000, "tpot_ms": 100, "deadline_hours": 24,
                      "profile": [1.0] * 12 + [3.0] * 12}],
        "horizon": {"months": 3, "period_months": 3},
        "market": {"hardware": ["h100-sxm"], "modes": ["spot"], **market},
        "techniques": NONE})


def spot_offer(sc: planner.Scenario, catalog: Catalog) -> Any:
    [offer], _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, [catalog.hardware["h100-sxm"]],
                             periods_of(sc.horizon))
    return offer


def test_expected_reclaims_count_a_whole_gpu_and_price_it_one_over_kappa(catalog: Catalog) -> None:
    """``κ_s = (1 − π)^{H_s}``: "whole" counts ``κ_s`` at the plain price, "expected" counts 1 at ``1/κ_s``
    of it; the restart charge ``(1 − κ_s) · restart`` is the same in both."""
    sc_whole, sc_expected = scenario(spot_reclaims="whole"), scenario()
    assert sc_expected.market.spot_reclaims == "expected"
    whole, expected = spot_offer(sc_whole, catalog), spot_offer(sc_expected, catalog)
    slices = time_slices(sc_whole.workload, sc_whole.horizon, sc_whole.plan.time_slices, catalog.load_shapes)
    periods = periods_of(sc_whole.horizon)
    kappa = (1 - whole.preemption_per_hour) ** slices.hours
    assert keep_probability(whole, slices) == pytest.approx(kappa, rel=1e-12)
    assert keep_probability(expected, slices) == pytest.approx(kappa, rel=1e-12)
    assert supply_keep(whole, slices) == pytest.approx(kappa, rel=1e-12)
    assert supply_keep(expected, slices).tolist() == [1.0] * slices.count
    assert price_factor(whole, slices).tolist() == pytest.approx([1.0] * slices.count, rel=1e-12)
    assert price_factor(expected, slices) == pytest.approx(1 / kappa, rel=1e-12)
    share = np.maximum(slices.hours, whole.min_billed_hours) / slices.cycle_hours
    restart = ((1 - kappa) * whole.restart_usd * periods.hours / slices.cycle_hours)[None, :] \
        * periods.discount_mid[:, None]
    assert elastic_cost_usd(whole, slices, periods) == pytest.approx(
        whole.cost_usd[:, None] * share[None, :] + restart, rel=1e-12)
    assert elastic_cost_usd(expected, slices, periods) == pytest.approx(
        whole.cost_usd[:, None] * (share / kappa)[None, :] + restart, rel=1e-12)


def test_whole_reclaims_hold_an_idle_spot_gpu_in_a_slice_and_expected_ones_do_not(catalog: Catalog) -> None:
    """With whole GPUs covering ``κ < 1`` each, a slice that serves ``g`` GPUs of replicas holds at least
    ``⌈g/κ⌉ = g + 1`` spot GPUs; with ``"expected"`` it holds exactly ``g``, and the plan is cheaper."""
    whole = plan_scenario(scenario(spot_reclaims="whole"), catalog)
    expected = plan_scenario(scenario(spot_reclaims="expected"), catalog)
    assert whole.status == expected.status == "optimal"

    def held_and_used(plan: planner.Plan) -> list[tuple[int, int]]:
        used: Counter[int] = Counter()
        for line in plan.serving:
            assert line.slice is not None
            used[line.slice] += line.replicas * line.tp
        held: Counter[int] = Counter()
        for f in plan.fleet:
            assert f.mode == "spot" and f.slice is not None
            held[f.slice] += f.gpus_in_service
        return [(held[s], used[s]) for s in sorted(held | used)]

    assert all(held == used for held, used in held_and_used(expected))
    assert all(held >= used + 1 for held, used in held_and_used(whole) if used)
    assert expected.lifetime_cost_usd is not None and whole.lifetime_cost_usd is not None
    assert expected.lifetime_cost_usd < whole.lifetime_cost_usd
    # the plan says how its spot GPUs cover reclaims, in its JSON and its report's reserve lines
    assert (whole.spot_reclaims, expected.spot_reclaims) == ("whole", "expected")
    [whole_line] = _reserve(whole, scenario(spot_reclaims="whole"))
    [expected_line] = _reserve(expected, scenario(spot_reclaims="expected"))
    assert whole_line.startswith("spot: a GPU is kept through a slice of H hours with probability k")
    assert "whole spot GPUs, counting k each" in whole_line and whole_line.endswith("restart is charged")
    assert "every spot GPU is charged 1/k of its price" in expected_line


def test_a_gpu_always_reclaimed_counts_nothing_in_either_convention(catalog: Catalog) -> None:
    """``π = 1``: ``κ = 0`` in every slice; "expected" does not turn it into capacity (nor divide by 0)."""
    for convention in ("whole", "expected"):
        sc = scenario(spot_reclaims=convention, spot_preemption_per_hour=1.0)
        offer = spot_offer(sc, catalog)
        slices = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
        assert supply_keep(offer, slices).tolist() == [0.0] * slices.count
        assert price_factor(offer, slices).tolist() == [1.0] * slices.count
