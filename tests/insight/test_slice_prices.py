"""The sliced pricing LP (:mod:`planner.insight.slice_prices`) against hand relations.

One class of ``llama-3.1-70b`` on H100 (``tests.insight.test_explain.scenario``), one 12-month
period, served by the FP8 variant; ``g`` = GPUs per request/s of that variant's best latency-feasible
column (``gpus_per_rps``).  The ``chat-regional`` shape cuts the day into four slices (the catalog's
shape; ``H_s`` hours each, busiest-hour multipliers ``peak_s``).  Each expected price is written out
from the module docstring: a slice's capacity is bought where it is cheapest per request/s.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from planner.economics.offers import mode_offers
from planner.economics.periods import periods_of
from planner.economics.slices import time_slices
from planner.insight.explanation import (
    DEMAND,
    DEMAND_AT_SLICE,
    DEMAND_MEAN,
    DEMAND_MEAN_EVERY,
    lp_shadow_prices,
)
from planner.optimize.candidates import build_candidates
from planner.optimize.milp_slices import elastic_cost_usd, keep_probability
from tests.insight.test_explain import scenario
from tests.insight.test_explain_figures import gpus_per_rps

FP8 = SimpleNamespace(variant_names=["quantization:fp8"])
YEAR = {"months": 12, "period_months": 12}


def priced(catalog: Any, modes: list[str], market: dict[str, Any] | None = None,
           **workload: Any) -> tuple[Any, Any, float, list[Any]]:
    """The scenario, its slices, ``g`` and the chat class's shadow prices (mean first, then per slice)."""
    sc = scenario(workload={"profile": "chat-regional", **workload}, market={"modes": modes, **(market or {})},
                  horizon=YEAR)
    cs = build_candidates(sc, catalog)
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    slices = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    prices = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.workload == "chat"]
    return sc, slices, gpus_per_rps(cs, v, "h100-sxm"), prices


def offer(catalog: Any, sc: Any, mode: str) -> Any:
    cs = build_candidates(sc, catalog)
    offers, _ = mode_offers(sc.market, sc.horizon.terminal_value, catalog, list(cs.hardware), periods_of(sc.horizon))
    return next(o for o in offers if o.mode == mode)


def test_on_demand_capacity_is_priced_by_each_slice_s_hours(catalog) -> None:  # type: ignore[no-untyped-def]
    """On demand only: a request/s more at slice s's busiest hour needs ``g`` more GPUs for the slice's
    ``H_s`` hours of every day, ``g · k · H_s / 24`` (``k`` = a GPU's year on demand; the offer bills at
    least 1 minute a start, less than any slice).  One more request/s of mean demand raises every
    slice by its ``peak_s``: ``Σ_s peak_s · g k H_s / 24`` — about half of what the busiest hour held
    all day would cost, ``max_s peak_s · g k`` (the quiet hours need fewer GPUs)."""
    sc, sl, g, prices = priced(catalog, ["on-demand"])
    assert sl.count == 4 and sum(sl.hours) == 24
    k = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours
    assert offer(catalog, sc, "on-demand").min_billed_hours < min(sl.hours)
    mean, *per_slice = prices
    assert mean.what == DEMAND_MEAN and mean.period == 0 and mean.unit == "USD (present value) per request/s"
    assert [p.what for p in per_slice] == [DEMAND_AT_SLICE.format(label=label) for label in sl.labels]
    expected = [g * k * h / 24 for h in sl.hours]
    assert [p.usd for p in per_slice] == pytest.approx(expected, rel=1e-6)
    assert mean.usd == pytest.approx(float(np.dot(sl.peak[0], expected)), rel=1e-6)
    assert mean.usd < 0.6 * float(sl.peak[0].max()) * g * k


def test_reserved_capacity_is_priced_at_the_busiest_slice_alone(catalog) -> None:  # type: ignore[no-untyped-def]
    """Reserved only: a GPU is paid for the whole year whichever slice needs it, and the busiest slice
    (``15-17``, the largest ``peak_s``) sets how many: its price is ``g · k_reserved``, every other
    slice's 0 (their replicas fit in GPUs already paid), and the mean-demand price ``max_s peak_s ·
    g · k_reserved``."""
    sc, sl, g, prices = priced(catalog, ["reserved-1y"])
    k = float(offer(catalog, sc, "reserved-1y").cost_usd[0])
    mean, *per_slice = prices
    busiest = int(np.argmax(sl.peak[0]))
    assert busiest == 0
    assert [p.usd for p in per_slice] == pytest.approx([g * k if s == busiest else 0.0 for s in range(4)],
                                                       rel=1e-6, abs=1e-6)
    assert mean.usd == pytest.approx(float(sl.peak[0].max()) * g * k, rel=1e-6)


def test_a_deferrable_class_is_priced_at_its_mean_not_its_peak(catalog) -> None:  # type: ignore[no-untyped-def]
    """A 24-hour deadline lets the class run at its mean rate all day (the backlog a daily shape builds
    up stays within a day's arrivals), so one more request/s of mean demand costs ``g`` GPUs all year:
    ``g · k_reserved`` — not the interactive class's ``max_s peak_s · g · k_reserved``.  It has no
    per-slice prices (its capacity in a slice is not a demand of that slice)."""
    sc, _, g, prices = priced(catalog, ["reserved-1y"], deadline_hours=24)
    k = float(offer(catalog, sc, "reserved-1y").cost_usd[0])
    [mean] = prices
    assert mean.what == DEMAND_MEAN
    assert mean.usd == pytest.approx(g * k, rel=1e-6)


@pytest.mark.parametrize("reclaims", ["whole", "expected"])
def test_a_spot_gpu_counts_for_its_chance_to_be_kept(catalog, reclaims: str) -> None:  # type: ignore[no-untyped-def]
    """Spot only (the class allows it): a GPU held through slice s costs ``e_s`` (its hours and its
    expected restart, :func:`elastic_cost_usd`).  With whole reclaims it serves ``κ_s = (1 − π)^{H_s}``
    GPUs of capacity, so a request/s at the slice's busiest hour costs ``g · e_s / κ_s``; with expected
    ones (the default) it serves one GPU and ``e_s`` already carries its hours' price over ``κ_s``."""
    sc, sl, g, prices = priced(catalog, ["spot"], allow_spot=True, market={"spot_reclaims": reclaims})
    spot = offer(catalog, sc, "spot")
    e, kappa = elastic_cost_usd(spot, sl, periods_of(sc.horizon))[0], keep_probability(spot, sl)
    assert spot.preemption_per_hour > 0 and all(kappa < 1)
    _, *per_slice = prices
    supplied = kappa if reclaims == "whole" else 1.0
    assert [p.usd for p in per_slice] == pytest.approx(list(g * e / supplied), rel=1e-6)


def test_a_quota_binding_in_every_slice_is_worth_its_saving_in_each(catalog) -> None:  # type: ignore[no-untyped-def]
    """EX7 of the one-slice LP, sliced: with 1 H100 GPU allowed (fewer than any slice needs: the quietest, 01-09, needs about 1.5) the H200
    serves the rest in every slice.  One more H100 GPU replaces ``1/g₁₀₀`` request/s of H200 for the
    slice's hours in every slice; summed over the slices (which fill the day) it saves the one-slice
    figure ``k₂₀₀ g₂₀₀ / g₁₀₀ − k₁₀₀`` (a year of each on demand)."""
    sc = scenario(workload={"profile": "chat-regional"}, horizon=YEAR,
                  market={"hardware": ["h100-sxm", "h200"], "quota_gpus": {"h100-sxm": 1}})
    cs = build_candidates(sc, catalog)
    [quota] = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.workload is None]
    assert quota.what == "one more h100-sxm GPU allowed" and quota.period == 0
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    hours = periods_of(sc.horizon).hours
    k100, k200 = (catalog.price(h, "on-demand").usd_per_gpu_hour * hours for h in ("h100-sxm", "h200"))
    saving = k200 * gpus_per_rps(cs, v, "h200") / gpus_per_rps(cs, v, "h100-sxm") - k100
    assert saving > 0 and quota.usd == pytest.approx(saving, rel=1e-6)


def test_a_plan_without_slices_keeps_the_one_slice_price(catalog) -> None:  # type: ignore[no-untyped-def]
    """No profile, no deferrable class, no spot: the one-slice LP prices the peak, ``g · k`` per
    request/s of peak demand, under its own label (the sliced LP is not asked)."""
    sc = scenario(horizon=YEAR)
    cs = build_candidates(sc, catalog)
    [price] = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.workload == "chat"]
    assert price.what == DEMAND
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    k = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours
    assert price.usd == pytest.approx(gpus_per_rps(cs, v, "h100-sxm") * k, rel=1e-6)


def test_a_cached_share_of_the_queries_needs_no_capacity(catalog) -> None:  # type: ignore[no-untyped-def]
    """A response cache answering half the queries (repeat rate 0.5, as EX8 of the one-slice LP): a
    request/s more at a slice's busiest hour needs half a request/s of model capacity, so each slice's
    on-demand price is half of ``g · k · H_s / 24``."""
    sc = scenario(workload={"profile": "chat-regional", "repeat_rate": 0.5}, horizon=YEAR,
                  techniques={"caching": ["response"], "quantization": ["none"]})
    cs = build_candidates(sc, catalog)
    v = next(v for v in cs.variants if v.name == "caching:response")
    assert v.profiles["chat"].served_query_fraction == pytest.approx(0.5)
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    _, *per_slice = [p for p in lp_shadow_prices(sc, catalog, cs, SimpleNamespace(variant_names=[v.name]))
                     if p.workload == "chat"]
    k = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours
    g = gpus_per_rps(cs, v.index, "h100-sxm")
    assert [p.usd for p in per_slice] == pytest.approx([0.5 * g * k * h / 24 for h in sl.hours], rel=1e-6)


def test_a_short_deadline_follows_the_arrivals(catalog) -> None:  # type: ignore[no-untyped-def]
    """With a 4-hour deadline the backlog holds at most the last four hours' arrivals (shorter ones
    leave this shape without a plan: a slice's rate is constant over hours that lie apart), so the class cannot flatten its daily shape as a
    24-hour deadline does: on reserved GPUs its mean-demand price lies
    above ``g · k_reserved`` (the flat day's) and at most the interactive ``max_s peak_s · g · k``."""
    sc, sl, g, prices = priced(catalog, ["reserved-1y"], deadline_hours=4)
    k = float(offer(catalog, sc, "reserved-1y").cost_usd[0])
    [mean] = prices
    assert 1.05 * g * k < mean.usd <= float(sl.peak[0].max()) * g * k * (1 + 1e-9)


def test_an_interactive_class_is_not_served_by_spot(catalog) -> None:  # type: ignore[no-untyped-def]
    """Spot beside on-demand: an interactive class (``allow_spot`` unset) may not run on spot GPUs
    (``nospot`` rows), so its slice prices stay on demand's ``g · k · H_s / 24`` although spot is
    cheaper per GPU-hour."""
    sc, sl, g, prices = priced(catalog, ["on-demand", "spot"])
    k = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours
    assert float(offer(catalog, sc, "spot").cost_usd[0]) < 0.9 * k
    _, *per_slice = prices
    assert [p.usd for p in per_slice] == pytest.approx([g * k * h / 24 for h in sl.hours], rel=1e-6)


def test_nothing_is_bought_before_its_lead_time(catalog) -> None:  # type: ignore[no-untyped-def]
    """Buying with a 12-month lead time in two 12-month periods: nothing owned serves period 0, which is
    priced on demand slice by slice (``g · k · H_s / 24``, no discounting in this scenario); in period
    1 a GPU bought for it holds the quieter slices' base load, so its mean-demand price is lower (the
    2-hour busiest slice stays on demand: a GPU owned for two hours a day costs more)."""
    sc = scenario(workload={"profile": "chat-regional"}, horizon={"months": 24, "period_months": 12},
                  market={"modes": ["on-demand", "buy"], "lead_time_months": {"buy": 12}, "spares": "whole"})
    cs = build_candidates(sc, catalog)
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    prices = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.workload == "chat"]
    mean = [p.usd for p in prices if p.what == DEMAND_MEAN]
    prices = [p for p in prices if p.what != DEMAND_MEAN]
    k = catalog.price("h100-sxm", "on-demand").usd_per_gpu_hour * periods_of(sc.horizon).hours
    g = gpus_per_rps(cs, v, "h100-sxm")
    assert [p.usd for p in prices if p.period == 0] == pytest.approx([g * k * h / 24 for h in sl.hours], rel=1e-6)
    assert mean[1] < 0.9 * mean[0]
    # period 1: the GPUs bought hold slices 2 and 3 (17 quiet hours; owning costs less than 17 hours on
    # demand), the 7 busiest hours stay on demand, and the owned GPU's cost per usable GPU (its spares
    # set aside) less those 7 hours is what slice 2 (00-01, …, 9 h) pays; slice 3 has owned GPUs to spare
    buy = offer(catalog, sc, "buy")
    owned = float(buy.cost_usd[1]) / buy.supply_factor
    assert buy.supply_factor < 1 and owned < k * 17 / 24
    period1 = [p.usd for p in prices if p.period == 1]
    assert period1 == pytest.approx([g * k * 2 / 24, g * k * 5 / 24, g * (owned - k * 7 / 24), 0.0],
                                    rel=1e-6, abs=1e-6)


def test_a_reservation_serves_every_period_it_covers(catalog) -> None:  # type: ignore[no-untyped-def]
    """A 1-year reservation in 6-month periods: one taken in period 0 covers both, at a year's price
    ``k_year`` (no discounting); one taken in period 1 is charged for the half year inside the horizon.
    Demand is flat, so how the reservation's price splits between the periods' duals is one of many
    valid splits, but what one more request/s costs is not:
    in period 0 alone the busiest slice's share of a year's reservation, in period 1 alone of a half
    year's, and in both periods the year's — less than the two periods' prices added up."""
    sc = scenario(workload={"profile": "chat-regional"}, horizon={"months": 12, "period_months": 6},
                  market={"modes": ["reserved-1y"]})
    cs = build_candidates(sc, catalog)
    v = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    sl = time_slices(sc.workload, sc.horizon, sc.plan.time_slices, catalog.load_shapes)
    reserved = offer(catalog, sc, "reserved-1y")
    assert list(reserved.covers[0]) == [True, True] and reserved.cost_usd[0] == pytest.approx(2 * reserved.cost_usd[1])
    prices = [p for p in lp_shadow_prices(sc, catalog, cs, FP8) if p.workload == "chat"]
    mean = [p.usd for p in prices if p.what == DEMAND_MEAN]
    [every] = [p.usd for p in prices if p.what == DEMAND_MEAN_EVERY]
    per_gpu = float(sl.peak[0].max()) * gpus_per_rps(cs, v, "h100-sxm")
    assert mean == pytest.approx([per_gpu * float(reserved.cost_usd[p]) for p in (0, 1)], rel=1e-6)
    assert every == pytest.approx(per_gpu * float(reserved.cost_usd[0]), rel=1e-6)